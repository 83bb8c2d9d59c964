/**
 * Claims and leases: every state change of a delivery is one conditional UpdateItem on its own
 * item, so two dispatchers can never both hold it, whatever the indexes said when they looked.
 *
 *   claim   the due index (write-sharded per subscription) is read across its shards, oldest due
 *           first; each candidate is leased by `status = pending AND next_attempt_at <= now`,
 *           which sets a fresh `lease_token` and moves `next_attempt_at` (and `dueSk`) to the
 *           lease end. A candidate another claimer took first fails its condition and is skipped;
 *           the claimer reads further (picking at random among the next few, so racing claimers
 *           spread out) until it has `limit` or nothing due is left. On DynamoDB the
 *           index is eventually consistent, so it may still show a delivery just leased or
 *           settled: the condition on the item is what decides.
 *   ordered the subscription's earliest pending delivery in event order (inbox index head), and
 *           only when it is due: at most one in flight.
 *   extend  `status = pending AND lease_token = :token`.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimedDelivery, EpochMs, Subscription } from '../../core/types.js';
import type { ClaimQuery } from '../store.js';
import { batchGet, conditional, type Dynamo, Expr, type Item, isConditionalFailure, updateExpression } from './client.js';
import { newLeaseToken } from '../../core/ids.js';
import { deliveryKey, duePk, dueSk, EVENT_SK, eventPk, inboxPk, pad } from './keys.js';
import { toEvent } from './rows.js';
import { MergedQuery, shardPartitions } from './shardedQuery.js';

const dueQuery = (db: Dynamo, shards: number, subscriptionId: string, now: EpochMs | null, pageSize: number) =>
  new MergedQuery(db, {
    index: 'due',
    partitionKey: 'duePk',
    sortKey: 'dueSk',
    partitions: shardPartitions(shards, (shard) => duePk(subscriptionId, shard)),
    ...(now === null ? {} : { upper: { value: pad(now + 1), inclusive: false } }),
    pageSize,
  });

export const inboxQuery = (db: Dynamo, shards: number, subscriptionId: string, pageSize: number, descending = false) =>
  new MergedQuery(db, {
    index: 'inbox',
    partitionKey: 'inboxPk',
    sortKey: 'inboxSk',
    partitions: shardPartitions(shards, (shard) => inboxPk(subscriptionId, shard)),
    descending,
    pageSize,
  });

/** Leases one delivery if it is still pending and due; the leased item, or null. */
async function lease(db: Dynamo, candidate: Item, now: EpochMs, leaseEnd: EpochMs): Promise<Item | null> {
  const expr = new Expr();
  try {
    const result = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: candidate.pk, sk: candidate.sk },
        UpdateExpression: updateExpression([
          `${expr.n('lease_token')} = ${expr.v(newLeaseToken())}`,
          `${expr.n('next_attempt_at')} = ${expr.v(leaseEnd)}`,
          `${expr.n('dueSk')} = ${expr.v(dueSk(leaseEnd, String(candidate.id)))}`,
        ]),
        ConditionExpression: `${expr.n('status')} = ${expr.v('pending')} AND ${expr.n('next_attempt_at')} <= ${expr.v(now)}`,
        ...expr.params,
        ReturnValues: 'ALL_NEW',
      }),
    );
    // Where it stood in the due order before the lease moved it, to hand claims out oldest first.
    return { ...(result.Attributes as Item), dueSkBefore: candidate.dueSk };
  } catch (error) {
    if (isConditionalFailure(error)) return null;
    throw error;
  }
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

