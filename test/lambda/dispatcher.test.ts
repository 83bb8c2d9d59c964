/**
 * The dispatcher Lambda handlers, invoked with real event shapes beside the API handler on the
 * same store (as two functions share the table): an EventBridge scheduled event delivers, retries
 * (the sink answers 500 then 200) and acks; a DynamoDB Streams batch delivers what its INSERT
 * records name and reports its malformed record in batchItemFailures. Each invocation prints the
 * seed's five metrics as one EMF line.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { Env } from '../../src/config/config.js';
import { newEventId } from '../../src/core/ids.js';
import { type ApiHandler, createApiHandler } from '../../src/lambda/api.js';
import { createDispatcherHandlers, type DispatcherHandlers } from '../../src/lambda/dispatcher.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { type Sink, type SinkRequest, startSink } from '../support/sink.js';
import {
  deliveryImage,
  eventImage,
  functionUrlEvent,
  insertRecord,
  lambdaContext,
  parsed,
  scheduledEvent,
  streamEvent,
} from './events.js';
import { API_KEY, captureLogger, captureOutput, JWT_SECRET, lambdaEnv, type TestEnv, WEBHOOK_SECRET } from './support.js';

interface Deployment {
  api: ApiHandler;
  dispatcher: DispatcherHandlers;
  metrics: ReturnType<typeof captureOutput>;
  testEnv: TestEnv;
  close(): Promise<void>;
}

let sink: Sink;
const deployments = new Map<string, Deployment>();
before(async () => {
  sink = await startSink();
});
after(async () => {
  for (const d of deployments.values()) await d.close();
  await sink.close();
});
beforeEach(() => {
  sink.reset();
  for (const d of deployments.values()) d.metrics.lines.length = 0;
});

/**
 * Three deployments serve the tests (a cold start each, so few): tests of one deployment run in
 * order and each leaves nothing pending behind it. Each pushes its default subscription to its
 * own sink path.
 *
 *   /a  the defaults, three deliveries at most per run
 *   /b  no waiting for retries, another metrics namespace
 *   /c  alerts to the sink, counted from its own dead letters only
 */
type Setup = '/a' | '/b' | '/c';

function deployment(path: Setup): Deployment {
  let d = deployments.get(path);
  if (!d) {
    const extra: Record<Setup, Env> = {
      '/a': { TRIGGERS_MAX_EVENTS_PER_RUN: '3' },
      '/b': { TRIGGERS_LAMBDA_RETRY_WAIT: '0', TRIGGERS_METRICS_NAMESPACE: 'Triggers/Test' },
      '/c': { TRIGGERS_ALERT_WEBHOOK_URL: `${sink.url}/alerts` },
    };
    d = deploy(path, extra[path]);
    deployments.set(path, d);
  }
  return d;
}

/** The API and dispatcher functions of one stack, on one store, the default subscription pushing to the sink. */
function deploy(path: string, extra: Env = {}): Deployment {
  const testEnv = lambdaEnv({
    TRIGGERS_API_KEY: API_KEY,
    TRIGGERS_JWT_SECRET: JWT_SECRET,
    TRIGGERS_WEBHOOK_URL: `${sink.url}${path}`,
    TRIGGERS_WEBHOOK_SECRET: WEBHOOK_SECRET,
    ...extra,
  });
  const metrics = captureOutput();
  const api = createApiHandler({ env: testEnv.env, logger: captureLogger().logger });
  const dispatcher = createDispatcherHandlers({ env: testEnv.env, logger: captureLogger().logger, writeMetrics: metrics.write });
  return {
    api,
    dispatcher,
    metrics,
    testEnv,
    async close() {
      await dispatcher.close();
      await api.close();
      testEnv.cleanup();
    },
  };
}

async function sendEvent(d: Deployment, payload: Record<string, unknown> = { n: 1 }): Promise<string> {
  const res = parsed(
    await d.api(
      functionUrlEvent('POST', '/events', {
        body: { type: 'order.created', source: 'shop', payload },
        headers: { 'x-api-key': API_KEY },
      }),
      lambdaContext('triggers-api'),
    ),
  );
  assert.equal(res.status, 201, JSON.stringify(res.json));
  return res.json.id as string;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
async function readEvent(d: Deployment, id: string): Promise<any> {
  const res = parsed(
    await d.api(functionUrlEvent('GET', `/events/${id}`, { headers: { 'x-api-key': API_KEY } }), lambdaContext('triggers-api')),
  );
  assert.equal(res.status, 200);
  return res.json;
}

function verified(request: SinkRequest): unknown {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) if (typeof value === 'string') headers[name] = value;
  return new Webhook(WEBHOOK_SECRET).verify(request.text(), headers);
}

