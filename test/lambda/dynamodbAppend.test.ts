/**
 * The DynamoDB store's append with transactions, as it runs on AWS behind the API function. No
 * local emulator here has TransactWriteItems (dynalite answers UnknownOperationException), so a
 * small in-memory table stands in: conditional puts in all-or-nothing transactions, consistent
 * gets, and a switch that makes the next transactions fail as a throttled table would.
 *
 * What must hold: a request whose events span several transactions (a large batch) and that
 * fails part-way must not leave its Idempotency-Key behind, or the client's retry with that key
 * is answered 201 for events that were never stored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchWriteCommand, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { newEventId } from '../../src/core/ids.js';
import type { AppendRequest } from '../../src/core/types.js';
import { type AppendContext, appendBatch } from '../../src/store/dynamodb/appendEvents.js';
import type { Dynamo, Item } from '../../src/store/dynamodb/client.js';

type Put = { Item: Item; ConditionExpression?: string; ExpressionAttributeValues?: Record<string, unknown> };

/** Just enough of a DynamoDB table for appendBatch: transactions of conditional puts, and gets. */
class TransactionalTable {
  readonly items = new Map<string, Item>();
  /** Transactions still to fail (each with a throttling error, as after the SDK's retries). */
  failNext = 0;
  /** BatchWriteItem calls still to fail the same way (the path without transactions). */
  failBatchWrites = 0;
  /** Transactions committed so far. */
  committed = 0;

  readonly dynamo = {
    table: 'triggers-fake',
    raw: {},
    doc: { send: (command: unknown) => this.send(command) },
  } as unknown as Dynamo;

  static keyOf(item: Item): string {
    return `${String(item.pk)}|${String(item.sk)}`;
  }

  /** attribute_not_exists(pk), optionally `OR #created_at <= :v` (a lapsed idempotency key). */
  #allows(put: Put): boolean {
    const existing = this.items.get(TransactionalTable.keyOf(put.Item));
    if (existing === undefined || put.ConditionExpression === undefined) return true;
    const lapsedBefore = Object.values(put.ExpressionAttributeValues ?? {})[0];
    return / OR /.test(put.ConditionExpression) && Number(existing.created_at) <= Number(lapsedBefore);
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof TransactWriteCommand) {
      if (this.failNext > 0) {
        this.failNext--;
        throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
          name: 'ThrottlingException',
        });
      }
      const puts = (command.input.TransactItems ?? []).map((entry) => entry.Put as Put);
      const refused = puts.map((put) => !this.#allows(put));
      if (refused.some(Boolean)) {
        throw Object.assign(new Error('Transaction cancelled'), {
          name: 'TransactionCanceledException',
          CancellationReasons: refused.map((no) => ({ Code: no ? 'ConditionalCheckFailed' : 'None' })),
        });
      }
      for (const put of puts) this.items.set(TransactionalTable.keyOf(put.Item), put.Item);
      this.committed++;
      return {};
    }
    if (command instanceof GetCommand) {
      const key = command.input.Key as Item;
      return { Item: this.items.get(TransactionalTable.keyOf(key)) };
    }
    if (command instanceof PutCommand) {
      const put = command.input as Put;
      if (!this.#allows(put)) {
        throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
      }
      this.items.set(TransactionalTable.keyOf(put.Item), put.Item);
      return {};
    }
    if (command instanceof BatchWriteCommand) {
      if (this.failBatchWrites > 0) {
        this.failBatchWrites--;
        throw Object.assign(new Error('Throughput exceeds the current capacity of your table'), {
          name: 'ThrottlingException',
        });
      }
      for (const requests of Object.values(command.input.RequestItems ?? {})) {
        for (const request of requests) {
          const item = request.PutRequest?.Item as Item | undefined;
          if (item !== undefined) this.items.set(TransactionalTable.keyOf(item), item);
        }
      }
      return { UnprocessedItems: {} };
    }
    throw new Error(`the fake table does not know ${(command as object).constructor.name}`);
  }

  has(eventId: string): boolean {
    return this.items.has(`EVT#${eventId}|EVT`);
  }
}

const context = (table: TransactionalTable, now: number, transactions = true): AppendContext => ({
  db: table.dynamo,
  layout: { shards: 2, retentionSeconds: 90 * 86_400 },
  now,
  transactions,
  subscriptions: [{ id: 'default', event_types: ['*'] }],
});

