/**
 * The one description of the Triggers DynamoDB table, as plain data: the store creates the table
 * from it (`ensureTable`, used by `migrate` and the tests) and the CDK stack in infra/ defines the
 * same table from it, so the two cannot drift. No SDK types here, only names.
 *
 * Single-table design. Every item has `pk` / `sk`; the four global secondary indexes are sparse
 * (an item carries an index's key attributes only while it belongs in that index):
 *
 *   list            walks a kind of item in time order: events (`EVENTS#<shard>`, sk
 *                   `<created_at>#<event id>`), dead letters (`FAILED#<shard>`), received
 *                   requests (`RECEIVED`) and idempotency keys (`IDEMPOTENCY#<shard>`)
 *   due             pending deliveries of one subscription by due time, write-sharded
 *                   (`DUE#<subscription>#<shard>`, sk `<next_attempt_at>#<delivery id>`): claims
 *                   fan out over the shards and lease with a conditional write on the base item
 *   inbox           pending deliveries of one subscription by event id
 *                   (`INBOX#<subscription>#<shard>`, sk `<event id>`): inbox pages, ordered heads
 *   bySubscription  every delivery of one subscription (`SUB#<subscription>#<shard>`), keys only:
 *                   what deleting a subscription erases
 *
 * `expiresAt` (epoch seconds) is the TTL attribute: retention's backstop (see docs/architecture.md).
 * The stream carries NEW_IMAGE records for the Streams-triggered dispatcher.
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
  /** Write shards of each sharded index partition. Never lower it on a table holding data. */
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
