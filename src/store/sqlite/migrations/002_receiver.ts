/**
 * 002 — the built-in receiver: every request it stores, and one row per receiver name.
 *
 * Ids are AUTOINCREMENT so a cleared log never hands an old id to a new request (a console may
 * still hold a link to the old one). `receivers` keeps each name's secret and its count and last
 * arrival, maintained by the writes in queries/, so listing receivers reads a handful of rows
 * however long the logs are.
 */
export const sql = `
CREATE TABLE received_requests (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  name        TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  method      TEXT NOT NULL,
  path        TEXT NOT NULL,
  headers     TEXT NOT NULL,
  body        TEXT NOT NULL,
  body_size   INTEGER NOT NULL,
  webhook_id  TEXT,
  verdict     TEXT NOT NULL CHECK (verdict IN ('verified', 'invalid_signature', 'stale_timestamp', 'missing_signature', 'unsigned')),
  legacy      INTEGER NOT NULL,
  duplicate   INTEGER NOT NULL
);
-- One receiver's log, newest first (and clearing it).
CREATE INDEX received_requests_name ON received_requests (name, id);
-- Dedupe: has this receiver accepted this webhook-id before?
CREATE INDEX received_requests_webhook_id ON received_requests (name, webhook_id) WHERE webhook_id IS NOT NULL;

CREATE TABLE receivers (
  name             TEXT PRIMARY KEY,
  secret           TEXT,
  count            INTEGER NOT NULL DEFAULT 0,
  last_received_at INTEGER
) WITHOUT ROWID;
`;