export async function claimDeliveries(
  db: Dynamo,
  shards: number,
  subscription: Subscription | null,
  query: ClaimQuery,
  now: EpochMs,
): Promise<ClaimedDelivery[]> {
  if (query.limit <= 0 || subscription === null || subscription.status !== 'active') return [];
  const leaseEnd = now + query.lease_ms;
  const leased: Item[] = [];
  if (subscription.delivery.ordered) {
    const head = await inboxQuery(db, shards, subscription.id, 1).next();
    if (head !== null && Number(head.next_attempt_at) <= now) {
      const item = await lease(db, head, now, leaseEnd);
      if (item !== null) leased.push(item);
    }
  } else {
    const tried = new Set<string>();
    for (let round = 0; ; round++) {
      const want = query.limit - leased.length;
      if (want <= 0) break;
      // After a lost race, other claimers are working the same head: pick at random among the
      // next few due deliveries instead of all fighting over the same ones again.
      const pool = round === 0 ? want : want * 3;
      const due = dueQuery(db, shards, subscription.id, now, pool + 10);
      const candidates: Item[] = [];
      while (candidates.length < pool) {
        const item = await due.next();
        if (item === null) break;
        if (!tried.has(String(item.id))) candidates.push(item);
      }
      if (candidates.length === 0) break;
      const picked = round === 0 ? candidates : shuffle(candidates).slice(0, want);
      for (const item of picked) tried.add(String(item.id));
      const won = await Promise.all(picked.map((candidate) => lease(db, candidate, now, leaseEnd)));
      leased.push(...won.filter((item): item is Item => item !== null));
    }
    // Oldest due first, whatever order the rounds won them in.
    leased.sort((a, b) => (String(a.dueSkBefore) < String(b.dueSkBefore) ? -1 : 1));
  }
  if (leased.length === 0) return [];
  const events = await batchGet(
    db,
    leased.map((item) => ({ pk: eventPk(String(item.event_id)), sk: EVENT_SK })),
  );
  const claims: ClaimedDelivery[] = [];
  for (const item of leased) {
    const event = events.get(`${eventPk(String(item.event_id))}|${EVENT_SK}`);
    if (event === undefined) continue; // erased meanwhile
    claims.push({
      delivery_id: String(item.id),
      subscription_id: subscription.id,
      event: toEvent(event),
      attempt: Number(item.attempts_count) + 1,
      retry_index: Number(item.retry_index),
      lease_token: String(item.lease_token),
      lease_expires_at: leaseEnd,
    });
  }
  return claims;
}

export async function extendLeases(
  db: Dynamo,
  leases: readonly { delivery_id: string; lease_token: string }[],
  leaseMs: number,
  now: EpochMs,
): Promise<string[]> {
  const end = now + leaseMs;
  const held = await Promise.all(
    leases.map((held) => {
      const key = deliveryKey(held.delivery_id);
      if (key === null) return false;
      const expr = new Expr();
      return conditional(() =>
        db.doc.send(
          new UpdateCommand({
            TableName: db.table,
            Key: key,
            UpdateExpression: updateExpression([
              `${expr.n('next_attempt_at')} = ${expr.v(end)}`,
              `${expr.n('dueSk')} = ${expr.v(dueSk(end, held.delivery_id))}`,
            ]),
            ConditionExpression: `${expr.n('status')} = ${expr.v('pending')} AND ${expr.n('lease_token')} = ${expr.v(held.lease_token)}`,
            ...expr.params,
          }),
        ),
      );
    }),
  );
  return leases.filter((_, index) => held[index]).map((lease) => lease.delivery_id);
}

/**
 * Gives leases back without an attempt: each delivery still held (pending, same token) is due
 * at once, its lease dropped. Returns the ids released and their subscriptions, to wake.
 */
export async function releaseLeases(
  db: Dynamo,
  leases: readonly { delivery_id: string; lease_token: string }[],
  now: EpochMs,
): Promise<{ released: string[]; subscriptions: Set<string> }> {
  // Per lease: the subscription of a delivery released, or null when it was not held.
  const found = await Promise.all(
    leases.map(async (held): Promise<string | null> => {
      const key = deliveryKey(held.delivery_id);
      if (key === null) return null;
      const expr = new Expr();
      try {
        const answer = await db.doc.send(
          new UpdateCommand({
            TableName: db.table,
            Key: key,
            UpdateExpression: updateExpression(
              [
                `${expr.n('next_attempt_at')} = ${expr.v(now)}`,
                `${expr.n('dueSk')} = ${expr.v(dueSk(now, held.delivery_id))}`,
                `${expr.n('updated_at')} = ${expr.v(now)}`,
              ],
              [expr.n('lease_token')],
            ),
            ConditionExpression: `${expr.n('status')} = ${expr.v('pending')} AND ${expr.n('lease_token')} = ${expr.v(held.lease_token)}`,
            ReturnValues: 'ALL_NEW',
            ...expr.params,
          }),
        );
        return String(answer.Attributes?.subscription_id);
      } catch (error) {
        if (isConditionalFailure(error)) return null;
        throw error;
      }
    }),
  );
  const released: string[] = [];
  const subscriptions = new Set<string>();
  leases.forEach((lease, index) => {
    const subscriptionId = found[index];
    if (subscriptionId == null) return;
    released.push(lease.delivery_id);
    subscriptions.add(subscriptionId);
  });
  return { released, subscriptions };
}

/** The earliest due time of the subscription's pending deliveries (its head's, when ordered). */
export async function nextDueAt(db: Dynamo, shards: number, subscription: Subscription | null): Promise<EpochMs | null> {
  if (subscription === null) return null;
  const head = subscription.delivery.ordered
    ? await inboxQuery(db, shards, subscription.id, 1).next()
    : await dueQuery(db, shards, subscription.id, null, 1).next();
  return head === null ? null : Number(head.next_attempt_at);
}
