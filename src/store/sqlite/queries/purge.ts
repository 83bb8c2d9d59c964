/**
 * purge(tx, before, limit) → rows removed (events + received requests + idempotency keys)
 *   before   events created, and received requests stored, before this time go
 *   limit    at most this many of each kind per call: retention runs in small transactions so a
 *            group commit with appends in it never waits long behind a purge
 *
 * An event goes with its deliveries and their attempts (the counter triggers keep stats()
 * right). Idempotency keys older than IDEMPOTENCY_TTL_MS go too (they no longer answer anyway).
 * Walks the created_at / received_at indexes of migration 004, oldest first.
 */
import { IDEMPOTENCY_TTL_MS } from '../../../core/types.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';

const OLD_EVENTS = 'SELECT id FROM events WHERE created_at < ? ORDER BY created_at LIMIT ?';
// Probes the (subscription_id, event_id) index once per subscription, as deleteEvent does: there
// is no event_id index (one fewer on the append path), and subscriptions are few.
const OF_EVENT = 'subscription_id IN (SELECT id FROM subscriptions) AND event_id = ?';
const DELETE_ATTEMPTS = `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE ${OF_EVENT})`;
const DELETE_DELIVERIES = `DELETE FROM deliveries WHERE ${OF_EVENT}`;
const DELETE_EVENT = 'DELETE FROM events WHERE id = ?';
const OLD_RECEIVED = `DELETE FROM received_requests WHERE id IN
  (SELECT id FROM received_requests WHERE received_at < ? ORDER BY received_at LIMIT ?) RETURNING name`;
const RECOUNT = `UPDATE receivers SET count = (SELECT count(*) FROM received_requests r WHERE r.name = receivers.name),
  last_received_at = (SELECT max(received_at) FROM received_requests r WHERE r.name = receivers.name) WHERE name = ?`;
const OLD_KEYS = `DELETE FROM idempotency WHERE key IN
  (SELECT key FROM idempotency WHERE created_at < ? ORDER BY created_at LIMIT ?)`;

export function purge(tx: Tx, before: number, limit: number): number {
  const { db } = tx;
  if (limit <= 0) return 0;
  let removed = 0;
  const ids = prepared(db, OLD_EVENTS).pluck().all(before, limit) as string[];
  for (const id of ids) {
    prepared(db, DELETE_ATTEMPTS).run(id);
    prepared(db, DELETE_DELIVERIES).run(id);
    removed += prepared(db, DELETE_EVENT).run(id).changes;
  }
  const received = prepared(db, OLD_RECEIVED).pluck().all(before, limit) as string[];
  removed += received.length;
  for (const name of new Set(received)) prepared(db, RECOUNT).run(name);
  removed += prepared(db, OLD_KEYS).run(tx.now - IDEMPOTENCY_TTL_MS, limit).changes;
  return removed;
}
