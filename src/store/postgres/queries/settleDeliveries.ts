/**
 * settleDeliveries(client, settlements, now) → one SettleResult per settlement, in order
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
 * A whole group-commit batch costs three statements, whatever its size: lock the rows (in id
 * order, so concurrent batches in other processes cannot deadlock with this one), decide in
 * memory (applying the settlements one after another, so a delivery settled twice in one batch
 * behaves as if the calls had been separate), then one UPDATE … FROM unnest and one multi-row
 * INSERT of attempts:
 *
 *   LOCK     $1 ids
 *   WRITE    $1..$9 unnest: id, status, attempts_count, retry_index, next_attempt_at,
 *            last_status_code, last_error, latency_ms, delivered_at;  $10 now;
 *            $11..$17 unnest: attempt delivery_id, n, at, duration_ms, status_code, error, response
 *   DISABLE  $1 subscription ids, $2 reasons, $3 now
 *   HEALTH   $1 subscription ids, $2 "a success", $3 "a failure after it", $4 now — endpoint
 *            health (see sqlite/queries/settleDeliveries.ts), one statement, ids sorted so
 *            concurrent batches lock subscription rows in the same order
 */
import type { DeliveryStatus, Settlement, SettleResult } from '../../../core/types.js';
import { type HealthMark, markHealth } from '../../health.js';
import type { Queryable } from '../pool.js';
import { parseDeliveryId } from '../rows.js';

const LOCK = `SELECT id, status, lease_token, attempts_count, retry_index, next_attempt_at, last_status_code, last_error,
    latency_ms, delivered_at, subscription_id, event_created_at
  FROM deliveries WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`;
const WRITE = `WITH updated AS (
    UPDATE deliveries d SET status = u.status, attempts_count = u.attempts_count, retry_index = u.retry_index,
        next_attempt_at = u.next_attempt_at, lease_token = NULL, last_status_code = u.last_status_code,
        last_error = u.last_error, latency_ms = u.latency_ms, delivered_at = u.delivered_at, updated_at = $10
      FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::int[], $7::text[], $8::bigint[], $9::bigint[])
        AS u(id, status, attempts_count, retry_index, next_attempt_at, last_status_code, last_error, latency_ms, delivered_at)
     WHERE d.id = u.id
  )
  INSERT INTO attempts (delivery_id, n, at, duration_ms, status_code, error, response)
  SELECT * FROM unnest($11::bigint[], $12::int[], $13::bigint[], $14::int[], $15::int[], $16::text[], $17::text[])`;
const DISABLE = `UPDATE subscriptions s SET status = 'disabled', disabled_reason = u.reason, updated_at = $3
  FROM unnest($1::text[], $2::text[]) AS u(id, reason) WHERE s.id = u.id`;

const HEALTH = `UPDATE subscriptions s SET
    last_success_at = CASE WHEN u.success THEN $4::bigint ELSE s.last_success_at END,
    first_failure_at = CASE WHEN u.success AND NOT u.failed_after THEN NULL
                            WHEN u.success THEN $4::bigint
                            ELSE COALESCE(s.first_failure_at, $4::bigint) END
  FROM unnest($1::text[], $2::boolean[], $3::boolean[]) AS u(id, success, failed_after)
  WHERE s.id = u.id AND (
    -- Only when something changes (last_success_at at most once a second): a steady stream of
    -- settles from many processes must not queue on the subscription's row lock.
    (u.success AND NOT u.failed_after AND (s.first_failure_at IS NOT NULL OR s.last_success_at IS NULL OR s.last_success_at <= $4::bigint - 1000))
    OR (u.success AND u.failed_after)
    OR (NOT u.success AND s.first_failure_at IS NULL))`;

interface DeliveryState {
  id: number;
  status: string;
  lease_token: string | null;
  attempts_count: number;
  retry_index: number;
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  latency_ms: number | null;
  delivered_at: number | null;
  subscription_id: string;
  event_created_at: number;
}

