/**
 * listEvents(db, query) → a page of events with their overall status
 *   query.limit, query.after (cursor: last event id), query.order ('desc' default)
 *   query.type (filter), query.source (exact), query.status, query.since / until (inclusive,
 *   on created_at)
 *
 * Keyset over the events' primary key. The status is derived per row from its deliveries (see
 * eventStatus.ts); filtering on it walks events in order until the page is full, which suits the
 * console's use, not a hot path.
 */
import type { EventQuery, EventSummary, Page } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { type Db, prepared } from '../prepared.js';
import { type EventRow, toEvent } from '../rows.js';
import { typeCondition } from '../typeFilter.js';
import { EVENT_STATUS_SQL } from './eventStatus.js';

interface SummaryRow extends EventRow {
  status: EventSummary['status'];
}

export function listEvents(db: Db, query: EventQuery): Page<EventSummary> {
  const desc = (query.order ?? 'desc') === 'desc';
  const after = decodeCursor('events', query.after, ['string'] as const);
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (after !== null) {
    conditions.push(desc ? 'id < ?' : 'id > ?');
    params.push(after[0]);
  }
  const type = typeCondition('type', query.type);
  if (type !== null) {
    conditions.push(type.sql);
    params.push(...type.params);
  }
  if (query.source !== undefined) {
    conditions.push('source = ?');
    params.push(query.source);
  }
  if (query.since !== undefined) {
    conditions.push('created_at >= ?');
    params.push(query.since);
  }
  if (query.until !== undefined) {
    conditions.push('created_at <= ?');
    params.push(query.until);
  }
  if (query.status !== undefined) {
    conditions.push('status = ?');
    params.push(query.status);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const sql = `SELECT * FROM (
      SELECT e.id, e.type, e.source, e.payload, e.created_at, ${EVENT_STATUS_SQL('e.id')} AS status FROM events e
    ) ${where} ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ?`;
  const rows = prepared(db, sql).all(...params, query.limit + 1) as SummaryRow[];
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map((row) => ({ ...toEvent(row), status: row.status })),
    next_cursor: more && last !== undefined ? encodeCursor('events', [last.id]) : null,
  };
}
