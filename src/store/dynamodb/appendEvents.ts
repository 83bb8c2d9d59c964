/**
 * append: events, their deliveries and the idempotency key, written before the promise resolves
 * (so a 201 means everything is stored). Concurrent appends arrive here as one batch
 * (groupCommit.ts); each request still succeeds or fails on its own.
 *
 * With transactions (real DynamoDB) one request's key, events and deliveries go in one
 * TransactWriteItems, every item conditional on not existing yet: a taken key replays its first
 * response, a taken event id is a ConflictError, and nothing is half-written. TransactWriteItems
 * takes 100 items; a larger request (a batch of events, or an event matching more than 98
 * subscriptions) is written as several transactions in order, after a read of its key (a live key
 * replays, nothing written), and with the key in the last one: it is all stored when the promise
 * resolves. A request that fails or dies in between leaves its first part stored and no key, so
 * the client's retry stores the events again (duplicates under new ids) rather than replaying a
 * 201 for events that were never stored. Two such requests racing with one key can both store
 * events; the later one's key write fails and it replays the first's response.
 *
 * Without transactions (dynalite has no TransactWriteItems): each key is read first (a live key
 * replays, nothing written), then each event by a conditional put, then the stored events'
 * deliveries by BatchWriteItem (25 a request), then — only for a request stored in full — its key
 * by a conditional put, so a failure part-way never leaves a key answering for what was not
 * stored. Everything is written when the promise resolves; atomicity is what this mode gives up.
 */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.js';
import { matchesAny } from '../../core/filters.js';
import { type AppendRequest, type AppendResult, type EpochMs, IDEMPOTENCY_TTL_MS, type Json } from '../../core/types.js';
import { batchWrite, conditional, type Dynamo, Expr, type Item, mapLimit, putRequest } from './client.js';
import { CounterDeltas, EVENTS_COUNTER, pendingCounter } from './counters.js';
import type { Outcome } from './groupCommit.js';
import { idempotencyPk } from './keys.js';
import { deliveryItem, eventItem, idempotencyItem, type Layout } from './items.js';

export const TRANSACTION_MAX_ITEMS = 100;

export interface ActiveSubscription {
  id: string;
  event_types: string[];
}

export interface AppendContext {
  db: Dynamo;
  layout: Layout;
  now: EpochMs;
  /** Whether TransactWriteItems is available (false against dynalite). */
  transactions: boolean;
  subscriptions: readonly ActiveSubscription[];
}

export interface BatchAppended {
  outcomes: Outcome<AppendResult>[];
  /** Subscriptions that got new deliveries. */
  woken: Set<string>;
  counters: CounterDeltas;
}

interface Write {
  item: Item;
  /** Refuses to overwrite an item that exists (a key still within its TTL may not be taken over). */
  condition: { expression: string; names?: Record<string, string>; values?: Record<string, unknown> };
  what: 'key' | 'event' | 'delivery';
}

const notExists = { expression: 'attribute_not_exists(pk)' };

/** What one request writes: its key (if any), then each event followed by its deliveries. */
function plan(ctx: AppendContext, request: AppendRequest): Write[] {
  const { layout, now } = ctx;
  const writes: Write[] = [];
  const idempotency = request.idempotency;
  if (idempotency !== undefined) {
    const expr = new Expr();
    writes.push({
      item: idempotencyItem(layout, idempotency.key, idempotency.response, now),
      condition: {
        expression: `attribute_not_exists(pk) OR ${expr.n('created_at')} <= ${expr.v(now - IDEMPOTENCY_TTL_MS)}`,
        names: expr.names,
        values: expr.values,
      },
      what: 'key',
    });
  }
  for (const event of request.events) {
    const matching = ctx.subscriptions
      .filter((subscription) => matchesAny(subscription.event_types, event.type))
      .map((s) => s.id);
    writes.push({ item: eventItem(layout, event, matching), condition: notExists, what: 'event' });
    for (const id of matching)
      writes.push({ item: deliveryItem(layout, event, id, now), condition: notExists, what: 'delivery' });
  }
  return writes;
}