describe('scheduledHandler (EventBridge)', () => {
  it('delivers, retries a 500 within the invocation, acks, and prints the five metrics as EMF', async () => {
    const d = deployment('/a');
    sink.respond('/a', [{ status: 500 }, { status: 200 }]);
    const id = await sendEvent(d, { order: 7 });
    const result = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext('triggers-dispatcher'));
    assert.equal(result.handler, 'scheduled');
    assert.deepEqual(
      {
        processed: result.processed,
        succeeded: result.succeeded,
        failed: result.failed,
        retries: result.retries,
        runs: result.runs,
      },
      { processed: 2, succeeded: 1, failed: 0, retries: 1, runs: 2 },
    );

    const requests = sink.requestsTo('/a');
    assert.equal(requests.length, 2);
    for (const request of requests) {
      assert.equal(request.headers['webhook-id'], id);
      assert.deepEqual((verified(request) as { payload: unknown }).payload, { order: 7 });
    }

    const event = await readEvent(d, id);
    assert.equal(event.status, 'delivered');
    assert.deepEqual(
      event.deliveries[0].attempts.map((a: { status_code: number }) => a.status_code),
      [500, 200],
    );

    const [line, ...more] = d.metrics.json();
    assert.equal(more.length, 0);
    assert.ok(line);
    const aws = line._aws as {
      Timestamp: number;
      CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
    };
    assert.equal(typeof aws.Timestamp, 'number');
    const [directive] = aws.CloudWatchMetrics;
    assert.equal(directive?.Namespace, 'Triggers');
    assert.deepEqual(directive?.Dimensions, [[]]);
    assert.deepEqual(Object.fromEntries((directive?.Metrics ?? []).map((m) => [m.Name, m.Unit])), {
      EventsProcessed: 'Count',
      SuccessfulDeliveries: 'Count',
      FailedDeliveries: 'Count',
      RetryAttempts: 'Count',
      DeliveryLatency: 'Milliseconds',
    });
    assert.equal(line.EventsProcessed, 2);
    assert.equal(line.SuccessfulDeliveries, 1);
    assert.equal(line.FailedDeliveries, 0);
    assert.equal(line.RetryAttempts, 1);
    assert.ok(Array.isArray(line.DeliveryLatency) && (line.DeliveryLatency as number[]).length === 1);
    assert.equal(line.handler, 'scheduled');
    assert.equal(line.function, 'triggers-dispatcher');
  });

  it('without the retry wait, the retry stays in the store for the next scheduled run', async () => {
    const d = deployment('/b');
    sink.respond('/b', [{ status: 503 }, { status: 204 }]);
    const id = await sendEvent(d);
    const first = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.deepEqual([first.processed, first.retries, first.succeeded, first.runs], [1, 1, 0, 1]);
    assert.equal((await readEvent(d, id)).status, 'pending');
    await new Promise((resolve) => setTimeout(resolve, 80));
    const second = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.deepEqual([second.processed, second.succeeded], [1, 1]);
    assert.equal((await readEvent(d, id)).status, 'delivered');
    const lines = d.metrics.json();
    assert.equal(lines.length, 2);
    const directive = (lines[0]?._aws as { CloudWatchMetrics: { Namespace: string }[] } | undefined)?.CloudWatchMetrics[0];
    assert.equal(directive?.Namespace, 'Triggers/Test');
    assert.equal(lines[0]?.DeliveryLatency, undefined, 'no latency sample without a delivery');
  });

  it('takes at most TRIGGERS_MAX_EVENTS_PER_RUN per invocation', async () => {
    const d = deployment('/a');
    sink.respond('/a', { status: 200 });
    for (let i = 0; i < 5; i++) await sendEvent(d, { i });
    const first = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.equal(first.processed, 3);
    const second = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.equal(second.processed, 2);
    const third = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.equal(third.processed, 0);
    assert.equal(sink.requestsTo('/a').length, 5);
    assert.deepEqual(
      d.metrics.json().map((line) => line.EventsProcessed),
      [3, 2, 0],
    );
  });

  it('a permanent 4xx is dead-lettered and counted in FailedDeliveries', async () => {
    const d = deployment('/a');
    sink.respond('/a', { status: 422 });
    const id = await sendEvent(d);
    const result = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.deepEqual([result.processed, result.failed, result.retries], [1, 1, 0]);
    assert.equal((await readEvent(d, id)).status, 'failed');
    assert.equal(d.metrics.json()[0]?.FailedDeliveries, 1);
  });
});

