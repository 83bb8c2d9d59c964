/**
 * Misbehaving endpoints, each on its own subscription, beside a healthy one, on one server with a
 * short retry schedule (300 ms ×3: four attempts, then dead-letter) and a 1 s delivery timeout:
 *
 *   /e500   always 500                      → four attempts ~300 ms apart, then dead-lettered
 *   /hang   never answers                   → each attempt cut at the 1 s timeout, four, dead-lettered
 *   /reset  destroys the connection         → four attempts, dead-lettered
 *   /r429   429 Retry-After: 2, then 200    → the second attempt waits the 2 s asked, not 300 ms; delivered
 *   /drip   first a 503 dripped over 2.4 s (cut at the 1 s timeout), then a 200 dripped over 0.4 s → retried once, delivered
 *   /ok     200 at once                     → every event arrives promptly, whatever the others do
 *
 * Every accepted event must end delivered on /ok, /r429 and /drip, and dead-lettered (never
 * lost, never dropped silently) on the three that never succeed.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freshDir, type Server, startServe } from '../support/process.js';
import { type Sink, type SinkRequest, startSink } from '../support/sink.js';
import { API_KEY, event, post, report, SKIP, sleep, tally } from './support.js';

const EVENTS = 20;
const RETRY_MS = 300;
const TIMEOUT_MS = 1000;
let server: Server | null = null;
let sink: Sink | null = null;

after(async () => {
  await server?.kill('SIGKILL');
  await sink?.close();
});

/** Per event id: the arrival times of its attempts on `path`. */
function attemptsById(requests: readonly SinkRequest[]): Map<string, number[]> {
  const byId = new Map<string, number[]>();
  for (const request of requests) {
    const id = request.headers['webhook-id'] as string;
    byId.set(id, [...(byId.get(id) ?? []), request.at]);
  }
  return byId;
}

const firstTime = (seen: Set<string>, request: SinkRequest): boolean => {
  const id = request.headers['webhook-id'] as string;
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
};

