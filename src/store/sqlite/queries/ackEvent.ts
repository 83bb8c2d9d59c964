/**
 * ackEvent(tx, subscription_id, event_id) → acked | already_acked | not_found
 *
 * An inbox consumer's ack, by event id. State change: pending (leased or not) or failed →
 * delivered; a dead letter acked by hand counts as delivered too. Acking twice is harmless.
 * Looked up through the unique index (subscription_id, event_id).
 */
import type { AckResult } from '../../store.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { countStatusChange } from './counters.js';

const FIND = `SELECT d.id, d.status, d.subscription_id, e.created_at AS event_created_at FROM deliveries d
  JOIN events e ON e.id = d.event_id WHERE d.subscription_id = ? AND d.event_id = ?`;
const DELIVER = `UPDATE deliveries SET status = 'delivered', delivered_at = ?, latency_ms = ?, next_attempt_at = NULL,
  lease_token = NULL, updated_at = ? WHERE id = ?`;

export function ackEvent(tx: Tx, subscriptionId: string, eventId: string): AckResult {
  const { db, now } = tx;
  const row = prepared(db, FIND).get(subscriptionId, eventId) as
    | { id: number; status: string; subscription_id: string; event_created_at: number }
    | undefined;
  if (row === undefined) return 'not_found';
  if (row.status === 'delivered') return 'already_acked';
  prepared(db, DELIVER).run(now, Math.max(0, now - row.event_created_at), now, row.id);
  countStatusChange(tx, row.subscription_id, row.status, 'delivered');
  return 'acked';
}