interface AttemptInsert {
  delivery_id: number;
  n: number;
  at: number;
  duration_ms: number;
  status_code: number | null;
  error: string | null;
  response: string | null;
}

export async function settleDeliveries(
  client: Queryable,
  settlements: readonly Settlement[],
  now: number,
  /** Collects the subscriptions that got a retry, for the caller to wake their waiting consumers. */
  retried?: Set<string>,
): Promise<SettleResult[]> {
  const ids = [...new Set(settlements.map((s) => parseDeliveryId(s.delivery_id)).filter((id): id is number => id !== null))];
  const rows = ids.length === 0 ? [] : (await client.query<DeliveryState>(LOCK, [ids])).rows;
  const state = new Map(rows.map((row) => [row.id, row]));
  const changed = new Set<DeliveryState>();
  const attempts: AttemptInsert[] = [];
  const disabled = new Map<string, string>();
  const health = new Map<string, HealthMark>();

  const results = settlements.map((settlement): SettleResult => {
    const id = parseDeliveryId(settlement.delivery_id);
    const row = id === null ? undefined : state.get(id);
    const holdsLease = row !== undefined && settlement.lease_token !== null && row.lease_token === settlement.lease_token;
    if (row === undefined || row.status !== 'pending' || !(settlement.outcome.kind === 'delivered' || holdsLease)) {
      return { delivery_id: settlement.delivery_id, applied: false, found: (row?.status ?? null) as DeliveryStatus | null };
    }
    const attempt = settlement.attempt;
    if (attempt !== null) {
      row.attempts_count++;
      row.retry_index++;
      row.last_status_code = attempt.status_code;
      row.last_error = attempt.error;
      attempts.push({
        delivery_id: row.id,
        n: row.attempts_count,
        // SQLite keeps whatever number it is given; integer columns here need whole numbers.
        at: Math.round(attempt.at),
        duration_ms: Math.round(attempt.duration_ms),
        status_code: attempt.status_code,
        error: attempt.error,
        response: attempt.response,
      });
      markHealth(health, row.subscription_id, settlement.outcome.kind === 'delivered');
    }
    const outcome = settlement.outcome;
    row.lease_token = null;
    if (outcome.kind === 'delivered') {
      row.status = 'delivered';
      row.delivered_at = now;
      row.latency_ms = Math.max(0, now - row.event_created_at);
      row.next_attempt_at = null;
    } else if (outcome.kind === 'retry') {
      row.next_attempt_at = outcome.next_attempt_at;
      retried?.add(row.subscription_id);
    } else {
      row.status = 'failed';
      row.next_attempt_at = null;
    }
    if (settlement.disable_subscription !== undefined) disabled.set(row.subscription_id, settlement.disable_subscription);
    changed.add(row);
    return { delivery_id: settlement.delivery_id, applied: true };
  });

  if (changed.size > 0) {
    const list = [...changed];
    const column = <K extends keyof DeliveryState>(key: K) => list.map((row) => row[key]);
    const attempt = <K extends keyof AttemptInsert>(key: K) => attempts.map((row) => row[key]);
    await client.query(WRITE, [
      column('id'),
      column('status'),
      column('attempts_count'),
      column('retry_index'),
      column('next_attempt_at'),
      column('last_status_code'),
      column('last_error'),
      column('latency_ms'),
      column('delivered_at'),
      now,
      attempt('delivery_id'),
      attempt('n'),
      attempt('at'),
      attempt('duration_ms'),
      attempt('status_code'),
      attempt('error'),
      attempt('response'),
    ]);
  }
  if (disabled.size > 0) await client.query(DISABLE, [[...disabled.keys()], [...disabled.values()], now]);
  if (health.size > 0) {
    const ids = [...health.keys()].sort();
    const marks = ids.map((id) => health.get(id) as HealthMark);
    await client.query(HEALTH, [ids, marks.map((m) => m.success), marks.map((m) => m.failedAfter), now]);
  }
  return results;
}
