/**
 * Subscriptions: one item each under the partition `SUB` (sk = id), so listing them is one
 * strongly consistent Query, in id order. Creating is a conditional put (a taken id is a
 * ConflictError); updating writes only the patched attributes.
 *
 * Deleting one erases the subscription, then its deliveries (found through the bySubscription
 * index, keys only) and its counters.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.js';
import {
  DEFAULT_DELIVERY_OPTIONS,
  type EpochMs,
  type NewSubscription,
  type Subscription,
  type SubscriptionPatch,
} from '../../core/types.js';
import {
  batchWrite,
  conditional,
  type Dynamo,
  deleteRequest,
  Expr,
  type Item,
  isConditionalFailure,
  queryAll,
  updateExpression,
} from './client.js';
import { bySubscriptionPk, SUBSCRIPTION_PK } from './keys.js';
import { toSubscription } from './rows.js';
import { MergedQuery, shardPartitions } from './shardedQuery.js';

function toItem(subscription: Subscription): Item {
  const { first_failure_at, last_success_at, ...rest } = subscription;
  return {
    pk: SUBSCRIPTION_PK,
    sk: subscription.id,
    ...rest,
    ...(first_failure_at !== null ? { first_failure_at } : {}),
    ...(last_success_at !== null ? { last_success_at } : {}),
  };
}

export async function createSubscription(db: Dynamo, subscription: NewSubscription, now: EpochMs): Promise<Subscription> {
  const created: Subscription = {
    ...subscription,
    delivery: subscription.delivery ?? DEFAULT_DELIVERY_OPTIONS,
    first_failure_at: null,
    last_success_at: null,
    created_at: now,
    updated_at: now,
  };
  const stored = await conditional(() =>
    db.doc.send(new PutCommand({ TableName: db.table, Item: toItem(created), ConditionExpression: 'attribute_not_exists(pk)' })),
  );
  if (!stored) throw new ConflictError(`subscription ${JSON.stringify(subscription.id)} already exists`);
  return created;
}

export async function getSubscription(db: Dynamo, id: string): Promise<Subscription | null> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: SUBSCRIPTION_PK, sk: id }, ConsistentRead: true }),
  );
  return item === undefined ? null : toSubscription(item);
}

export async function listSubscriptions(db: Dynamo): Promise<Subscription[]> {
  const expr = new Expr();
  const items = await queryAll(db, {
    KeyConditionExpression: `${expr.n('pk')} = ${expr.v(SUBSCRIPTION_PK)}`,
    ...expr.params,
    ConsistentRead: true,
  });
  return items.map(toSubscription);
}

/**
 * The updated subscription, and whether this update enabled it (disabled → active). Only the
 * patched attributes are written (an UpdateItem), so a concurrent health write is never lost.
 * Enabling is a conditional write on `status = disabled` that also clears the failure clock.
 */
export async function updateSubscription(
  db: Dynamo,
  id: string,
  patch: SubscriptionPatch,
  now: EpochMs,
): Promise<{ subscription: Subscription; enabled: boolean } | null> {
  const fields = Object.entries(stripUndefined(patch));
  const write = async (enabling: boolean): Promise<Subscription> => {
    const expr = new Expr();
    const set = fields.map(([name, value]) => `${expr.n(name)} = ${expr.v(value)}`);
    set.push(`${expr.n('updated_at')} = ${expr.v(now)}`);
    let condition = 'attribute_exists(pk)';
    if (enabling) condition += ` AND ${expr.n('status')} = ${expr.v('disabled')}`;
    const result = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: SUBSCRIPTION_PK, sk: id },
        UpdateExpression: updateExpression(set, enabling ? [expr.n('first_failure_at')] : []),
        ConditionExpression: condition,
        ...expr.params,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toSubscription(result.Attributes as Item);
  };
  if (patch.status === 'active') {
    try {
      return { subscription: await write(true), enabled: true };
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
    }
  }
  try {
    return { subscription: await write(false), enabled: false };
  } catch (error) {
    if (isConditionalFailure(error)) return null;
    throw error;
  }
}

function stripUndefined(patch: SubscriptionPatch): Partial<Subscription> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<Subscription>;
}

/** Sets the subscription disabled with a reason (a 410 Gone); false when it is gone. */
export function disableSubscription(db: Dynamo, id: string, reason: string, now: EpochMs): Promise<boolean> {
  const expr = new Expr();
  return conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: SUBSCRIPTION_PK, sk: id },
        UpdateExpression: updateExpression([
          `${expr.n('status')} = ${expr.v('disabled')}`,
          `${expr.n('disabled_reason')} = ${expr.v(reason)}`,
          `${expr.n('updated_at')} = ${expr.v(now)}`,
        ]),
        ConditionExpression: 'attribute_exists(pk)',
        ...expr.params,
      }),
    ),
  );
}

/**
 * Endpoint health from one settle batch (see ../health.ts): written only when something changes,
 * last_success_at to within a second, so steady successes do not write the subscription each time.
 */
export function recordHealth(
  db: Dynamo,
  id: string,
  mark: { success: boolean; failedAfter: boolean },
  now: EpochMs,
): Promise<boolean> {
  const expr = new Expr();
  const first = expr.n('first_failure_at');
  const last = () => expr.n('last_success_at');
  let update: string;
  let condition = 'attribute_exists(pk)';
  if (mark.success && !mark.failedAfter) {
    update = updateExpression([`${last()} = ${expr.v(now)}`], [first]);
    condition += ` AND (attribute_exists(${first}) OR attribute_not_exists(${last()}) OR ${last()} <= ${expr.v(now - 1000)})`;
  } else if (mark.success) {
    update = updateExpression([`${last()} = ${expr.v(now)}`, `${first} = ${expr.v(now)}`]);
  } else {
    update = updateExpression([`${first} = ${expr.v(now)}`]);
    condition += ` AND attribute_not_exists(${first})`;
  }
  return conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: SUBSCRIPTION_PK, sk: id },
        UpdateExpression: update,
        ConditionExpression: condition,
        ...expr.params,
      }),
    ),
  );
}

export async function deleteSubscription(db: Dynamo, id: string, shards: number): Promise<boolean> {
  const removed = await conditional(() =>
    db.doc.send(
      new DeleteCommand({
        TableName: db.table,
        Key: { pk: SUBSCRIPTION_PK, sk: id },
        ConditionExpression: 'attribute_exists(pk)',
      }),
    ),
  );
  if (!removed) return false;
  await deleteDeliveriesOf(db, id, shards);
  return true;
}

/** Erases every delivery of a subscription, found through the keys-only bySubscription index. */
export async function deleteDeliveriesOf(db: Dynamo, id: string, shards: number): Promise<number> {
  const query = new MergedQuery(db, {
    index: 'bySubscription',
    partitionKey: 'subPk',
    sortKey: 'subSk',
    partitions: shardPartitions(shards, (shard) => bySubscriptionPk(id, shard)),
    pageSize: 500,
  });
  let removed = 0;
  for (;;) {
    const batch = await query.take(500);
    if (batch.length === 0) return removed;
    await batchWrite(
      db,
      batch.map((item) => deleteRequest({ pk: String(item.pk), sk: String(item.sk) })),
    );
    removed += batch.length;
  }
}
