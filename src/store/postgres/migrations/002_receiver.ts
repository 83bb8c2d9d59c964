/**
 * 002 — the built-in receiver: every request it stores, and one row per receiver name.
 *
 * Headers are `json`, not `jsonb`, so they read back in the order they arrived. `receivers`
 * keeps each name's secret and its count and last arrival, maintained by the writes in
 * queries/receiver.ts; recording a request locks its receiver's row first, which is what makes
 * dedupe by webhook-id exact across processes.
 */
export const sql = `
CREATE TABLE received_requests (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text COLLATE "C" NOT NULL,
  received_at bigint NOT NULL,
  method      text NOT NULL,
  path        text NOT NULL,
  headers     json NOT NULL,
  body        text NOT NULL,
  body_size   integer NOT NULL,
  webhook_id  text COLLATE "C",
  verdict     text NOT NULL CHECK (verdict IN ('verified', 'invalid_signature', 'stale_timestamp', 'missing_signature', 'unsigned')),
  legacy      boolean NOT NULL,
  duplicate   boolean NOT NULL
);
-- One receiver's log, newest first (and clearing it).
CREATE INDEX received_requests_name ON received_requests (name, id);
-- Dedupe: has this receiver accepted this webhook-id before?
CREATE INDEX received_requests_webhook_id ON received_requests (name, webhook_id) WHERE webhook_id IS NOT NULL;

CREATE TABLE receivers (
  name             text COLLATE "C" PRIMARY KEY,
  secret           text,
  count            bigint NOT NULL DEFAULT 0,
  last_received_at bigint
);
`;
