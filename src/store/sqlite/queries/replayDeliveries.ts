/**
 * replayDeliveries(tx, filter) → how many
 *   filter.delivery_id       one delivery
 *   filter.subscription_id   one subscription's dead letters
 *   filter.type              an event-type filter (`*`, exact, `prefix.*`)
 *   filter.since / until     on the delivery's updated_at — the time it was dead-lettered, the
 *                            same time the dead-letter listing shows and sorts by
 *
 * State change: failed → pending, due now, with a fresh retry schedule (retry_index 0) and no
 * lease. Walks the small partial index of failed deliveries only.
 */
import type { ReplayFilter } from '../../store.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';
import { typeCondition } from '../typeFilter.js';
import { countStatusChange } from './counters.js';

export function replayDeliveries(tx: Tx, filter: ReplayFilter): number {
  const conditions = ["status = 'failed'"];
  const params: (string | number)[] = [tx.now, tx.now];
  if (filter.delivery_id !== undefined) {
    const id = parseDeliveryId(filter.delivery_id);
    if (id === null) return 0;
    conditions.push('id = ?');
    params.push(id);
  }
  if (filter.subscription_id !== undefined) {
    conditions.push('subscription_id = ?');
    params.push(filter.subscription_id);
  }
  const type = typeCondition('event_type', filter.type);
  if (type !== null) {
    conditions.push(type.sql);
    params.push(...type.params);
  }
  if (filter.since !== undefined) {
    conditions.push('updated_at >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    conditions.push('updated_at <= ?');
    params.push(filter.until);
  }
  const sql = `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?, retry_index = 0,
    lease_token = NULL WHERE ${conditions.join(' AND ')} RETURNING subscription_id`;
  const rows = prepared(tx.db, sql)
    .pluck()
    .all(...params) as string[];
  for (const subscriptionId of rows) countStatusChange(tx, subscriptionId, 'failed', 'pending');
  tx.notify(new Set(rows));
  return rows.length;
}
