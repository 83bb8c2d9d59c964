/**
 * listInbox(db, query) → a page of one subscription's pending deliveries, as events
 *   query.subscription_id   whose inbox
 *   query.limit             page size
 *   query.after             cursor: the last event id of the previous page
 *   query.order             'asc' (default, oldest first) or 'desc'
 *   query.type              an event-type filter
 *
 * Ordered by event id (time-sortable), walking the partial index `deliveries_inbox` from the
 * cursor: cost depends on the page, not on the backlog. Leased deliveries are listed too (they
 * are still pending).
 */
import type { InboxItem, InboxQuery, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { type Db, prepared } from '../prepared.js';
import { type EventRow, toEvent } from '../rows.js';
import { typeCondition } from '../typeFilter.js';

interface InboxRow extends EventRow {
  delivery_id: number;
  attempts_count: number;
}

export function listInbox(db: Db, query: InboxQuery): Page<InboxItem> {
  const desc = query.order === 'desc';
  const after = decodeCursor('inbox', query.after, ['string'] as const);
  const conditions = ['d.subscription_id = ?', "d.status = 'pending'"];
  const params: (string | number)[] = [query.subscription_id];
  if (after !== null) {
    conditions.push(desc ? 'd.event_id < ?' : 'd.event_id > ?');
    params.push(after[0]);
  }
  const type = typeCondition('d.event_type', query.type);
  if (type !== null) {
    conditions.push(type.sql);
    params.push(...type.params);
  }
  // CROSS JOIN pins deliveries as the outer loop so the planner walks the inbox index.
  const sql = `SELECT d.id AS delivery_id, d.attempts_count, e.id, e.type, e.source, e.payload, e.created_at
    FROM deliveries d CROSS JOIN events e ON e.id = d.event_id
    WHERE ${conditions.join(' AND ')}
    ORDER BY d.event_id ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
  const rows = prepared(db, sql).all(...params, query.limit + 1) as InboxRow[];
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const items = page.map((row) => ({ ...toEvent(row), delivery_id: String(row.delivery_id), attempts_count: row.attempts_count }));
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('inbox', [last.id]) : null };
}
