/**
 * The dispatcher as its own process would run it: RemoteSource over the typed client against a
 * real API (buildApi + SQLite), and `triggers dispatch` (runDispatchCommand) with and without
 * `--once`.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { runDispatchCommand } from '../../src/cli/dispatch.js';
import { TriggersClient } from '../../src/client/index.js';
import { createDispatcher, type Dispatcher, RemoteSource } from '../../src/dispatcher/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { API_KEY, startApi, type TestApi } from '../client/api.js';
import { type Sink, startSink } from '../support/sink.js';
import { eventually, sleep } from './helpers.js';

let api: TestApi;
let sink: Sink;
let client: TriggersClient;
let running: Dispatcher | undefined;

before(async () => {
  api = await startApi({ TRIGGERS_RETRY_SCHEDULE: '1s' });
  sink = await startSink();
  client = new TriggersClient({ baseUrl: api.url, apiKey: API_KEY });
});

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

after(async () => {
  await client.close();
  await sink.close();
  await api.close();
});

function remoteDispatcher(): Dispatcher {
  running = createDispatcher({
    source: new RemoteSource(client),
    config: api.config,
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger(),
    pollIntervalMs: 500,
    refreshIntervalMs: 500,
    longPollMs: 2_000,
  });
  return running;
}

const headersOf = (h: Record<string, string | string[] | undefined>) =>
  Object.fromEntries(Object.entries(h).filter((e): e is [string, string] => typeof e[1] === 'string'));

/** Waits for the event's delivery to `subscription` (the pull-only default one keeps the event itself pending). */
async function deliveryStatus(id: string, subscription: string, status: string): Promise<void> {
  await eventually(
    async () => (await client.getEvent(id)).deliveries.find((d) => d.subscription_id === subscription)?.status === status,
    5_000,
    `delivery of ${id} to ${subscription} to be ${status}`,
  );
}

test('a remote dispatcher long-polls the API, delivers signed, and settles through it', async () => {
  const subscription = await client.createSubscription({ id: 'remote', url: `${sink.url}/remote`, event_types: ['remote.*'] });
  const dispatcher = remoteDispatcher();
  dispatcher.start();
  await sleep(300); // idle, long-polling
  const before = Date.now();
  const sent = await client.sendEvent({ type: 'remote.hello', source: 'test', payload: { hi: true } });
  const [request] = await sink.waitFor(1, { path: '/remote', timeoutMs: 3_000 });
  assert.ok(request);
  assert.ok(request.at - before < 1_000, `arrived ${request.at - before}ms after the send`);
  assert.equal(request.headers['webhook-id'], sent.id);
  const body = new Webhook(subscription.secret as string).verify(request.text(), headersOf(request.headers)) as {
    id: string;
    payload: unknown;
  };
  assert.equal(body.id, sent.id);
  assert.deepEqual(body.payload, { hi: true });
  await deliveryStatus(sent.id, 'remote', 'delivered');
  const detail = await client.getEvent(sent.id);
  const delivery = detail.deliveries.find((d) => d.subscription_id === 'remote');
  assert.equal(delivery?.attempts[0]?.status_code, 200);
});

test('the server applies the retry rules: 500 then retried; 410 disables the subscription', async () => {
  sink.respond('/retry', [{ status: 500 }, { status: 200 }]);
  sink.respond('/gone', { status: 410 });
  await client.createSubscription({ id: 'retry', url: `${sink.url}/retry`, event_types: ['retry.*'] });
  await client.createSubscription({ id: 'gone', url: `${sink.url}/gone`, event_types: ['gone.*'] });
  const dispatcher = remoteDispatcher();
  dispatcher.start();
  const retried = await client.sendEvent({ type: 'retry.me', source: 'test', payload: {} });
  const gone = await client.sendEvent({ type: 'gone.me', source: 'test', payload: {} });
  const [first, second] = await sink.waitFor(2, { path: '/retry', timeoutMs: 5_000 });
  assert.ok((second?.at ?? 0) - (first?.at ?? 0) >= 700, 'waited for the 1s schedule (±20%)');
  assert.equal(second?.headers['webhook-id'], retried.id);
  await deliveryStatus(retried.id, 'retry', 'delivered');
  await deliveryStatus(gone.id, 'gone', 'failed');
  const subscription = await client.getSubscription('gone');
  assert.equal(subscription.status, 'disabled');
});

