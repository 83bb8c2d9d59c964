/**
 * appendEvents(tx, request, subscriptions)
 *   request.events        the events to store (ids and created_at filled by the caller)
 *   request.idempotency   optional key + the response a repeat should get
 *   subscriptions         the active subscriptions (read in this transaction)
 *
 * Stores the events and one pending delivery, due now, per matching active subscription — all
 * in the caller's transaction. A seen idempotency key stores nothing and returns the first
 * response; because jobs of one group commit run one after another in the same transaction, a
 * second append with the same key in the same batch sees the first one's row.
 */
import { ConflictError } from '../../../core/errors.js';
import { matchesAny } from '../../../core/filters.js';
import { type AppendRequest, type AppendResult, IDEMPOTENCY_TTL_MS, type Json } from '../../../core/types.js';
import { isConstraintError } from '../errors.js';
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import type { ActiveSubscription } from '../subscriptionCache.js';
import { EVENTS_COUNTER, pendingCounter } from './counters.js';
import { nextDeliveryId } from './deliveryIds.js';

const SELECT_KEY = 'SELECT status, body, created_at FROM idempotency WHERE key = ?';
const EXPIRE_KEY = 'DELETE FROM idempotency WHERE key = ?';
const INSERT_KEY = 'INSERT INTO idempotency (key, status, body, created_at) VALUES (?, ?, ?, ?)';
const INSERT_EVENT = 'INSERT INTO events (id, type, source, payload, created_at) VALUES (?, ?, ?, ?, ?)';
const INSERT_DELIVERY = `INSERT INTO deliveries
  (id, event_id, subscription_id, event_type, status, next_attempt_at, created_at, updated_at, event_created_at)
  VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)`;

export function appendEvents(tx: Tx, request: AppendRequest, subscriptions: readonly ActiveSubscription[]): AppendResult {
  const { db, now } = tx;
  const key = request.idempotency?.key;
  if (key !== undefined) {
    const seen = prepared(db, SELECT_KEY).get(key) as { status: number; body: string; created_at: number } | undefined;
    // Past its TTL a key is new again, whether or not retention has removed it yet.
    if (seen !== undefined && seen.created_at <= now - IDEMPOTENCY_TTL_MS) prepared(db, EXPIRE_KEY).run(key);
    else if (seen !== undefined) {
      return { kind: 'replayed', response: { status: seen.status, body: JSON.parse(seen.body) as Json } };
    }
  }
  const insertEvent = prepared(db, INSERT_EVENT);
  const insertDelivery = prepared(db, INSERT_DELIVERY);
  const perSubscription = new Map<string, number>();
  let deliveries = 0;
  for (const event of request.events) {
    try {
      insertEvent.run(event.id, event.type, event.source, JSON.stringify(event.payload), event.created_at);
    } catch (error) {
      if (isConstraintError(error)) throw new ConflictError(`event ${JSON.stringify(event.id)} already exists`);
      throw error;
    }
    for (const subscription of subscriptions) {
      if (!matchesAny(subscription.event_types, event.type)) continue;
      insertDelivery.run(nextDeliveryId(db), event.id, subscription.id, event.type, now, now, now, event.created_at);
      perSubscription.set(subscription.id, (perSubscription.get(subscription.id) ?? 0) + 1);
      deliveries++;
    }
  }
  if (request.idempotency !== undefined) {
    const { response } = request.idempotency;
    prepared(db, INSERT_KEY).run(request.idempotency.key, response.status, JSON.stringify(response.body), now);
  }
  // Counters for stats(), summed over the whole batch (see counters.ts and migration 001).
  tx.count(EVENTS_COUNTER, request.events.length);
  for (const [subscriptionId, count] of perSubscription) tx.count(pendingCounter(subscriptionId), count);
  tx.notify(perSubscription.keys());
  return { kind: 'stored', deliveries };
}
