/**
 * API keys (see core/apiKeys.ts). Not hot: the API caches what it reads here.
 *
 *   INSERT    $1..$7 id, name, hash, prefix, scopes, rate_limit, created_at
 *   GET       $1 id          BY_HASH  $1 hash
 *   REVOKE    $1 now, $2 id; keeps the time of the first revocation
 */
import type { ApiKey, NewApiKey } from '../../../core/apiKeys.js';
import { ConflictError } from '../../../core/errors.js';
import type { Queryable } from '../pool.js';

const COLUMNS = 'id, name, hash, prefix, scopes, rate_limit, created_at, revoked_at';
const INSERT = `INSERT INTO api_keys (${COLUMNS}) VALUES ($1, $2, $3, $4, $5::text[], $6, $7, NULL) ON CONFLICT DO NOTHING`;
const LIST = `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`;
const GET = `SELECT ${COLUMNS} FROM api_keys WHERE id = $1`;
const BY_HASH = `SELECT ${COLUMNS} FROM api_keys WHERE hash = $1`;
const REVOKE = `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2 RETURNING ${COLUMNS}`;

type Row = Omit<ApiKey, 'created_at' | 'revoked_at'> & { created_at: number | string; revoked_at: number | string | null };

const toApiKey = (row: Row): ApiKey => ({
  ...row,
  created_at: Number(row.created_at),
  revoked_at: row.revoked_at === null ? null : Number(row.revoked_at),
});

export async function createApiKey(db: Queryable, key: NewApiKey, now: number): Promise<ApiKey> {
  const inserted = await db.query(INSERT, [key.id, key.name, key.hash, key.prefix, key.scopes, key.rate_limit, now]);
  if (inserted.rowCount === 0) throw new ConflictError(`API key ${JSON.stringify(key.id)} already exists`);
  return { ...key, created_at: now, revoked_at: null };
}

export async function listApiKeys(db: Queryable): Promise<ApiKey[]> {
  return (await db.query<Row>(LIST)).rows.map(toApiKey);
}

export async function getApiKey(db: Queryable, id: string): Promise<ApiKey | null> {
  const { rows } = await db.query<Row>(GET, [id]);
  return rows[0] === undefined ? null : toApiKey(rows[0]);
}

export async function getApiKeyByHash(db: Queryable, hash: string): Promise<ApiKey | null> {
  const { rows } = await db.query<Row>(BY_HASH, [hash]);
  return rows[0] === undefined ? null : toApiKey(rows[0]);
}

export async function revokeApiKey(db: Queryable, id: string, now: number): Promise<ApiKey | null> {
  const { rows } = await db.query<Row>(REVOKE, [now, id]);
  return rows[0] === undefined ? null : toApiKey(rows[0]);
}
