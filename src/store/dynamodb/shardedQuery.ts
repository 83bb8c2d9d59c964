/**
 * Reads one index across its write shards as if it were one sorted list: one Query per shard
 * partition, pages fetched only as the merge needs them, items handed out in sort-key order
 * (k-way merge). A listing or a claim costs its page plus at most one page per shard, whatever
 * the backlog.
 *
 * Sort keys are unique within an index (they end in an id), so the merge never has to break ties.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Dynamo, Expr, type Item } from './client.js';

export interface Bound {
  value: string;
  inclusive: boolean;
}

export interface ShardedQuery {
  /** A global secondary index, or undefined for the table itself (then read strongly consistent). */
  index: string | undefined;
  partitionKey: string;
  sortKey: string;
  /** The partition key value of every shard. */
  partitions: readonly string[];
  lower?: Bound;
  upper?: Bound;
  descending?: boolean;
  /** A FilterExpression over each shard's items (applied by DynamoDB after the key range). */
  filter?: (expr: Expr) => string | undefined;
  /** Items per Query page. */
  pageSize: number;
}

interface Cursor {
  partition: string;
  buffer: Item[];
  start: Record<string, unknown> | undefined;
  done: boolean;
}

export class MergedQuery {
  private readonly cursors: Cursor[];
  private readonly empty: boolean;

  constructor(
    private readonly db: Dynamo,
    private readonly query: ShardedQuery,
  ) {
    this.cursors = query.partitions.map((partition) => ({ partition, buffer: [], start: undefined, done: false }));
    const { lower, upper } = query;
    this.empty =
      lower !== undefined &&
      upper !== undefined &&
      (lower.value > upper.value || (lower.value === upper.value && !(lower.inclusive && upper.inclusive)));
  }

  /** The next item in sort order, or null when every shard is exhausted. */
  async next(): Promise<Item | null> {
    if (this.empty) return null;
    await Promise.all(this.cursors.map((cursor) => this.fill(cursor)));
    const key = this.query.sortKey;
    let best: Cursor | undefined;
    for (const cursor of this.cursors) {
      const head = cursor.buffer[0];
      if (head === undefined) continue;
      const candidate = String(head[key]);
      const current = best === undefined ? undefined : String(best.buffer[0]?.[key]);
      if (current === undefined || (this.query.descending ? candidate > current : candidate < current)) best = cursor;
    }
    return best?.buffer.shift() ?? null;
  }

  /** Up to `count` next items. */
  async take(count: number): Promise<Item[]> {
    const items: Item[] = [];
    while (items.length < count) {
      const item = await this.next();
      if (item === null) break;
      items.push(item);
    }
    return items;
  }

  private async fill(cursor: Cursor): Promise<void> {
    while (cursor.buffer.length === 0 && !cursor.done) {
      const expr = new Expr();
      const { lower, upper } = this.query;
      let condition = `${expr.n(this.query.partitionKey)} = ${expr.v(cursor.partition)}`;
      const sk = lower !== undefined || upper !== undefined ? expr.n(this.query.sortKey) : '';
      if (lower !== undefined && upper !== undefined)
        condition += ` AND ${sk} BETWEEN ${expr.v(lower.value)} AND ${expr.v(upper.value)}`;
      else if (lower !== undefined) condition += ` AND ${sk} ${lower.inclusive ? '>=' : '>'} ${expr.v(lower.value)}`;
      else if (upper !== undefined) condition += ` AND ${sk} ${upper.inclusive ? '<=' : '<'} ${expr.v(upper.value)}`;
      const filter = this.query.filter?.(expr);
      const page = await this.db.doc.send(
        new QueryCommand({
          TableName: this.db.table,
          ...(this.query.index !== undefined ? { IndexName: this.query.index } : { ConsistentRead: true }),
          KeyConditionExpression: condition,
          ...(filter ? { FilterExpression: filter } : {}),
          ...expr.params,
          ScanIndexForward: !this.query.descending,
          Limit: this.query.pageSize,
          ExclusiveStartKey: cursor.start,
        }),
      );
      const items = (page.Items ?? []) as Item[];
      // BETWEEN is inclusive at both ends: drop an exclusive end here.
      cursor.buffer.push(
        ...items.filter((item) => {
          const value = String(item[this.query.sortKey]);
          return !((lower && !lower.inclusive && value === lower.value) || (upper && !upper.inclusive && value === upper.value));
        }),
      );
      cursor.start = page.LastEvaluatedKey;
      if (cursor.start === undefined) cursor.done = true;
    }
  }
}

/** The shard partition keys of an index partition family. */
export const shardPartitions = (shards: number, partition: (shard: number) => string): string[] =>
  Array.from({ length: shards }, (_, shard) => partition(shard));
