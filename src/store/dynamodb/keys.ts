/**
 * Key layout of the single table (see schema.ts for the indexes). Every key is a string built
 * here, so the layout can be read in one place:
 *
 *   item                 pk                          sk
 *   event                EVT#<event id>              EVT
 *   delivery             EVT#<event id>              DLV#<subscription digest>
 *   subscription         SUB                         <subscription id>
 *   idempotency key      IDEM#<key>                  IDEM
 *   counter shard        COUNT#<shard>               events | pending#<sub> | failed#<sub>
 *   received request     RCV#<name>                  <id, zero-padded>
 *   webhook-id seen      SEEN#<name>                 <webhook-id>
 *   receiver             RECEIVERS                   <name>
 *   received-id counter  SEQ                         received
 *   API key              APIKEY                      <key id>
 *   API key digest       APIKEYHASH#<sha-256 hex>    APIKEY
 *
 * A delivery lives in its event's partition, so one strongly consistent Query reads an event with
 * its deliveries and their attempts. Its id is `<event id>-<subscription digest>` (event ids hold
 * no `-`, and the digest is hex): any id that does not split that way names no delivery.
 */
import { createHash } from 'node:crypto';

export const EVENT_SK = 'EVT';
export const eventPk = (eventId: string): string => `EVT#${eventId}`;

/** 80 bits of SHA-256: fixed length whatever the subscription id, no collisions in practice. */
export const subscriptionDigest = (subscriptionId: string): string =>
  createHash('sha256').update(subscriptionId).digest('hex').slice(0, 20);

export const deliverySk = (subscriptionId: string): string => `DLV#${subscriptionDigest(subscriptionId)}`;
export const deliveryId = (eventId: string, subscriptionId: string): string => `${eventId}-${subscriptionDigest(subscriptionId)}`;

/** The item key of a delivery id, or null when the string cannot be one. */
export function deliveryKey(id: string): { pk: string; sk: string } | null {
  const cut = id.lastIndexOf('-');
  if (cut <= 0) return null;
  const digest = id.slice(cut + 1);
  if (!/^[0-9a-f]{20}$/.test(digest)) return null;
  return { pk: eventPk(id.slice(0, cut)), sk: `DLV#${digest}` };
}

/** A write shard for an event: every item of one event lands in the same shard of each index. */
export function shardOf(eventId: string, shards: number): number {
  let hash = 2166136261;
  for (let i = 0; i < eventId.length; i++) hash = Math.imul(hash ^ eventId.charCodeAt(i), 16777619);
  return (hash >>> 0) % shards;
}

/** Numbers in sort keys: zero-padded so string order is numeric order (epoch ms fit 15 digits). */
export const pad = (n: number): string => String(Math.max(0, Math.floor(n))).padStart(15, '0');

export const SUBSCRIPTION_PK = 'SUB';
export const RECEIVERS_PK = 'RECEIVERS';
export const API_KEY_PK = 'APIKEY';
export const apiKeyHashPk = (hash: string): string => `APIKEYHASH#${hash}`;
export const idempotencyPk = (key: string): string => `IDEM#${key}`;
export const receivedPk = (name: string): string => `RCV#${name}`;
export const seenPk = (name: string): string => `SEEN#${name}`;
export const counterPk = (shard: number): string => `COUNT#${shard}`;

// Index partition keys.
export const eventsListPk = (shard: number): string => `EVENTS#${shard}`;
export const failedListPk = (shard: number): string => `FAILED#${shard}`;
export const idempotencyListPk = (shard: number): string => `IDEMPOTENCY#${shard}`;
export const RECEIVED_LIST_PK = 'RECEIVED';
export const duePk = (subscriptionId: string, shard: number): string => `DUE#${subscriptionId}#${shard}`;
export const inboxPk = (subscriptionId: string, shard: number): string => `INBOX#${subscriptionId}#${shard}`;
export const bySubscriptionPk = (subscriptionId: string, shard: number): string => `SUB#${subscriptionId}#${shard}`;

export const dueSk = (at: number, id: string): string => `${pad(at)}#${id}`;
export const timeSk = (at: number, id: string): string => `${pad(at)}#${id}`;
