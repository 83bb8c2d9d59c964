/**
 * The default subscription across restarts: its URL follows configuration; its secret follows
 * TRIGGERS_WEBHOOK_SECRET when that is set, and otherwise keeps a rotation made through the API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { resolveSecrets } from '../../src/config/secrets.js';
import { generateSecret, rotate } from '../../src/core/signing.js';
import { DEFAULT_SUBSCRIPTION_ID, ensureDefaultSubscription } from '../../src/defaultSubscription.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** One start: configuration as `serve` resolves it, then the reconciliation `serve` runs. */
async function start(dir: string, env: Record<string, string>, now: number): Promise<Store> {
  const { config } = resolveSecrets(loadConfig({ cwd: dir, env: { TRIGGERS_DATA_DIR: dir, ...env } }));
  const store = await openSqliteStore(join(dir, 'triggers.db'));
  await ensureDefaultSubscription(store, config, now);
  return store;
}

async function secretsOf(store: Store): Promise<{ secret: string; expires_at: number | null }[]> {
  return ((await store.getSubscription(DEFAULT_SUBSCRIPTION_ID)) as NonNullable<Awaited<ReturnType<Store['getSubscription']>>>)
    .secrets;
}

async function rotateThroughApi(store: Store, now: number): Promise<string> {
  const next = generateSecret();
  await store.updateSubscription(DEFAULT_SUBSCRIPTION_ID, { secrets: rotate(await secretsOf(store), next, now) });
  return next;
}

test('without TRIGGERS_WEBHOOK_SECRET, a rotation through the API survives restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-default-'));
  dirs.push(dir);
  const now = Date.now();
  let store = await start(dir, {}, now);
  const [generated] = await secretsOf(store);
  const rotated = await rotateThroughApi(store, now);
  await store.close();

  store = await start(dir, {}, now + 1000);
  const secrets = await secretsOf(store);
  assert.equal(secrets[0]?.secret, rotated, 'the rotated secret is still the current one');
  assert.equal(secrets[0]?.expires_at, null);
  assert.deepEqual(
    secrets.map((s) => s.secret),
    [rotated, generated?.secret],
    'the generated one stays only as the previous secret',
  );
  await store.close();
});

test('with TRIGGERS_WEBHOOK_SECRET, the configured secret wins at each start, listed once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-default-'));
  dirs.push(dir);
  const first = generateSecret();
  const now = Date.now();
  let store = await start(dir, { TRIGGERS_WEBHOOK_SECRET: first }, now);
  const rotated = await rotateThroughApi(store, now);
  await store.close();

  store = await start(dir, { TRIGGERS_WEBHOOK_SECRET: first }, now + 1000);
  let secrets = await secretsOf(store);
  assert.deepEqual(
    secrets.map((s) => [s.secret, s.expires_at === null]),
    [
      [first, true],
      [rotated, false],
    ],
    'back to the configured secret; the API one signs a while longer; no secret twice',
  );
  await store.close();

  const second = generateSecret();
  store = await start(dir, { TRIGGERS_WEBHOOK_SECRET: second }, now + 2000);
  secrets = await secretsOf(store);
  assert.equal(secrets[0]?.secret, second);
  assert.equal(new Set(secrets.map((s) => s.secret)).size, secrets.length, 'no secret listed twice');
  assert.ok(
    secrets.some((s) => s.secret === first && s.expires_at !== null),
    'the replaced one keeps signing for a while',
  );
  await store.close();
});
