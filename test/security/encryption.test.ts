/**
 * Signing secrets at rest: with TRIGGERS_ENCRYPTION_KEY set, neither the database file nor a
 * PostgreSQL row holds a subscription's or a receiver's secret in plaintext — through creation,
 * rotation (the previous secret keeps signing 24 h) and updates — while the API still shows the
 * secrets and deliveries still verify. Plaintext written before the key was set still reads, and
 * is encrypted on the next write.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { buildApi } from '../../src/api/index.js';
import { loadConfig } from '../../src/config/config.js';
import { ConfigError } from '../../src/core/errors.js';
import { decryptSecret, encryptSecret, parseEncryptionKey } from '../../src/core/secretBox.js';
import { generateSecret, signatureHeaders } from '../../src/core/signing.js';
import { DEFAULT_DELIVERY_OPTIONS } from '../../src/core/types.js';
import { createDispatcher, LocalSource } from '../../src/dispatcher/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';
import { testConfig, TEST_API_KEY } from '../api/helpers.js';
import { type Sink, startSink } from '../support/sink.js';
import { createTestSchema, type TestSchema } from '../support/postgres.js';

const KEY_B64 = randomBytes(32).toString('base64');
const KEY = parseEncryptionKey(KEY_B64) as Buffer;

/** Every byte SQLite wrote: the file and its WAL. */
function fileText(path: string): string {
  let text = '';
  for (const suffix of ['', '-wal']) {
    try {
      text += readFileSync(path + suffix, 'latin1');
    } catch {
      // no WAL yet
    }
  }
  return text;
}

