/**
 * 004 — per-subscription delivery control and endpoint health.
 *
 * `delivery` is one JSON object (rate_limit, max_concurrency, timeout_ms, headers,
 * retry_schedule, ordered): read whole with the subscription, never filtered on, except
 * `ordered`, which claimDeliveries reads with json_extract from the one row it already probes.
 * `first_failure_at` / `last_success_at` are kept by settle. Retention (purge) walks events and
 * received requests by time, oldest first: two indexes for that.
 */
export const sql = `
ALTER TABLE subscriptions ADD COLUMN delivery TEXT NOT NULL DEFAULT '{}';
ALTER TABLE subscriptions ADD COLUMN first_failure_at INTEGER;
ALTER TABLE subscriptions ADD COLUMN last_success_at INTEGER;
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX received_requests_received_at ON received_requests (received_at);
CREATE INDEX idempotency_created_at ON idempotency (created_at);
`;
