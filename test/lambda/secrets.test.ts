/**
 * Settings from AWS Secrets Manager: the real SDK client talks to a loopback server speaking the
 * Secrets Manager JSON protocol (fakeSecretsManager.ts). The secret is read once per container,
 * reused for TRIGGERS_SECRET_TTL, read again after it (a changed secret rebuilds the app), and a
 * failed re-read keeps the last good value.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { createApiHandler } from '../../src/lambda/api.js';
import { createDispatcherHandlers } from '../../src/lambda/dispatcher.js';
import { SecretCache } from '../../src/lambda/secretsManager.js';
import { functionUrlEvent, lambdaContext, parsed, scheduledEvent } from './events.js';
import { type FakeSecretsManager, startFakeSecretsManager } from './fakeSecretsManager.js';
import { captureLogger, captureOutput, JWT_SECRET, lambdaEnv, WEBHOOK_SECRET } from './support.js';

const ARN = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:triggers-settings-AbCdEf';

let sm: FakeSecretsManager;
before(async () => {
  sm = await startFakeSecretsManager();
});
after(() => sm.close());

const fetchesOf = (id: string) =>
  sm.requests.filter((r) => r.secretId === id && r.target === 'secretsmanager.GetSecretValue').length;

describe('SecretCache', () => {
  it('shares one request between concurrent reads, and reuses the value for the TTL', async () => {
    sm.put('cache-1', { zapier_api_key: 'key-one-123456' });
    let now = 1_000_000;
    const cache = new SecretCache({ secretId: 'cache-1', ttlMs: 60_000, client: sm.clientConfig(), clock: () => now });
    try {
      const values = await Promise.all(Array.from({ length: 10 }, () => cache.get()));
      assert.ok(values.every((v) => v.values.zapier_api_key === 'key-one-123456'));
      assert.equal(fetchesOf('cache-1'), 1);
      now += 59_000;
      await cache.get();
      assert.equal(fetchesOf('cache-1'), 1);
      now += 2_000;
      sm.put('cache-1', { zapier_api_key: 'key-two-123456' });
      const fresh = await cache.get();
      assert.equal(fresh.values.zapier_api_key, 'key-two-123456');
      assert.equal(fresh.versionId, 'v2');
      assert.equal(fetchesOf('cache-1'), 2);
      assert.equal(cache.fetches, 2);
    } finally {
      cache.close();
    }
  });

  it('keeps the last good value when a re-read fails, and says so', async () => {
    sm.put('cache-2', { jwt_secret: 'a-jwt-secret-long-enough' });
    let now = 0;
    const stale: unknown[] = [];
    const cache = new SecretCache({
      secretId: 'cache-2',
      ttlMs: 1_000,
      client: sm.clientConfig(),
      clock: () => now,
      onStale: (e) => stale.push(e),
    });
    try {
      await cache.get();
      sm.failing = true;
      now += 5_000;
      const value = await cache.get();
      assert.equal(value.values.jwt_secret, 'a-jwt-secret-long-enough');
      assert.equal(stale.length, 1);
      assert.ok(stale[0] instanceof ConfigError);
      assert.match((stale[0] as Error).message, /AccessDenied/);
      // Not asked again at every invocation while it fails: after min(TTL, 30 s).
      const asked = fetchesOf('cache-2');
      now += 500;
      await cache.get();
      assert.equal(fetchesOf('cache-2'), asked);
      sm.failing = false;
      sm.put('cache-2', { jwt_secret: 'a-new-jwt-secret-long-enough' });
      now += 600;
      assert.equal((await cache.get()).values.jwt_secret, 'a-new-jwt-secret-long-enough');
    } finally {
      sm.failing = false;
      cache.close();
    }
  });

  it('fails with a ConfigError naming TRIGGERS_SECRET_ARN: no such secret, or not a JSON object', async () => {
    const missing = new SecretCache({ secretId: 'nope', ttlMs: 1_000, client: sm.clientConfig() });
    await assert.rejects(
      missing.get(),
      (error: Error) => error instanceof ConfigError && /TRIGGERS_SECRET_ARN.*ResourceNotFound/.test(error.message),
    );
    missing.close();
    sm.put('not-json', 'zapier_api_key=abc');
    const garbled = new SecretCache({ secretId: 'not-json', ttlMs: 1_000, client: sm.clientConfig() });
    await assert.rejects(garbled.get(), /is not JSON/);
    garbled.close();
    sm.put('array', '["a"]');
    const array = new SecretCache({ secretId: 'array', ttlMs: 1_000, client: sm.clientConfig() });
    await assert.rejects(array.get(), /must hold a JSON object/);
    array.close();
  });
});

describe('handlers configured from the secret', () => {
  it('the API reads the seed-shaped secret once for many invocations', async () => {
    sm.put(ARN, {
      zapier_api_key: 'secret-api-key-0123456789',
      zapier_webhook_url: 'https://hooks.example.com/hooks/catch/1/abc/',
      jwt_secret: JWT_SECRET,
      webhook_secret: WEBHOOK_SECRET,
    });
    const testEnv = lambdaEnv({ TRIGGERS_SECRET_ARN: ARN });
    const handler = createApiHandler({ env: testEnv.env, secretsClient: sm.clientConfig(), logger: captureLogger().logger });
    try {
      const before = fetchesOf(ARN);
      for (let i = 0; i < 10; i++) {
        const token = parsed(
          await handler(
            functionUrlEvent('POST', '/token', { form: { username: 'api', password: 'secret-api-key-0123456789' } }),
            lambdaContext(),
          ),
        );
        assert.equal(token.status, 200);
      }
      const sub = parsed(
        await handler(
          functionUrlEvent('GET', '/subscriptions/default', { headers: { 'x-api-key': 'secret-api-key-0123456789' } }),
          lambdaContext(),
        ),
      );
      assert.equal(sub.status, 200);
      assert.equal(sub.json.url, 'https://hooks.example.com/hooks/catch/1/abc/');
      assert.equal(fetchesOf(ARN) - before, 1);
    } finally {
      await handler.close();
      testEnv.cleanup();
    }
  });

  it('after the TTL a changed secret is read again and the app rebuilt: the new API key works, the old one no longer does', async () => {
    const id = `${ARN}-rotating`;
    sm.put(id, { zapier_api_key: 'first-api-key-0123456789', jwt_secret: JWT_SECRET });
    const testEnv = lambdaEnv({ TRIGGERS_SECRET_ARN: id, TRIGGERS_SECRET_TTL: '150ms' });
    const log = captureLogger();
    const handler = createApiHandler({ env: testEnv.env, secretsClient: sm.clientConfig(), logger: log.logger });
    const token = async (key: string) =>
      parsed(await handler(functionUrlEvent('POST', '/token', { body: { api_key: key } }), lambdaContext())).status;
    try {
      assert.equal(await token('first-api-key-0123456789'), 200);
      // (Freshness within the TTL is the SecretCache test's; a cold start here outlasts 150 ms.)
      sm.put(id, { zapier_api_key: 'second-api-key-0123456789', jwt_secret: JWT_SECRET });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await token('second-api-key-0123456789'), 200);
      assert.equal(await token('first-api-key-0123456789'), 401);
      // Read again after each TTL (a rebuild can outlast 150 ms); rebuilt once, when the value changed.
      assert.ok(fetchesOf(id) >= 2);
      assert.deepEqual(
        log.messages().filter((m) => m === 'container ready' || m.startsWith('the secret changed')),
        ['container ready', 'the secret changed; settings reloaded'],
      );

      // A changed secret that cannot be applied (an API key too short) leaves the last good settings serving.
      sm.put(id, { zapier_api_key: 'short', jwt_secret: JWT_SECRET });
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(await token('second-api-key-0123456789'), 200);
      assert.equal(await token('second-api-key-0123456789'), 200);
      assert.equal(log.messages().filter((m) => m.startsWith('the changed secret could not be applied')).length, 1);
    } finally {
      await handler.close();
      testEnv.cleanup();
    }
  });

  it("the dispatcher accepts the seed's SECRET_ARN, needs no API key, and an environment variable wins over the secret", async () => {
    const id = `${ARN}-dispatcher`;
    sm.put(id, { zapier_webhook_url: 'https://hooks.example.com/from-secret', webhook_secret: WEBHOOK_SECRET });
    const testEnv = lambdaEnv({ SECRET_ARN: id, TRIGGERS_WEBHOOK_URL: 'http://127.0.0.1:9/from-env' });
    const handlers = createDispatcherHandlers({
      env: testEnv.env,
      secretsClient: sm.clientConfig(),
      logger: captureLogger().logger,
      writeMetrics: captureOutput().write,
    });
    try {
      for (let i = 0; i < 3; i++) {
        const result = await handlers.scheduledHandler(scheduledEvent(), lambdaContext());
        assert.equal(result.processed, 0);
      }
      assert.equal(fetchesOf(id), 1);
      // The default subscription follows the environment's URL, not the secret's.
      const api = createApiHandler({
        env: { ...testEnv.env, TRIGGERS_API_KEY: 'api-key-for-the-check', TRIGGERS_JWT_SECRET: JWT_SECRET },
        secretsClient: sm.clientConfig(),
        logger: captureLogger().logger,
      });
      try {
        const sub = parsed(
          await api(
            functionUrlEvent('GET', '/subscriptions/default', { headers: { 'x-api-key': 'api-key-for-the-check' } }),
            lambdaContext(),
          ),
        );
        assert.equal(sub.json.url, 'http://127.0.0.1:9/from-env');
      } finally {
        await api.close();
      }
    } finally {
      await handlers.close();
      testEnv.cleanup();
    }
  });

  it('an unreadable secret fails the cold start; the next invocation tries again', async () => {
    const testEnv = lambdaEnv({ TRIGGERS_SECRET_ARN: `${ARN}-missing` });
    const handler = createApiHandler({ env: testEnv.env, secretsClient: sm.clientConfig(), logger: captureLogger().logger });
    try {
      const first = parsed(await handler(functionUrlEvent('GET', '/health'), lambdaContext()));
      assert.equal(first.status, 503);
      assert.equal(first.json.error.code, 'misconfigured');
      sm.put(`${ARN}-missing`, { zapier_api_key: 'late-api-key-0123456789', jwt_secret: JWT_SECRET });
      const second = parsed(await handler(functionUrlEvent('GET', '/health'), lambdaContext()));
      assert.equal(second.status, 200);
    } finally {
      await handler.close();
      testEnv.cleanup();
    }
  });
});
