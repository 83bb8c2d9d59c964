/**
 * ackEvent(db, subscription_id, event_id, now) → acked | already_acked | not_found
 *   $1 event_id, $2 subscription_id, $3 now
 *
 * An inbox consumer's ack, by event id. State change: pending (leased or not) or failed →
 * delivered; a dead letter acked by hand counts as delivered too. Acking twice is harmless: a
 * concurrent second ack waits for the first's row lock, then finds nothing left to change.
 * Looked up through the unique index (event_id, subscription_id).
 */
import type { AckResult } from '../../store.js';
import type { Queryable } from '../pool.js';

const DELIVER = `UPDATE deliveries SET status = 'delivered', delivered_at = $3, latency_ms = greatest(0, $3 - event_created_at),
    next_attempt_at = NULL, lease_token = NULL, updated_at = $3
  WHERE event_id = $1 AND subscription_id = $2 AND status <> 'delivered'`;
const EXISTS = 'SELECT 1 FROM deliveries WHERE event_id = $1 AND subscription_id = $2';

export async function ackEvent(db: Queryable, subscriptionId: string, eventId: string, now: number): Promise<AckResult> {
  const updated = await db.query(DELIVER, [eventId, subscriptionId, now]);
  if (updated.rowCount !== 0) return 'acked';
  const found = await db.query(EXISTS, [eventId, subscriptionId]);
  return found.rowCount !== 0 ? 'already_acked' : 'not_found';
}