describe('scheduledHandler housekeeping', () => {
  it("after a run: the seed's alarm (more than 3 dead letters in 5 minutes) to TRIGGERS_ALERT_WEBHOOK_URL, and a retention pass", async () => {
    const d = deployment('/c');
    sink.respond('/c', { status: 400 });
    sink.respond('/alerts', { status: 204 });
    for (let i = 0; i < 3; i++) await sendEvent(d, { i });
    // And an event from before the retention period (90 days), written as another process would.
    const old = Date.now() - 100 * 86_400_000;
    const oldId = newEventId(old);
    const writer = await openSqliteStore(join(d.testEnv.dir, 'triggers.db'));
    await writer.append({ events: [{ id: oldId, type: 'order.created', source: 'shop', payload: {}, created_at: old }] });
    await writer.close();

    const result = await d.dispatcher.scheduledHandler(scheduledEvent(), lambdaContext());
    assert.equal(result.failed, 4);
    const [alert] = await sink.waitFor(1, { path: '/alerts' });
    const body = alert?.json<{ alert: string; count: number; subscription_ids: string[] }>();
    assert.equal(body?.alert, 'deliveries_failed');
    assert.equal(body?.count, 4);
    assert.deepEqual(body?.subscription_ids, ['default']);

    const gone = parsed(
      await d.api(functionUrlEvent('GET', `/events/${oldId}`, { headers: { 'x-api-key': API_KEY } }), lambdaContext()),
    );
    assert.equal(gone.status, 404);
  });
});

describe('streamHandler (DynamoDB Streams)', () => {
  it('delivers what INSERT records name; a malformed record is the one batch item failure', async () => {
    const d = deployment('/b');
    sink.respond('/b', { status: 200 });
    const id = await sendEvent(d, { streamed: true });
    const records = [
      insertRecord(eventImage(id)),
      insertRecord(deliveryImage(id, 'default')),
      insertRecord(deliveryImage(id, 'default'), 'MODIFY'),
      insertRecord({ pk: { S: 'SUB' }, sk: { S: 'default' }, id: { S: 'default' } }),
      insertRecord({ ...deliveryImage('evt_broken', 'default'), subscription_id: { NULL: true } }),
    ];
    const malformed = records[4]?.dynamodb?.SequenceNumber;
    const answer = await d.dispatcher.streamHandler(streamEvent(records), lambdaContext('triggers-stream'));
    assert.deepEqual(answer, { batchItemFailures: [{ itemIdentifier: malformed }] });

    const [request] = sink.requestsTo('/b');
    assert.ok(request);
    assert.equal(request.headers['webhook-id'], id);
    assert.deepEqual((verified(request) as { payload: unknown }).payload, { streamed: true });
    assert.equal((await readEvent(d, id)).status, 'delivered');
    const [line] = d.metrics.json();
    assert.equal(line?.handler, 'stream');
    assert.equal(line?.SuccessfulDeliveries, 1);
  });

  it('an event record alone (its deliveries not in the batch) is delivered through the store', async () => {
    const d = deployment('/b');
    sink.respond('/b', { status: 200 });
    const id = await sendEvent(d);
    const answer = await d.dispatcher.streamHandler(streamEvent([insertRecord(eventImage(id))]), lambdaContext());
    assert.deepEqual(answer.batchItemFailures, []);
    assert.equal(sink.requestsTo('/b').length, 1);
    assert.equal((await readEvent(d, id)).status, 'delivered');
  });

  it('records without a sequence number (no stream section, or none given) are logged, not reported: an empty identifier would fail the whole batch', async () => {
    const d = deployment('/b');
    const bare = insertRecord(eventImage('evt_x'));
    const noSection = { ...bare, dynamodb: undefined };
    const noSequence = insertRecord({ pk: { S: 'EVT#evt_y' }, sk: { S: 'DLV#abc' } });
    delete noSequence.dynamodb?.NewImage?.subscription_id;
    if (noSequence.dynamodb) noSequence.dynamodb.SequenceNumber = undefined;
    const answer = await d.dispatcher.streamHandler(streamEvent([noSection, noSequence]), lambdaContext());
    assert.deepEqual(answer.batchItemFailures, []);
  });

  it('a batch that names no push subscription delivers nothing and reports zeros', async () => {
    const d = deployment('/b');
    const answer = await d.dispatcher.streamHandler(
      streamEvent([insertRecord(deliveryImage('evt_gone', 'no-such-subscription'))]),
      lambdaContext(),
    );
    assert.deepEqual(answer.batchItemFailures, []);
    assert.equal(sink.requests.length, 0);
    assert.deepEqual(
      d.metrics.json().map((line) => [line.EventsProcessed, line.SuccessfulDeliveries]),
      [[0, 0]],
    );
  });
});
