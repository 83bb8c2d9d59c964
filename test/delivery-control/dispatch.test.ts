/**
 * Delivery control end to end through the dispatcher against a real HTTP sink: rate limit,
 * max concurrency, ordering (also across a retry), per-subscription timeout, headers and retry
 * schedule.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions } from '../../src/core/types.js';
import type { Store } from '../../src/store/store.js';
import { appendEvents, deliveryStatus, eventually, type Harness, harness, SECRET, sleep } from '../dispatcher/helpers.js';
import { type Sink, type SinkRequest, startSink } from '../support/sink.js';

function subscribe(store: Store, id: string, url: string, delivery: Partial<DeliveryOptions>) {
  return store.createSubscription({
    id,
    url,
    event_types: ['*'],
    secrets: [{ secret: SECRET, expires_at: null }],
    status: 'active',
    description: null,
    disabled_reason: null,
    metadata: {},
    delivery: { ...DEFAULT_DELIVERY_OPTIONS, ...delivery },
  });
}

/** Most requests that arrived within any `spanMs` window. */
function peakIn(requests: SinkRequest[], spanMs: number): number {
  const times = requests.map((r) => r.at).sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < times.length; end++) {
    while ((times[end] as number) - (times[start] as number) >= spanMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/**
 * Counts a sink handler's requests in flight, each lasting `ms`: call `enter()` at the top of the
 * handler; `peak` is the most there ever were at once.
 */
function inFlightCounter(ms: number) {
  let inFlight = 0;
  const counter = {
    peak: 0,
    enter(): void {
      inFlight++;
      counter.peak = Math.max(counter.peak, inFlight);
      setTimeout(() => inFlight--, ms);
    },
  };
  return counter;
}

describe('delivery control in the dispatcher', () => {
  let sink: Sink;
  let h: Harness;
  beforeEach(async () => {
    sink = await startSink();
  });
  afterEach(async () => {
    await h.close();
    await sink.close();
  });

  it('rate_limit 20/s: the sink sees at most ~20 requests a second, under a backlog', async () => {
    h = await harness({ TRIGGERS_SUBSCRIPTION_CONCURRENCY: '50' });
    await subscribe(h.store, 'limited', `${sink.url}/limited`, { rate_limit: 20 });
    const ids = (await Promise.all([appendEvents(h.store, 40), appendEvents(h.store, 40)])).flat();
    h.dispatcher.start();
    await sleep(2_000);
    await h.dispatcher.stop();
    const seen = sink.requestsTo('/limited');
    // 2 s at 20/s plus the bucket's burst (2): never more, and the limiter is not stuck either.
    assert.ok(seen.length <= 20 * 2 + 3, `${seen.length} requests in 2 s`);
    assert.ok(seen.length >= 30, `only ${seen.length} requests in 2 s`);
    // Per second, measured where the requests start (the sink shares this process's event loop,
    // so arrival times bunch up whenever the loop is busy): 20 tokens plus the burst of 2.
    const started: SinkRequest[] = [];
    for (const id of ids) {
      const event = await h.store.getEvent(id);
      for (const attempt of event?.deliveries[0]?.attempts ?? []) started.push({ at: attempt.at } as SinkRequest);
    }
    assert.ok(peakIn(started, 1_000) <= 22, `peak ${peakIn(started, 1_000)} started in one second`);
  });

  it('max_concurrency bounds the requests in flight', async () => {
    h = await harness({ TRIGGERS_SUBSCRIPTION_CONCURRENCY: '50' });
    const flight = inFlightCounter(40);
    sink.respond('/narrow', () => {
      flight.enter();
      return { delayMs: 40 };
    });
    await subscribe(h.store, 'narrow', `${sink.url}/narrow`, { max_concurrency: 2 });
    const ids = await appendEvents(h.store, 12);
    h.dispatcher.start();
    for (const id of ids) await deliveryStatus(h.store, id, 'narrow', 'delivered');
    assert.ok(flight.peak <= 2, `peak ${flight.peak} in flight`);
  });

  it('ordered: strictly in event order, one at a time, even when the third fails once', async () => {
    h = await harness({ TRIGGERS_SUBSCRIPTION_CONCURRENCY: '50', TRIGGERS_RETRY_SCHEDULE: '100ms,200ms' });
    const flight = inFlightCounter(5);
    const failedOnce = new Set<string>();
    let thirdId = '';
    sink.respond('/ordered', (request) => {
      flight.enter();
      const id = request.json<{ id: string }>().id;
      if (id === thirdId && !failedOnce.has(id)) {
        failedOnce.add(id);
        return { status: 500, delayMs: 5 };
      }
      return { delayMs: 5 };
    });
    await subscribe(h.store, 'seq', `${sink.url}/ordered`, { ordered: true });
    // Appended concurrently in several commits: event order is id order.
    const batches = await Promise.all([appendEvents(h.store, 5), appendEvents(h.store, 5), appendEvents(h.store, 5)]);
    const ids = batches.flat().sort();
    thirdId = ids[2] as string;
    h.dispatcher.start();
    await deliveryStatus(h.store, ids[ids.length - 1] as string, 'seq', 'delivered', 10_000);
    const order = sink.requestsTo('/ordered').map((r) => r.json<{ id: string }>().id);
    assert.deepEqual(order, [...ids.slice(0, 3), ...ids.slice(2)], 'the failed third is retried before the fourth goes');
    assert.equal(flight.peak, 1);
  });

  it('per-subscription timeout, custom headers and retry schedule', async () => {
    h = await harness({ TRIGGERS_DELIVERY_TIMEOUT: '5s', TRIGGERS_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms' });
    sink.respond('/slow', { hang: true });
    sink.respond('/headers', { status: 200 });
    await subscribe(h.store, 'slow', `${sink.url}/slow`, { timeout_ms: 200, retry_schedule: [50] });
    await subscribe(h.store, 'headers', `${sink.url}/headers`, { headers: { 'x-tenant': 'acme', authorization: 'Bearer t0k' } });
    const [id] = await appendEvents(h.store, 1);
    h.dispatcher.start();
    const [request] = await sink.waitFor(1, { path: '/headers' });
    assert.equal(request?.headers['x-tenant'], 'acme');
    assert.equal(request?.headers.authorization, 'Bearer t0k');
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.ok(request?.headers['webhook-signature']);
    // Its own schedule (one retry), not the configured four: dead after two attempts.
    const event = await deliveryStatus(h.store, id as string, 'slow', 'failed', 5_000);
    const delivery = event.deliveries.find((d) => d.subscription_id === 'slow');
    assert.equal(delivery?.attempts.length, 2);
    for (const attempt of delivery?.attempts ?? []) {
      assert.match(attempt.error ?? '', /200ms/);
      assert.ok(attempt.duration_ms < 1_500, `attempt took ${attempt.duration_ms} ms`);
    }
  });

  it('a timeout longer than half the lease: the claim is leased for it, so a slow request is never sent twice', async () => {
    // A subscription may take up to 5m a request, while TRIGGERS_LEASE defaults to 60s: a request
    // still running when its lease ran out was claimed again and sent a second time, alongside
    // the first (two in flight on an ordered subscription). Scaled down: a 1s lease, a 3s timeout.
    h = await harness({ TRIGGERS_LEASE: '1s', TRIGGERS_DELIVERY_TIMEOUT: '400ms' });
    const flight = inFlightCounter(1_800);
    sink.respond('/patient', () => {
      flight.enter();
      return { delayMs: 1_800 };
    });
    await subscribe(h.store, 'patient', `${sink.url}/patient`, { timeout_ms: 3_000, ordered: true, retry_schedule: [] });
    const ids = (await appendEvents(h.store, 2)).sort();
    h.dispatcher.start();
    await deliveryStatus(h.store, ids[1] as string, 'patient', 'delivered', 10_000);
    const order = sink.requestsTo('/patient').map((r) => r.json<{ id: string }>().id);
    assert.deepEqual(order, ids, 'each event sent once, in order');
    assert.equal(flight.peak, 1);
  });

  it("a replay starts the subscription's own schedule afresh", async () => {
    h = await harness({ TRIGGERS_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms' });
    sink.respond('/flaky', { status: 503 });
    await subscribe(h.store, 'flaky', `${sink.url}/flaky`, { retry_schedule: [30] });
    const [id] = await appendEvents(h.store, 1);
    h.dispatcher.start();
    await deliveryStatus(h.store, id as string, 'flaky', 'failed');
    assert.equal(await h.store.replay({ subscription_id: 'flaky' }), 1);
    await eventually(
      async () => {
        const event = await h.store.getEvent(id as string);
        const delivery = event?.deliveries[0];
        return delivery?.status === 'failed' && delivery.attempts.length === 4;
      },
      5_000,
      'two more attempts (its own schedule: one retry), then dead again',
    );
    await sleep(200);
    assert.equal(sink.requestsTo('/flaky').length, 4);
  });

  it('re-enabling a disabled subscription lets its pending deliveries flow again', async () => {
    h = await harness();
    await subscribe(h.store, 'paused', `${sink.url}/paused`, {});
    await h.store.updateSubscription('paused', { status: 'disabled', disabled_reason: 'test' });
    const [id] = await appendEvents(h.store, 1);
    // Appended while disabled: no delivery for it. Enable, and one that was pending flows.
    assert.equal((await h.store.getEvent(id as string))?.deliveries.length, 0);
    await h.store.updateSubscription('paused', { status: 'active', disabled_reason: null });
    const [pending] = await appendEvents(h.store, 1);
    await h.store.updateSubscription('paused', { status: 'disabled', disabled_reason: 'test' });
    h.dispatcher.start();
    await sleep(300);
    assert.equal(sink.requestsTo('/paused').length, 0);
    await h.store.updateSubscription('paused', { status: 'active', disabled_reason: null });
    await eventually(() => sink.requestsTo('/paused').length === 1, 5_000, 'the pending delivery after enabling');
    await deliveryStatus(h.store, pending as string, 'paused', 'delivered');
  });
});
