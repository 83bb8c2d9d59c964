/**
 * The inbox (a subscription's pending deliveries, by event id) and the dead letters (failed
 * deliveries, newest failure first): each a merged walk of a sharded index from the cursor, the
 * page's events then read in one strongly consistent BatchGetItem.
 */
import type { DeadLetter, DeadLetterQuery, InboxItem, InboxQuery, Page } from '../store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { batchGet, type Dynamo, type Item } from './client.js';
import { typeCondition } from './filters.js';
import { EVENT_SK, eventPk, inboxPk } from './keys.js';
import { toDelivery, toEvent } from './rows.js';
import { failedQuery } from './settle.js';
import { MergedQuery, shardPartitions } from './shardedQuery.js';

async function withEvents<T>(db: Dynamo, items: Item[], build: (item: Item, event: Item) => T): Promise<T[]> {
  const events = await batchGet(
    db,
    items.map((item) => ({ pk: eventPk(String(item.event_id)), sk: EVENT_SK })),
  );
  const out: T[] = [];
  for (const item of items) {
    const event = events.get(`${eventPk(String(item.event_id))}|${EVENT_SK}`);
    if (event !== undefined) out.push(build(item, event));
  }
  return out;
}

export async function listInbox(db: Dynamo, shards: number, query: InboxQuery): Promise<Page<InboxItem>> {
  const descending = query.order === 'desc';
  const after = decodeCursor('inbox', query.after, ['string'] as const);
  const bound =
    after === null
      ? {}
      : descending
        ? { upper: { value: after[0], inclusive: false } }
        : { lower: { value: after[0], inclusive: false } };
  const merged = new MergedQuery(db, {
    index: 'inbox',
    partitionKey: 'inboxPk',
    sortKey: 'inboxSk',
    partitions: shardPartitions(shards, (shard) => inboxPk(query.subscription_id, shard)),
    ...bound,
    descending,
    filter: (expr) => typeCondition(expr, 'event_type', query.type) ?? undefined,
    pageSize: query.limit + 1,
  });
  const rows = await merged.take(query.limit + 1);
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const items = await withEvents(db, page, (item, event) => ({
    ...toEvent(event),
    delivery_id: String(item.id),
    attempts_count: Number(item.attempts_count),
  }));
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('inbox', [String(last.inboxSk)]) : null };
}

export async function listDeadLetters(db: Dynamo, shards: number, query: DeadLetterQuery): Promise<Page<DeadLetter>> {
  const after = decodeCursor('dead', query.after, ['string'] as const);
  const rows = await failedQuery(db, shards, query, query.limit + 1, after?.[0] ?? null).take(query.limit + 1);
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const items = await withEvents(db, page, (item, event) => ({ ...toDelivery(item), event: toEvent(event) }));
  const last = page[page.length - 1];
  return { items, next_cursor: more && last !== undefined ? encodeCursor('dead', [String(last.listSk)]) : null };
}
