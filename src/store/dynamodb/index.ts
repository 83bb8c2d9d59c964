/**
 * The DynamoDB backend, for AWS: `openDynamoStore({ table })` connects, makes sure the table
 * exists (created from schema.ts when missing, unless `migrate: false`) and returns a Store.
 *
 *   schema.ts         the table, its indexes, TTL and stream, as plain data (the CDK stack imports it)
 *   table.ts          create / wait for the table, turn TTL on
 *   keys.ts           every key and index key the items carry
 *   items.ts          the items an append writes
 *   client.ts         the document client, expressions, batches, outage errors
 *   shardedQuery.ts   one index read across its write shards, merged in order
 *   appendEvents.ts   append: transactions, or conditional puts + batch writes
 *   leases.ts         claim, extend leases, nextDueAt
 *   settle.ts         settle, ack, replay
 *   events.ts / listings.ts / subscriptions.ts / receiver.ts / apiKeys.ts / idempotency.ts
 *   counters.ts       sharded counters for stats()
 *   activeSubscriptions.ts  what appends match against, cached per process
 *   dynamoStore.ts    the Store verbs → the modules above
 */
import type { StoreOptions } from '../store.js';
import { connect } from './client.js';
import { DynamoStore } from './dynamoStore.js';
import { tableSchema } from './schema.js';

export interface DynamoStoreOptions extends StoreOptions {
  table: string;
  /** A local endpoint (dynalite, DynamoDB Local); the SDK's default for the region otherwise. */
  endpoint?: string | null;
  /** AWS_REGION, else us-east-1. */
  region?: string;
  /** Retention (TRIGGERS_RETENTION_DAYS): the TTL attribute is set one day past it. Default 90. */
  retentionDays?: number;
  /** Write shards per sharded index partition; must match every process on the table. Default schema.ts's. */
  shards?: number;
  /** See DynamoTuning. Default 1,000 ms. */
  subscriptionCacheMs?: number;
  /** TransactWriteItems for appends. Default 'auto'. */
  transactions?: boolean | 'auto';
  /** Create the table when missing and turn TTL on. Default true. */
  migrate?: boolean;
}

export async function openDynamoStore(options: DynamoStoreOptions): Promise<DynamoStore> {
  const db = connect({ table: options.table, region: options.region, endpoint: options.endpoint });
  const store = new DynamoStore(db, options.clock ?? Date.now, {
    shards: options.shards ?? tableSchema.writeShards,
    retentionSeconds: (options.retentionDays ?? 90) * 86_400,
    subscriptionCacheMs: options.subscriptionCacheMs ?? 1_000,
    transactions: options.transactions ?? 'auto',
  });
  if (options.migrate ?? true) {
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
  }
  return store;
}

/**
 * `dynamodb://<table>?endpoint=http://127.0.0.1:8000&region=eu-west-1` → options. The endpoint
 * may also come from TRIGGERS_DYNAMODB_ENDPOINT (config.ts); the URL's wins.
 */
export function optionsFromUrl(url: string): { table: string; endpoint?: string; region?: string } {
  const rest = url.replace(/^dynamodb:\/\//, '');
  const [table = '', query = ''] = rest.split('?', 2);
  const params = new URLSearchParams(query);
  const endpoint = params.get('endpoint') ?? undefined;
  const region = params.get('region') ?? undefined;
  return {
    table: table.replace(/\/+$/, ''),
    ...(endpoint !== undefined && endpoint !== '' ? { endpoint } : {}),
    ...(region !== undefined && region !== '' ? { region } : {}),
  };
}

export { DynamoStore };
export { tableSchema } from './schema.js';
