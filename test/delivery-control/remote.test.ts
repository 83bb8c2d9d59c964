/**
 * Delivery control through a remote dispatcher (RemoteSource over the typed client against a
 * real API): the options travel with the subscription, ordering holds across a retry, and the
 * API applies the subscription's own retry schedule to the dispatcher's reports.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TriggersClient } from '../../src/client/index.js';
import { createDispatcher, type Dispatcher, RemoteSource } from '../../src/dispatcher/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { API_KEY, startApi, type TestApi } from '../client/api.js';
import { eventually } from '../dispatcher/helpers.js';
import { type Sink, startSink } from '../support/sink.js';

let api: TestApi;
let sink: Sink;
let client: TriggersClient;
let dispatcher: Dispatcher;

before(async () => {
  // The configured schedule is slow; the subscription's own is fast.
  api = await startApi({ TRIGGERS_RETRY_SCHEDULE: '3s' });
  sink = await startSink();
  client = new TriggersClient({ baseUrl: api.url, apiKey: API_KEY });
  dispatcher = createDispatcher({
    source: new RemoteSource(client),
    config: api.config,
    metrics: new Metrics({ defaultMetrics: false }),
    logger: silentLogger(),
    pollIntervalMs: 200,
    refreshIntervalMs: 500,
    longPollMs: 2_000,
  });
});

after(async () => {
  await dispatcher.stop();
  await client.close();
  await sink.close();
  await api.close();
});

test('a remote dispatcher honours ordered, headers and the subscription’s retry schedule', async () => {
  await client.createSubscription({
    id: 'remote-ordered',
    url: `${sink.url}/remote-ordered`,
    event_types: ['ordered.*'],
    ordered: true,
    headers: { 'x-tenant': 'acme' },
    retry_schedule: '100ms',
  });
  const sent = await client.sendEvents(Array.from({ length: 4 }, (_, i) => ({ type: 'ordered.created', source: 'test', payload: { i } })));
  const ids = sent.map((event) => event.id).sort();
  const second = ids[1] as string;
  let failed = false;
  sink.respond('/remote-ordered', (request) => {
    if (!failed && request.json<{ id: string }>().id === second) {
      failed = true;
      return { status: 500 };
    }
    return { status: 200 };
  });
  dispatcher.start();
  await eventually(
    async () => (await client.getEvent(ids[3] as string)).deliveries.find((d) => d.subscription_id === 'remote-ordered')?.status === 'delivered',
    8_000,
    'the last event delivered',
  );
  const requests = sink.requestsTo('/remote-ordered');
  assert.deepEqual(
    requests.map((r) => r.json<{ id: string }>().id),
    [ids[0], second, second, ids[2], ids[3]],
  );
  for (const request of requests) assert.equal(request.headers['x-tenant'], 'acme');
  const retryGap = (requests[2]?.at as number) - (requests[1]?.at as number);
  assert.ok(retryGap < 1_500, `retried after ${retryGap} ms: the subscription's 100ms, not the configured 3s`);
});
