/**
 * claimDeliveries(tx, subscription_id, limit, lease_ms)
 *
 * Leases up to `limit` due deliveries of one active subscription, oldest due first (then by id).
 * State change — pending (due) → leased: `lease_token` is set and `next_attempt_at` becomes the
 * lease end, so the delivery drops out of the due range until the lease expires. One range of
 * the partial index `deliveries_due`; the write lock of the batch transaction guarantees two
 * claimers never get the same delivery.
 *
 * An ordered subscription hands out at most one delivery: its earliest pending one in event
 * order (one probe of `deliveries_inbox`), and only when that one is due. While it is leased or
 * waiting for a retry, nothing later is handed out.
 *
 * Each claim carries its webhook body, built around the stored payload text; its event's
 * payload is parsed back from that body only if something reads it (`lazyEvent`), so a delivery
 * never parses a payload just to serialize it again.
 */
import { envelopeJsonFromStored } from '../../../core/envelope.js';
import { newLeaseToken } from '../../../core/ids.js';
import type { ClaimedDelivery, Event, JsonObject } from '../../../core/types.js';
import type { ClaimQuery } from '../../store.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';

const IS_ACTIVE = "SELECT json_extract(delivery, '$.ordered') AS ordered FROM subscriptions WHERE id = ? AND status = 'active'";
// The event's columns come with each due row (one join, not one lookup per delivery).
const COLUMNS = `d.id, d.event_id, d.attempts_count, d.retry_index, d.next_attempt_at,
  e.type, e.source, e.payload, e.created_at`;
const HEAD = `SELECT ${COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
  WHERE d.subscription_id = ? AND d.status = 'pending' ORDER BY d.event_id LIMIT 1`;
const DUE = `SELECT ${COLUMNS} FROM deliveries d JOIN events e ON e.id = d.event_id
  WHERE d.subscription_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ?
  ORDER BY d.next_attempt_at, d.id LIMIT ?`;
const LEASE = 'UPDATE deliveries SET lease_token = ?, next_attempt_at = ? WHERE id = ?';
// Leases every row DUE returned in one statement: they are exactly the subscription's pending
// rows up to the last one in (next_attempt_at, id) order, since nothing else writes in between.
const LEASE_UP_TO = `UPDATE deliveries SET lease_token = ?, next_attempt_at = ?
  WHERE subscription_id = ? AND status = 'pending' AND next_attempt_at <= ? AND (next_attempt_at < ? OR id <= ?)`;

interface DueRow {
  id: number;
  event_id: string;
  attempts_count: number;
  retry_index: number;
  next_attempt_at: number;
  type: string;
  source: string;
  payload: string;
  created_at: number;
}

/** The event, its payload parsed from the claim's body the first time something reads it. */
function lazyEvent(row: DueRow, body: string): Event {
  const event = { id: row.event_id, type: row.type, source: row.source, created_at: row.created_at } as Event;
  let payload: JsonObject | undefined;
  Object.defineProperty(event, 'payload', {
    enumerable: true,
    configurable: true,
    get: () => {
      payload ??= (JSON.parse(body) as { payload: JsonObject }).payload;
      return payload;
    },
    set: (value: JsonObject) => {
      payload = value;
    },
  });
  return event;
}

export function claimDeliveries(tx: Tx, query: ClaimQuery): ClaimedDelivery[] {
  const { db, now } = tx;
  if (query.limit <= 0) return [];
  const active = prepared(db, IS_ACTIVE).get(query.subscription_id) as { ordered: number | null } | undefined;
  if (active === undefined) return [];
  let due: DueRow[];
  if (active.ordered) {
    const head = prepared(db, HEAD).get(query.subscription_id) as DueRow | undefined;
    due = head !== undefined && head.next_attempt_at <= now ? [head] : [];
  } else {
    due = prepared(db, DUE).all(query.subscription_id, now, query.limit) as DueRow[];
  }
  const leaseEnd = now + query.lease_ms;
  // One token per claim call: it only has to differ from every other claim's, and a re-claim
  // after expiry always makes a new one.
  const token = newLeaseToken();
  const last = due[due.length - 1];
  if (last === undefined) return [];
  // An ordered head is picked by event order, not due order: other due rows may sort before it
  // in the range, so it is leased by id.
  if (active.ordered) prepared(db, LEASE).run(token, leaseEnd, last.id);
  else prepared(db, LEASE_UP_TO).run(token, leaseEnd, query.subscription_id, last.next_attempt_at, last.next_attempt_at, last.id);
  const claimed: ClaimedDelivery[] = [];
  for (const row of due) {
    const body = envelopeJsonFromStored(row.event_id, row.type, row.source, row.created_at, row.payload);
    claimed.push({
      delivery_id: String(row.id),
      subscription_id: query.subscription_id,
      event: lazyEvent(row, body),
      attempt: row.attempts_count + 1,
      retry_index: row.retry_index,
      lease_token: token,
      lease_expires_at: leaseEnd,
      body,
    });
  }
  return claimed;
}
