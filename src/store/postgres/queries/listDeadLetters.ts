/**
 * listDeadLetters(db, query) → a page of failed deliveries with their events, newest failure first
 *   limit, after (cursor: [updated_at, id] of the last row), subscription_id, type (filter),
 *   since / until (inclusive, on updated_at: when the delivery was dead-lettered — the same time
 *   replay filters on); parameters numbered as present, the limit (+1) last
 *
 * Walks one of the two small partial indexes of failed deliveries.
 */
import type { DeadLetter, DeadLetterQuery, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import type { Queryable } from '../pool.js';
import { type DeliveryRow, deliveryColumns, type EventRow, toDelivery, toEvent } from '../rows.js';
import { Conditions } from '../sqlParams.js';

type DeadLetterRow = DeliveryRow & { event: EventRow };

export async function listDeadLetters(db: Queryable, query: DeadLetterQuery): Promise<Page<DeadLetter>> {
  const after = decodeCursor('dead', query.after, ['number', 'number'] as const);
  const where = new Conditions();
  where.add("d.status = 'failed'");
  if (after !== null) where.add(`(d.updated_at, d.id) < (${where.param(after[0])}, ${where.param(after[1])})`);
  if (query.subscription_id !== undefined) where.add(`d.subscription_id = ${where.param(query.subscription_id)}`);
  where.type('d.event_type', query.type);
  if (query.since !== undefined) where.add(`d.updated_at >= ${where.param(query.since)}`);
  if (query.until !== undefined) where.add(`d.updated_at <= ${where.param(query.until)}`);
  // The page first, then one events lookup per row (LATERAL), never a join over all events.
  const sql = `SELECT page.*,
      json_build_object('id', e.id, 'type', e.type, 'source', e.source, 'payload', e.payload, 'created_at', e.created_at) AS event
    FROM (SELECT ${deliveryColumns('d')} FROM deliveries d
          ${where.where()}
          ORDER BY d.updated_at DESC, d.id DESC LIMIT ${where.param(query.limit + 1)}) AS page,
      LATERAL (SELECT * FROM events WHERE events.id = page.event_id LIMIT 1) AS e
    ORDER BY page.updated_at DESC, page.id DESC`;
  const rows = (await db.query<DeadLetterRow>(sql, where.params)).rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const items = page.map((row) => ({ ...toDelivery(row), event: toEvent(row.event) }));
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('dead', [last.updated_at, last.id]) : null };
}
