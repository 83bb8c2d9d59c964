/**
 * The events table, built from the store's table description: keys, global indexes, TTL,
 * NEW_IMAGE stream and on-demand billing as described, plus point-in-time recovery. Retained on
 * stack deletion: the data outlives the stack unless removed on purpose (docs/aws.md, teardown).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { type TableDescription, tableSchema } from '../src/store/dynamodb/schema.js';

const PROJECTIONS = { ALL: dynamodb.ProjectionType.ALL, KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY } as const;
const STREAMS = { NEW_IMAGE: dynamodb.StreamViewType.NEW_IMAGE } as const;
const BILLING = { PAY_PER_REQUEST: dynamodb.BillingMode.PAY_PER_REQUEST } as const;

/** Every key attribute is a string (the description says so). */
const key = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

export function eventsTable(scope: Construct, id: string, description: TableDescription = tableSchema): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: key(description.partitionKey),
    sortKey: key(description.sortKey),
    billingMode: BILLING[description.billingMode],
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: description.timeToLiveAttribute,
    stream: STREAMS[description.stream.viewType],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of description.globalIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.name,
      partitionKey: key(index.partitionKey),
      sortKey: key(index.sortKey),
      projectionType: PROJECTIONS[index.projection],
    });
  }
  return table;
}