describe('sinks that fail in every way, beside a healthy one', { skip: SKIP, timeout: 90_000 }, () => {
  it('keeps the healthy subscription prompt, follows each schedule, loses nothing', async () => {
    sink = await startSink();
    sink.respond('/ok', { status: 200 });
    sink.respond('/e500', { status: 500, body: 'boom' });
    sink.respond('/hang', { hang: true });
    sink.respond('/reset', { reset: true });
    const r429 = new Set<string>();
    sink.respond('/r429', (request) => (firstTime(r429, request) ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 }));
    const drip = new Set<string>();
    sink.respond('/drip', (request) =>
      firstTime(drip, request)
        ? { status: 503, body: 'x'.repeat(80), drip: { chunks: 8, intervalMs: 300 } }
        : { status: 200, body: 'x'.repeat(80), drip: { chunks: 4, intervalMs: 100 } },
    );

    server = await startServe(freshDir(), {
      TRIGGERS_API_KEY: API_KEY,
      TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true',
      TRIGGERS_RETRY_SCHEDULE: `${RETRY_MS}ms,${RETRY_MS}ms,${RETRY_MS}ms`,
      TRIGGERS_DELIVERY_TIMEOUT: `${TIMEOUT_MS}ms`,
      TRIGGERS_LOG_LEVEL: 'fatal',
    });
    const paths = ['/ok', '/e500', '/hang', '/reset', '/r429', '/drip'];
    const subscriptionOf = new Map<string, string>();
    for (const path of paths) {
      const response = await post(`${server.url}/subscriptions`, { url: `${sink.url}${path}`, event_types: ['fault.*'] });
      assert.equal(response.status, 201, await response.clone().text());
      subscriptionOf.set(((await response.json()) as { id: string }).id, path);
    }

    const acceptedAt = new Map<string, number>();
    let sent = 0;
    for (let n = 0; n < EVENTS; n++) {
      sent++;
      const response = await post(`${server.url}/events`, event(n));
      assert.equal(response.status, 201);
      acceptedAt.set(((await response.json()) as { id: string }).id, Date.now());
      await sleep(50);
    }
    const ids = [...acceptedAt.keys()];

    // The healthy endpoint: everything, promptly, while the others hang, fail and drip.
    const ok = await sink.waitFor(EVENTS, { path: '/ok', timeoutMs: 10_000 });
    const okLatency = ok.map((request) => request.at - (acceptedAt.get(request.headers['webhook-id'] as string) ?? 0));
    const okMax = Math.max(...okLatency);
    assert.ok(okMax < 1000, `the healthy subscription waited up to ${okMax} ms`);

    // Wait for every delivery to be settled: delivered or dead-lettered.
    type Detail = { status: string; deliveries: { subscription_id: string; status: string; attempts: unknown[] }[] };
    const details = new Map<string, Detail>();
    const deadline = Date.now() + 40_000;
    for (;;) {
      details.clear();
      for (const id of ids) {
        const response = await fetch(`${server.url}/events/${id}`, { headers: { 'x-api-key': API_KEY } });
        details.set(id, (await response.json()) as Detail);
      }
      const unsettled = [...details.values()].flatMap((d) => d.deliveries).filter((d) => subscriptionOf.has(d.subscription_id) && d.status === 'pending');
      if (unsettled.length === 0) break;
      assert.ok(Date.now() < deadline, `${unsettled.length} deliveries still pending`);
      await sleep(500);
    }

    const expected: Record<string, { status: string; attempts: number }> = {
      '/ok': { status: 'delivered', attempts: 1 },
      '/e500': { status: 'failed', attempts: 4 },
      '/hang': { status: 'failed', attempts: 4 },
      '/reset': { status: 'failed', attempts: 4 },
      '/r429': { status: 'delivered', attempts: 2 },
      '/drip': { status: 'delivered', attempts: 2 },
    };
    for (const [id, detail] of details) {
      for (const delivery of detail.deliveries) {
        const path = subscriptionOf.get(delivery.subscription_id);
        if (path === undefined) continue; // the default (pull-only) subscription
        const want = expected[path]!;
        assert.equal(delivery.status, want.status, `${id} on ${path}`);
        assert.equal(delivery.attempts.length, want.attempts, `${id} on ${path}: attempts`);
      }
    }

    // The schedule, as the endpoints saw it.
    const minGap = (path: string) => Math.min(...[...attemptsById(sink!.requestsTo(path)).values()].flatMap((times) => times.slice(1).map((t, i) => t - times[i]!)));
    const gaps = { e500: minGap('/e500'), hang: minGap('/hang'), reset: minGap('/reset'), r429: minGap('/r429'), drip: minGap('/drip') };
    // Gaps are measured at the receiver, between arrivals: a loaded machine shifts each arrival by
    // a little, so the bounds leave ~100 ms of slack under the scheduled delay.
    assert.ok(gaps.e500 >= RETRY_MS * 0.8 - 100, `500: retries ${gaps.e500} ms apart`);
    assert.ok(gaps.reset >= RETRY_MS * 0.8 - 100, `reset: retries ${gaps.reset} ms apart`);
    assert.ok(gaps.hang >= TIMEOUT_MS - 100, `hang: attempts ${gaps.hang} ms apart (cut at the timeout, then the retry delay)`);
    assert.ok(gaps.r429 >= 1950, `429: the retry came ${gaps.r429} ms later, Retry-After asked 2 s`);
    assert.ok(gaps.drip >= TIMEOUT_MS - 100, `drip: retried ${gaps.drip} ms later (cut at the timeout, then the retry delay)`);

    for (const path of paths) {
      const requests = sink.requestsTo(path);
      const { delivered } = tally(requests);
      const want = expected[path]!;
      report(`sink ${path}`, {
        sent,
        accepted: ids.length,
        reached_sink: delivered.size,
        attempts: requests.length,
        delivered: want.status === 'delivered' ? ids.length : 0,
        dead_lettered: want.status === 'failed' ? ids.length : 0,
        duplicates: want.status === 'delivered' ? requests.length - ids.length * want.attempts : 0,
        ...(path === '/ok' ? { max_ms_accept_to_arrival: okMax } : { min_gap_ms: gaps[path.slice(1) as keyof typeof gaps] }),
      });
      assert.equal(delivered.size, ids.length, `every event reached ${path}`);
    }
  });
});
