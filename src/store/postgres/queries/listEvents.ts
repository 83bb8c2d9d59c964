/**
 * listEvents(db, query) → a page of events with their overall status
 *   limit, after (cursor: last event id), order ('desc' default), type (filter), source (exact),
 *   status, since / until (inclusive, on created_at)
 *   parameters are numbered as the filters are present, the limit (+1) last
 *
 * Keyset over the events' primary key. The status is derived per row from its deliveries (see
 * events.ts); filtering on it walks events in order until the page is full, which suits the
 * console's use, not a hot path.
 */
import type { EventQuery, EventSummary, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import type { Queryable } from '../pool.js';
import { type EventRow, toEvent } from '../rows.js';
import { Conditions } from '../sqlParams.js';
import { EVENT_STATUS_SQL } from './events.js';

interface SummaryRow extends EventRow {
  status: EventSummary['status'];
}

export async function listEvents(db: Queryable, query: EventQuery): Promise<Page<EventSummary>> {
  const desc = (query.order ?? 'desc') === 'desc';
  const after = decodeCursor('events', query.after, ['string'] as const);
  const where = new Conditions();
  if (after !== null) where.add(`id ${desc ? '<' : '>'} ${where.param(after[0])}`);
  where.type('type', query.type);
  if (query.source !== undefined) where.add(`source = ${where.param(query.source)}`);
  if (query.since !== undefined) where.add(`created_at >= ${where.param(query.since)}`);
  if (query.until !== undefined) where.add(`created_at <= ${where.param(query.until)}`);
  if (query.status !== undefined) where.add(`status = ${where.param(query.status)}`);
  const sql = `SELECT * FROM (
      SELECT e.id, e.type, e.source, e.payload, e.created_at, ${EVENT_STATUS_SQL('e.id')} AS status FROM events e
    ) AS summary ${where.where()} ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ${where.param(query.limit + 1)}`;
  const rows = (await db.query<SummaryRow>(sql, where.params)).rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({ ...toEvent(row), status: row.status })),
    next_cursor: more && last !== undefined ? encodeCursor('events', [last.id]) : null,
  };
}
