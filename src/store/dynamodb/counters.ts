/**
 * Counters for stats(): the number of events, and per subscription its pending and failed
 * deliveries. Each is spread over write shards (`COUNT#<shard>`, sk = counter name), every change
 * an atomic ADD on a random shard, so no single item takes every write; reading sums the shards
 * (one Query per shard).
 *
 * A counter changes right after the write it counts has succeeded, in a second request: a process
 * that dies between the two leaves the counter off by that change. The counts are gauges for
 * dashboards; the deliveries themselves are always exact.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type Dynamo, Expr, queryAll } from './client.js';
import { counterPk } from './keys.js';

export const EVENTS_COUNTER = 'events';
export const pendingCounter = (subscriptionId: string): string => `pending#${subscriptionId}`;
export const failedCounter = (subscriptionId: string): string => `failed#${subscriptionId}`;

/** Collects counter changes, then writes them (one ADD per counter that changed). */
export class CounterDeltas {
  private readonly deltas = new Map<string, number>();

  add(name: string, delta: number): this {
    if (delta !== 0) this.deltas.set(name, (this.deltas.get(name) ?? 0) + delta);
    return this;
  }

  async write(db: Dynamo, shards: number): Promise<void> {
    await Promise.all(
      [...this.deltas]
        .filter(([, delta]) => delta !== 0)
        .map(([name, delta]) => {
          const expr = new Expr();
          return db.doc.send(
            new UpdateCommand({
              TableName: db.table,
              Key: { pk: counterPk(Math.floor(Math.random() * shards)), sk: name },
              UpdateExpression: `ADD ${expr.n('n')} ${expr.v(delta)}`,
              ...expr.params,
            }),
          );
        }),
    );
  }
}

/** Every counter, summed over its shards. */
export async function readCounters(db: Dynamo, shards: number): Promise<Map<string, number>> {
  const totals = new Map<string, number>();
  const pages = await Promise.all(
    Array.from({ length: shards }, (_, shard) => {
      const expr = new Expr();
      return queryAll(db, {
        KeyConditionExpression: `${expr.n('pk')} = ${expr.v(counterPk(shard))}`,
        ...expr.params,
        ConsistentRead: true,
      });
    }),
  );
  for (const item of pages.flat()) totals.set(String(item.sk), (totals.get(String(item.sk)) ?? 0) + Number(item.n ?? 0));
  return totals;
}

/** Drops a deleted subscription's counters. */
export async function deleteCounters(db: Dynamo, shards: number, subscriptionId: string): Promise<void> {
  const names = [pendingCounter(subscriptionId), failedCounter(subscriptionId)];
  await Promise.all(
    Array.from({ length: shards }, (_, shard) =>
      names.map((name) => db.doc.send(new DeleteCommand({ TableName: db.table, Key: { pk: counterPk(shard), sk: name } }))),
    ).flat(),
  );
}
