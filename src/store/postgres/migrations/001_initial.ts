/**
 * 001 — the initial schema. Append-only: never edit a migration that has landed; add 002_….
 *
 * Times are milliseconds since the epoch in bigint columns, written by the store from its clock
 * (never `now()`), so one controllable clock drives every backend alike.
 *
 * Deliveries carry the event's type and creation time so inbox, dead-letter and replay filters
 * never join events just to filter. A lease is not a status: it is `pending` + `lease_token` +
 * `next_attempt_at` (= lease end), so "due" is one range of the partial index `deliveries_due`,
 * which is also what `FOR UPDATE SKIP LOCKED` walks when claiming. Partial indexes on
 * `status = 'pending'` stay as small as the live backlog, however many delivered rows pile up.
 *
 * Ids and types are COLLATE "C": byte order, as SQLite compares them, so keyset pages and
 * prefix ranges mean the same on both backends (and compare faster than a locale would).
 *
 * No foreign keys: an RI check costs a lock and an index probe per delivery row on the hot
 * append path; the store's own deletes keep the tables consistent (see queries/).
 */
export const sql = `
CREATE TABLE events (
  id         text COLLATE "C" PRIMARY KEY,
  type       text COLLATE "C" NOT NULL,
  source     text NOT NULL,
  payload    json NOT NULL,
  created_at bigint NOT NULL
);

CREATE TABLE subscriptions (
  id              text COLLATE "C" PRIMARY KEY,
  url             text,
  event_types     text[] NOT NULL,
  secrets         jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('active', 'disabled')),
  description     text,
  disabled_reason text,
  metadata        jsonb NOT NULL,
  created_at      bigint NOT NULL,
  updated_at      bigint NOT NULL
);

CREATE TABLE deliveries (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id         text COLLATE "C" NOT NULL,
  subscription_id  text COLLATE "C" NOT NULL,
  event_type       text COLLATE "C" NOT NULL,
  event_created_at bigint NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts_count   integer NOT NULL DEFAULT 0,
  retry_index      integer NOT NULL DEFAULT 0,
  next_attempt_at  bigint,
  lease_token      text,
  last_status_code integer,
  last_error       text,
  latency_ms       bigint,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  delivered_at     bigint
);
-- getEvent, deleteEvent, ackEvent (one delivery per event and subscription).
CREATE UNIQUE INDEX deliveries_event ON deliveries (event_id, subscription_id);
-- claim and nextDueAt: what is due, per subscription, oldest first.
CREATE INDEX deliveries_due ON deliveries (subscription_id, next_attempt_at, id) WHERE status = 'pending';
-- listInbox and the oldest-pending gauge: pending deliveries in event order.
CREATE INDEX deliveries_inbox ON deliveries (subscription_id, event_id) WHERE status = 'pending';
-- Dead letters, newest failure first, with or without a subscription filter.
CREATE INDEX deliveries_failed_by_subscription ON deliveries (subscription_id, updated_at, id) WHERE status = 'failed';
CREATE INDEX deliveries_failed ON deliveries (updated_at, id) WHERE status = 'failed';
-- deleteSubscription.
CREATE INDEX deliveries_subscription ON deliveries (subscription_id);

CREATE TABLE attempts (
  delivery_id bigint NOT NULL,
  n           integer NOT NULL,
  at          bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error       text,
  response    text,
  PRIMARY KEY (delivery_id, n)
);

CREATE TABLE idempotency (
  key        text PRIMARY KEY,
  status     integer NOT NULL,
  body       json NOT NULL,
  created_at bigint NOT NULL
);
`;
