/**
 * The alert monitor against a real store and a real alert sink: the N-in-M alarm fires once per
 * window; an endpoint failing past TRIGGERS_ENDPOINT_DISABLE_AFTER is disabled with an alert,
 * and enabling it resumes its deliveries. Retention purges by the store clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { AlertMonitor, AlertNotifier, Retention } from '../../src/alerts/index.js';
import { newEventId } from '../../src/core/ids.js';
import { silentLogger } from '../../src/observability/logger.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';
import { deliveryStatus, eventually, type Harness, harness, SECRET, sleep } from '../dispatcher/helpers.js';
import { type Sink, startSink } from '../support/sink.js';

interface AlertBody {
  alert: string;
  count: number;
  window: string;
  subscription_ids: string[];
  at: string;
}

async function addPush(store: Store, id: string, url: string | null) {
  await store.createSubscription({
    id,
    url,
    event_types: ['*'],
    secrets: [{ secret: SECRET, expires_at: null }],
    status: 'active',
    description: null,
    disabled_reason: null,
    metadata: {},
  });
}

async function deadLetters(store: Store, subscriptionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const now = Date.now();
    await store.append({ events: [{ id: newEventId(now), type: 't', source: 's', payload: { i }, created_at: now }] });
    const [claim] = await store.claim({ subscription_id: subscriptionId, limit: 1, lease_ms: 10_000 });
    assert.ok(claim);
    await store.settle([
      {
        delivery_id: claim.delivery_id,
        lease_token: claim.lease_token,
        attempt: { at: now, duration_ms: 1, status_code: 400, error: null, response: null },
        outcome: { kind: 'dead' },
      },
    ]);
  }
}

describe('alerts', () => {
  let sink: Sink;
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    sink = await startSink();
    dir = mkdtempSync(join(tmpdir(), 'triggers-alerts-'));
    store = await openSqliteStore(join(dir, 'triggers.db'));
  });
  afterEach(async () => {
    await store.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The seed's alarm: more than 3 dead letters in 5 minutes, to the sink. */
  const failureAlarm = (stateFile?: string) =>
    new AlertMonitor({
      store,
      notifier: new AlertNotifier(`${sink.url}/alerts`, silentLogger()),
      log: silentLogger(),
      threshold: 3,
      windowMs: 5 * 60_000,
      endpointDisableAfterMs: 86_400_000,
      intervalMs: 60_000,
      stateFile,
    });

  it('more than N dead letters in M minutes sends one alert, then none for the window', async () => {
    await addPush(store, 'a', null);
    await addPush(store, 'b', null);
    const monitor = failureAlarm();
    await deadLetters(store, 'a', 3);
    await monitor.check();
    assert.equal(sink.requestsTo('/alerts').length, 0, 'three is not more than three');
    await deadLetters(store, 'b', 1);
    await monitor.check();
    await deadLetters(store, 'a', 5);
    await monitor.check();
    await monitor.check();
    await sleep(100);
    const alerts = sink.requestsTo('/alerts');
    assert.equal(alerts.length, 1, 'one alert per window');
    const body = alerts[0]?.json<AlertBody>();
    assert.equal(body?.alert, 'deliveries_failed');
    assert.equal(body?.count, 4);
    assert.equal(body?.window, '5m');
    assert.deepEqual(body?.subscription_ids, ['a', 'b']);
    assert.ok(Number.isFinite(Date.parse(body?.at ?? '')));
    assert.equal(alerts[0]?.headers['content-type'], 'application/json');
    await monitor.stop();
  });

  it('a restart within the window does not send the same alert again', async () => {
    await addPush(store, 'a', null);
    const monitorFor = () => failureAlarm(join(dir, 'alerts.json'));
    const before = monitorFor();
    await deadLetters(store, 'a', 5);
    await before.check();
    await before.stop();
    await sleep(100);
    assert.equal(sink.requestsTo('/alerts').length, 1);
    // The process restarts: same failures, same window.
    const after = monitorFor();
    await deadLetters(store, 'a', 2);
    await after.check();
    await after.stop();
    await sleep(100);
    assert.equal(sink.requestsTo('/alerts').length, 1, 'not sent again after the restart');
  });

  it('retention purges rows older than TRIGGERS_RETENTION_DAYS by the store clock, in batches', async () => {
    let now = Date.UTC(2030, 0, 1);
    const clocked = await openSqliteStore(join(dir, 'clocked.db'), { clock: () => now });
    try {
      await addPush(clocked, 'a', null);
      const events = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: newEventId(now), type: 't', source: 's', payload: { i }, created_at: now }));
      await clocked.append({ events: events(1_200) });
      now += 91 * 86_400_000;
      const recent = events(3);
      await clocked.append({ events: recent });
      const retention = new Retention({ store: clocked, log: silentLogger(), retentionDays: 90, batch: 500, clock: () => now });
      // Ingest goes on while the purge runs.
      const [removed] = await Promise.all([retention.run(), clocked.append({ events: events(2) })]);
      assert.equal(removed, 1_200);
      assert.equal((await clocked.stats()).events, 5);
      for (const event of recent) assert.ok(await clocked.getEvent(event.id));
      assert.equal((await clocked.listInbox({ subscription_id: 'a', limit: 100 })).items.length, 5);
    } finally {
      await clocked.close();
    }
  });
});

