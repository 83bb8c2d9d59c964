/**
 * listDeadLetters(db, query) → a page of failed deliveries with their events, newest failure first
 *   query.limit, query.after (cursor: [updated_at, id] of the last row)
 *   query.subscription_id, query.type (filter), query.since / until (inclusive, on updated_at:
 *   when the delivery was dead-lettered — the same time replay filters on)
 *
 * Walks one of the two small partial indexes of failed deliveries.
 */
import type { DeadLetter, DeadLetterQuery, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { type Db, prepared } from '../prepared.js';
import { type DeliveryRow, deliveryColumns, type EventRow, toDelivery, toEvent } from '../rows.js';
import { typeCondition } from '../typeFilter.js';

type DeadLetterRow = DeliveryRow & { e_id: string; e_type: string; e_source: string; e_payload: string; e_created_at: number };

export function listDeadLetters(db: Db, query: DeadLetterQuery): Page<DeadLetter> {
  const after = decodeCursor('dead', query.after, ['number', 'number'] as const);
  const conditions = ["d.status = 'failed'"];
  const params: (string | number)[] = [];
  if (after !== null) {
    conditions.push('(d.updated_at, d.id) < (?, ?)');
    params.push(after[0], after[1]);
  }
  if (query.subscription_id !== undefined) {
    conditions.push('d.subscription_id = ?');
    params.push(query.subscription_id);
  }
  const type = typeCondition('d.event_type', query.type);
  if (type !== null) {
    conditions.push(type.sql);
    params.push(...type.params);
  }
  if (query.since !== undefined) {
    conditions.push('d.updated_at >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    conditions.push('d.updated_at <= ?');
    params.push(query.until);
  }
  const sql = `SELECT ${deliveryColumns('d')}, e.id AS e_id, e.type AS e_type, e.source AS e_source,
      e.payload AS e_payload, e.created_at AS e_created_at
    FROM deliveries d CROSS JOIN events e ON e.id = d.event_id
    WHERE ${conditions.join(' AND ')}
    ORDER BY d.updated_at DESC, d.id DESC LIMIT ?`;
  const rows = prepared(db, sql).all(...params, query.limit + 1) as DeadLetterRow[];
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const items = page.map((row) => {
    const event: EventRow = { id: row.e_id, type: row.e_type, source: row.e_source, payload: row.e_payload, created_at: row.e_created_at };
    return { ...toDelivery(row), event: toEvent(event) };
  });
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('dead', [last.updated_at, Number(last.id)]) : null };
}
