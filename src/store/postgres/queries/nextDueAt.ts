/**
 * nextDueAt(db, subscription_id) → the earliest next_attempt_at of its pending deliveries (a
 * lease end counts: an expired lease makes the delivery due again), or null.
 *   $1 subscription_id
 * One probe of the partial index `deliveries_due`; for an ordered subscription, the due time of
 * its earliest pending delivery in event order (nothing else can be claimed before it).
 */
import type { EpochMs } from '../../../core/types.js';
import type { Queryable } from '../pool.js';

const NEXT = `SELECT next_attempt_at FROM deliveries WHERE subscription_id = $1 AND status = 'pending'
  ORDER BY next_attempt_at LIMIT 1`;
const ORDERED = `SELECT (delivery->>'ordered')::boolean AS ordered FROM subscriptions WHERE id = $1`;
const HEAD = `SELECT next_attempt_at FROM deliveries WHERE subscription_id = $1 AND status = 'pending'
  ORDER BY event_id LIMIT 1`;

export async function nextDueAt(db: Queryable, subscriptionId: string): Promise<EpochMs | null> {
  const subscription = await db.query<{ ordered: boolean | null }>(ORDERED, [subscriptionId]);
  const ordered = subscription.rows[0]?.ordered === true;
  const { rows } = await db.query<{ next_attempt_at: number | null }>(ordered ? HEAD : NEXT, [subscriptionId]);
  return rows[0]?.next_attempt_at ?? null;
}
