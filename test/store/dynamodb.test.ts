/**
 * The DynamoDB backend against dynalite started in this process: the shared conformance suite
 * (one fresh table per test), then what only this backend has — the table built from
 * schema.ts, delivery ids, sharded indexes and the URL options.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config/config.js';
import { newEventId } from '../../src/core/ids.js';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { chunkWrites } from '../../src/store/dynamodb/appendEvents.js';
import { connect } from '../../src/store/dynamodb/client.js';
import { DynamoStore, openDynamoStore, optionsFromUrl } from '../../src/store/dynamodb/index.js';
import { deliveryId, deliveryKey, shardOf } from '../../src/store/dynamodb/keys.js';
import { tableSchema } from '../../src/store/dynamodb/schema.js';
import { openStore } from '../../src/store/index.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';

let local: Dynalite | undefined;
let counter = 0;
before(async () => {
  local = await startDynalite();
});
after(async () => {
  await local?.close();
});
const endpoint = () => (local as Dynalite).endpoint;
const freshTable = () => `triggers-test-${process.pid}-${++counter}`;

async function dropTable(table: string): Promise<void> {
  const db = connect({ table, endpoint: endpoint() });
  try {
    await db.raw.send(new DeleteTableCommand({ TableName: table }));
  } finally {
    db.raw.destroy();
  }
}

runStoreConformance('dynamodb', async (clock) => {
  const table = freshTable();
  const store = await openDynamoStore({ table, endpoint: endpoint(), clock, subscriptionCacheMs: 0, shards: 2 });
  return { store, cleanup: () => dropTable(table) };
});

describe('DynamoDB specifics', () => {
  it('creates the table schema.ts describes, and migrate is repeatable', async () => {
    const table = freshTable();
    const store = await openDynamoStore({ table, endpoint: endpoint() });
    await store.migrate();
    await store.close();
    const db = connect({ table, endpoint: endpoint() });
    const described = (await db.raw.send(new DescribeTableCommand({ TableName: table }))).Table;
    db.raw.destroy();
    assert.deepEqual(
      described?.GlobalSecondaryIndexes?.map((index) => index.IndexName).sort(),
      tableSchema.globalIndexes.map((index) => index.name).sort(),
    );
    assert.deepEqual(
      described?.KeySchema?.map((key) => key.AttributeName),
      ['pk', 'sk'],
    );
    await dropTable(table);
  });

  it('reads its options from the URL', () => {
    assert.deepEqual(optionsFromUrl('dynamodb://triggers'), { table: 'triggers' });
    assert.deepEqual(optionsFromUrl('dynamodb://triggers?endpoint=http://127.0.0.1:8000&region=eu-west-1'), {
      table: 'triggers',
      endpoint: 'http://127.0.0.1:8000',
      region: 'eu-west-1',
    });
  });

  it('delivery ids name their item, and nothing else parses as one', () => {
    const id = deliveryId('evt_01JABCDEFGHJKMNPQRSTVWXYZ0', 'a-very-long-subscription-id'.repeat(4));
    assert.match(id, /^evt_01JABCDEFGHJKMNPQRSTVWXYZ0-[0-9a-f]{20}$/);
    assert.ok(id.length <= 128, 'fits the API path pattern');
    assert.equal(deliveryKey(id)?.pk, 'EVT#evt_01JABCDEFGHJKMNPQRSTVWXYZ0');
    for (const other of ['999999', 'not-a-delivery', '', '-0123456789abcdef0123', `evt_x-${'g'.repeat(20)}`]) {
      assert.equal(deliveryKey(other), null, other);
    }
  });

  it('splits transactions at 100 items, in order', () => {
    const writes = Array.from({ length: 250 }, (_, i) => i);
    const chunks = chunkWrites(writes);
    assert.deepEqual(
      chunks.map((chunk) => chunk.length),
      [100, 100, 50],
    );
    assert.deepEqual(chunks.flat(), writes);
  });

  it('claims and inbox pages merge four shards in order', async () => {
    const table = freshTable();
    const store = await openDynamoStore({ table, endpoint: endpoint(), shards: 4, subscriptionCacheMs: 0 });
    try {
      await store.createSubscription({
        id: 'a',
        url: null,
        event_types: ['*'],
        secrets: [],
        status: 'active',
        description: null,
        disabled_reason: null,
        metadata: {},
      });
      const start = Date.now() - 60_000;
      const events = Array.from({ length: 24 }, (_, i) => ({
        id: newEventId(start + i),
        type: 'order.created',
        source: 'test',
        payload: { i },
        created_at: start + i,
      }));
      await store.append({ events });
      assert.ok(new Set(events.map((e) => shardOf(e.id, 4))).size > 1, 'the events spread over shards');
      const paged: string[] = [];
      let after: string | null = null;
      do {
        const page = await store.listInbox({ subscription_id: 'a', limit: 5, after });
        paged.push(...page.items.map((item) => item.id));
        after = page.next_cursor;
      } while (after !== null);
      assert.deepEqual(
        paged,
        events.map((e) => e.id),
      );
      const claimed: string[] = [];
      for (let batch = await store.claim({ subscription_id: 'a', limit: 7, lease_ms: 60_000 }); batch.length > 0; ) {
        claimed.push(...batch.map((c) => c.event.id));
        batch = await store.claim({ subscription_id: 'a', limit: 7, lease_ms: 60_000 });
      }
      assert.deepEqual(
        claimed,
        events.map((e) => e.id),
        'due together: oldest event first, across shards',
      );
    } finally {
      await store.close();
      await dropTable(table);
    }
  });

  it('openStore opens dynamodb:// from the configuration, endpoint from the URL or TRIGGERS_DYNAMODB_ENDPOINT', async () => {
    for (const env of [
      { TRIGGERS_DATABASE_URL: `dynamodb://${freshTable()}?endpoint=${endpoint()}` },
      { TRIGGERS_DATABASE_URL: `dynamodb://${freshTable()}`, TRIGGERS_DYNAMODB_ENDPOINT: endpoint() },
    ]) {
      const config = loadConfig({ env: { ...env, TRIGGERS_RETENTION_DAYS: '7' } });
      assert.equal(config.database.kind, 'dynamodb');
      const store = await openStore(config.database);
      assert.ok(store instanceof DynamoStore);
      await store.ping();
      await store.close();
      if (config.database.kind === 'dynamodb') await dropTable(config.database.table);
    }
  });

  it('close lets appends in flight finish', async () => {
    const table = freshTable();
    const store = await openDynamoStore({ table, endpoint: endpoint() });
    const events = Array.from({ length: 30 }, () => ({
      id: newEventId(),
      type: 'order.created',
      source: 'test',
      payload: {},
      created_at: Date.now(),
    }));
    const appends = events.map((event) => store.append({ events: [event] }));
    await store.close();
    await Promise.all(appends);
    const reopened = await openDynamoStore({ table, endpoint: endpoint() });
    for (const event of events) assert.ok(await reopened.getEvent(event.id), event.id);
    await reopened.close();
    await dropTable(table);
  });
});
