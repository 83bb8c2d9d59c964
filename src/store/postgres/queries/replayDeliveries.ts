/**
 * replayDeliveries(db, filter, now) → the subscriptions of the replayed deliveries, one entry each
 *   delivery_id, subscription_id, type (filter), since / until (on updated_at: when it was
 *   dead-lettered, the time the dead-letter listing shows and sorts by)
 *   $1 now, then the filter's parameters as present
 *
 * State change: failed → pending, due now, with a fresh retry schedule (retry_index 0) and no
 * lease. Walks the small partial index of failed deliveries only; the caller NOTIFYs in the
 * same transaction.
 */
import type { ReplayFilter } from '../../store.js';
import type { Queryable } from '../pool.js';
import { parseDeliveryId } from '../rows.js';
import { Conditions } from '../sqlParams.js';

export async function replayDeliveries(db: Queryable, filter: ReplayFilter, now: number): Promise<string[]> {
  const where = new Conditions();
  const at = where.param(now);
  where.add("status = 'failed'");
  if (filter.delivery_id !== undefined) {
    const id = parseDeliveryId(filter.delivery_id);
    if (id === null) return [];
    where.add(`id = ${where.param(id)}`);
  }
  if (filter.subscription_id !== undefined) where.add(`subscription_id = ${where.param(filter.subscription_id)}`);
  where.type('event_type', filter.type);
  if (filter.since !== undefined) where.add(`updated_at >= ${where.param(filter.since)}`);
  if (filter.until !== undefined) where.add(`updated_at <= ${where.param(filter.until)}`);
  const sql = `UPDATE deliveries SET status = 'pending', next_attempt_at = ${at}, updated_at = ${at}, retry_index = 0,
    lease_token = NULL ${where.where()} RETURNING subscription_id`;
  const { rows } = await db.query<{ subscription_id: string }>(sql, where.params);
  return rows.map((row) => row.subscription_id);
}