/** Counts what the stored events (all when null) wrote; returns the number of deliveries. */
function count(
  writes: readonly Write[],
  storedEvents: ReadonlySet<unknown> | null,
  counters: CounterDeltas,
  woken: Set<string>,
): number {
  let deliveries = 0;
  for (const write of writes) {
    if (write.what === 'event' && (storedEvents === null || storedEvents.has(write.item.id))) counters.add(EVENTS_COUNTER, 1);
    if (write.what === 'delivery' && (storedEvents === null || storedEvents.has(write.item.event_id))) {
      const subscriptionId = String(write.item.subscription_id);
      counters.add(pendingCounter(subscriptionId), 1);
      woken.add(subscriptionId);
      deliveries++;
    }
  }
  return deliveries;
}

/**
 * Appends a batch of concurrent requests. A key used twice in one batch: the later request
 * replays the earlier one's response, as if they had run one after the other.
 */
export async function appendBatch(ctx: AppendContext, requests: readonly AppendRequest[]): Promise<BatchAppended> {
  const outcomes: Outcome<AppendResult>[] = new Array(requests.length);
  const counters = new CounterDeltas();
  const woken = new Set<string>();
  const owners = new Map<string, number>();
  const leaders: number[] = [];
  const followers: number[] = [];
  requests.forEach((request, index) => {
    const key = request.idempotency?.key;
    if (key !== undefined && owners.has(key)) followers.push(index);
    else {
      if (key !== undefined) owners.set(key, index);
      leaders.push(index);
    }
  });
  const plans = requests.map((request) => plan(ctx, request));

  if (ctx.transactions) {
    await mapLimit(leaders, 16, async (index) => {
      const writes = plans[index] as Write[];
      try {
        const replayed = await writeTransactions(ctx.db, writes);
        outcomes[index] =
          replayed !== null
            ? { ok: true, value: { kind: 'replayed', response: replayed } }
            : { ok: true, value: { kind: 'stored', deliveries: count(writes, null, counters, woken) } };
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    });
  } else {
    await writeOneByOne(ctx.db, leaders, plans, outcomes, counters, woken);
  }

  for (const index of followers) {
    const ownerIndex = owners.get(requests[index]?.idempotency?.key as string) as number;
    const owner = outcomes[ownerIndex];
    if (owner === undefined || !owner.ok) {
      outcomes[index] = owner ?? { ok: false, error: new Error('the key owner has no outcome') };
      continue;
    }
    const response = owner.value.kind === 'replayed' ? owner.value.response : requests[ownerIndex]?.idempotency?.response;
    outcomes[index] = response === undefined ? owner : { ok: true, value: { kind: 'replayed', response } };
  }
  return { outcomes, woken, counters };
}

const conditionParams = (condition: Write['condition']) => ({
  ConditionExpression: condition.expression,
  ...(condition.names !== undefined ? { ExpressionAttributeNames: condition.names } : {}),
  ...(condition.values !== undefined ? { ExpressionAttributeValues: condition.values } : {}),
});

/** The first response stored under the key (read strongly consistent). */
async function storedResponse(db: Dynamo, key: string): Promise<{ status: number; body: Json }> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: idempotencyPk(key), sk: 'IDEM' }, ConsistentRead: true }),
  );
  if (item === undefined) throw new ConflictError('idempotency key is being taken over; retry');
  return { status: Number(item.status), body: JSON.parse(String(item.body)) as Json };
}

/** Splits writes, in order, into transactions of at most 100 items (the key and first event lead). */
export function chunkWrites<T>(writes: readonly T[], max = TRANSACTION_MAX_ITEMS): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < writes.length; i += max) chunks.push(writes.slice(i, i + max));
  return chunks;
}

/**
 * Whether the endpoint runs TransactWriteItems: one transaction holding a single condition check
 * on an item that never exists (it writes nothing). dynalite answers UnknownOperationException.
 */
export async function probeTransactions(db: Dynamo): Promise<boolean> {
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: db.table,
              Key: { pk: 'PROBE', sk: 'PROBE' },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
        ],
      }),
    );
    return true;
  } catch (error) {
    if (String((error as { name?: unknown }).name).includes('UnknownOperation')) return false;
    throw error;
  }
}

/** The response stored under a key that is still live (IDEMPOTENCY_TTL_MS), or null. */
async function liveResponse(db: Dynamo, key: Write): Promise<{ status: number; body: Json } | null> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: key.item.pk, sk: key.item.sk }, ConsistentRead: true }),
  );
  if (item === undefined || Number(item.created_at) <= Number(key.item.created_at) - IDEMPOTENCY_TTL_MS) return null;
  return { status: Number(item.status), body: JSON.parse(String(item.body)) as Json };
}

