/**
 * The SQLite backend against a real file: the shared conformance suite (one fresh file per
 * test), then what only a file can show — reopening, migrations run twice, and a `kill -9`
 * that must not lose any append that had resolved.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { UnavailableError } from '../../src/core/errors.js';
import { newEventId } from '../../src/core/ids.js';
import { subscription } from '../../src/store/conformance/harness.js';
import { runStoreConformance } from '../../src/store/conformance/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { migrations } from '../../src/store/sqlite/migrations/index.js';

let root = '';
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'triggers-sqlite-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
const freshPath = () => join(root, `store-${++counter}.db`);

runStoreConformance('sqlite', async (clock) => {
  const path = freshPath();
  const store = await openSqliteStore(path, { clock });
  return {
    store,
    cleanup: async () => {
      for (const suffix of ['', '-wal', '-shm']) await rm(path + suffix, { force: true });
    },
  };
});

const event = (type = 'order.created') => {
  const now = Date.now();
  return { id: newEventId(now), type, source: 'test', payload: { now }, created_at: now };
};

describe('SQLite specifics', () => {
  it('refuses to report writes stored once its file was deleted or replaced under it, and ping says so', async () => {
    for (const how of ['deleted', 'replaced'] as const) {
      const path = freshPath();
      const store = await openSqliteStore(path);
      await store.append({ events: [event()] });
      await store.ping();
      for (const file of [path, `${path}-wal`, `${path}-shm`]) await rm(file, { force: true });
      if (how === 'replaced') new Database(path).close();
      const refused = await store.append({ events: [event()] }).then(
        () => null,
        (error: unknown) => error,
      );
      assert.ok(refused instanceof UnavailableError, how);
      assert.match(refused.message, new RegExp(`database file .* was ${how === 'deleted' ? 'deleted' : 'replaced'}`));
      await assert.rejects(store.ping(), UnavailableError);
      await store.close();
    }
  });

  it('data survives close and reopen', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.createSubscription({
      id: 'a',
      url: null,
      event_types: ['*'],
      secrets: [],
      status: 'active',
      description: null,
      disabled_reason: null,
      metadata: {},
    });
    const events = Array.from({ length: 50 }, () => event());
    // Not awaited one by one: close() must flush what is queued.
    const appends = events.map((e) => store.append({ events: [e] }));
    await store.close();
    await Promise.all(appends);
    await store.close(); // twice is harmless
    await assert.rejects(store.append({ events: [event()] }), UnavailableError);
    const reopened = await openSqliteStore(path);
    for (const e of events) assert.equal((await reopened.getEvent(e.id))?.deliveries.length, 1);
    assert.equal((await reopened.stats()).events, 50);
    await reopened.close();
  });

  it('WAL pages reach the database file through the checkpoint worker, not the writer', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    const before = statSync(path).size;
    // A few MB of WAL: far below the writer's own automatic checkpoint threshold.
    for (let i = 0; i < 20; i++) await store.append({ events: Array.from({ length: 200 }, () => event()) });
    const deadline = Date.now() + 5_000;
    while (statSync(path).size <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(statSync(path).size > before, 'the database file grew while the store stayed open');
    assert.equal((await store.stats()).events, 4000);
    await store.close();
  });

  it('migrations are recorded once and re-running them changes nothing', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.migrate();
    await store.close();
    const again = await openSqliteStore(path);
    await again.migrate();
    await again.close();
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
    db.close();
    assert.deepEqual(
      rows,
      migrations.map(({ version, name }) => ({ version, name })),
    );
  });

  it('settles deliveries stored before migration 006 (no copy of the event time) with the right latency', async () => {
    const path = freshPath();
    let now = 1_000_000;
    const store = await openSqliteStore(path, { clock: () => now });
    await store.createSubscription(subscription('a', { url: 'http://127.0.0.1:9/hook' }));
    const old = { id: newEventId(now), type: 'order.created', source: 'test', payload: {}, created_at: now - 500 };
    await store.append({ events: [old] });
    await store.close();
    // A row as migration 006 leaves rows written before it.
    const db = new Database(path);
    db.prepare('UPDATE deliveries SET event_created_at = NULL').run();
    db.close();

    const reopened = await openSqliteStore(path, { clock: () => now });
    const [claim] = await reopened.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 });
    assert.ok(claim);
    now += 1_000;
    const attempt = { at: now, duration_ms: 3, status_code: 200, error: null, response: 'ok' };
    const [result] = await reopened.settle([
      { delivery_id: claim.delivery_id, lease_token: claim.lease_token, attempt, outcome: { kind: 'delivered' } },
    ]);
    assert.equal(result?.applied, true);
    const stored = await reopened.getEvent(old.id);
    assert.equal(stored?.deliveries[0]?.status, 'delivered');
    assert.equal(stored?.deliveries[0]?.latency_ms, 1_500);
    assert.equal(stored?.deliveries[0]?.attempts.length, 1);
    await reopened.close();
  });

  it('the hot queries use indexes, never a table scan', async () => {
    const path = freshPath();
    const store = await openSqliteStore(path);
    await store.close();
    const db = new Database(path, { readonly: true });
    const plans = [
      "SELECT id FROM deliveries WHERE subscription_id = 'a' AND status = 'pending' AND next_attempt_at <= 1 ORDER BY next_attempt_at, id LIMIT 10",
      "SELECT d.id FROM deliveries d CROSS JOIN events e ON e.id = d.event_id WHERE d.subscription_id = 'a' AND d.status = 'pending' AND d.event_id > 'x' ORDER BY d.event_id LIMIT 10",
      "SELECT d.id FROM deliveries d WHERE d.status = 'failed' AND (d.updated_at, d.id) < (1, 1) ORDER BY d.updated_at DESC, d.id DESC LIMIT 10",
      "SELECT next_attempt_at FROM deliveries WHERE subscription_id = 'a' AND status = 'pending' ORDER BY next_attempt_at LIMIT 1",
      "UPDATE deliveries SET lease_token = 't', next_attempt_at = 2 WHERE subscription_id = 'a' AND status = 'pending' AND next_attempt_at <= 1 AND (next_attempt_at < 1 OR id <= 5)",
      'SELECT status, lease_token, attempts_count, subscription_id FROM deliveries WHERE id = 1',
    ].map((sql) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((row) => row.detail).join(' | '));
    db.close();
    for (const plan of plans) {
      assert.doesNotMatch(plan, /\bSCAN\b/, plan);
      assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
    }
  });

  it('lets a process that wrote and never closed the store exit, with the write on disk', { timeout: 30_000 }, async () => {
    const path = freshPath();
    const fixture = fileURLToPath(new URL('./fixtures/appendOnce.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
    const id = stdout.trim();
    assert.match(id, /^evt_/);
    const store = await openSqliteStore(path);
    assert.equal((await store.getEvent(id))?.id, id);
    await store.close();
  });

  it('kill -9 loses nothing that resolved', { timeout: 30_000 }, async () => {
    const path = freshPath();
    const fixture = fileURLToPath(new URL('./fixtures/appendForever.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    const resolved: string[] = [];
    let buffer = '';
    await new Promise<void>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => reject(new Error(`fixture exited early (${code}, ${signal})`)));
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('evt_')) resolved.push(line);
        if (resolved.length >= 3000) resolve();
      });
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    // Lines that arrived after the count was reached resolved too.
    for (const line of buffer.split('\n')) if (line.startsWith('evt_')) resolved.push(line);
    const store = await openSqliteStore(path);
    const missing = [];
    for (const id of resolved) if ((await store.getEvent(id)) === null) missing.push(id);
    const stats = await store.stats();
    await store.close();
    assert.deepEqual(missing, []);
    assert.ok(stats.events >= resolved.length);
  });
});
