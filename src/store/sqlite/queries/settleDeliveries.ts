/**
 * settleDeliveries(tx, settlements) → { results, disabled }
 *   settlements[i].delivery_id    the delivery
 *   settlements[i].lease_token    the claim's token (null for a plain inbox ack)
 *   settlements[i].attempt        the attempt made, recorded as attempt n = attempts_count + 1
 *   settlements[i].outcome        delivered | retry at T | dead
 *
 * State changes, applied only to a pending delivery whose lease token matches:
 *   leased ── delivered ──► delivered   (also applied on a lost lease: a late 2xx still counts)
 *   leased ── retry ──────► pending, due at next_attempt_at, lease cleared
 *   leased ── dead ───────► failed (dead letter), next_attempt_at null
 * A settlement that does not apply changes nothing, its attempt included (`applied: false`).
 *
 * Endpoint health: per subscription, after the batch, at most one UPDATE — a successful attempt
 * sets `last_success_at` (to within a second) and clears `first_failure_at`; a failed one sets
 * `first_failure_at` unless already set. Only attempts count (an inbox ack made no request).
 */
import type { DeliveryStatus, Settlement, SettleResult } from '../../../core/types.js';
import { type HealthMark, markHealth } from '../../health.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';
import { countStatusChange } from './counters.js';

const INSERT_ATTEMPT = `INSERT INTO attempts (delivery_id, n, at, duration_ms, status_code, error, response)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
// What a settlement is checked against, read by rowid before the UPDATE (cheaper than an
// UPDATE … RETURNING, which SQLite buffers through a temporary table).
const CURRENT = 'SELECT status, lease_token, attempts_count, subscription_id FROM deliveries WHERE id = ?';
// One UPDATE per applicable settlement: the outcome's columns, plus the attempt's when one was
// made. Latency comes from the row's own copy of the event time (migration 006), or for rows
// stored before it, from the event.
const WITH_ATTEMPT = `attempts_count = attempts_count + 1, retry_index = retry_index + 1, last_status_code = ?, last_error = ?,`;
const DELIVERED = `status = 'delivered', delivered_at = ?,
  latency_ms = max(0, ? - coalesce(event_created_at, (SELECT created_at FROM events WHERE id = deliveries.event_id))),
  next_attempt_at = NULL, lease_token = NULL, updated_at = ? WHERE id = ?`;
const RETRY = `next_attempt_at = ?, lease_token = NULL, updated_at = ? WHERE id = ?`;
const DEAD = `status = 'failed', next_attempt_at = NULL, lease_token = NULL, updated_at = ? WHERE id = ?`;
const update = (attempt: boolean, outcome: string) => `UPDATE deliveries SET ${attempt ? WITH_ATTEMPT : ''} ${outcome}`;
const UPDATES = {
  delivered: [update(false, DELIVERED), update(true, DELIVERED)],
  retry: [update(false, RETRY), update(true, RETRY)],
  dead: [update(false, DEAD), update(true, DEAD)],
} as const;
const DISABLE = `UPDATE subscriptions SET status = 'disabled', disabled_reason = ?, updated_at = ? WHERE id = ?`;
// Written only when something changes (last_success_at at most once a second while healthy).
const HEALTHY = `UPDATE subscriptions SET last_success_at = ?, first_failure_at = NULL WHERE id = ?
  AND (first_failure_at IS NOT NULL OR last_success_at IS NULL OR last_success_at <= ? - 1000)`;
const RECOVERED_THEN_FAILED = 'UPDATE subscriptions SET last_success_at = ?, first_failure_at = ? WHERE id = ?';
const FAILING = 'UPDATE subscriptions SET first_failure_at = ? WHERE id = ? AND first_failure_at IS NULL';

interface CurrentRow {
  status: string;
  lease_token: string | null;
  attempts_count: number;
  subscription_id: string;
}

export function settleDeliveries(tx: Tx, settlements: readonly Settlement[]): { results: SettleResult[]; disabled: boolean } {
  const { db, now } = tx;
  const results: SettleResult[] = [];
  let disabled = false;
  const health = new Map<string, HealthMark>();
  const retried = new Set<string>();
  for (const settlement of settlements) {
    const id = parseDeliveryId(settlement.delivery_id);
    const outcome = settlement.outcome;
    // Anything but a delivery needs the lease: a late 2xx still counts after the lease was lost.
    const row = id === null ? undefined : (prepared(db, CURRENT).get(id) as CurrentRow | undefined);
    if (
      row === undefined ||
      row.status !== 'pending' ||
      (outcome.kind !== 'delivered' && (settlement.lease_token === null || row.lease_token !== settlement.lease_token))
    ) {
      results.push({
        delivery_id: settlement.delivery_id,
        applied: false,
        found: (row?.status ?? null) as DeliveryStatus | null,
      });
      continue;
    }
    const attempt = settlement.attempt;
    const made = attempt !== null;
    const recorded: unknown[] = made ? [attempt.status_code, attempt.error] : [];
    const statement = prepared(db, UPDATES[outcome.kind][made ? 1 : 0]);
    if (outcome.kind === 'delivered') statement.run(...recorded, now, now, now, id);
    else if (outcome.kind === 'retry') {
      statement.run(...recorded, outcome.next_attempt_at, now, id);
      retried.add(row.subscription_id);
    } else statement.run(...recorded, now, id);
    if (outcome.kind !== 'retry')
      countStatusChange(tx, row.subscription_id, 'pending', outcome.kind === 'dead' ? 'failed' : 'delivered');
    if (made) {
      prepared(db, INSERT_ATTEMPT).run(
        id,
        row.attempts_count + 1,
        attempt.at,
        attempt.duration_ms,
        attempt.status_code,
        attempt.error,
        attempt.response,
      );
      markHealth(health, row.subscription_id, outcome.kind === 'delivered');
    }
    if (settlement.disable_subscription !== undefined) {
      prepared(db, DISABLE).run(settlement.disable_subscription, now, row.subscription_id);
      disabled = true;
    }
    results.push({ delivery_id: settlement.delivery_id, applied: true });
  }
  for (const [subscriptionId, mark] of health) {
    if (mark.success && mark.failedAfter) prepared(db, RECOVERED_THEN_FAILED).run(now, now, subscriptionId);
    else if (mark.success) prepared(db, HEALTHY).run(now, subscriptionId, now);
    else prepared(db, FAILING).run(now, subscriptionId);
  }
  // A retry moves a delivery's due time, maybe before what a waiting long poll sleeps until.
  if (retried.size > 0) tx.notify(retried);
  return { results, disabled };
}
