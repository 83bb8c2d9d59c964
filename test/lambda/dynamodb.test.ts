/**
 * The three handlers of a deployment on a DynamoDB table (dynalite, in this process): the API
 * writes events through the DynamoDB store, the scheduled dispatcher delivers, retries and acks
 * them, and the stream dispatcher is handed INSERT records built from the very items the store
 * wrote (dynalite has no streams: the test reads the items back and wraps them as the table's
 * NEW_IMAGE stream would).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from 'aws-lambda';
import { type ApiHandler, createApiHandler } from '../../src/lambda/api.js';
import { createDispatcherHandlers, type DispatcherHandlers } from '../../src/lambda/dispatcher.js';
import { connect } from '../../src/store/dynamodb/client.js';
import { type Dynalite, startDynalite } from '../support/dynalite.js';
import { type Sink, startSink } from '../support/sink.js';
import { functionUrlEvent, insertRecord, lambdaContext, parsed, scheduledEvent, streamEvent } from './events.js';
import { API_KEY, captureLogger, captureOutput, JWT_SECRET, lambdaEnv, type TestEnv, WEBHOOK_SECRET } from './support.js';

let local: Dynalite;
let sink: Sink;
let testEnv: TestEnv;
let api: ApiHandler;
let dispatcher: DispatcherHandlers;
let metrics: ReturnType<typeof captureOutput>;
const table = `triggers-lambda-${process.pid}`;

before(async () => {
  local = await startDynalite();
  sink = await startSink();
  const url = `dynamodb://${table}?endpoint=${local.endpoint}`;
  testEnv = lambdaEnv({
    TRIGGERS_DATABASE_URL: url,
    TRIGGERS_API_KEY: API_KEY,
    TRIGGERS_JWT_SECRET: JWT_SECRET,
    TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
    TRIGGERS_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  metrics = captureOutput();
  api = createApiHandler({ env: testEnv.env, logger: captureLogger().logger });
  dispatcher = createDispatcherHandlers({ env: testEnv.env, logger: captureLogger().logger, writeMetrics: metrics.write });
});
after(async () => {
  await dispatcher?.close();
  await api?.close();
  testEnv?.cleanup();
  await sink?.close();
  await local?.close();
});
beforeEach(() => {
  sink.reset();
  metrics.lines.length = 0;
});

const call = async (...args: Parameters<typeof functionUrlEvent>) =>
  parsed(await api(functionUrlEvent(...args), lambdaContext('triggers-api')));

async function send(payload: Record<string, unknown>): Promise<string> {
  const res = await call('POST', '/events', {
    body: { type: 'order.created', source: 'shop', payload },
    headers: { 'x-api-key': API_KEY },
  });
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.id as string;
}

/** The items the store wrote for one event, as a NEW_IMAGE stream record carries them. */
async function itemsOf(eventId: string): Promise<Record<string, AttributeValue>[]> {
  const db = connect({ table, endpoint: local.endpoint });
  try {
    const answer = await db.raw.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: `EVT#${eventId}` } },
        ConsistentRead: true,
      }),
    );
    return (answer.Items ?? []) as Record<string, AttributeValue>[];
  } finally {
    db.raw.destroy();
  }
}

describe('Lambda handlers on DynamoDB (dynalite)', () => {
  it('API: /token, POST /events, GET /events/{id}', async () => {
    const token = await call('POST', '/token', { form: { username: 'api', password: API_KEY }, base64: true });
    assert.equal(token.status, 200);
    const auth = { authorization: `Bearer ${token.json.access_token}` };
    const created = await call('POST', '/events', {
      body: { type: 'order.created', source: 'shop', payload: { a: 1 } },
      headers: auth,
    });
    assert.equal(created.status, 201);
    const read = await call('GET', `/events/${created.json.id}`, { headers: auth });
    assert.equal(read.status, 200);
    assert.equal(read.json.status, 'pending');
    assert.deepEqual(read.json.payload, { a: 1 });
  });

  it('scheduled: delivers, retries a 500, acks; EMF counts', async () => {
    // Drain what the previous test left first.
    sink.respond('/hook', { status: 200 });
    await dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    sink.reset();
    metrics.lines.length = 0;

    sink.respond('/hook', [{ status: 500 }, { status: 200 }]);
    const id = await send({ scheduled: true });
    const result = await dispatcher.scheduledHandler(scheduledEvent(), lambdaContext('triggers-dispatcher'));
    assert.deepEqual([result.processed, result.succeeded, result.retries, result.failed], [2, 1, 1, 0]);
    assert.deepEqual(
      sink.requestsTo('/hook').map((r) => r.headers['webhook-id']),
      [id, id],
    );
    const read = await call('GET', `/events/${id}`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(read.json.status, 'delivered');
    const [line] = metrics.json();
    assert.deepEqual(
      [line?.EventsProcessed, line?.SuccessfulDeliveries, line?.RetryAttempts, line?.FailedDeliveries],
      [2, 1, 1, 0],
    );
  });

  it('stream: the INSERT records of the items the store wrote are delivered; a malformed one is reported', async () => {
    sink.respond('/hook', { status: 200 });
    const id = await send({ streamed: true });
    const items = await itemsOf(id);
    assert.deepEqual(items.map((item) => item.sk?.S?.slice(0, 3)).sort(), ['DLV', 'EVT']);
    const records = items.map((item) => insertRecord(item));
    const broken = insertRecord({ pk: { S: `EVT#${id}` }, sk: { S: 'DLV#00000000000000000000' } });
    const answer = await dispatcher.streamHandler(streamEvent([...records, broken]), lambdaContext('triggers-stream'));
    assert.deepEqual(answer.batchItemFailures, [{ itemIdentifier: broken.dynamodb?.SequenceNumber }]);
    const [request] = sink.requestsTo('/hook');
    assert.equal(request?.headers['webhook-id'], id);
    const read = await call('GET', `/events/${id}`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(read.json.status, 'delivered');
  });
});
