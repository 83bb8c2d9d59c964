/**
 * API keys (see core/apiKeys.ts). Not hot: the API caches what it reads here.
 *   createApiKey(tx, key)      → the stored key; ConflictError when the id or digest is taken
 *   listApiKeys(db)            → every key, revoked ones too, oldest first
 *   getApiKey(db, id) / getApiKeyByHash(db, hash)
 *   revokeApiKey(tx, id)       → the key (revoked_at kept from the first revocation), or null
 */
import type { ApiKey, NewApiKey, Scope } from '../../../core/apiKeys.js';
import { ConflictError } from '../../../core/errors.js';
import { isConstraintError } from '../errors.js';
import type { Tx } from '../groupCommit.js';
import { type Db, prepared } from '../prepared.js';

type Row = Omit<ApiKey, 'scopes'> & { scopes: string };

const COLUMNS = 'id, name, hash, prefix, scopes, rate_limit, created_at, revoked_at';
const INSERT = `INSERT INTO api_keys (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`;
const LIST = `SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, id`;
const GET = `SELECT ${COLUMNS} FROM api_keys WHERE id = ?`;
const BY_HASH = `SELECT ${COLUMNS} FROM api_keys WHERE hash = ?`;
const REVOKE = 'UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL';

const toApiKey = (row: Row): ApiKey => ({ ...row, scopes: row.scopes === '' ? [] : (row.scopes.split(',') as Scope[]) });

export function createApiKey(tx: Tx, key: NewApiKey): ApiKey {
  const created: ApiKey = { ...key, created_at: tx.now, revoked_at: null };
  try {
    prepared(tx.db, INSERT).run(key.id, key.name, key.hash, key.prefix, key.scopes.join(','), key.rate_limit, tx.now);
  } catch (error) {
    if (isConstraintError(error)) throw new ConflictError(`API key ${JSON.stringify(key.id)} already exists`);
    throw error;
  }
  return created;
}

export const listApiKeys = (db: Db): ApiKey[] => (prepared(db, LIST).all() as Row[]).map(toApiKey);

export function getApiKey(db: Db, id: string): ApiKey | null {
  const row = prepared(db, GET).get(id) as Row | undefined;
  return row === undefined ? null : toApiKey(row);
}

export function getApiKeyByHash(db: Db, hash: string): ApiKey | null {
  const row = prepared(db, BY_HASH).get(hash) as Row | undefined;
  return row === undefined ? null : toApiKey(row);
}

export function revokeApiKey(tx: Tx, id: string): ApiKey | null {
  prepared(tx.db, REVOKE).run(tx.now, id);
  return getApiKey(tx.db, id);
}
