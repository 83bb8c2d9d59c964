/**
 * 005 — per-subscription delivery control and endpoint health.
 *
 * `delivery` is one jsonb object (rate_limit, max_concurrency, timeout_ms, headers,
 * retry_schedule, ordered), read whole with the subscription; claimDeliveries reads `ordered`
 * from the one subscription row it already probes. `first_failure_at` / `last_success_at` are
 * kept by settle. Retention (purge) walks events, received requests and idempotency keys by
 * time, oldest first: one index each.
 */
export const sql = `
ALTER TABLE subscriptions ADD COLUMN delivery jsonb NOT NULL DEFAULT '{}';
ALTER TABLE subscriptions ADD COLUMN first_failure_at bigint;
ALTER TABLE subscriptions ADD COLUMN last_success_at bigint;
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX received_requests_received_at ON received_requests (received_at);
CREATE INDEX idempotency_created_at ON idempotency (created_at);
`;
