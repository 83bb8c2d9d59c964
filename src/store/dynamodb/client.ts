/**
 * The DynamoDB document client this store talks through, and the few helpers every verb uses:
 * expression names/values, conditional-failure detection, batch writes that finish what
 * DynamoDB leaves unprocessed, and outage errors turned into UnavailableError (503 + Retry-After).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { UnavailableError } from '../../core/errors.js';

export type Item = Record<string, unknown>;
export type Key = { pk: string; sk: string };

export interface Dynamo {
  doc: DynamoDBDocumentClient;
  raw: DynamoDBClient;
  table: string;
}

export interface ConnectOptions {
  table: string;
  region?: string;
  endpoint?: string | null;
}

export function connect(options: ConnectOptions): Dynamo {
  const raw = new DynamoDBClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          // A local endpoint (dynalite, DynamoDB Local) checks no signature, but the SDK wants some.
          credentials: process.env.AWS_ACCESS_KEY_ID ? undefined : { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {}),
    maxAttempts: 5,
  });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  // Throttling and an unreachable endpoint (after the SDK's own retries) become UnavailableError,
  // which the API answers with 503 + Retry-After; every other error passes through unchanged.
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  (doc as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) =>
    send(command).catch((error: unknown) => {
      throw asUnavailable(error);
    });
  return { doc, raw, table: options.table };
}

/** Builds `#name` / `:value` placeholders for one expression. */
export class Expr {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private count = 0;

  n(attribute: string): string {
    const key = `#${attribute}`;
    this.names[key] = attribute;
    return key;
  }

  v(value: unknown): string {
    const key = `:v${this.count++}`;
    this.values[key] = value;
    return key;
  }

  /** The names/values part of a command's input (values omitted when none). */
  get params(): { ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } {
    return {
      ...(Object.keys(this.names).length > 0 ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length > 0 ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** An UpdateExpression from SET / REMOVE / ADD clauses (empty clauses left out). */
export function updateExpression(set: string[], remove: string[] = [], add: string[] = []): string {
  return [
    set.length > 0 ? `SET ${set.join(', ')}` : '',
    remove.length > 0 ? `REMOVE ${remove.join(', ')}` : '',
    add.length > 0 ? `ADD ${add.join(', ')}` : '',
  ]
    .filter((part) => part !== '')
    .join(' ');
}

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';

export const isConditionalFailure = (error: unknown): boolean => errorName(error) === 'ConditionalCheckFailedException';

/** Runs `write`; a failed condition resolves to false instead of throwing. */
export async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionalFailure(error)) return false;
    throw error;
  }
}

const OUTAGES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'ECONNREFUSED',
  'ECONNRESET',
]);

/** Throttling and unreachable endpoints become 503s the API answers with Retry-After. */
export function asUnavailable(error: unknown): unknown {
  const code = typeof error === 'object' && error !== null ? String((error as { code?: unknown }).code ?? '') : '';
  if (OUTAGES.has(errorName(error)) || OUTAGES.has(code)) {
    return new UnavailableError(`DynamoDB is unavailable: ${error instanceof Error ? error.message : String(error)}`);
  }
  return error;
}

const BATCH_WRITE_MAX = 25;
const BATCH_GET_MAX = 100;

type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];

/** Puts and deletes in BatchWriteItem chunks of 25, retrying what comes back unprocessed. */
export async function batchWrite(db: Dynamo, requests: WriteRequest[]): Promise<void> {
  const chunks: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) chunks.push(requests.slice(i, i + BATCH_WRITE_MAX));
  await Promise.all(
    chunks.map(async (chunk) => {
      let pending = chunk;
      for (let round = 0; pending.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** round)));
        if (round > 10) throw new UnavailableError('DynamoDB left writes unprocessed');
        const result = await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: pending } }));
        pending = (result.UnprocessedItems?.[db.table] ?? []) as WriteRequest[];
      }
    }),
  );
}

export const putRequest = (item: Item): WriteRequest => ({ PutRequest: { Item: item } });
export const deleteRequest = (key: Key): WriteRequest => ({ DeleteRequest: { Key: key } });

/** Strongly consistent BatchGetItem in chunks of 100; items come back keyed by `pk|sk`. */
export async function batchGet(db: Dynamo, keys: Key[], attributes?: readonly string[]): Promise<Map<string, Item>> {
  const projection =
    attributes === undefined
      ? {}
      : {
          ProjectionExpression: ['pk', 'sk', ...attributes].map((_, i) => `#p${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(['pk', 'sk', ...attributes].map((name, i) => [`#p${i}`, name])),
        };
  const found = new Map<string, Item>();
  const unique = [...new Map(keys.map((key) => [`${key.pk}|${key.sk}`, key])).values()];
  for (let i = 0; i < unique.length; i += BATCH_GET_MAX) {
    let pending: Key[] = unique.slice(i, i + BATCH_GET_MAX);
    for (let round = 0; pending.length > 0; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** round)));
      if (round > 10) throw new UnavailableError('DynamoDB left reads unprocessed');
      const result = await db.doc.send(
        new BatchGetCommand({ RequestItems: { [db.table]: { Keys: pending, ConsistentRead: true, ...projection } } }),
      );
      for (const item of result.Responses?.[db.table] ?? []) found.set(`${item.pk}|${item.sk}`, item);
      pending = (result.UnprocessedKeys?.[db.table]?.Keys ?? []) as Key[];
    }
  }
  return found;
}

/** Every item of a Query, following LastEvaluatedKey. */
export async function queryAll(db: Dynamo, input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(new QueryCommand({ ...input, TableName: db.table, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Runs `fn` over `items` with at most `width` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return results;
}
