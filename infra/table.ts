/**
 * The events table, built from the store's table description: on-demand billing, point-in-time
 * recovery, TTL for retention, and a NEW_IMAGE stream for the Streams dispatcher. Retained on
 * stack deletion: the data outlives the stack unless removed on purpose (docs/aws.md, teardown).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE, type KeySchemaElement, type TableDescription } from './tableSchema.js';

const ATTRIBUTE_TYPES = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
} as const;

const PROJECTIONS = {
  ALL: dynamodb.ProjectionType.ALL,
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
} as const;

export function eventsTable(scope: Construct, id: string, description: TableDescription = TABLE): dynamodb.Table {
  const attribute = (name: string): dynamodb.Attribute => {
    const definition = description.AttributeDefinitions.find((a) => a.AttributeName === name);
    if (!definition) throw new Error(`table description: key attribute ${name} has no AttributeDefinition`);
    return { name, type: ATTRIBUTE_TYPES[definition.AttributeType] };
  };
  const keys = (schema: KeySchemaElement[]) => {
    const hash = schema.find((k) => k.KeyType === 'HASH');
    const range = schema.find((k) => k.KeyType === 'RANGE');
    if (!hash) throw new Error('table description: a key schema without a HASH key');
    return { partitionKey: attribute(hash.AttributeName), sortKey: range ? attribute(range.AttributeName) : undefined };
  };

  const table = new dynamodb.Table(scope, id, {
    ...keys(description.KeySchema),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: description.TimeToLiveAttribute,
    stream: dynamodb.StreamViewType.NEW_IMAGE,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of description.GlobalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.IndexName,
      ...keys(index.KeySchema),
      projectionType: PROJECTIONS[index.Projection.ProjectionType],
      nonKeyAttributes: index.Projection.NonKeyAttributes,
    });
  }
  return table;
}
