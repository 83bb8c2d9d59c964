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
import type { SettleResult, Settlement } from '../../../core/types.js';
import { type HealthMark, markHealth } from '../../health.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';

const CURRENT = `SELECT d.status, d.lease_token, d.attempts_count, d.subscription_id, e.created_at AS event_created_at
  FROM deliveries d JOIN events e ON e.id = d.event_id WHERE d.id = ?`;
const INSERT_ATTEMPT = `INSERT INTO attempts (delivery_id, n, at, duration_ms, status_code, error, response)
  VALUES (?, ?, ?, ?, ?, ?, ?)`;
// One UPDATE per settlement: the outcome's columns, plus the attempt's when one was made.
const WITH_ATTEMPT = `attempts_count = attempts_count + 1, retry_index = retry_index + 1, last_status_code = ?, last_error = ?,`;
const DELIVERED = `status = 'delivered', delivered_at = ?, latency_ms = ?, next_attempt_at = NULL, lease_token = NULL, updated_at = ? WHERE id = ?`;
const RETRY = `next_attempt_at = ?, lease_token = NULL, updated_at = ? WHERE id = ?`;
const DEAD = `status = 'failed', next_attempt_at = NULL, lease_token = NULL, updated_at = ? WHERE id = ?`;
const update = (attempt: boolean, outcome: string) => `UPDATE deliveries SET ${attempt ? WITH_ATTEMPT : ''} ${outcome}`;
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
  event_created_at: number;
}

export function settleDeliveries(tx: Tx, settlements: readonly Settlement[]): { results: SettleResult[]; disabled: boolean } {
  const { db, now } = tx;
  const results: SettleResult[] = [];
  let disabled = false;
  const health = new Map<string, HealthMark>();
  for (const settlement of settlements) {
    const id = parseDeliveryId(settlement.delivery_id);
    const row = id === null ? undefined : (prepared(db, CURRENT).get(id) as CurrentRow | undefined);
    const holdsLease = row !== undefined && settlement.lease_token !== null && row.lease_token === settlement.lease_token;
    const applies =
      id !== null && row !== undefined && row.status === 'pending' && (settlement.outcome.kind === 'delivered' || holdsLease);
    if (!applies || id === null || row === undefined) {
      results.push({ delivery_id: settlement.delivery_id, applied: false });
      continue;
    }
    const attempt = settlement.attempt;
    const recorded: unknown[] = [];
    if (attempt !== null) {
      prepared(db, INSERT_ATTEMPT).run(
        id,
        row.attempts_count + 1,
        attempt.at,
        attempt.duration_ms,
        attempt.status_code,
        attempt.error,
        attempt.response,
      );
      recorded.push(attempt.status_code, attempt.error);
      markHealth(health, row.subscription_id, settlement.outcome.kind === 'delivered');
    }
    const outcome = settlement.outcome;
    const made = attempt !== null;
    if (outcome.kind === 'delivered') {
      prepared(db, update(made, DELIVERED)).run(...recorded, now, Math.max(0, now - row.event_created_at), now, id);
    } else if (outcome.kind === 'retry') {
      prepared(db, update(made, RETRY)).run(...recorded, outcome.next_attempt_at, now, id);
    } else {
      prepared(db, update(made, DEAD)).run(...recorded, now, id);
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
  return { results, disabled };
}
