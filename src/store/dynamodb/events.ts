/**
 * Reading and erasing events. An event and its deliveries share one partition (`EVT#<id>`), so
 * getEvent is one strongly consistent Query, and an event's overall status is derived from its
 * deliveries' statuses (failed wins, then pending; no deliveries reads as delivered).
 *
 * listEvents walks the list index's `EVENTS#<shard>` partitions merged (sort key
 * `<created_at>#<id>`), so since/until are key ranges; type and source are filter expressions;
 * the statuses of a page's events are one BatchGetItem of the deliveries each event item lists.
 */
import type { EventStatus, EventWithDeliveries } from '../../core/types.js';
import type { EventQuery, EventSummary, Page } from '../store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { batchGet, batchWrite, type Dynamo, deleteRequest, Expr, type Item, mapLimit, queryAll } from './client.js';
import { type CounterDeltas, EVENTS_COUNTER, failedCounter, pendingCounter } from './counters.js';
import { allOf, typeCondition } from './filters.js';
import { eventPk, eventsListPk, pad } from './keys.js';
import { isDeliveryItem, isEventItem, toDeliveryWithAttempts, toEvent } from './rows.js';
import { type Bound, MergedQuery, shardPartitions } from './shardedQuery.js';

function statusOf(deliveries: readonly { status?: unknown }[]): EventStatus {
  if (deliveries.some((d) => d.status === 'failed')) return 'failed';
  if (deliveries.some((d) => d.status === 'pending')) return 'pending';
  return 'delivered';
}

async function partition(db: Dynamo, eventId: string): Promise<Item[]> {
  const expr = new Expr();
  return queryAll(db, {
    KeyConditionExpression: `${expr.n('pk')} = ${expr.v(eventPk(eventId))}`,
    ...expr.params,
    ConsistentRead: true,
  });
}

export async function getEvent(db: Dynamo, id: string): Promise<EventWithDeliveries | null> {
  const items = await partition(db, id);
  const event = items.find(isEventItem);
  if (event === undefined) return null;
  const deliveries = items
    .filter(isDeliveryItem)
    .map(toDeliveryWithAttempts)
    .sort((a, b) => a.created_at - b.created_at || (a.subscription_id < b.subscription_id ? -1 : 1));
  return { ...toEvent(event), status: statusOf(deliveries), deliveries };
}

/** The statuses of a page of events: one BatchGetItem of the deliveries each event lists. */
async function eventStatuses(db: Dynamo, events: readonly Item[]): Promise<EventStatus[]> {
  const keys = events.flatMap((event) => ((event.deliveries ?? []) as string[]).map((sk) => ({ pk: String(event.pk), sk })));
  const found = await batchGet(db, keys, ['status']);
  return events.map((event) =>
    statusOf(
      ((event.deliveries ?? []) as string[]).map((sk) => found.get(`${event.pk}|${sk}`) ?? {}).filter((d) => 'status' in d),
    ),
  );
}

export async function listEvents(db: Dynamo, shards: number, query: EventQuery): Promise<Page<EventSummary>> {
  const descending = (query.order ?? 'desc') === 'desc';
  const after = decodeCursor('events', query.after, ['string'] as const);
  let lower: Bound | undefined = query.since !== undefined ? { value: pad(query.since), inclusive: true } : undefined;
  let upper: Bound | undefined = query.until !== undefined ? { value: pad(query.until + 1), inclusive: false } : undefined;
  if (after !== null) {
    if (descending && (upper === undefined || after[0] < upper.value)) upper = { value: after[0], inclusive: false };
    if (!descending && (lower === undefined || after[0] >= lower.value)) lower = { value: after[0], inclusive: false };
  }
  const merged = new MergedQuery(db, {
    index: 'list',
    partitionKey: 'listPk',
    sortKey: 'listSk',
    partitions: shardPartitions(shards, eventsListPk),
    ...(lower !== undefined ? { lower } : {}),
    ...(upper !== undefined ? { upper } : {}),
    descending,
    filter: (expr) =>
      allOf([
        typeCondition(expr, 'type', query.type),
        query.source !== undefined ? `${expr.n('source')} = ${expr.v(query.source)}` : null,
      ]),
    pageSize: query.limit + 1,
  });
  const page: { item: Item; status: EventStatus }[] = [];
  while (page.length <= query.limit) {
    const batch = await merged.take(query.limit + 1 - page.length);
    if (batch.length === 0) break;
    const statuses = await eventStatuses(db, batch);
    batch.forEach((item, index) => {
      const status = statuses[index] as EventStatus;
      if (query.status === undefined || status === query.status) page.push({ item, status });
    });
  }
  const more = page.length > query.limit;
  const items = page.slice(0, query.limit);
  const last = items[items.length - 1];
  return {
    items: items.map(({ item, status }) => ({ ...toEvent(item), status })),
    next_cursor: more && last !== undefined ? encodeCursor('events', [String(last.item.listSk)]) : null,
  };
}

/** Erases an event's partition (event, deliveries, their attempts); counts what it held. */
export async function eraseEvent(db: Dynamo, id: string, counters: CounterDeltas): Promise<boolean> {
  const items = await partition(db, id);
  if (items.length === 0) return false;
  await batchWrite(
    db,
    items.map((item) => deleteRequest({ pk: String(item.pk), sk: String(item.sk) })),
  );
  const found = items.some(isEventItem);
  if (found) counters.add(EVENTS_COUNTER, -1);
  for (const item of items.filter(isDeliveryItem)) {
    if (item.status === 'pending') counters.add(pendingCounter(String(item.subscription_id)), -1);
    if (item.status === 'failed') counters.add(failedCounter(String(item.subscription_id)), -1);
  }
  return found;
}

/** Up to `limit` events created before `before`, oldest first, erased. */
export async function purgeEvents(
  db: Dynamo,
  shards: number,
  before: number,
  limit: number,
  counters: CounterDeltas,
): Promise<number> {
  const old = await new MergedQuery(db, {
    index: 'list',
    partitionKey: 'listPk',
    sortKey: 'listSk',
    partitions: shardPartitions(shards, eventsListPk),
    upper: { value: pad(before), inclusive: false },
    pageSize: limit,
  }).take(limit);
  const erased = await mapLimit(old, 8, (item) => eraseEvent(db, String(item.id), counters));
  return erased.filter(Boolean).length;
}
