/**
 * 001 — the initial schema. Append-only: never edit a migration that has landed; add 002_….
 *
 * Deliveries carry the event's type (`event_type`) so inbox, dead-letter and replay filters
 * never join events just to filter. A lease is not a status: it is `pending` + `lease_token`
 * + `next_attempt_at` (= lease end), so "due" is one range of the partial index `deliveries_due`.
 * Counters make stats() a handful of point reads, however large the backlog. Status changes
 * and deletes keep them through triggers; inserts (the hot path: appends) add to them once per
 * append in appendEvents.ts instead of once per row, which a trigger would cost.
 */
export const sql = `
CREATE TABLE events (
  id         TEXT PRIMARY KEY,
  type       TEXT NOT NULL,
  source     TEXT NOT NULL,
  payload    TEXT NOT NULL,
  created_at INTEGER NOT NULL
);

CREATE TABLE subscriptions (
  id              TEXT PRIMARY KEY,
  url             TEXT,
  event_types     TEXT NOT NULL,
  secrets         TEXT NOT NULL,
  status          TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  description     TEXT,
  disabled_reason TEXT,
  metadata        TEXT NOT NULL,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

CREATE TABLE deliveries (
  id               INTEGER PRIMARY KEY,
  event_id         TEXT NOT NULL,
  subscription_id  TEXT NOT NULL,
  event_type       TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts_count   INTEGER NOT NULL DEFAULT 0,
  retry_index      INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER,
  lease_token      TEXT,
  last_status_code INTEGER,
  last_error       TEXT,
  latency_ms       INTEGER,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  delivered_at     INTEGER
);
-- One delivery per subscription and event: ackEvent, deleteSubscription, and — probed once per
-- subscription (there are few) — getEvent, deleteEvent and the event status. One index fewer
-- on the hot insert path than a separate event_id index would cost.
CREATE UNIQUE INDEX deliveries_subscription_event ON deliveries (subscription_id, event_id);
-- claim and nextDueAt: what is due, per subscription.
CREATE INDEX deliveries_due ON deliveries (subscription_id, next_attempt_at) WHERE status = 'pending';
-- listInbox and the oldest-pending gauge: pending deliveries in event order.
CREATE INDEX deliveries_inbox ON deliveries (subscription_id, event_id) WHERE status = 'pending';
-- Dead letters, newest failure first, with or without a subscription filter.
CREATE INDEX deliveries_failed_by_subscription ON deliveries (subscription_id, updated_at) WHERE status = 'failed';
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE status = 'failed';

CREATE TABLE attempts (
  delivery_id INTEGER NOT NULL,
  n           INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error       TEXT,
  response    TEXT,
  PRIMARY KEY (delivery_id, n)
) WITHOUT ROWID;

CREATE TABLE idempotency (
  key        TEXT PRIMARY KEY,
  status     INTEGER NOT NULL,
  body       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('events', 0);

CREATE TABLE subscription_counts (
  subscription_id TEXT PRIMARY KEY,
  pending         INTEGER NOT NULL DEFAULT 0,
  failed          INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TRIGGER events_count_delete AFTER DELETE ON events BEGIN
  UPDATE counters SET value = value - 1 WHERE name = 'events';
END;

CREATE TRIGGER subscriptions_counts_insert AFTER INSERT ON subscriptions BEGIN
  INSERT OR IGNORE INTO subscription_counts (subscription_id) VALUES (NEW.id);
END;
CREATE TRIGGER subscriptions_counts_delete AFTER DELETE ON subscriptions BEGIN
  DELETE FROM subscription_counts WHERE subscription_id = OLD.id;
END;

CREATE TRIGGER deliveries_count_update AFTER UPDATE OF status ON deliveries WHEN OLD.status <> NEW.status BEGIN
  UPDATE subscription_counts
     SET pending = pending + (NEW.status = 'pending') - (OLD.status = 'pending'),
         failed = failed + (NEW.status = 'failed') - (OLD.status = 'failed')
   WHERE subscription_id = NEW.subscription_id;
END;
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries BEGIN
  UPDATE subscription_counts
     SET pending = pending - (OLD.status = 'pending'), failed = failed - (OLD.status = 'failed')
   WHERE subscription_id = OLD.subscription_id;
END;
`;
