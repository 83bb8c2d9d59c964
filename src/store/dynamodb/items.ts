/**
 * The items a new event writes: the event itself and one pending delivery per matching
 * subscription, all in the event's partition. Index keys are set here; the partition halves of
 * every index key (`listPk`, `duePk`, `inboxPk`) stay on a delivery for life, and its sort
 * halves come and go with its status, which is what makes the indexes sparse:
 *
 *   pending    dueSk (due time) + inboxSk (event id)
 *   delivered  neither
 *   failed     listSk (failure time), in the list index under FAILED#<shard>
 */
import type { EpochMs, Event, IdempotentResponse } from '../../core/types.js';
import type { Item } from './client.js';
import {
  bySubscriptionPk,
  deliveryId,
  deliverySk,
  duePk,
  dueSk,
  EVENT_SK,
  eventPk,
  eventsListPk,
  failedListPk,
  idempotencyListPk,
  idempotencyPk,
  inboxPk,
  shardOf,
  timeSk,
} from './keys.js';

export interface Layout {
  /** Write shards of every sharded index partition (schema.ts). */
  shards: number;
  /** How long the TTL attribute keeps events and received requests, seconds. */
  retentionSeconds: number;
}

/** One day past retention: the purge normally removes items first, TTL is the backstop. */
export const expiresAt = (layout: Layout, at: EpochMs): number => Math.floor(at / 1000) + layout.retentionSeconds + 86_400;

/**
 * `deliveries` lists the sort keys of the deliveries the event got, so a page of events can read
 * their statuses in one BatchGetItem instead of a Query per event.
 */
export function eventItem(layout: Layout, event: Event, subscriptionIds: readonly string[]): Item {
  return {
    pk: eventPk(event.id),
    sk: EVENT_SK,
    id: event.id,
    type: event.type,
    source: event.source,
    payload: JSON.stringify(event.payload),
    created_at: event.created_at,
    listPk: eventsListPk(shardOf(event.id, layout.shards)),
    listSk: timeSk(event.created_at, event.id),
    deliveries: subscriptionIds.map(deliverySk),
    expiresAt: expiresAt(layout, event.created_at),
  };
}

export function deliveryItem(layout: Layout, event: Event, subscriptionId: string, now: EpochMs): Item {
  const id = deliveryId(event.id, subscriptionId);
  const shard = shardOf(event.id, layout.shards);
  return {
    pk: eventPk(event.id),
    sk: deliverySk(subscriptionId),
    id,
    event_id: event.id,
    subscription_id: subscriptionId,
    event_type: event.type,
    event_created_at: event.created_at,
    status: 'pending',
    attempts_count: 0,
    retry_index: 0,
    next_attempt_at: now,
    created_at: now,
    updated_at: now,
    attempts: [],
    duePk: duePk(subscriptionId, shard),
    dueSk: dueSk(now, id),
    inboxPk: inboxPk(subscriptionId, shard),
    inboxSk: event.id,
    listPk: failedListPk(shard),
    subPk: bySubscriptionPk(subscriptionId, shard),
    subSk: event.id,
    expiresAt: expiresAt(layout, event.created_at),
  };
}

export function idempotencyItem(layout: Layout, key: string, response: IdempotentResponse, now: EpochMs): Item {
  return {
    pk: idempotencyPk(key),
    sk: 'IDEM',
    key,
    status: response.status,
    body: JSON.stringify(response.body),
    created_at: now,
    listPk: idempotencyListPk(shardOf(key, layout.shards)),
    listSk: timeSk(now, key),
    // Purge removes keys after IDEMPOTENCY_TTL_MS; TTL a day later is the backstop.
    expiresAt: Math.floor(now / 1000) + 2 * 86_400,
  };
}
