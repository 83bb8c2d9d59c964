/**
 * The receiver's verbs.
 *
 *   recordReceived   in one transaction: TOUCH ($1 name, $2 now) locks the receiver's row, SEEN
 *                    ($1 name, $2 webhook_id) then sees every earlier commit for that name, and
 *                    INSERT ($1..$11 the columns but id) stores the request
 *   listReceived     limit, after (cursor: last id), name, verdict; newest first
 *   getReceived      $1 id
 *   clearReceived    $1 name; deletes the log and zeroes the count, in one statement
 *   secrets          $1 name, $2 secret (null removes it)
 *   listReceivers    every known receiver, by name
 *
 * Records for one name are serialised by the row lock; a test receiver does not need more.
 */
import type { NewReceivedRequest, ReceivedRequest, ReceiverSummary, ReceiverVerdict } from '../../../core/types.js';
import type { Page, ReceivedQuery } from '../../store.js';
import { decodeCursor, encodeCursor } from '../../cursor.js';
import type { Queryable } from '../pool.js';
import { parseDeliveryId } from '../rows.js';
import { Conditions } from '../sqlParams.js';

interface ReceivedRow {
  id: number;
  name: string;
  received_at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  body_size: number;
  webhook_id: string | null;
  verdict: ReceiverVerdict;
  legacy: boolean;
  duplicate: boolean;
}

const COLUMNS = 'id, name, received_at, method, path, headers, body, body_size, webhook_id, verdict, legacy, duplicate';

const toReceived = (row: ReceivedRow): ReceivedRequest => ({ ...row, id: String(row.id) });

const TOUCH = `INSERT INTO receivers (name, count, last_received_at) VALUES ($1, 1, $2)
  ON CONFLICT (name) DO UPDATE SET count = receivers.count + 1, last_received_at = excluded.last_received_at`;
const SEEN = `SELECT 1 FROM received_requests
  WHERE name = $1 AND webhook_id = $2 AND verdict IN ('verified', 'unsigned') LIMIT 1`;
const INSERT = `INSERT INTO received_requests
  (name, received_at, method, path, headers, body, body_size, webhook_id, verdict, legacy, duplicate)
  VALUES ($1, $2, $3, $4, $5::json, $6, $7, $8, $9, $10, $11) RETURNING id`;

export async function recordReceived(db: Queryable, request: NewReceivedRequest, now: number): Promise<ReceivedRequest> {
  await db.query(TOUCH, [request.name, now]);
  const accepted = request.verdict === 'verified' || request.verdict === 'unsigned';
  const duplicate =
    accepted && request.webhook_id !== null && (await db.query(SEEN, [request.name, request.webhook_id])).rowCount !== 0;
  const { rows } = await db.query<{ id: number }>(INSERT, [
    request.name,
    now,
    request.method,
    request.path,
    JSON.stringify(request.headers),
    request.body,
    request.body_size,
    request.webhook_id,
    request.verdict,
    request.legacy,
    duplicate,
  ]);
  return { ...request, id: String(rows[0]?.id), received_at: now, duplicate };
}

export async function listReceived(db: Queryable, query: ReceivedQuery): Promise<Page<ReceivedRequest>> {
  const after = decodeCursor('received', query.after, ['number'] as const);
  const where = new Conditions();
  if (query.name !== undefined) where.add(`name = ${where.param(query.name)}`);
  if (after !== null) where.add(`id < ${where.param(after[0])}`);
  if (query.verdict !== undefined) where.add(`verdict = ${where.param(query.verdict)}`);
  const sql = `SELECT ${COLUMNS} FROM received_requests ${where.where()} ORDER BY id DESC LIMIT ${where.param(query.limit + 1)}`;
  const rows = (await db.query<ReceivedRow>(sql, where.params)).rows;
  const more = rows.length > query.limit;
  const page = more ? rows.slice(0, query.limit) : rows;
  const last = page[page.length - 1];
  return { items: page.map(toReceived), next_cursor: more && last !== undefined ? encodeCursor('received', [last.id]) : null };
}

const GET = `SELECT ${COLUMNS} FROM received_requests WHERE id = $1`;

export async function getReceived(db: Queryable, id: string): Promise<ReceivedRequest | null> {
  const rowid = parseDeliveryId(id);
  if (rowid === null) return null;
  const { rows } = await db.query<ReceivedRow>(GET, [rowid]);
  return rows[0] === undefined ? null : toReceived(rows[0]);
}

const CLEAR = `WITH gone AS (DELETE FROM received_requests WHERE name = $1 RETURNING 1),
    reset AS (UPDATE receivers SET count = 0, last_received_at = NULL WHERE name = $1)
  SELECT count(*)::int AS deleted FROM gone`;

export async function clearReceived(db: Queryable, name: string): Promise<number> {
  const { rows } = await db.query<{ deleted: number }>(CLEAR, [name]);
  return rows[0]?.deleted ?? 0;
}

const SET_SECRET = `INSERT INTO receivers (name, secret) VALUES ($1, $2)
  ON CONFLICT (name) DO UPDATE SET secret = excluded.secret`;
const GET_SECRET = 'SELECT secret FROM receivers WHERE name = $1';

export async function setReceiverSecret(db: Queryable, name: string, secret: string | null): Promise<void> {
  await db.query(SET_SECRET, [name, secret]);
}

export async function getReceiverSecret(db: Queryable, name: string): Promise<string | null> {
  const { rows } = await db.query<{ secret: string | null }>(GET_SECRET, [name]);
  return rows[0]?.secret ?? null;
}

const LIST = 'SELECT name, count, last_received_at, secret IS NOT NULL AS has_secret FROM receivers ORDER BY name';

export async function listReceivers(db: Queryable): Promise<ReceiverSummary[]> {
  return (await db.query<ReceiverSummary>(LIST)).rows;
}
