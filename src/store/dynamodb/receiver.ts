/**
 * The built-in receiver's log and secrets.
 *
 *   request    pk RCV#<name>, sk <id>: one per received request; also in the list index under
 *              RECEIVED (sk <id>) for the all-receivers log. Ids come from an atomic counter
 *              (`SEQ` / `received`), so they increase within the table.
 *   seen       pk SEEN#<name>, sk <webhook-id>: put conditionally by the first accepted request
 *              carrying that id, so of concurrent copies exactly one is not a duplicate.
 *   receiver   pk RECEIVERS, sk <name>: count, last arrival, secret.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EpochMs, NewReceivedRequest, ReceivedRequest, ReceiverSummary, ReceiverVerdict } from '../../core/types.js';
import type { Page, ReceivedQuery } from '../store.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { batchWrite, conditional, type Dynamo, deleteRequest, Expr, type Item, queryAll, updateExpression } from './client.js';
import { pad, RECEIVED_LIST_PK, RECEIVERS_PK, receivedPk, seenPk } from './keys.js';
import { type Bound, MergedQuery } from './shardedQuery.js';

const ACCEPTED: readonly ReceiverVerdict[] = ['verified', 'unsigned'];

const toReceived = (item: Item): ReceivedRequest => ({
  id: String(Number(item.id)),
  name: String(item.name),
  received_at: Number(item.received_at),
  method: String(item.method),
  path: String(item.path),
  headers: (item.headers ?? {}) as Record<string, string>,
  body: String(item.body),
  body_size: Number(item.body_size),
  webhook_id: typeof item.webhook_id === 'string' ? item.webhook_id : null,
  verdict: item.verdict as ReceiverVerdict,
  legacy: item.legacy === true,
  duplicate: item.duplicate === true,
});

async function nextId(db: Dynamo): Promise<number> {
  const expr = new Expr();
  const result = await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk: 'SEQ', sk: 'received' },
      UpdateExpression: `ADD ${expr.n('n')} ${expr.v(1)}`,
      ...expr.params,
      ReturnValues: 'UPDATED_NEW',
    }),
  );
  return Number(result.Attributes?.n);
}

export async function recordReceived(
  db: Dynamo,
  request: NewReceivedRequest,
  now: EpochMs,
  expiresAt: number,
): Promise<ReceivedRequest> {
  const id = await nextId(db);
  let duplicate = false;
  let seen = false;
  if (request.webhook_id !== null && ACCEPTED.includes(request.verdict)) {
    seen = await conditional(() =>
      db.doc.send(
        new PutCommand({
          TableName: db.table,
          Item: { pk: seenPk(request.name), sk: request.webhook_id, first: id, expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    duplicate = !seen;
  }
  const stored: ReceivedRequest = { ...request, id: String(id), received_at: now, duplicate };
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: {
        ...stored,
        pk: receivedPk(request.name),
        sk: pad(id),
        id,
        seen,
        listPk: RECEIVED_LIST_PK,
        listSk: pad(id),
        expiresAt,
      },
    }),
  );
  const expr = new Expr();
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk: RECEIVERS_PK, sk: request.name },
      UpdateExpression: updateExpression([`${expr.n('last_received_at')} = ${expr.v(now)}`], [], [`${expr.n('n')} ${expr.v(1)}`]),
      ...expr.params,
    }),
  );
  return stored;
}

export async function listReceived(db: Dynamo, query: ReceivedQuery): Promise<Page<ReceivedRequest>> {
  const after = decodeCursor('received', query.after, ['string'] as const);
  const upper: Bound | undefined = after === null ? undefined : { value: after[0], inclusive: false };
  const merged = new MergedQuery(db, {
    index: query.name === undefined ? 'list' : undefined,
    partitionKey: query.name === undefined ? 'listPk' : 'pk',
    sortKey: query.name === undefined ? 'listSk' : 'sk',
    partitions: [query.name === undefined ? RECEIVED_LIST_PK : receivedPk(query.name)],
    ...(upper !== undefined ? { upper } : {}),
    descending: true,
    filter: (expr) => (query.verdict === undefined ? undefined : `${expr.n('verdict')} = ${expr.v(query.verdict)}`),
    pageSize: query.limit + 1,
  });
  const rows = await merged.take(query.limit + 1);
  const more = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toReceived),
    next_cursor: more && last !== undefined ? encodeCursor('received', [pad(Number(last.id))]) : null,
  };
}

export async function getReceived(db: Dynamo, id: string): Promise<ReceivedRequest | null> {
  if (!/^[1-9]\d{0,14}$/.test(id)) return null;
  const expr = new Expr();
  // The index says which receiver it belongs to; the item itself is then read consistently.
  const found = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: 'list',
      KeyConditionExpression: `${expr.n('listPk')} = ${expr.v(RECEIVED_LIST_PK)} AND ${expr.n('listSk')} = ${expr.v(pad(Number(id)))}`,
      ...expr.params,
    }),
  );
  const hit = found.Items?.[0];
  if (hit === undefined) return null;
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: hit.pk, sk: hit.sk }, ConsistentRead: true }),
  );
  return item === undefined ? null : toReceived(item);
}

async function keysOf(db: Dynamo, pk: string): Promise<Item[]> {
  const expr = new Expr();
  return queryAll(db, {
    KeyConditionExpression: `${expr.n('pk')} = ${expr.v(pk)}`,
    ProjectionExpression: `${expr.n('pk')}, ${expr.n('sk')}`,
    ...expr.params,
    ConsistentRead: true,
  });
}

export async function clearReceived(db: Dynamo, name: string): Promise<number> {
  const requests = await keysOf(db, receivedPk(name));
  const seen = await keysOf(db, seenPk(name));
  await batchWrite(
    db,
    [...requests, ...seen].map((item) => deleteRequest({ pk: String(item.pk), sk: String(item.sk) })),
  );
  await recount(db, name);
  return requests.length;
}

/** Sets a receiver's count and last arrival from the requests it still holds. */
export async function recount(db: Dynamo, name: string): Promise<void> {
  const expr = new Expr();
  const partition = `${expr.n('pk')} = ${expr.v(receivedPk(name))}`;
  const [counted, newest] = await Promise.all([
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: partition,
        ...expr.params,
        Select: 'COUNT',
        ConsistentRead: true,
      }),
    ),
    db.doc.send(
      new QueryCommand({
        TableName: db.table,
        KeyConditionExpression: partition,
        ...expr.params,
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    ),
  ]);
  const last = newest.Items?.[0]?.received_at;
  const update = new Expr();
  const set = [`${update.n('n')} = ${update.v(counted.Count ?? 0)}`];
  if (last !== undefined) set.push(`${update.n('last_received_at')} = ${update.v(last)}`);
  await conditional(() =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: { pk: RECEIVERS_PK, sk: name },
        UpdateExpression: updateExpression(set, last === undefined ? [update.n('last_received_at')] : []),
        ConditionExpression: 'attribute_exists(pk)',
        ...update.params,
      }),
    ),
  );
}