/** A batch of `count` events under one key: two writes each (event, delivery), so 150 span 4 transactions. */
function batch(count: number, key: string, now: number): AppendRequest {
  const events = Array.from({ length: count }, (_, i) => ({
    id: newEventId(now + i),
    type: 'order.created',
    source: 'shop',
    payload: { i },
    created_at: now,
  }));
  return {
    events,
    idempotency: { key, response: { status: 201, body: { ids: events.map((event) => event.id) } } },
  };
}

describe('DynamoDB append with transactions (a request larger than one transaction)', () => {
  it('a request that fails part-way leaves no key: the retry stores its events instead of replaying a 201', async () => {
    const table = new TransactionalTable();
    const now = Date.now();
    const first = batch(150, 'import-7', now);
    // The first transaction commits, the next one fails (a throttled table after the SDK's retries).
    const failing = table.send.bind(table);
    let calls = 0;
    (table.dynamo.doc as unknown as { send: (c: unknown) => Promise<unknown> }).send = (command) => {
      if (command instanceof TransactWriteCommand && ++calls === 2) table.failNext = 1;
      return failing(command);
    };
    const [failed] = (await appendBatch(context(table, now), [first])).outcomes;
    assert.equal(failed?.ok, false, 'the request failed (the API answers 503)');

    // The client retries with the same key, as it should after a 503; its new request is the same events.
    const retry = batch(150, 'import-7', now + 1000);
    const [answer] = (await appendBatch(context(table, now + 1000), [retry])).outcomes;
    assert.ok(answer?.ok, String(!answer?.ok && answer?.error));
    assert.equal(answer.value.kind, 'stored', 'the retry is stored, not answered with the failed request’s 201');
    for (const event of retry.events) assert.ok(table.has(event.id), `${event.id} stored`);
  });

  it('a repeat of a request that was stored whole replays it and writes nothing', async () => {
    const table = new TransactionalTable();
    const now = Date.now();
    const first = batch(150, 'import-8', now);
    const [stored] = (await appendBatch(context(table, now), [first])).outcomes;
    assert.ok(stored?.ok && stored.value.kind === 'stored');
    const committed = table.committed;
    const items = table.items.size;

    const repeat = batch(150, 'import-8', now + 1000);
    const [answer] = (await appendBatch(context(table, now + 1000), [repeat])).outcomes;
    assert.ok(answer?.ok && answer.value.kind === 'replayed');
    assert.deepEqual(answer.value.response, first.idempotency?.response);
    assert.equal(table.committed, committed, 'no transaction for a repeat');
    assert.equal(table.items.size, items);
  });

  it('a single-transaction request stores its key with its events, and a repeat replays', async () => {
    const table = new TransactionalTable();
    const now = Date.now();
    const first = batch(3, 'one-tx', now);
    const [stored] = (await appendBatch(context(table, now), [first])).outcomes;
    assert.ok(stored?.ok && stored.value.kind === 'stored');
    assert.equal(table.committed, 1);
    const [answer] = (await appendBatch(context(table, now + 10), [batch(3, 'one-tx', now + 10)])).outcomes;
    assert.ok(answer?.ok && answer.value.kind === 'replayed');
  });
});

describe('DynamoDB append without transactions (dynalite, development)', () => {
  it('a request whose deliveries fail to be written leaves no key: the retry stores instead of replaying a 201', async () => {
    const table = new TransactionalTable();
    const now = Date.now();
    table.failBatchWrites = 1;
    const [failed] = (await appendBatch(context(table, now, false), [batch(3, 'dev-1', now)])).outcomes;
    assert.equal(failed?.ok, false, 'the request failed (the API answers 503)');
    assert.ok(![...table.items.keys()].some((key) => key.startsWith('IDEM#dev-1')), 'no key left behind');

    const retry = batch(3, 'dev-1', now + 1000);
    const [answer] = (await appendBatch(context(table, now + 1000, false), [retry])).outcomes;
    assert.ok(answer?.ok && answer.value.kind === 'stored', 'the retry is stored, not answered with the failed request’s 201');
    for (const event of retry.events) assert.ok(table.has(event.id), `${event.id} stored`);

    const [repeat] = (await appendBatch(context(table, now + 2000, false), [batch(3, 'dev-1', now + 2000)])).outcomes;
    assert.ok(repeat?.ok && repeat.value.kind === 'replayed', 'once stored whole, the key replays');
    assert.deepEqual(repeat.value.response, retry.idempotency?.response);
  });
});
