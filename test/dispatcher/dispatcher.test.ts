/**
 * The in-process dispatcher against a real SQLite store and a real HTTP sink: wake-ups, the
 * status rules (retry, dead-letter, 410, 4xx, 429 + Retry-After, timeouts, refused connections,
 * redirects), isolation between subscriptions, crash recovery through expired leases.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, test } from 'node:test';
import { DEFAULT_DELIVERY_OPTIONS } from '../../src/core/types.js';
import { createDispatcher, type DeliverySource, LocalSource } from '../../src/dispatcher/index.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { type Sink, startSink } from '../support/sink.js';
import { addSubscription, appendEvents, deliveryStatus, eventually, type Harness, harness, sleep } from './helpers.js';

let sink: Sink;
let h: Harness | undefined;

beforeEach(async () => {
  sink = await startSink();
});

afterEach(async () => {
  await h?.close();
  h = undefined;
  await sink.close();
});

async function started(env: Record<string, string> = {}, options: Parameters<typeof harness>[1] = {}): Promise<Harness> {
  h = await harness(env, options);
  return h;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('a new event is delivered within milliseconds of its append (woken, not polled)', async () => {
  // A safety poll far longer than the test: only the store's wake-up can explain a fast delivery.
  const { store, dispatcher } = await started({}, { pollIntervalMs: 60_000 });
  await addSubscription(store, 'fast', `${sink.url}/fast`);
  dispatcher.start();
  await sleep(100); // targets loaded, dispatcher idle
  const delays: number[] = [];
  for (let round = 0; round < 5; round++) {
    const before = Date.now();
    const [id] = await appendEvents(store);
    const requests = await sink.waitFor(round + 1, { path: '/fast', timeoutMs: 2_000 });
    const request = requests[round];
    assert.equal(request?.headers['webhook-id'], id);
    delays.push((request?.at ?? 0) - before);
    await sleep(20);
  }
  // Every one far sooner than any poll; the best within a few ms (the machine may be busy).
  assert.ok(Math.max(...delays) < 1_000, `delays ${delays.join(', ')}ms`);
  assert.ok(Math.min(...delays) < 100, `delays ${delays.join(', ')}ms`);
});

test('a failing endpoint is retried on the schedule, then delivered; the webhook-id stays the same', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms,100ms' });
  sink.respond('/flaky', [{ status: 500, body: 'boom' }, { status: 503 }, { status: 200 }]);
  await addSubscription(store, 'flaky', `${sink.url}/flaky`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  const requests = await sink.waitFor(3, { path: '/flaky' });
  assert.deepEqual(new Set(requests.map((r) => r.headers['webhook-id'])), new Set([id]));
  const gap1 = (requests[1]?.at ?? 0) - (requests[0]?.at ?? 0);
  const gap2 = (requests[2]?.at ?? 0) - (requests[1]?.at ?? 0);
  assert.ok(gap1 >= 35 && gap1 < 1_000, `first retry after ${gap1}ms`);
  assert.ok(gap2 >= 75 && gap2 < 1_000, `second retry after ${gap2}ms`);
  const event = await deliveryStatus(store, id as string, 'flaky', 'delivered');
  const delivery = event.deliveries[0];
  assert.equal(delivery?.attempts_count, 3);
  assert.deepEqual(
    delivery?.attempts.map((a) => a.status_code),
    [500, 503, 200],
  );
  assert.equal(delivery?.attempts[0]?.response, 'boom');
  assert.ok((delivery?.latency_ms ?? 0) > 0);
});

test('when the schedule is used up the delivery is dead-lettered', async () => {
  const { store, dispatcher, metrics } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms,100ms' });
  sink.respond('/down', { status: 502 });
  await addSubscription(store, 'down', `${sink.url}/down`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  const event = await deliveryStatus(store, id as string, 'down', 'failed');
  assert.equal(event.deliveries[0]?.attempts_count, 3);
  assert.equal(sink.requestsTo('/down').length, 3);
  const dead = await store.listDeadLetters({ limit: 10 });
  assert.deepEqual(
    dead.items.map((d) => d.event_id),
    [id],
  );
  // The store shows the commit before the settle has answered (the fsync comes after), and the
  // metrics are recorded when it answers: wait for them.
  const text = await eventually(async () => {
    const current = await metrics.registry.metrics();
    return /triggers_deliveries_failed_total\{subscription="down"\} 1/.test(current) ? current : undefined;
  });
  assert.match(text, /triggers_delivery_retries_total\{subscription="down"\} 2/);
  assert.match(text, /triggers_delivery_attempts_total\{subscription="down",result="dead"\} 1/);
});

test('410 Gone dead-letters the delivery and disables the subscription', async () => {
  const { store, dispatcher } = await started();
  sink.respond('/gone', { status: 410 });
  await addSubscription(store, 'gone', `${sink.url}/gone`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  await deliveryStatus(store, id as string, 'gone', 'failed');
  const subscription = await eventually(async () => {
    const s = await store.getSubscription('gone');
    return s?.status === 'disabled' ? s : undefined;
  });
  assert.match(subscription.disabled_reason ?? '', /410/);
  await appendEvents(store);
  await sleep(300);
  assert.equal(sink.requestsTo('/gone').length, 1);
});

test('a permanent 4xx dead-letters at once; 408, 425 and 429 are retried', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms' });
  sink.respond('/bad', { status: 400, body: '{"error":"bad payload"}' });
  sink.respond('/slowdown', [{ status: 408 }, { status: 425 }, { status: 200 }]);
  await addSubscription(store, 'bad', `${sink.url}/bad`, { eventTypes: ['order.*'] });
  await addSubscription(store, 'slowdown', `${sink.url}/slowdown`, { eventTypes: ['other.*'] });
  const [bad] = await appendEvents(store, 1, 'order.created');
  const [slow] = await appendEvents(store, 1, 'other.thing');
  dispatcher.start();
  const event = await deliveryStatus(store, bad as string, 'bad', 'failed');
  assert.equal(event.deliveries[0]?.attempts_count, 1);
  assert.equal(event.deliveries[0]?.attempts[0]?.response, '{"error":"bad payload"}');
  // 408 then 425 with a one-retry schedule: the 425 is the last try, so it dead-letters.
  const other = await deliveryStatus(store, slow as string, 'slowdown', 'failed');
  assert.deepEqual(
    other.deliveries[0]?.attempts.map((a) => a.status_code),
    [408, 425],
  );
});

test('429 with Retry-After waits as told (clamped to at least 1 s) instead of the schedule', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms,50ms' });
  sink.respond('/limited', [{ status: 429, headers: { 'retry-after': '1' } }, { status: 200 }]);
  await addSubscription(store, 'limited', `${sink.url}/limited`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  const [first, second] = await sink.waitFor(2, { path: '/limited', timeoutMs: 5_000 });
  const gap = (second?.at ?? 0) - (first?.at ?? 0);
  assert.ok(gap >= 950, `retried after ${gap}ms, Retry-After said 1s`);
  assert.ok(gap < 3_000, `retried after ${gap}ms`);
  await deliveryStatus(store, id as string, 'limited', 'delivered');
});

test('a timeout and a refused connection are retried, with the error recorded', async () => {
  const port = await closedPort();
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms,50ms', TRIGGERS_DELIVERY_TIMEOUT: '300ms' });
  sink.respond('/slow', [{ hang: true }, { delayMs: 1_000 }, { status: 200 }]);
  await addSubscription(store, 'slow', `${sink.url}/slow`);
  await addSubscription(store, 'refused', `http://127.0.0.1:${port}/hook`);
  const [id] = await appendEvents(store);
  const started_ = Date.now();
  dispatcher.start();
  const slow = await deliveryStatus(store, id as string, 'slow', 'delivered');
  const attempts = slow.deliveries.find((d) => d.subscription_id === 'slow')?.attempts ?? [];
  assert.equal(attempts.length, 3);
  assert.equal(attempts[0]?.status_code, null);
  assert.match(attempts[0]?.error ?? '', /timeout/);
  assert.match(attempts[1]?.error ?? '', /timeout/);
  assert.ok((attempts[0]?.duration_ms ?? 0) >= 250 && (attempts[0]?.duration_ms ?? 0) < 1_500, `${attempts[0]?.duration_ms}ms`);
  assert.ok(Date.now() - started_ < 4_000);

  const refused = await deliveryStatus(store, id as string, 'refused', 'failed');
  const refusedAttempts = refused.deliveries.find((d) => d.subscription_id === 'refused')?.attempts ?? [];
  assert.equal(refusedAttempts.length, 3);
  for (const attempt of refusedAttempts) assert.match(attempt.error ?? '', /ECONNREFUSED/);
});

test('a short timeout cuts at its own length, and a 2xx whose body outlasts it is a success with no error', async () => {
  // The server-wide timeout stays 2 s; the subscriptions set 300 ms of their own.
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms' });
  sink.respond('/stuck', [{ hang: true }, { status: 200 }]);
  sink.respond('/slow-body', { status: 200, body: 'z'.repeat(40), drip: { chunks: 40, intervalMs: 25 } });
  const delivery = { ...DEFAULT_DELIVERY_OPTIONS, timeout_ms: 300 };
  await addSubscription(store, 'stuck', `${sink.url}/stuck`);
  await addSubscription(store, 'slow-body', `${sink.url}/slow-body`);
  await store.updateSubscription('stuck', { delivery });
  await store.updateSubscription('slow-body', { delivery });
  const [id] = await appendEvents(store);
  dispatcher.start();
  const stuck = await deliveryStatus(store, id as string, 'stuck', 'delivered');
  const cut = stuck.deliveries.find((d) => d.subscription_id === 'stuck')?.attempts[0];
  assert.match(cut?.error ?? '', /timeout/);
  assert.ok((cut?.duration_ms ?? 0) >= 290 && (cut?.duration_ms ?? 0) < 380, `cut after ${cut?.duration_ms}ms`);
  const accepted = await deliveryStatus(store, id as string, 'slow-body', 'delivered');
  const attempts = accepted.deliveries.find((d) => d.subscription_id === 'slow-body')?.attempts ?? [];
  assert.equal(attempts.length, 1, 'not retried');
  assert.equal(attempts[0]?.status_code, 200);
  assert.equal(attempts[0]?.error, null);
});

test('a reset connection and a slow-dripping body are handled; only ~1 KiB of the response is kept', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms', TRIGGERS_DELIVERY_TIMEOUT: '400ms' });
  sink.respond('/reset', [{ reset: true }, { status: 200, body: 'x'.repeat(5_000) }]);
  sink.respond('/drip', [{ status: 500, body: 'y'.repeat(100), drip: { chunks: 100, intervalMs: 50 } }, { status: 200 }]);
  await addSubscription(store, 'reset', `${sink.url}/reset`);
  await addSubscription(store, 'drip', `${sink.url}/drip`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  const reset = await deliveryStatus(store, id as string, 'reset', 'delivered');
  const resetAttempts = reset.deliveries.find((d) => d.subscription_id === 'reset')?.attempts ?? [];
  assert.match(resetAttempts[0]?.error ?? '', /ECONNRESET|closed|socket/i);
  assert.equal(resetAttempts[1]?.response?.length, 1024);
  const drip = await deliveryStatus(store, id as string, 'drip', 'delivered');
  const dripAttempts = drip.deliveries.find((d) => d.subscription_id === 'drip')?.attempts ?? [];
  assert.equal(dripAttempts[0]?.status_code, 500);
  assert.ok((dripAttempts[0]?.duration_ms ?? 0) < 1_500, `drip attempt took ${dripAttempts[0]?.duration_ms}ms`);
});

test('redirects are not followed: a 3xx is a failed attempt', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '50ms' });
  sink.respond('/moved', { status: 301, headers: { location: `${sink.url}/target` } });
  await addSubscription(store, 'moved', `${sink.url}/moved`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  const event = await deliveryStatus(store, id as string, 'moved', 'failed');
  assert.deepEqual(
    event.deliveries[0]?.attempts.map((a) => a.status_code),
    [301, 301],
  );
  assert.equal(sink.requestsTo('/target').length, 0);
});

test('a hanging endpoint does not delay deliveries to a healthy one', async () => {
  const { store, dispatcher } = await started(
    { TRIGGERS_DELIVERY_TIMEOUT: '2s', TRIGGERS_SUBSCRIPTION_CONCURRENCY: '4', TRIGGERS_DISPATCH_CONCURRENCY: '16' },
    {},
  );
  sink.respond('/hang', { hang: true });
  await addSubscription(store, 'hang', `${sink.url}/hang`, { eventTypes: ['*'] });
  await addSubscription(store, 'healthy', `${sink.url}/healthy`, { eventTypes: ['*'] });
  dispatcher.start();
  await sleep(50);
  const before = Date.now();
  await appendEvents(store, 50);
  await sink.waitFor(50, { path: '/healthy', timeoutMs: 3_000 });
  assert.ok(Date.now() - before < 2_000, `healthy endpoint took ${Date.now() - before}ms`);
  // The hanging endpoint holds only its own slots.
  assert.equal(sink.requestsTo('/hang').length, 4);
  // More events still reach the healthy endpoint at once.
  const again = Date.now();
  await appendEvents(store, 10);
  await sink.waitFor(60, { path: '/healthy', timeoutMs: 3_000 });
  assert.ok(Date.now() - again < 1_000);
});

test('a lease left behind by a crashed dispatcher expires and the delivery is redelivered with the same webhook-id', async () => {
  const { store, dispatcher } = await started({}, { pollIntervalMs: 100 });
  await addSubscription(store, 'crash', `${sink.url}/crash`);
  const [id] = await appendEvents(store);
  // The "crashed" consumer: claims with a short lease and never settles.
  const [claim] = await store.claim({ subscription_id: 'crash', limit: 10, lease_ms: 400 });
  assert.equal(claim?.event.id, id);
  dispatcher.start();
  await sleep(200);
  assert.equal(sink.requestsTo('/crash').length, 0, 'not handed out while the lease holds');
  const [request] = await sink.waitFor(1, { path: '/crash', timeoutMs: 3_000 });
  assert.equal(request?.headers['webhook-id'], id);
  const event = await deliveryStatus(store, id as string, 'crash', 'delivered');
  assert.equal(event.deliveries[0]?.attempts_count, 1);
  assert.ok((request?.at ?? 0) - Date.now() < 1_000);
});

test('a subscription created while running is picked up; a removed one is dropped', async () => {
  const { store, dispatcher } = await started({}, { pollIntervalMs: 100, refreshIntervalMs: 100 });
  dispatcher.start();
  await sleep(50);
  await addSubscription(store, 'later', `${sink.url}/later`);
  await appendEvents(store, 3);
  await sink.waitFor(3, { path: '/later' });
  await store.updateSubscription('later', { status: 'disabled' });
  await sleep(250);
  await appendEvents(store, 2);
  await sleep(300);
  assert.equal(sink.requestsTo('/later').length, 3);
});

test('disabled with deliveries claimed but not sent, then enabled: they go at once, not after their leases', async () => {
  const { store, dispatcher } = await started(
    { TRIGGERS_SUBSCRIPTION_CONCURRENCY: '1', TRIGGERS_LEASE: '60s' },
    { pollIntervalMs: 100, refreshIntervalMs: 100 },
  );
  sink.respond('/one-at-a-time', { delayMs: 200 });
  await addSubscription(store, 'paused', `${sink.url}/one-at-a-time`);
  await appendEvents(store, 5);
  dispatcher.start();
  await sink.waitFor(1, { path: '/one-at-a-time' });
  // One request in flight, the other four claimed and waiting for its slot.
  await store.updateSubscription('paused', { status: 'disabled' });
  await sleep(400);
  const sentWhileDisabled = sink.requestsTo('/one-at-a-time').length;
  assert.ok(sentWhileDisabled <= 2, `${sentWhileDisabled} requests while disabled`);
  const enabledAt = Date.now();
  await store.updateSubscription('paused', { status: 'active' });
  await sink.waitFor(5, { path: '/one-at-a-time', timeoutMs: 5_000 });
  assert.ok(Date.now() - enabledAt < 3_000, `the rest took ${Date.now() - enabledAt}ms after enabling`);
});

test('stop() gives back the deliveries it claimed but did not start, due at once for the next dispatcher', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_SUBSCRIPTION_CONCURRENCY: '1', TRIGGERS_LEASE: '60s' });
  sink.respond('/slow-one', { delayMs: 200 });
  await addSubscription(store, 'handover', `${sink.url}/slow-one`);
  const ids = await appendEvents(store, 6);
  dispatcher.start();
  await sink.waitFor(1, { path: '/slow-one' });
  await dispatcher.stop();
  const sent = sink.requestsTo('/slow-one').length;
  const next = await store.claim({ subscription_id: 'handover', limit: 100, lease_ms: 60_000 });
  assert.equal(next.length, ids.length - sent, 'every unsent delivery can be claimed at once');
  for (const claim of next) assert.equal(claim.attempt, 1, 'releasing is not an attempt');
});

test('private addresses are refused at connect time unless allowed; the built-in receiver is exempt', async () => {
  const { store, dispatcher } = await started(
    { TRIGGERS_ALLOW_PRIVATE_TARGETS: 'false' },
    {
      configure: (config) => {
        config.apiUrl = sink.url;
        config.retrySchedule = [];
      },
    },
  );
  // Stored directly: the API would refuse these URLs when creating the subscription.
  await addSubscription(store, 'loopback', `${sink.url}/private`);
  await addSubscription(store, 'named', `http://localhost:${sink.port}/private`);
  await addSubscription(store, 'receiver', `${sink.url}/receiver/mine`);
  await addSubscription(store, 'receiver-by-name', `http://localhost:${sink.port}/receiver/named`);
  await addSubscription(store, 'not-receiver', `http://localhost:${sink.port}/receivers-not/x`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  await deliveryStatus(store, id as string, 'receiver', 'delivered');
  await deliveryStatus(store, id as string, 'receiver-by-name', 'delivered');
  for (const name of ['loopback', 'named', 'not-receiver']) {
    const event = await deliveryStatus(store, id as string, name, 'failed');
    const attempt = event.deliveries.find((d) => d.subscription_id === name)?.attempts[0];
    assert.equal(attempt?.status_code, null);
    assert.match(attempt?.error ?? '', /private or loopback/);
  }
  assert.equal(sink.requestsTo('/private').length, 0);
  assert.equal(sink.requestsTo('/receiver/mine').length, 1);
});

test('runOnce delivers at most max deliveries, settles them and reports a summary', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_RETRY_SCHEDULE: '1h' });
  sink.respond('/bad', { status: 500 });
  await addSubscription(store, 'good', `${sink.url}/good`, { eventTypes: ['good.*'] });
  await addSubscription(store, 'bad', `${sink.url}/bad`, { eventTypes: ['bad.*'] });
  await appendEvents(store, 30, 'good.thing');
  await appendEvents(store, 5, 'bad.thing');

  const first = await dispatcher.runOnce(20);
  assert.equal(first.processed, 20);
  assert.equal(first.succeeded + first.retries + first.failed, 20);
  const second = await dispatcher.runOnce(100);
  assert.equal(first.processed + second.processed, 35);
  assert.equal(first.succeeded + second.succeeded, 30);
  assert.equal(first.retries + second.retries, 5);
  assert.equal(second.failed + first.failed, 0);
  assert.ok(second.latency_ms.max >= second.latency_ms.p99 && second.latency_ms.p99 >= second.latency_ms.p50);
  assert.ok(second.latency_ms.avg > 0);
  // Everything due has been handled; retries wait an hour.
  const third = await dispatcher.runOnce(100);
  assert.deepEqual(third, { processed: 0, succeeded: 0, failed: 0, retries: 0, latency_ms: { avg: 0, p50: 0, p99: 0, max: 0 } });
  assert.equal(sink.requestsTo('/good').length, 30);
});

test('stop() waits for requests in flight and settles them', async () => {
  const { store, dispatcher } = await started();
  sink.respond('/slowish', { delayMs: 300 });
  await addSubscription(store, 'slowish', `${sink.url}/slowish`);
  const ids = await appendEvents(store, 5);
  dispatcher.start();
  await sink.waitFor(5, { path: '/slowish' });
  await dispatcher.stop();
  for (const id of ids) {
    const event = await store.getEvent(id);
    assert.equal(event?.deliveries[0]?.status, 'delivered');
  }
});

test('a failed settle is retried: nothing delivered is lost or delivered twice', async () => {
  const { store, config } = await started();
  const local = new LocalSource(store, { retrySchedule: config.retrySchedule });
  let failures = 0;
  const flaky: DeliverySource = {
    longPoll: false,
    targets: () => local.targets(),
    claim: (...args) => local.claim(...args),
    nextDueAt: (id) => local.nextDueAt(id),
    release: (claims) => local.release(claims),
    onReady: (listener) => local.onReady(listener),
    settle: (reports) => (failures++ < 2 ? Promise.reject(new Error('storage hiccup')) : local.settle(reports)),
  };
  const dispatcher = createDispatcher({ source: flaky, config, logger: silentLogger(), pollIntervalMs: 200 });
  await addSubscription(store, 'flaky-store', `${sink.url}/flaky-store`);
  const ids = await appendEvents(store, 5);
  dispatcher.start();
  try {
    for (const id of ids) await deliveryStatus(store, id, 'flaky-store', 'delivered');
    assert.equal(failures, 3);
    assert.equal(sink.requestsTo('/flaky-store').length, 5);
  } finally {
    await dispatcher.stop();
  }
});

test('at debug level, every attempt is logged with its event id: delivered, and failed with a retry', async () => {
  const lines: Record<string, unknown>[] = [];
  const capture = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const { store } = await started({}, { logger: createLogger('debug', capture) });
  sink.respond('/logged', [{ status: 503 }, { status: 200 }]);
  await addSubscription(store, 'logged', `${sink.url}/logged`);
  h?.dispatcher.start();
  const [id] = await appendEvents(store, 1);
  await deliveryStatus(store, id as string, 'logged', 'delivered');
  // The line follows the settle that a reader of the store may see first.
  const about = await eventually(
    () => {
      const found = lines.filter((line) => line.event_id === id).map((line) => [line.msg, line.status_code]);
      return found.length >= 2 && found;
    },
    5_000,
    'the delivered line',
  );
  assert.deepEqual(about, [
    ['delivery attempt failed; will retry', 503],
    ['delivered', 200],
  ]);
});

test('after a subscription change, no request starts before the targets are read again', async () => {
  const { store, config } = await started();
  const local = new LocalSource(store, { retrySchedule: config.retrySchedule });
  let slowReads = false;
  // A source whose re-read of targets is slow (a remote database): the new event's wake-up
  // arrives while it is still running.
  const slow: DeliverySource = {
    longPoll: false,
    targets: async () => {
      if (slowReads) await sleep(300);
      return local.targets();
    },
    claim: (...args) => local.claim(...args),
    nextDueAt: (id) => local.nextDueAt(id),
    release: (claims) => local.release(claims),
    onReady: (listener) => local.onReady(listener),
    onTargetsChanged: (listener) => local.onTargetsChanged(listener),
    settle: (reports) => local.settle(reports),
  };
  const dispatcher = createDispatcher({ source: slow, config, logger: silentLogger(), pollIntervalMs: 200 });
  await addSubscription(store, 'moving', `${sink.url}/old`);
  dispatcher.start();
  try {
    await appendEvents(store, 1);
    await sink.waitFor(1, { path: '/old' });
    slowReads = true;
    await store.updateSubscription('moving', { url: `${sink.url}/new` });
    const [id] = await appendEvents(store, 1);
    await deliveryStatus(store, id as string, 'moving', 'delivered');
    assert.equal(sink.requestsTo('/old').length, 1, 'nothing more went to the old URL');
    assert.equal(sink.requestsTo('/new').length, 1);
  } finally {
    await dispatcher.stop();
  }
});

test('stop() gives up on a hanging request after its timeout and leaves nothing running', async () => {
  const { store, dispatcher } = await started({ TRIGGERS_DELIVERY_TIMEOUT: '5s' }, { stopTimeoutMs: 300 });
  sink.respond('/stuck', { hang: true });
  await addSubscription(store, 'stuck', `${sink.url}/stuck`);
  const [id] = await appendEvents(store);
  dispatcher.start();
  await sink.waitFor(1, { path: '/stuck' });
  const before = Date.now();
  await dispatcher.stop();
  assert.ok(Date.now() - before < 1_500, `stop took ${Date.now() - before}ms`);
  // Not settled: the lease is still held, and it will be handed out again when it expires.
  const event = await store.getEvent(id as string);
  assert.equal(event?.deliveries[0]?.status, 'pending');
  assert.equal(event?.deliveries[0]?.attempts_count, 0);
  // The request cut by the shutdown is not recorded as the endpoint's failure, then or later.
  await sleep(600);
  const later = await store.getEvent(id as string);
  assert.equal(later?.deliveries[0]?.attempts_count, 0);
  assert.equal(later?.deliveries[0]?.status, 'pending');
});
