/**
 * The DynamoDB backend against dynalite started in this process: the shared conformance suite
 * (one fresh table per test), then what only this backend has — the table built from
 * schema.ts, delivery ids, sharded indexes and the URL options.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { connect } from '../../src/store/dynamodb/client.js';
import { openDynamoStore, optionsFromUrl } from '../../src/store/dynamodb/index.js';
import { tableSchema } from '../../src/store/dynamodb/schema.js';
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
});
