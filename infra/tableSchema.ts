/**
 * The table description the stack builds the events table from: the same data, in the same
 * shape, as the DynamoDB store's `tableSchema` (src/store/dynamodb/schema.ts), which replaces
 * this copy once it is committed. Single-table design: `pk`/`sk` on every item, four sparse
 * global indexes (time-ordered listings, due deliveries, inbox pages, a subscription's
 * deliveries), `expiresAt` (epoch seconds) as TTL, NEW_IMAGE stream, on-demand billing.
 */

export interface IndexDescription {
  name: string;
  partitionKey: string;
  sortKey: string;
  projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDescription {
  partitionKey: string;
  sortKey: string;
  /** Every key attribute of the table and its indexes; all strings. */
  keyAttributes: readonly string[];
  globalIndexes: readonly IndexDescription[];
  timeToLiveAttribute: string;
  stream: { viewType: 'NEW_IMAGE' };
  billingMode: 'PAY_PER_REQUEST';
  /** Write shards of each sharded index partition (the store's concern; no table setting). */
  writeShards: number;
}

export const tableSchema: TableDescription = {
  partitionKey: 'pk',
  sortKey: 'sk',
  keyAttributes: ['pk', 'sk', 'listPk', 'listSk', 'duePk', 'dueSk', 'inboxPk', 'inboxSk', 'subPk', 'subSk'],
  globalIndexes: [
    { name: 'list', partitionKey: 'listPk', sortKey: 'listSk', projection: 'ALL' },
    { name: 'due', partitionKey: 'duePk', sortKey: 'dueSk', projection: 'ALL' },
    { name: 'inbox', partitionKey: 'inboxPk', sortKey: 'inboxSk', projection: 'ALL' },
    { name: 'bySubscription', partitionKey: 'subPk', sortKey: 'subSk', projection: 'KEYS_ONLY' },
  ],
  timeToLiveAttribute: 'expiresAt',
  stream: { viewType: 'NEW_IMAGE' },
  billingMode: 'PAY_PER_REQUEST',
  writeShards: 4,
};
