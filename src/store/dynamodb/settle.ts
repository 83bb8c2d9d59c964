/**
 * settle, ackEvent and replay: the outcomes of attempts, each one conditional UpdateItem on the
 * delivery (attempts are appended to the item's own list, so an attempt is recorded exactly when
 * its settlement applies).
 *
 *   leased ── delivered ──► delivered   `status = pending` (a late 2xx counts even after the lease was lost)
 *   leased ── retry ──────► pending     `status = pending AND lease_token = :token`; due at next_attempt_at
 *   leased ── dead ───────► failed      same condition; listed under FAILED#<shard> by failure time
 *   pending | failed ── ack ──► delivered
 *   failed ── replay ──► pending, due now, retry_index 0
 *
 * Index membership follows the status: pending items carry `dueSk` and `inboxSk`, failed ones
 * `listSk`, delivered ones none of them.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DeliveryStatus, EpochMs, Settlement, SettleResult } from '../../core/types.js';
import type { AckResult, ReplayFilter } from '../store.js';
import { type Dynamo, Expr, type Item, isConditionalFailure, mapLimit, updateExpression } from './client.js';
import { type CounterDeltas, failedCounter, pendingCounter } from './counters.js';
import { allOf, typeCondition } from './filters.js';
import { deliveryKey, deliverySk, dueSk, eventPk, failedListPk, pad, timeSk } from './keys.js';
import { toStoredAttempt } from './rows.js';
import { MergedQuery, shardPartitions } from './shardedQuery.js';

export interface Settled {
  result: SettleResult;
  /** The delivery after the change, when applied. */
  item: Item | null;
}

async function update(
  db: Dynamo,
  key: { pk: string; sk: string },
  expr: Expr,
  set: string[],
  remove: string[],
  condition: string,
  returnOld = false,
) {
  try {
    const result = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: updateExpression(set, remove),
        ConditionExpression: condition,
        ...expr.params,
        ReturnValues: returnOld ? 'ALL_OLD' : 'ALL_NEW',
      }),
    );
    return result.Attributes as Item;
  } catch (error) {
    if (isConditionalFailure(error)) return null;
    throw error;
  }
}

/** What a settlement that did not apply found: the delivery's status, or null when there is none. */
async function currentStatus(db: Dynamo, key: { pk: string; sk: string }): Promise<DeliveryStatus | null> {
  const found = await db.doc.send(
    new GetCommand({
      TableName: db.table,
      Key: key,
      ConsistentRead: true,
      ProjectionExpression: '#s',
      ExpressionAttributeNames: { '#s': 'status' },
    }),
  );
  return (found.Item?.status as DeliveryStatus | undefined) ?? null;
}

export async function settleOne(db: Dynamo, settlement: Settlement, now: EpochMs): Promise<Settled> {
  const notApplied = { result: { delivery_id: settlement.delivery_id, applied: false }, item: null };
  const key = deliveryKey(settlement.delivery_id);
  const outcome = settlement.outcome;
  if (key === null) return { result: { ...notApplied.result, found: null }, item: null };
  if (outcome.kind !== 'delivered' && settlement.lease_token === null) {
    return { result: { ...notApplied.result, found: await currentStatus(db, key) }, item: null };
  }
  const expr = new Expr();
  const n = (name: string) => expr.n(name);
  const set = [`${n('updated_at')} = ${expr.v(now)}`];
  const remove = [n('lease_token')];
  let condition = `${n('status')} = ${expr.v('pending')}`;
  if (outcome.kind !== 'delivered') condition += ` AND ${n('lease_token')} = ${expr.v(settlement.lease_token)}`;
  const attempt = settlement.attempt;
  if (attempt !== null) {
    const one = expr.v(1);
    set.push(
      `${n('attempts_count')} = ${n('attempts_count')} + ${one}`,
      `${n('retry_index')} = ${n('retry_index')} + ${one}`,
      `${n('attempts')} = list_append(${n('attempts')}, ${expr.v([toStoredAttempt(attempt)])})`,
      `${n('last_status_code')} = ${expr.v(attempt.status_code)}`,
      `${n('last_error')} = ${expr.v(attempt.error)}`,
    );
  }
  if (outcome.kind === 'delivered') {
    set.push(
      `${n('status')} = ${expr.v('delivered')}`,
      `${n('delivered_at')} = ${expr.v(now)}`,
      `${n('latency_ms')} = ${expr.v(now)} - ${n('event_created_at')}`,
    );
    remove.push(n('next_attempt_at'), n('dueSk'), n('inboxSk'));
  } else if (outcome.kind === 'retry') {
    set.push(
      `${n('next_attempt_at')} = ${expr.v(outcome.next_attempt_at)}`,
      `${n('dueSk')} = ${expr.v(dueSk(outcome.next_attempt_at, settlement.delivery_id))}`,
    );
  } else {
    set.push(`${n('status')} = ${expr.v('failed')}`, `${n('listSk')} = ${expr.v(timeSk(now, settlement.delivery_id))}`);
    remove.push(n('next_attempt_at'), n('dueSk'), n('inboxSk'));
  }
  const item = await update(db, key, expr, set, remove, condition);
  if (item !== null) return { result: { delivery_id: settlement.delivery_id, applied: true }, item };
  return { result: { ...notApplied.result, found: await currentStatus(db, key) }, item: null };
}

