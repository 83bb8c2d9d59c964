/**
 * nextDueAt(db, subscription_id) → the earliest next_attempt_at of its pending deliveries (a
 * lease end counts: an expired lease makes the delivery due again), or null. One probe of the
 * partial index `deliveries_due`; for an ordered subscription, the due time of its earliest
 * pending delivery in event order (nothing else can be claimed before it).
 */
import type { EpochMs } from '../../../core/types.js';
import { type Db, prepared } from '../prepared.js';

const NEXT = `SELECT next_attempt_at FROM deliveries WHERE subscription_id = ? AND status = 'pending'
  ORDER BY next_attempt_at LIMIT 1`;
const ORDERED = "SELECT json_extract(delivery, '$.ordered') FROM subscriptions WHERE id = ?";
const HEAD = `SELECT next_attempt_at FROM deliveries WHERE subscription_id = ? AND status = 'pending'
  ORDER BY event_id LIMIT 1`;

export function nextDueAt(db: Db, subscriptionId: string): EpochMs | null {
  const ordered = prepared(db, ORDERED).pluck().get(subscriptionId) as number | null | undefined;
  const value = prepared(db, ordered ? HEAD : NEXT).pluck().get(subscriptionId) as number | null | undefined;
  return value ?? null;
}