/** Received requests stored before `before`, oldest first, up to `limit`, erased. */
export async function purgeReceived(db: Dynamo, before: EpochMs, limit: number): Promise<number> {
  const oldest = new MergedQuery(db, {
    index: 'list',
    partitionKey: 'listPk',
    sortKey: 'listSk',
    partitions: [RECEIVED_LIST_PK],
    pageSize: limit + 1,
  });
  const gone: Item[] = [];
  while (gone.length < limit) {
    const item = await oldest.next();
    // Ids follow arrival, so the first recent one ends the walk.
    if (item === null || Number(item.received_at) >= before) break;
    gone.push(item);
  }
  if (gone.length === 0) return 0;
  await batchWrite(db, [
    ...gone.map((item) => deleteRequest({ pk: String(item.pk), sk: String(item.sk) })),
    ...gone
      .filter((item) => item.seen === true && typeof item.webhook_id === 'string')
      .map((item) => deleteRequest({ pk: seenPk(String(item.name)), sk: String(item.webhook_id) })),
  ]);
  for (const name of new Set(gone.map((item) => String(item.name)))) await recount(db, name);
  return gone.length;
}

export async function setReceiverSecret(db: Dynamo, name: string, secret: string | null): Promise<void> {
  const expr = new Expr();
  if (secret === null) {
    await conditional(() =>
      db.doc.send(
        new UpdateCommand({
          TableName: db.table,
          Key: { pk: RECEIVERS_PK, sk: name },
          UpdateExpression: `REMOVE ${expr.n('secret')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ...expr.params,
        }),
      ),
    );
    return;
  }
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: { pk: RECEIVERS_PK, sk: name },
      UpdateExpression: `SET ${expr.n('secret')} = ${expr.v(secret)}`,
      ...expr.params,
    }),
  );
}

export async function getReceiverSecret(db: Dynamo, name: string): Promise<string | null> {
  const { Item: item } = await db.doc.send(
    new GetCommand({ TableName: db.table, Key: { pk: RECEIVERS_PK, sk: name }, ConsistentRead: true }),
  );
  return typeof item?.secret === 'string' ? item.secret : null;
}

export async function listReceivers(db: Dynamo): Promise<ReceiverSummary[]> {
  const expr = new Expr();
  const items = await queryAll(db, {
    KeyConditionExpression: `${expr.n('pk')} = ${expr.v(RECEIVERS_PK)}`,
    ...expr.params,
    ConsistentRead: true,
  });
  return items.map((item) => ({
    name: String(item.sk),
    count: Number(item.n ?? 0),
    last_received_at: typeof item.last_received_at === 'number' && Number(item.n ?? 0) > 0 ? item.last_received_at : null,
    has_secret: typeof item.secret === 'string',
  }));
}
