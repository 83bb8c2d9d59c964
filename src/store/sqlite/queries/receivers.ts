/**
 * The receivers' own rows: secrets, and the count and last arrival that recordReceived keeps.
 *   clearReceived(tx, name)           → how many requests were erased (the count goes back to 0)
 *   setReceiverSecret(tx, name, s)    → sets, or with null removes, the secret
 *   getReceiverSecret(db, name)       → the secret or null
 *   listReceivers(db)                 → every known receiver, by name
 */
import type { ReceiverSummary } from '../../../core/types.js';
import type { Tx } from '../groupCommit.js';
import { type Db, prepared } from '../prepared.js';

const CLEAR = 'DELETE FROM received_requests WHERE name = ?';
const RESET = 'UPDATE receivers SET count = 0, last_received_at = NULL WHERE name = ?';
const SET_SECRET = `INSERT INTO receivers (name, secret) VALUES (?, ?)
  ON CONFLICT (name) DO UPDATE SET secret = excluded.secret`;
const GET_SECRET = 'SELECT secret FROM receivers WHERE name = ?';
const LIST = 'SELECT name, count, last_received_at, secret IS NOT NULL AS has_secret FROM receivers ORDER BY name';

export function clearReceived(tx: Tx, name: string): number {
  const deleted = prepared(tx.db, CLEAR).run(name).changes;
  prepared(tx.db, RESET).run(name);
  return deleted;
}

export function setReceiverSecret(tx: Tx, name: string, secret: string | null): void {
  prepared(tx.db, SET_SECRET).run(name, secret);
}

export function getReceiverSecret(db: Db, name: string): string | null {
  return (prepared(db, GET_SECRET).pluck().get(name) as string | null | undefined) ?? null;
}

export function listReceivers(db: Db): ReceiverSummary[] {
  const rows = prepared(db, LIST).all() as (Omit<ReceiverSummary, 'has_secret'> & { has_secret: number })[];
  return rows.map((row) => ({ ...row, has_secret: row.has_secret === 1 }));
}