/** Settles in order: different deliveries concurrently, the same delivery one call after another. */
export async function settleAll(db: Dynamo, settlements: readonly Settlement[], now: EpochMs): Promise<Settled[]> {
  const results: Settled[] = new Array(settlements.length);
  const byDelivery = new Map<string, number[]>();
  settlements.forEach((settlement, index) => {
    const list = byDelivery.get(settlement.delivery_id) ?? [];
    list.push(index);
    byDelivery.set(settlement.delivery_id, list);
  });
  await mapLimit([...byDelivery.values()], 32, async (indexes) => {
    for (const index of indexes) results[index] = await settleOne(db, settlements[index] as Settlement, now);
  });
  return results;
}

export async function ackEvent(
  db: Dynamo,
  subscriptionId: string,
  eventId: string,
  now: EpochMs,
  counters: CounterDeltas,
): Promise<AckResult> {
  const key = { pk: eventPk(eventId), sk: deliverySk(subscriptionId) };
  const expr = new Expr();
  const n = (name: string) => expr.n(name);
  const old = await update(
    db,
    key,
    expr,
    [
      `${n('status')} = ${expr.v('delivered')}`,
      `${n('delivered_at')} = ${expr.v(now)}`,
      `${n('latency_ms')} = ${expr.v(now)} - ${n('event_created_at')}`,
      `${n('updated_at')} = ${expr.v(now)}`,
    ],
    [n('next_attempt_at'), n('lease_token'), n('dueSk'), n('inboxSk'), n('listSk')],
    `attribute_exists(pk) AND ${n('subscription_id')} = ${expr.v(subscriptionId)} AND ${n('status')} <> ${expr.v('delivered')}`,
    true,
  );
  if (old !== null) {
    counters.add(old.status === 'failed' ? failedCounter(subscriptionId) : pendingCounter(subscriptionId), -1);
    return 'acked';
  }
  const { Item: item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  return item !== undefined && item.subscription_id === subscriptionId ? 'already_acked' : 'not_found';
}

/** The replay filter as a condition on a failed delivery's attributes. */
function replayCondition(expr: Expr, filter: ReplayFilter): string {
  return (
    allOf([
      `${expr.n('status')} = ${expr.v('failed')}`,
      filter.subscription_id !== undefined ? `${expr.n('subscription_id')} = ${expr.v(filter.subscription_id)}` : null,
      typeCondition(expr, 'event_type', filter.type),
      filter.since !== undefined ? `${expr.n('updated_at')} >= ${expr.v(filter.since)}` : null,
      filter.until !== undefined ? `${expr.n('updated_at')} <= ${expr.v(filter.until)}` : null,
    ]) ?? ''
  );
}

/** Failed deliveries matching the filter, newest failure first, through the list index. */
export function failedQuery(
  db: Dynamo,
  shards: number,
  filter: Omit<ReplayFilter, 'delivery_id'>,
  pageSize: number,
  before: string | null = null,
): MergedQuery {
  let upper = filter.until !== undefined ? { value: pad(filter.until + 1), inclusive: false } : undefined;
  if (before !== null && (upper === undefined || before < upper.value)) upper = { value: before, inclusive: false };
  return new MergedQuery(db, {
    index: 'list',
    partitionKey: 'listPk',
    sortKey: 'listSk',
    partitions: shardPartitions(shards, failedListPk),
    ...(filter.since !== undefined ? { lower: { value: pad(filter.since), inclusive: true } } : {}),
    ...(upper !== undefined ? { upper } : {}),
    descending: true,
    filter: (expr) =>
      allOf([
        filter.subscription_id !== undefined ? `${expr.n('subscription_id')} = ${expr.v(filter.subscription_id)}` : null,
        typeCondition(expr, 'event_type', filter.type),
      ]),
    pageSize,
  });
}

/** Failed → pending, due now, fresh schedule. Returns the subscription of each replayed delivery. */
export async function replay(db: Dynamo, shards: number, filter: ReplayFilter, now: EpochMs): Promise<string[]> {
  let keys: { pk: string; sk: string; id: string }[];
  if (filter.delivery_id !== undefined) {
    const key = deliveryKey(filter.delivery_id);
    if (key === null) return [];
    keys = [{ ...key, id: filter.delivery_id }];
  } else {
    const query = failedQuery(db, shards, filter, 200);
    keys = [];
    for (let item = await query.next(); item !== null; item = await query.next()) {
      keys.push({ pk: String(item.pk), sk: String(item.sk), id: String(item.id) });
    }
  }
  const replayed = await mapLimit(keys, 32, async (key) => {
    const expr = new Expr();
    const n = (name: string) => expr.n(name);
    const item = await update(
      db,
      { pk: key.pk, sk: key.sk },
      expr,
      [
        `${n('status')} = ${expr.v('pending')}`,
        `${n('next_attempt_at')} = ${expr.v(now)}`,
        `${n('updated_at')} = ${expr.v(now)}`,
        `${n('retry_index')} = ${expr.v(0)}`,
        `${n('dueSk')} = ${expr.v(dueSk(now, key.id))}`,
        `${n('inboxSk')} = ${n('event_id')}`,
      ],
      [n('lease_token'), n('listSk')],
      replayCondition(expr, filter),
    );
    return item === null ? null : String(item.subscription_id);
  });
  return replayed.filter((id): id is string => id !== null);
}
