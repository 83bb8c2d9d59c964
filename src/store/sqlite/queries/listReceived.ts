/**
 * listReceived(db, query) → a page of received requests, newest first
 *   query.limit, query.after (cursor: last id), query.name (one receiver), query.verdict
 * getReceived(db, id) → one request, or null
 *
 * Keyset on the id: one receiver's log walks the (name, id) index, all receivers' the primary key.
 */
import type { ReceivedRequest, ReceiverVerdict } from '../../../core/types.js';
import type { Page, ReceivedQuery } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import { type Db, prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';

interface ReceivedRow {
  id: number;
  name: string;
  received_at: number;
  method: string;
  path: string;
  headers: string;
  body: string;
  body_size: number;
  webhook_id: string | null;
  verdict: ReceiverVerdict;
  legacy: number;
  duplicate: number;
}

const COLUMNS = 'id, name, received_at, method, path, headers, body, body_size, webhook_id, verdict, legacy, duplicate';

const toReceived = (row: ReceivedRow): ReceivedRequest => ({
  id: String(row.id),
  name: row.name,
  received_at: row.received_at,
  method: row.method,
  path: row.path,
  headers: JSON.parse(row.headers) as Record<string, string>,
  body: row.body,
  body_size: row.body_size,
  webhook_id: row.webhook_id,
  verdict: row.verdict,
  legacy: row.legacy === 1,
  duplicate: row.duplicate === 1,
});

export function listReceived(db: Db, query: ReceivedQuery): Page<ReceivedRequest> {
  const after = decodeCursor('received', query.after, ['number'] as const);
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (query.name !== undefined) {
    conditions.push('name = ?');
    params.push(query.name);
  }
  if (after !== null) {
    conditions.push('id < ?');
    params.push(after[0]);
  }
  if (query.verdict !== undefined) {
    conditions.push('verdict = ?');
    params.push(query.verdict);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const sql = `SELECT ${COLUMNS} FROM received_requests ${where} ORDER BY id DESC LIMIT ?`;
  const rows = prepared(db, sql).all(...params, query.limit + 1) as ReceivedRow[];
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return {
    items: page.map(toReceived),
    next_cursor: more && last !== undefined ? encodeCursor('received', [last.id]) : null,
  };
}

const GET = `SELECT ${COLUMNS} FROM received_requests WHERE id = ?`;

export function getReceived(db: Db, id: string): ReceivedRequest | null {
  const rowid = parseDeliveryId(id);
  if (rowid === null) return null;
  const row = prepared(db, GET).get(rowid) as ReceivedRow | undefined;
  return row === undefined ? null : toReceived(row);
}