test('many idle subscriptions long-polling do not hold up claims and settles for a busy one', async () => {
  for (let i = 0; i < 24; i++) {
    await client.createSubscription({ id: `idle-${i}`, url: `${sink.url}/idle`, event_types: [`idle${i}.*`] });
  }
  await client.createSubscription({ id: 'busy', url: `${sink.url}/busy`, event_types: ['busy.*'] });
  const dispatcher = remoteDispatcher();
  dispatcher.start();
  await sleep(500); // every target is now holding a long poll open
  const started = Date.now();
  const sent = await client.sendEvents(
    Array.from({ length: 20 }, (_, i) => ({ type: 'busy.work', source: 'test', payload: { i } })),
  );
  await sink.waitFor(20, { path: '/busy', timeoutMs: 3_000 });
  await deliveryStatus(sent[19]?.id as string, 'busy', 'delivered');
  assert.ok(Date.now() - started < 3_000, `sent, delivered and settled in ${Date.now() - started}ms`);
  for (let i = 0; i < 24; i++) await client.deleteSubscription(`idle-${i}`);
});

test('triggers dispatch --once delivers up to MAX_EVENTS_PER_RUN and prints a JSON summary', async () => {
  await client.createSubscription({ id: 'once', url: `${sink.url}/once`, event_types: ['once.*'] });
  await client.sendEvents(Array.from({ length: 7 }, (_, i) => ({ type: 'once.item', source: 'test', payload: { i } })));
  const config = { ...api.config, maxEventsPerRun: 5 };
  const out = new PassThrough();
  const err = new PassThrough();
  let printed = '';
  out.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const code = await runDispatchCommand(config, { once: true, apiUrl: api.url, out, err });
  assert.equal(code, 0);
  const summary = JSON.parse(printed.trim()) as Record<string, unknown>;
  assert.equal(summary.processed, 5);
  assert.equal(summary.succeeded, 5);
  assert.equal(summary.failed, 0);
  assert.equal(summary.retries, 0);
  assert.deepEqual(Object.keys(summary.latency_ms as object), ['avg', 'p50', 'p99', 'max']);
  assert.equal(sink.requestsTo('/once').length, 5);

  printed = '';
  assert.equal(await runDispatchCommand(config, { once: true, apiUrl: api.url, out, err }), 0);
  assert.equal((JSON.parse(printed.trim()) as { processed: number }).processed, 2);
});

test('triggers dispatch fails clearly without a key, with a wrong key, or with no API', async () => {
  const err = new PassThrough();
  let messages = '';
  err.on('data', (chunk: Buffer) => (messages += chunk.toString()));
  const out = new PassThrough();
  assert.equal(await runDispatchCommand({ ...api.config, apiKey: undefined }, { once: true, apiUrl: api.url, out, err }), 2);
  assert.match(messages, /TRIGGERS_API_KEY is not set/);
  messages = '';
  assert.equal(
    await runDispatchCommand({ ...api.config, apiKey: 'a-wrong-api-key-123' }, { once: true, apiUrl: api.url, out, err }),
    1,
  );
  assert.match(messages, /refused the API key/);
  messages = '';
  assert.equal(await runDispatchCommand(api.config, { once: true, apiUrl: 'http://127.0.0.1:1', out, err }), 1);
  assert.match(messages, /cannot reach the API/);
});

test('triggers dispatch without --once keeps delivering until SIGTERM, then drains and returns 0', async () => {
  await client.createSubscription({ id: 'daemon', url: `${sink.url}/daemon`, event_types: ['daemon.*'] });
  const out = new PassThrough();
  const err = new PassThrough();
  const exit = runDispatchCommand(api.config, { once: false, apiUrl: api.url, out, err });
  await sleep(300);
  await client.sendEvents(Array.from({ length: 3 }, (_, i) => ({ type: 'daemon.tick', source: 'test', payload: { i } })));
  await sink.waitFor(3, { path: '/daemon', timeoutMs: 3_000 });
  await sleep(100);
  process.emit('SIGTERM', 'SIGTERM');
  assert.equal(await exit, 0);
  const inbox = await client.inbox({ subscription: 'daemon' });
  assert.equal(inbox.items.length, 0, 'all settled before exiting');
});
