/**
 * listInbox(db, query) → a page of one subscription's pending deliveries, as events
 *   subscription_id, limit, after (cursor: the last event id of the previous page),
 *   order ('asc' default, oldest first, or 'desc'), type (an event-type filter)
 *   $1 subscription_id, then the cursor and type parameters, then the limit (+1 to see a next page)
 *
 * Ordered by event id (time-sortable), walking the partial index `deliveries_inbox` from the
 * cursor: the cost follows the page, not the backlog. Leased deliveries are listed too (they are
 * still pending).
 */
import type { InboxItem, InboxQuery, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import type { Queryable } from '../pool.js';
import { type EventRow, toEvent } from '../rows.js';
import { Conditions } from '../sqlParams.js';

interface InboxRow extends EventRow {
  delivery_id: number;
  attempts_count: number;
}

export async function listInbox(db: Queryable, query: InboxQuery): Promise<Page<InboxItem>> {
  const desc = query.order === 'desc';
  const after = decodeCursor('inbox', query.after, ['string'] as const);
  const where = new Conditions();
  where.add(`d.subscription_id = ${where.param(query.subscription_id)}`).add("d.status = 'pending'");
  if (after !== null) where.add(`d.event_id ${desc ? '<' : '>'} ${where.param(after[0])}`);
  where.type('d.event_type', query.type);
  const order = desc ? 'DESC' : 'ASC';
  // The page first, then one events lookup per row (LATERAL): left to itself, the planner may
  // merge-join against the whole events index, a walk that grows with the history.
  const sql = `SELECT page.delivery_id, page.attempts_count, e.id, e.type, e.source, e.payload, e.created_at
    FROM (SELECT d.id AS delivery_id, d.attempts_count, d.event_id FROM deliveries d
          ${where.where()}
          ORDER BY d.event_id ${order} LIMIT ${where.param(query.limit + 1)}) AS page,
      LATERAL (SELECT * FROM events WHERE events.id = page.event_id LIMIT 1) AS e
    ORDER BY page.event_id ${order}`;
  const rows = (await db.query<InboxRow>(sql, where.params)).rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const items = page.map((row) => ({
    ...toEvent(row),
    delivery_id: String(row.delivery_id),
    attempts_count: row.attempts_count,
  }));
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('inbox', [last.id]) : null };
}