describe('security: secret box', () => {
  it('round-trips, uses a fresh IV each time, and refuses a wrong key or an altered value', () => {
    const secret = generateSecret();
    const a = encryptSecret(KEY, secret);
    const b = encryptSecret(KEY, secret);
    assert.match(a, /^enc:v1:[\w-]+:[\w-]+:[\w-]+$/);
    assert.notEqual(a, b);
    assert.equal(decryptSecret(KEY, a), secret);
    assert.equal(decryptSecret(KEY, secret), secret, 'plaintext passes through');
    assert.throws(() => decryptSecret(randomBytes(32), a));
    assert.throws(() => decryptSecret(null, a));
    const parts = a.split(':');
    parts[4] = Buffer.from('x'.repeat(30)).toString('base64url');
    assert.throws(() => decryptSecret(KEY, parts.join(':')));
  });

  it('reads the key as hex or base64; anything else stops the start', () => {
    const hex = randomBytes(32).toString('hex');
    const dir = mkdtempSync(join(tmpdir(), 'triggers-enc-'));
    try {
      assert.deepEqual(loadConfig({ cwd: dir, env: { TRIGGERS_ENCRYPTION_KEY: hex } }).encryptionKey, Buffer.from(hex, 'hex'));
      assert.deepEqual(loadConfig({ cwd: dir, env: { TRIGGERS_ENCRYPTION_KEY: KEY_B64 } }).encryptionKey, KEY);
      assert.equal(loadConfig({ cwd: dir, env: {} }).encryptionKey, null);
      for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), 'z'.repeat(64)]) {
        assert.throws(() => loadConfig({ cwd: dir, env: { TRIGGERS_ENCRYPTION_KEY: bad } }), (error: unknown) => {
          return error instanceof ConfigError && error.setting === 'TRIGGERS_ENCRYPTION_KEY';
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('security: secrets encrypted at rest (SQLite, through the API and the dispatcher)', () => {
  let dir: string;
  let path: string;
  let store: Store;
  let app: FastifyInstance;
  let url: string;
  let sink: Sink;
  let stopDispatcher: () => Promise<void>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'triggers-enc-'));
    const config = testConfig({ TRIGGERS_ENCRYPTION_KEY: KEY_B64, TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' }, dir);
    path = join(dir, 'triggers.db');
    store = await openStore({ kind: 'sqlite', path, url: `sqlite:${path}` }, { encryptionKey: config.encryptionKey });
    app = await buildApi({ config, store, metrics: new Metrics({ defaultMetrics: false }), logger: silentLogger() });
    url = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('localhost', '127.0.0.1');
    sink = await startSink();
    const dispatcher = createDispatcher({
      source: new LocalSource(store, { retrySchedule: config.retrySchedule }),
      config,
      metrics: new Metrics({ defaultMetrics: false }),
      logger: silentLogger(),
      pollIntervalMs: 100,
    });
    dispatcher.start();
    stopDispatcher = () => dispatcher.stop();
  });

  after(async () => {
    await stopDispatcher();
    await app.close();
    await store.close();
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'x-api-key': TEST_API_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
  };

  it('keeps subscription secrets out of the file through create and rotate, and deliveries verify with both', async () => {
    const first = generateSecret();
    const created = await call('POST', '/subscriptions', { id: 'enc', url: `${sink.url}/hook`, secret: first });
    assert.equal(created.status, 201);
    assert.equal(created.json.secret, first, 'the API shows the plaintext secret');
    const rotated = await call('POST', '/subscriptions/enc/rotate-secret', {});
    assert.equal(rotated.status, 200);
    const second = rotated.json.secret as string;
    assert.deepEqual(rotated.json.previous_secrets.map((s: { secret: string }) => s.secret), [first], 'the old secret keeps signing');
    assert.equal((await call('PATCH', '/subscriptions/enc', { description: 'touched' })).status, 200);
    assert.deepEqual((await call('GET', '/subscriptions/enc')).json.previous_secrets.map((s: { secret: string }) => s.secret), [first]);

    const sent = await call('POST', '/events', { type: 'order.created', source: 'enc', payload: { n: 1 } });
    assert.equal(sent.status, 201);
    const [request] = await sink.waitFor(1, { path: '/hook' });
    assert.ok(request);
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    assert.equal(headers['webhook-signature']?.split(' ').length, 2, 'signed with the new and the previous secret');
    for (const secret of [second, first]) new Webhook(secret).verify(request.text(), headers);

    const raw = new Database(path, { readonly: true });
    try {
      const stored = raw.prepare("SELECT secrets FROM subscriptions WHERE id = 'enc'").pluck().get() as string;
      for (const entry of JSON.parse(stored) as { secret: string }[]) assert.match(entry.secret, /^enc:v1:/);
    } finally {
      raw.close();
    }
    const text = fileText(path);
    for (const secret of [first, second]) {
      assert.ok(!text.includes(secret), 'no plaintext secret in the database file');
      assert.ok(!text.includes(secret.slice('whsec_'.length)), 'not even its base64 part');
    }
  });

  it('keeps custom header values (credentials, often) out of the file, and sends them as given', async () => {
    const token = `Bearer tok_${randomBytes(12).toString('hex')}`;
    const created = await call('POST', '/subscriptions', {
      id: 'enc-headers',
      url: `${sink.url}/with-headers`,
      event_types: ['header.checked'],
      headers: { Authorization: token, 'X-Tenant': 'acme' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.headers.authorization, token, 'the API shows the plaintext value');
    assert.equal((await call('PATCH', '/subscriptions/enc-headers', { description: 'touched' })).status, 200);
    assert.equal((await call('GET', '/subscriptions/enc-headers')).json.headers.authorization, token);

    assert.equal((await call('POST', '/events', { type: 'header.checked', source: 'enc', payload: {} })).status, 201);
    const [request] = await sink.waitFor(1, { path: '/with-headers' });
    assert.equal(request?.headers.authorization, token);
    assert.equal(request?.headers['x-tenant'], 'acme');

    const raw = new Database(path, { readonly: true });
    try {
      const stored = JSON.parse(raw.prepare("SELECT delivery FROM subscriptions WHERE id = 'enc-headers'").pluck().get() as string);
      assert.match(stored.headers.authorization, /^enc:v1:/);
      assert.match(stored.headers['x-tenant'], /^enc:v1:/);
    } finally {
      raw.close();
    }
    assert.ok(!fileText(path).includes(token.slice('Bearer '.length)), 'no plaintext header value in the database file');
  });

  it('keeps receiver secrets out of the file, and the receiver still verifies with them', async () => {
    const secret = generateSecret();
    assert.equal((await call('PUT', '/receivers/enc/secret', { secret })).status, 204);
    assert.equal(await store.getReceiverSecret('enc'), secret);
    const body = JSON.stringify({ hello: 'world' });
    const signed = signatureHeaders([secret], 'msg_enc', Math.floor(Date.now() / 1000), body);
    const res = await fetch(`${url}/receiver/enc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed },
      body,
    });
    assert.ok(res.status < 300, String(res.status));
    const [received] = (await store.listReceived({ limit: 1, name: 'enc' })).items;
    assert.equal(received?.verdict, 'verified');
    assert.ok(!fileText(path).includes(secret.slice('whsec_'.length)));
  });
});

describe('security: plaintext written before the key was set', () => {
  it('reads as is, and is encrypted on the next update', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'triggers-enc-'));
    const path = join(dir, 'triggers.db');
    const database = { kind: 'sqlite' as const, path, url: `sqlite:${path}` };
    const secret = generateSecret();
    try {
      const plain = await openStore(database);
      await plain.createSubscription({
        id: 'old', url: null, event_types: ['*'], secrets: [{ secret, expires_at: null }],
        status: 'active', description: null, disabled_reason: null, metadata: {},
      });
      await plain.setReceiverSecret('old', secret);
      await plain.updateSubscription('old', {
        delivery: { ...DEFAULT_DELIVERY_OPTIONS, headers: { authorization: 'Bearer plain-before-the-key' } },
      });
      await plain.close();

      const encrypted = await openStore(database, { encryptionKey: KEY });
      assert.equal((await encrypted.getSubscription('old'))?.secrets[0]?.secret, secret);
      assert.equal(await encrypted.getReceiverSecret('old'), secret);
      await encrypted.updateSubscription('old', { description: 'touched' });
      await encrypted.setReceiverSecret('old', secret);
      assert.equal((await encrypted.getSubscription('old'))?.secrets[0]?.secret, secret);
      assert.equal((await encrypted.getSubscription('old'))?.delivery.headers.authorization, 'Bearer plain-before-the-key');
      await encrypted.close();

      const raw = new Database(path, { readonly: true });
      try {
        assert.match(raw.prepare("SELECT secrets FROM subscriptions WHERE id = 'old'").pluck().get() as string, /enc:v1:/);
        const delivery = raw.prepare("SELECT delivery FROM subscriptions WHERE id = 'old'").pluck().get() as string;
        assert.match(JSON.parse(delivery).headers.authorization, /^enc:v1:/, 'plaintext headers are sealed by the next update');
        assert.match(raw.prepare("SELECT secret FROM receivers WHERE name = 'old'").pluck().get() as string, /^enc:v1:/);
      } finally {
        raw.close();
      }
      // Opened without the key (or with another), an encrypted secret is an error, never garbage.
      const wrong = await openStore(database, { encryptionKey: randomBytes(32) });
      await assert.rejects(wrong.getSubscription('old'), /does not open/);
      await wrong.close();
      const keyless = await openStore(database);
      await assert.rejects(keyless.getSubscription('old'), /TRIGGERS_ENCRYPTION_KEY is not set/);
      await assert.rejects(keyless.getReceiverSecret('old'), /TRIGGERS_ENCRYPTION_KEY is not set/);
      await keyless.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('security: secrets encrypted at rest (PostgreSQL)', () => {
  let schema: TestSchema;
  before(async () => {
    schema = await createTestSchema();
  });
  after(() => schema.drop());

  it('stores only ciphertext in the rows', async () => {
    const store = await openStore({ kind: 'postgres', url: `${schema.url}?schema=${schema.schema}` }, { encryptionKey: KEY });
    const secret = generateSecret();
    try {
      await store.createSubscription({
        id: 'pg', url: null, event_types: ['*'], secrets: [{ secret, expires_at: null }],
        status: 'active', description: null, disabled_reason: null, metadata: {},
      });
      await store.setReceiverSecret('pg', secret);
      assert.equal((await store.getSubscription('pg'))?.secrets[0]?.secret, secret);
      assert.equal((await store.listSubscriptions()).find((s) => s.id === 'pg')?.secrets[0]?.secret, secret);
      assert.equal(await store.getReceiverSecret('pg'), secret);
    } finally {
      await store.close();
    }
    const rows = await schema.sql<{ secrets: unknown }>("SELECT secrets::text AS secrets FROM subscriptions WHERE id = 'pg'");
    assert.match(String(rows[0]?.secrets), /enc:v1:/);
    assert.ok(!String(rows[0]?.secrets).includes(secret));
    const receivers = await schema.sql<{ secret: string }>("SELECT secret FROM receivers WHERE name = 'pg'");
    assert.match(receivers[0]?.secret ?? '', /^enc:v1:/);
  });
});
