/**
 * recordReceived(tx, request) → the stored request with its id, time and duplicate flag
 *
 * Dedupe and insert share the transaction, so two copies of one webhook arriving together cannot
 * both be first. The receiver's row (count, last arrival) is kept in the same transaction.
 */
import type { NewReceivedRequest, ReceivedRequest } from '../../../core/types.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';

const SEEN = `SELECT 1 FROM received_requests
  WHERE name = ? AND webhook_id = ? AND verdict IN ('verified', 'unsigned') LIMIT 1`;
const INSERT = `INSERT INTO received_requests
  (name, received_at, method, path, headers, body, body_size, webhook_id, verdict, legacy, duplicate)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const TOUCH = `INSERT INTO receivers (name, count, last_received_at) VALUES (?, 1, ?)
  ON CONFLICT (name) DO UPDATE SET count = count + 1, last_received_at = excluded.last_received_at`;

export const isAccepted = (verdict: ReceivedRequest['verdict']): boolean => verdict === 'verified' || verdict === 'unsigned';

export function recordReceived(tx: Tx, request: NewReceivedRequest): ReceivedRequest {
  const duplicate =
    isAccepted(request.verdict) &&
    request.webhook_id !== null &&
    prepared(tx.db, SEEN).get(request.name, request.webhook_id) !== undefined;
  const result = prepared(tx.db, INSERT).run(
    request.name,
    tx.now,
    request.method,
    request.path,
    JSON.stringify(request.headers),
    request.body,
    request.body_size,
    request.webhook_id,
    request.verdict,
    request.legacy ? 1 : 0,
    duplicate ? 1 : 0,
  );
  prepared(tx.db, TOUCH).run(request.name, tx.now);
  return { ...request, id: String(result.lastInsertRowid), received_at: tx.now, duplicate };
}
