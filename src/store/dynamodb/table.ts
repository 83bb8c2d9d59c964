/**
 * Creates the table from schema.ts when it is missing (the `migrate` path, and the tests), waits
 * until it is ACTIVE, and turns TTL on. Safe to run from many processes at once: a table that
 * another process is creating is waited for, not created twice. The CDK stack defines the same
 * table from the same description; against it this finds the table and changes nothing.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import type { Dynamo } from './client.js';
import { type TableDescription, tableSchema } from './schema.js';

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null ? String((error as { name?: unknown }).name) : '';

/** The CreateTable input that schema.ts describes. */
export function createTableInput(table: string, schema: TableDescription = tableSchema): CreateTableCommandInput {
  return {
    TableName: table,
    BillingMode: schema.billingMode,
    AttributeDefinitions: schema.keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: schema.partitionKey, KeyType: 'HASH' },
      { AttributeName: schema.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: schema.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: schema.stream.viewType },
  };
}

async function tableStatus(db: Dynamo): Promise<string | null> {
  try {
    const described = await db.raw.send(new DescribeTableCommand({ TableName: db.table }));
    const indexes = described.Table?.GlobalSecondaryIndexes ?? [];
    if (indexes.some((index) => index.IndexStatus !== undefined && index.IndexStatus !== 'ACTIVE')) return 'UPDATING';
    return described.Table?.TableStatus ?? null;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return null;
    throw error;
  }
}

export async function ensureTable(db: Dynamo, options: { timeoutMs?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let status = await tableStatus(db);
  if (status === null) {
    try {
      await db.raw.send(new CreateTableCommand(createTableInput(db.table)));
    } catch (error) {
      // Another process created it first: wait for it like ours.
      if (errorName(error) !== 'ResourceInUseException') throw error;
    }
    status = await tableStatus(db);
  }
  while (status !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`DynamoDB table ${db.table} is not ACTIVE (${status ?? 'missing'})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await tableStatus(db);
  }
  await ensureTimeToLive(db);
}

/** Turns TTL on `expiresAt` on. Endpoints without the TTL API (dynalite) keep items until purge. */
async function ensureTimeToLive(db: Dynamo): Promise<void> {
  try {
    const described = await db.raw.send(new DescribeTimeToLiveCommand({ TableName: db.table }));
    const ttl = described.TimeToLiveDescription;
    if (ttl?.TimeToLiveStatus === 'ENABLED' || ttl?.TimeToLiveStatus === 'ENABLING') return;
    await db.raw.send(
      new UpdateTimeToLiveCommand({
        TableName: db.table,
        TimeToLiveSpecification: { AttributeName: tableSchema.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    const name = errorName(error);
    // No TTL API (dynalite), or no permission to it (a Lambda role: the CDK stack turns TTL on itself).
    if (
      ['UnknownOperationException', 'UnrecognizedClientException', 'ValidationException', 'AccessDeniedException'].includes(name)
    )
      return;
    throw error;
  }
}
