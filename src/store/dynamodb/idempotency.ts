/**
 * Idempotency keys past IDEMPOTENCY_TTL_MS, found through the list index (`IDEMPOTENCY#<shard>`,
 * sk `<created_at>#<key>`) and removed by purge; each delete is conditional on the key not having
 * been taken over since (a taken-over key has a new created_at).
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { type EpochMs, IDEMPOTENCY_TTL_MS } from '../../core/types.js';
import { conditional, type Dynamo, Expr, mapLimit } from './client.js';
import { idempotencyListPk, pad } from './keys.js';
import { MergedQuery, shardPartitions } from './shardedQuery.js';

export async function purgeIdempotencyKeys(db: Dynamo, shards: number, now: EpochMs, limit: number): Promise<number> {
  const expiry = now - IDEMPOTENCY_TTL_MS;
  const old = await new MergedQuery(db, {
    index: 'list',
    partitionKey: 'listPk',
    sortKey: 'listSk',
    partitions: shardPartitions(shards, idempotencyListPk),
    upper: { value: pad(expiry + 1), inclusive: false },
    pageSize: limit,
  }).take(limit);
  const removed = await mapLimit(old, 8, (item) => {
    const expr = new Expr();
    return conditional(() =>
      db.doc.send(
        new DeleteCommand({
          TableName: db.table,
          Key: { pk: item.pk, sk: item.sk },
          ConditionExpression: `${expr.n('created_at')} <= ${expr.v(expiry)}`,
          ...expr.params,
        }),
      ),
    );
  });
  return removed.filter(Boolean).length;
}