async function writeTransactions(db: Dynamo, writes: Write[]): Promise<{ status: number; body: Json } | null> {
  let chunks = chunkWrites(writes);
  const key = writes.find((write) => write.what === 'key');
  if (chunks.length > 1 && key !== undefined) {
    // The key goes last, so it never answers for events a failure kept from being stored.
    const replay = await liveResponse(db, key);
    if (replay !== null) return replay;
    chunks = chunkWrites([...writes.filter((write) => write !== key), key]);
  }
  for (const chunk of chunks) {
    for (let round = 0; ; round++) {
      try {
        await db.doc.send(
          new TransactWriteCommand({
            TransactItems: chunk.map((write) => ({
              Put: { TableName: db.table, Item: write.item, ...conditionParams(write.condition) },
            })),
          }),
        );
        break;
      } catch (error) {
        const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
        if (reasons === undefined) throw error;
        const write = chunk[reasons.findIndex((reason) => reason.Code === 'ConditionalCheckFailed')];
        if (write?.what === 'key') return storedResponse(db, String(write.item.key));
        if (write !== undefined)
          throw new ConflictError(`event ${JSON.stringify(write.item.event_id ?? write.item.id)} already exists`);
        // A concurrent transaction on the same item (TransactionConflict): try again shortly.
        if (round >= 8) throw error;
        await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** round * Math.random()));
      }
    }
  }
  return null;
}

async function writeOneByOne(
  db: Dynamo,
  leaders: readonly number[],
  plans: readonly Write[][],
  outcomes: Outcome<AppendResult>[],
  counters: CounterDeltas,
  woken: Set<string>,
): Promise<void> {
  const put = (write: Write) => () =>
    db.doc.send(new PutCommand({ TableName: db.table, Item: write.item, ...conditionParams(write.condition) }));
  const keyOf = (index: number) => (plans[index] as Write[]).find((write) => write.what === 'key');
  // Keys read first: a request whose key is live stores nothing and replays the first response.
  const writing: number[] = [];
  await mapLimit(leaders, 16, async (index) => {
    const key = keyOf(index);
    try {
      const replay = key === undefined ? null : await liveResponse(db, key);
      if (replay !== null) {
        outcomes[index] = { ok: true, value: { kind: 'replayed', response: replay } };
        return;
      }
      writing.push(index);
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });
  // Then every event by a conditional put (a taken id is refused), then the stored events' deliveries.
  const events = writing.flatMap((index) =>
    (plans[index] as Write[]).filter((write) => write.what === 'event').map((write) => ({ index, write })),
  );
  const results = await mapLimit(events, 32, ({ write }) =>
    conditional(put(write)).then(
      (stored): { stored: boolean; error?: unknown } => ({ stored }),
      (error: unknown) => ({ stored: false, error }),
    ),
  );
  const storedIds = new Set(events.filter((_, i) => results[i]?.stored).map(({ write }) => write.item.id));
  const deliveries = writing.flatMap((index) =>
    (plans[index] as Write[]).filter((write) => write.what === 'delivery' && storedIds.has(write.item.event_id)),
  );
  let failure: unknown = null;
  try {
    await batchWrite(
      db,
      deliveries.map((write) => putRequest(write.item)),
    );
  } catch (error) {
    failure = error;
  }
  const complete: number[] = [];
  for (const index of writing) {
    const refused = events.findIndex((event, i) => event.index === index && !results[i]?.stored);
    const deliveriesMade = count(plans[index] as Write[], storedIds, counters, woken);
    if (failure !== null) outcomes[index] = { ok: false, error: failure };
    else if (refused >= 0) {
      const error = results[refused]?.error;
      outcomes[index] = {
        ok: false,
        error: error ?? new ConflictError(`event ${JSON.stringify(events[refused]?.write.item.id)} already exists`),
      };
    } else {
      outcomes[index] = { ok: true, value: { kind: 'stored', deliveries: deliveriesMade } };
      complete.push(index);
    }
  }
  // Keys last, for requests stored in full. One taken meanwhile by a concurrent request with the
  // same key: both stored their events; this one answers with the first response, as a replay.
  await mapLimit(complete, 16, async (index) => {
    const key = keyOf(index);
    if (key === undefined) return;
    try {
      if (!(await conditional(put(key)))) {
        outcomes[index] = { ok: true, value: { kind: 'replayed', response: await storedResponse(db, String(key.item.key)) } };
      }
    } catch (error) {
      outcomes[index] = { ok: false, error };
    }
  });
}
