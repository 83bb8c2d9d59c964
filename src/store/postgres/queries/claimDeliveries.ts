/**
 * claimDeliveries(db, query, now) → the leased deliveries, oldest due first
 *   $1  subscription_id
 *   $2  now (the store clock)
 *   $3  limit
 *   $4  lease end (now + lease_ms)
 *
 * State change — pending (due) → leased: a fresh random `lease_token` per delivery, and
 * `next_attempt_at` becomes the lease end, so the delivery leaves the due range until the lease
 * expires (then anyone may claim it again: takeover of a dead consumer's work). One statement,
 * so one round trip and its own transaction: the inner SELECT walks the partial index
 * `deliveries_due` and skips rows another claimer has locked (FOR UPDATE SKIP LOCKED), so
 * concurrent claimers in any number of processes never block each other nor get the same row.
 * A disabled subscription hands out nothing.
 *
 * An ordered subscription ($5 true) hands out at most its earliest pending delivery in event
 * order (one probe of `deliveries_inbox`), and only when that one is due and not locked by
 * another claimer: while it is leased or waiting for a retry nothing later is handed out.
 */
import type { ClaimedDelivery, JsonObject } from '../../../core/types.js';
import type { ClaimQuery } from '../../store.js';
import type { Queryable } from '../pool.js';

const ORDERED = `SELECT (delivery->>'ordered')::boolean AS ordered FROM subscriptions WHERE id = $1 AND status = 'active'`;
const DUE = `SELECT d.id, d.next_attempt_at FROM deliveries d
     WHERE d.subscription_id = $1 AND d.status = 'pending' AND d.next_attempt_at <= $2
       AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = $1 AND s.status = 'active')
     ORDER BY d.next_attempt_at, d.id
     LIMIT $3
     FOR UPDATE OF d SKIP LOCKED`;
// The head row is locked (not skipped) so that two claimers of an ordered subscription queue on
// it; the second then sees it leased (next_attempt_at moved past now) and takes nothing.
const HEAD = `SELECT h.id, h.next_attempt_at FROM (
       SELECT d.id FROM deliveries d WHERE d.subscription_id = $1 AND d.status = 'pending'
        ORDER BY d.event_id LIMIT 1
     ) first JOIN deliveries h ON h.id = first.id
     WHERE h.status = 'pending' AND h.next_attempt_at <= $2 AND $3 > 0
       AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.id = $1 AND s.status = 'active')
     FOR UPDATE OF h`;
const claim = (due: string) => `WITH due AS (
    ${due}
  ), leased AS (
    UPDATE deliveries d SET lease_token = replace(gen_random_uuid()::text, '-', ''), next_attempt_at = $4
      FROM due WHERE d.id = due.id
    RETURNING d.id, d.event_id, d.attempts_count, d.retry_index, d.lease_token, due.next_attempt_at AS due_at
  )
  SELECT l.id, l.attempts_count, l.retry_index, l.lease_token,
         e.id AS event_id, e.type, e.source, e.payload, e.created_at
    FROM leased l, LATERAL (SELECT * FROM events WHERE events.id = l.event_id LIMIT 1) AS e
   ORDER BY l.due_at, l.id`;
const CLAIM = claim(DUE);
const CLAIM_HEAD = claim(HEAD);

interface ClaimRow {
  id: number;
  attempts_count: number;
  retry_index: number;
  lease_token: string;
  event_id: string;
  type: string;
  source: string;
  payload: JsonObject;
  created_at: number;
}

export async function claimDeliveries(db: Queryable, query: ClaimQuery, now: number): Promise<ClaimedDelivery[]> {
  if (query.limit <= 0) return [];
  const leaseEnd = now + query.lease_ms;
  const subscription = await db.query<{ ordered: boolean | null }>(ORDERED, [query.subscription_id]);
  const ordered = subscription.rows[0]?.ordered === true;
  const { rows } = await db.query<ClaimRow>(ordered ? CLAIM_HEAD : CLAIM, [query.subscription_id, now, query.limit, leaseEnd]);
  return rows.map((row) => ({
    delivery_id: String(row.id),
    subscription_id: query.subscription_id,
    event: { id: row.event_id, type: row.type, source: row.source, payload: row.payload, created_at: row.created_at },
    attempt: row.attempts_count + 1,
    retry_index: row.retry_index,
    lease_token: row.lease_token,
    lease_expires_at: leaseEnd,
  }));
}
