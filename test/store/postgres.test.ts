/**
 * The PostgreSQL store against a real server: the shared conformance suite, unchanged, then
 * what only a shared database can show — wake-ups across processes (two pools stand for two
 * processes), SKIP LOCKED claims under contention, lease takeover, concurrent migrations, lost
 * connections and an unreachable server. Each store gets its own schema (test/support/postgres.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UnavailableError } from '../../src/core/errors.js';
import { newEventId } from '../../src/core/ids.js';
import type { NewEvent, NewSubscription } from '../../src/core/types.js';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/index.js';
import { migrations } from '../../src/store/postgres/migrations/index.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

// Every conformance test gets a fresh schema, migrated by opening the store, dropped after.
runStoreConformance('postgres', async (clock) => {
  const fresh = await createTestSchema();
  const store = await openPostgresStore(fresh.url, { schema: fresh.schema, clock, poolSize: 4 });
  return { store, cleanup: () => fresh.drop() };
});

const T0 = 1_700_000_000_000;

function subscription(id: string, overrides: Partial<NewSubscription> = {}): NewSubscription {
  return {
    id,
    url: null,
    event_types: ['*'],
    secrets: [{ secret: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=', expires_at: null }],
    status: 'active',
    description: null,
    disabled_reason: null,
    metadata: {},
    ...overrides,
  };
}

const event = (now: number, type = 'order.created'): NewEvent => ({
  id: newEventId(now),
  type,
  source: 'test',
  payload: { n: now },
  created_at: now,
});

/** Resolves with the first value `poll` returns that is not undefined, or fails after `ms`. */
async function eventually<T>(poll: () => T | undefined, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PostgreSQL store', () => {
  let schema: TestSchema;
  const stores: PostgresStore[] = [];
  let now = T0;
  const clock = () => now;

  /** Another "process": its own pool and LISTEN connection on the same schema. */
  async function open(options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const store = await openPostgresStore(schema.url, { schema: schema.schema, clock, ...options });
    stores.push(store);
    return store;
  }

  before(async () => {
    schema = await createTestSchema();
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await schema.drop();
  });

  it('wakes listeners in another process through NOTIFY, and its own once, directly', async () => {
    const writer = await open();
    const reader = await open();
    await writer.createSubscription(subscription('wake'));
    const remote: string[][] = [];
    const local: string[][] = [];
    reader.onDeliveriesReady((ids) => remote.push(ids));
    writer.onDeliveriesReady((ids) => local.push(ids));
    await Promise.all([reader.listening(), writer.listening()]);

    await writer.append({ events: [event(now)] });
    assert.deepEqual(local, [['wake']], 'the writer hears of its own append when it resolves');
    assert.deepEqual(await eventually(() => remote[0]), ['wake']);

    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(local.length, 1, 'its own NOTIFY is not delivered back to the writer');
    assert.equal(remote.length, 1);
  });

  it('tells other processes when a subscription changes, so their dispatchers re-read targets at once', async () => {
    const writer = await open();
    const reader = await open();
    let heard = 0;
    let own = 0;
    reader.onSubscriptionsChanged(() => heard++);
    writer.onSubscriptionsChanged(() => own++);
    await Promise.all([reader.listening(), writer.listening()]);
    await writer.createSubscription(subscription('changing'));
    assert.equal(own, 1, 'the writer hears of its own change when the write resolves');
    await eventually(() => heard >= 1 || undefined);
    await writer.updateSubscription('changing', { url: 'https://example.com/other' });
    await eventually(() => heard >= 2 || undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(own, 2, 'its own NOTIFY is not delivered back to the writer');
  });

  it('never hands one delivery to two concurrent claimers (SKIP LOCKED), 2,000 deliveries', async () => {
    const a = await open({ poolSize: 4 });
    const b = await open({ poolSize: 4 });
    await a.createSubscription(subscription('contended'));
    const events = Array.from({ length: 2_000 }, () => event(now, 'contended.x'));
    for (let i = 0; i < events.length; i += 500) await a.append({ events: events.slice(i, i + 500) });
    // Only 'contended' matters here; drain the other subscriptions' deliveries out of the way.
    const seen = new Map<string, string>();
    let duplicates = 0;
    const worker = async (store: PostgresStore, name: string) => {
      for (;;) {
        const claimed = await store.claim({ subscription_id: 'contended', limit: 25, lease_ms: 60_000 });
        if (claimed.length === 0) return;
        for (const delivery of claimed) {
          if (seen.has(delivery.delivery_id)) duplicates++;
          seen.set(delivery.delivery_id, name);
        }
        const results = await store.settle(
          claimed.map((delivery) => ({
            delivery_id: delivery.delivery_id,
            lease_token: delivery.lease_token,
            attempt: { at: now, duration_ms: 1, status_code: 200, error: null, response: null },
            outcome: { kind: 'delivered' as const },
          })),
        );
        assert.ok(results.every((result) => result.applied));
      }
    };
    await Promise.all([worker(a, 'a1'), worker(a, 'a2'), worker(b, 'b1'), worker(b, 'b2')]);
    assert.equal(duplicates, 0);
    assert.equal(seen.size, 2_000);
    const workers = new Set(seen.values());
    assert.ok(workers.size >= 2, `work was shared (${[...workers].join(', ')})`);
    const stats = await a.stats();
    assert.equal(stats.subscriptions.find((s) => s.subscription_id === 'contended')?.pending, 0);
  });

  it('lets another process take over a lease once it expires, and ignores the old holder', async () => {
    const first = await open();
    const second = await open();
    await first.createSubscription(subscription('leases', { event_types: ['lease.*'] }));
    await first.append({ events: [event(now, 'lease.test')] });

    const [held] = await first.claim({ subscription_id: 'leases', limit: 10, lease_ms: 30_000 });
    assert.ok(held);
    assert.deepEqual(await second.claim({ subscription_id: 'leases', limit: 10, lease_ms: 30_000 }), []);
    assert.equal(await second.nextDueAt('leases'), now + 30_000);

    now += 30_000; // the first holder died; its lease runs out
    const [taken] = await second.claim({ subscription_id: 'leases', limit: 10, lease_ms: 30_000 });
    assert.ok(taken);
    assert.equal(taken.delivery_id, held.delivery_id);
    assert.notEqual(taken.lease_token, held.lease_token);
    assert.deepEqual(await first.extendLeases([{ delivery_id: held.delivery_id, lease_token: held.lease_token }], 30_000), []);

    const late = await first.settle([
      { delivery_id: held.delivery_id, lease_token: held.lease_token, attempt: null, outcome: { kind: 'dead' } },
    ]);
    assert.deepEqual(late, [{ delivery_id: held.delivery_id, applied: false, found: 'pending' }]);
    const current = await second.settle([
      {
        delivery_id: taken.delivery_id,
        lease_token: taken.lease_token,
        attempt: { at: now, duration_ms: 5, status_code: 200, error: null, response: 'ok' },
        outcome: { kind: 'delivered' },
      },
    ]);
    assert.deepEqual(current, [{ delivery_id: taken.delivery_id, applied: true }]);
  });

  it('fails only the request whose event id is taken when appends share a group commit', async () => {
    const store = await open();
    const taken = event(now, 'dup.x');
    await store.append({ events: [taken] });
    const others = Array.from({ length: 20 }, () => event(now, 'dup.x'));
    const outcomes = await Promise.allSettled([
      ...others.slice(0, 10).map((e) => store.append({ events: [e] })),
      store.append({ events: [{ ...taken, payload: { again: true } }] }),
      ...others.slice(10).map((e) => store.append({ events: [e] })),
    ]);
    const rejected = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal((rejected[0] as PromiseRejectedResult).reason.code, 'conflict');
    for (const e of others) assert.ok(await store.getEvent(e.id), `${e.id} stored`);
  });

  it('replays one idempotency key once across processes racing with it', async () => {
    const a = await open();
    const b = await open();
    const tries = Array.from({ length: 10 }, (_, i) => {
      const e = event(now, 'idem.x');
      return (i % 2 === 0 ? a : b).append({
        events: [e],
        idempotency: { key: 'race', response: { status: 201, body: { id: e.id } } },
      });
    });
    const results = await Promise.all(tries);
    const stored = results.filter((result) => result.kind === 'stored');
    assert.equal(stored.length, 1);
    const bodies = new Set(
      results.filter((r) => r.kind === 'replayed').map((r) => JSON.stringify(r.kind === 'replayed' && r.response)),
    );
    assert.equal(bodies.size, 1, 'every repeat gets the same first response');
  });

  it('takes schema and pool size from the URL, so one TRIGGERS_DATABASE_URL configures a fleet', async () => {
    const viaUrl = await openPostgresStore(`${schema.url}?schema=${schema.schema}&pool_size=2`, { clock });
    stores.push(viaUrl);
    await viaUrl.createSubscription(subscription('from-url'));
    const viaOptions = await open();
    assert.equal((await viaOptions.getSubscription('from-url'))?.id, 'from-url');
  });

  it('migrates safely from several processes at once', async () => {
    const fresh = await createTestSchema();
    try {
      const opened = await Promise.all(
        Array.from({ length: 4 }, () => openPostgresStore(fresh.url, { schema: fresh.schema, poolSize: 2, clock })),
      );
      const versions = await fresh.sql<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        versions.map((row) => row.version),
        migrations.map((migration) => migration.version),
      );
      await Promise.all(opened.map((store) => store.migrate()));
      await Promise.all(opened.map((store) => store.close()));
    } finally {
      await fresh.drop();
    }
  });

  it('comes back by itself when the server drops its connections, LISTEN included', async () => {
    const name = `triggers_test_${schema.schema}`;
    const store = await open({ applicationName: name });
    const writer = await open();
    await store.createSubscription(subscription('dropped', { event_types: ['drop.*'] }));
    const woken: string[][] = [];
    store.onDeliveriesReady((ids) => woken.push(ids));
    await store.listening();
    await store.ping();

    await schema.sql('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [name]);

    // The pool replaces dead connections: a verb either works or says Unavailable, never hangs.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await store.ping();
        break;
      } catch (error) {
        assert.ok(error instanceof UnavailableError, `an outage is an UnavailableError, got ${String(error)}`);
        if (Date.now() > deadline) throw error;
      }
    }
    // The listener reconnects, wakes everyone once (notifications may have been missed)…
    await eventually(() => (woken.some((ids) => ids.includes('dropped')) ? true : undefined), 10_000);
    await store.listening();
    woken.length = 0;
    // …and hears other processes again (the other subscriptions here take every type).
    await writer.append({ events: [event(now, 'drop.x')] });
    assert.ok(await eventually(() => woken.find((ids) => ids.includes('dropped'))));
  });

  it('answers UnavailableError fast, without crashing, when the server cannot be reached', async () => {
    const url = 'postgres://postgres@127.0.0.1:1/test';
    const started = Date.now();
    await assert.rejects(openPostgresStore(url, { schema: 'unreachable', connectTimeoutMs: 1_000 }), UnavailableError);
    const store = await openPostgresStore(url, { schema: 'unreachable', migrate: false, connectTimeoutMs: 1_000 });
    try {
      await assert.rejects(store.ping(), UnavailableError);
      await assert.rejects(store.append({ events: [event(now)] }), UnavailableError);
      await assert.rejects(store.claim({ subscription_id: 'x', limit: 1, lease_ms: 1_000 }), UnavailableError);
      await assert.rejects(
        store.settle([{ delivery_id: '1', lease_token: 't', attempt: null, outcome: { kind: 'delivered' } }]),
        UnavailableError,
      );
      const unsubscribe = store.onDeliveriesReady(() => {});
      unsubscribe();
    } finally {
      await store.close();
    }
    assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
    await assert.rejects(store.ping(), UnavailableError, 'a closed store is unavailable too');
  });
});
