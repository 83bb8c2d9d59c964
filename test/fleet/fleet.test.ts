/**
 * A fleet as users run it: 2 `triggers serve --role api` and 3 `triggers serve --role dispatcher`
 * processes (the real CLI) on one PostgreSQL schema, delivering to one real sink.
 *
 *   phase 1 — 20,000 events through both APIs: every accepted event reaches the sink, none twice
 *             while nothing fails (a repeat is allowed only after a failed attempt of that event,
 *             e.g. a request timed out on an overloaded machine; the count is printed).
 *   phase 2 — 20,000 more, and one dispatcher is killed with SIGKILL mid-run: every event still
 *             arrives (its leases are taken over once TRIGGERS_LEASE expires), and anything
 *             delivered twice carries an accepted event's `webhook-id`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';
import type { Server } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';
import { Processes } from './processes.js';

const EVENTS_PER_PHASE = 20_000;
const BATCH = 200;
const SENDERS = 4;
const API_KEY = 'fleet-key-0123456789';

const processes = new Processes();
let sink: Sink | undefined;
let schema: TestSchema | undefined;

after(async () => {
  await processes.killAll();
  await sink?.close();
  await schema?.drop();
});

function databaseUrl(name: string): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', name);
  url.searchParams.set('pool_size', '6');
  return url.toString();
}

/** Sends `count` events in batches, round-robin over the API processes; returns the accepted ids. */
async function send(apis: Server[], count: number, tag: string): Promise<string[]> {
  const batches = Math.ceil(count / BATCH);
  const ids: string[] = [];
  let next = 0;
  const sender = async () => {
    for (let batch = next++; batch < batches; batch = next++) {
      const api = apis[batch % apis.length] as Server;
      const size = Math.min(BATCH, count - batch * BATCH);
      const events = Array.from({ length: size }, (_, i) => ({
        type: 'order.created',
        source: 'fleet',
        payload: { tag, n: batch * BATCH + i },
      }));
      const response = await fetch(`${api.url}/events/batch`, {
        method: 'POST',
        headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      assert.equal(response.status, 201, `batch ${batch} to ${api.url}: ${response.status} ${text}`);
      ids.push(...(JSON.parse(text) as { events: { id: string }[] }).events.map((event) => event.id));
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, sender));
  return ids;
}

/** How many times the sink received each webhook-id. */
function received(requests: Sink['requests']): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const id = request.headers['webhook-id'] as string;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Waits until every id in `ids` has reached the sink at least once. */
async function allDelivered(ids: string[], timeoutMs: number, from = 0): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = received(sink!.requests.slice(from));
    const missing = ids.filter((id) => !counts.has(id)).length;
    if (missing === 0) return;
    if (Date.now() > deadline)
      throw new Error(`${missing} of ${ids.length} events never reached the sink within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the database shows `total` deliveries, every one delivered. */
async function allSettled(total: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await schema!.sql<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM deliveries GROUP BY status ORDER BY status',
    );
    const statuses = rows.map((row) => [row.status, Number(row.n)]);
    if (statuses.length === 1 && statuses[0]?.[0] === 'delivered' && statuses[0][1] === total) return;
    if (Date.now() > deadline) {
      const stuck = await schema!.sql<{ event_id: string }>(
        "SELECT event_id FROM deliveries WHERE status <> 'delivered' LIMIT 5",
      );
      const detail = await explain(
        stuck.map((row) => row.event_id),
        0,
      );
      assert.deepEqual(statuses, [['delivered', total]], `every delivery ends delivered; not yet:\n${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Events with at least one attempt that did not succeed (an error or a non-2xx answer). */
async function failedEvents(): Promise<Set<string>> {
  const rows = await schema!.sql<{ event_id: string }>(
    'SELECT DISTINCT d.event_id FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE a.status_code IS NULL OR a.status_code NOT BETWEEN 200 AND 299',
  );
  return new Set(rows.map((row) => row.event_id));
}

/** For a failure message: when the sink got each of these events, and the attempts the database recorded. */
async function explain(eventIds: string[], since: number): Promise<string> {
  const lines: string[] = [];
  for (const id of eventIds) {
    const arrivals = sink!.requests.filter((r) => r.headers['webhook-id'] === id).map((r) => `+${r.at - since} ms`);
    const attempts = await schema!.sql(
      'SELECT d.status, d.next_attempt_at - $2::bigint AS next_at, a.n, a.at - $2::bigint AS at, a.status_code, a.error FROM deliveries d LEFT JOIN attempts a ON a.delivery_id = d.id WHERE d.event_id = $1 ORDER BY a.n',
      [id, since],
    );
    lines.push(`${id}: arrived ${arrivals.join(', ')}; attempts ${JSON.stringify(attempts)}`);
  }
  return lines.join('\n');
}

describe('a fleet of 2 API and 3 dispatcher processes on one PostgreSQL', { timeout: 170_000 }, () => {
  let apis: Server[] = [];
  let dispatchers: Server[] = [];

  before(async () => {
    schema = await createTestSchema();
    sink = await startSink();
    sink.respond('/hook', { status: 200 });
    const env = {
      TRIGGERS_DATABASE_URL: databaseUrl(schema.schema),
      TRIGGERS_API_KEY: API_KEY,
      TRIGGERS_JWT_SECRET: 'fleet-jwt-secret-0123456789abcdef',
      TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
      TRIGGERS_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      // A killed dispatcher's claims come back to the others after this long: short, so phase 2
      // does not wait a minute, yet more than twice the request timeout plus slack. A delivery
      // starts only with timeout + 1 s of lease left, so a slow request (on two cores shared by
      // five Triggers processes, PostgreSQL, this process and maybe another test file, answers
      // were seen to take seconds) times out before its lease can pass to another dispatcher.
      TRIGGERS_LEASE: '12s',
      TRIGGERS_DELIVERY_TIMEOUT: '5s',
      // Should an overloaded machine time a request out, its retry comes within the test's time.
      TRIGGERS_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
      TRIGGERS_LOG_LEVEL: 'error',
    };
    const start = (role: 'api' | 'dispatcher') => processes.serve(env, ['--role', role]);
    // Every process migrates the fresh schema and reconciles the default subscription at once.
    const started = Date.now();
    [apis, dispatchers] = await Promise.all([
      Promise.all([start('api'), start('api')]),
      Promise.all([start('dispatcher'), start('dispatcher'), start('dispatcher')]),
    ]);
    process.stderr.write(`# fleet: 5 processes healthy in ${Date.now() - started} ms\n`);
  });

  it(`delivers ${EVENTS_PER_PHASE.toLocaleString('en')} events, each exactly once while nothing fails`, async () => {
    const started = Date.now();
    const ids = await send(apis, EVENTS_PER_PHASE, 'phase1');
    assert.equal(new Set(ids).size, EVENTS_PER_PHASE);
    await allDelivered(ids, 60_000);
    await allSettled(EVENTS_PER_PHASE, 60_000);
    const counts = received(sink!.requests);
    assert.deepEqual([...counts.keys()].sort(), [...ids].sort(), 'the delivered webhook-ids are exactly the accepted ids');
    // "None twice while nothing fails": an event may reach the sink again only after an attempt
    // of it failed (on an overloaded machine, a request can time out after the sink got it).
    const failed = await failedEvents();
    const twice = [...counts.entries()].filter(([, n]) => n > 1).map(([id]) => id);
    const unexplained = twice.filter((id) => !failed.has(id));
    assert.equal(
      unexplained.length,
      0,
      `${unexplained.length} events were delivered more than once with no failed attempt: ${await explain(unexplained.slice(0, 5), started)}`,
    );
    assert.equal(sink!.requests.length, EVENTS_PER_PHASE + twice.length);
    process.stderr.write(
      `# fleet phase 1: ${EVENTS_PER_PHASE} events sent and delivered in ${Date.now() - started} ms; ` +
        `${failed.size} events had a failed attempt, ${twice.length} delivered twice\n`,
    );
  });

  it('still delivers every event after one dispatcher is killed with SIGKILL mid-run; a duplicate repeats an accepted webhook-id', async () => {
    const started = Date.now();
    const from = sink!.requests.length;
    const victim = dispatchers[0] as Server;
    let killedAt = 0;
    // Kill once a fifth of this phase has arrived: sending and dispatching are both under way.
    const killer = (async () => {
      const deadline = Date.now() + 30_000;
      while (sink!.requests.length - from < EVENTS_PER_PHASE / 5 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      killedAt = sink!.requests.length - from;
      await victim.kill('SIGKILL');
    })();
    const ids = await send(apis, EVENTS_PER_PHASE, 'phase2');
    await killer;
    assert.ok(killedAt > 0 && killedAt < EVENTS_PER_PHASE, `the dispatcher was killed mid-run (after ${killedAt} deliveries)`);
    assert.equal(victim.run.child.signalCode, 'SIGKILL');

    await allDelivered(ids, 60_000, from);
    await allSettled(2 * EVENTS_PER_PHASE, 60_000);
    const counts = received(sink!.requests.slice(from));
    assert.deepEqual([...counts.keys()].sort(), [...ids].sort(), 'the delivered webhook-ids are exactly the accepted ids');
    const duplicates = sink!.requests.length - from - ids.length;
    // The survivors keep serving.
    for (const server of [...apis, ...dispatchers.slice(1)]) assert.equal((await fetch(`${server.url}/health`)).status, 200);
    process.stderr.write(
      `# fleet phase 2: ${EVENTS_PER_PHASE} events, dispatcher killed after ${killedAt} deliveries, ` +
        `all delivered in ${Date.now() - started} ms, ${duplicates} duplicate deliveries\n`,
    );
  });
});