describe('endpoint health', () => {
  let sink: Sink;
  let h: Harness;
  afterEach(async () => {
    await h.close();
    await sink.close();
  });

  it('a subscription failing past TRIGGERS_ENDPOINT_DISABLE_AFTER is disabled with an alert; enabling resumes it', async () => {
    sink = await startSink();
    h = await harness({ TRIGGERS_RETRY_SCHEDULE: '100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms,100ms' });
    sink.respond('/down', { status: 503 });
    await addPush(h.store, 'down', `${sink.url}/down`);
    const monitor = new AlertMonitor({
      store: h.store,
      notifier: new AlertNotifier(`${sink.url}/alerts`, silentLogger()),
      log: silentLogger(),
      threshold: 1_000,
      windowMs: 60_000,
      endpointDisableAfterMs: 600,
      intervalMs: 100,
    });
    const now = Date.now();
    const id = newEventId(now);
    await h.store.append({ events: [{ id, type: 't', source: 's', payload: {}, created_at: now }] });
    h.dispatcher.start();
    monitor.start();
    try {
      const [alert] = await sink.waitFor(1, { path: '/alerts', timeoutMs: 5_000 });
      const body = alert?.json<AlertBody>();
      assert.equal(body?.alert, 'endpoint_disabled');
      assert.deepEqual(body?.subscription_ids, ['down']);
      const disabled = await h.store.getSubscription('down');
      assert.equal(disabled?.status, 'disabled');
      assert.match(disabled?.disabled_reason ?? '', /no successful delivery since/);
      assert.ok(disabled?.first_failure_at);
      // Disabled: the delivery waits, still pending.
      const attempts = sink.requestsTo('/down').length;
      await sleep(400);
      assert.ok(sink.requestsTo('/down').length <= attempts + 1);
      assert.equal((await h.store.getEvent(id))?.deliveries[0]?.status, 'pending');
      sink.respond('/down', { status: 200 });
      await h.store.updateSubscription('down', { status: 'active', disabled_reason: null });
      await deliveryStatus(h.store, id, 'down', 'delivered', 5_000);
      const healthy = await eventually(async () => {
        const s = await h.store.getSubscription('down');
        return s?.last_success_at ? s : undefined;
      });
      assert.equal(healthy.first_failure_at, null);
      assert.equal(healthy.status, 'active');
      assert.equal(sink.requestsTo('/alerts').length, 1);
    } finally {
      await monitor.stop();
    }
  });
});
