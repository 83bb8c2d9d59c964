/**
 * The API Lambda handler, invoked with function URL events (payload format 2.0) as AWS sends
 * them: /token (form, base64-encoded as function URLs send forms, and JSON), POST /events,
 * GET /events/{id}; one app per container, built on the first invocation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiHandler, createApiHandler } from '../../src/lambda/api.js';
import { functionUrlEvent, lambdaContext, parsed } from './events.js';
import { API_KEY, type CapturedLog, captureLogger, JWT_SECRET, lambdaEnv, type TestEnv } from './support.js';

describe('API handler behind a function URL', () => {
  let testEnv: TestEnv;
  let handler: ApiHandler;
  let log: CapturedLog;
  let token: string;

  before(() => {
    testEnv = lambdaEnv({ TRIGGERS_API_KEY: API_KEY, TRIGGERS_JWT_SECRET: JWT_SECRET });
    log = captureLogger();
    handler = createApiHandler({ env: testEnv.env, logger: log.logger });
  });
  after(async () => {
    await handler.close();
    testEnv.cleanup();
  });

  const call = async (...args: Parameters<typeof functionUrlEvent>) =>
    parsed(await handler(functionUrlEvent(...args), lambdaContext()));

  it('POST /token with the seed form (username=api, password=<key>), base64-encoded', async () => {
    const res = await call('POST', '/token', { form: { username: 'api', password: API_KEY }, base64: true });
    assert.equal(res.status, 200);
    assert.equal(res.json.token_type, 'bearer');
    assert.equal(typeof res.json.access_token, 'string');
    token = res.json.access_token;
  });

  it('POST /token with JSON, and a wrong key answers 401 in the error shape', async () => {
    const ok = await call('POST', '/token', { body: { api_key: API_KEY } });
    assert.equal(ok.status, 200);
    const wrong = await call('POST', '/token', { body: { api_key: 'not-the-key-at-all' } });
    assert.equal(wrong.status, 401);
    assert.equal(typeof wrong.json.error.code, 'string');
  });

  it('POST /events with the JWT, then GET /events/{id} shows it pending with its delivery', async () => {
    const created = await call('POST', '/events', {
      body: { type: 'order.created', source: 'shop', payload: { order: 42 } },
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'order-42' },
    });
    assert.equal(created.status, 201);
    assert.equal(created.json.status, 'pending');
    const id = created.json.id as string;

    const again = await call('POST', '/events', {
      body: { type: 'order.created', source: 'shop', payload: { order: 42 } },
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'order-42' },
    });
    assert.equal(again.status, 201);
    assert.equal(again.json.id, id);
    assert.equal(again.headers['idempotent-replayed'], 'true');

    const read = await call('GET', `/events/${id}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(read.status, 200);
    assert.equal(read.json.id, id);
    assert.deepEqual(read.json.payload, { order: 42 });
    assert.equal(read.json.status, 'pending');
    assert.deepEqual(
      read.json.deliveries.map((d: { subscription_id: string }) => d.subscription_id),
      ['default'],
    );
  });

  it('query strings reach the routes (GET /inbox?limit=1), X-API-Key works, no credentials is 401', async () => {
    const inbox = await call('GET', '/inbox?limit=1', { headers: { 'x-api-key': API_KEY } });
    assert.equal(inbox.status, 200);
    assert.ok(Array.isArray(inbox.json));
    assert.equal(inbox.json.length, 1);
    const anonymous = await call('GET', '/events');
    assert.equal(anonymous.status, 401);
    const health = await call('GET', '/health');
    assert.equal(health.status, 200);
  });

  it('a query value with a comma is one value, as with triggers serve (GET /events?source=shop,eu)', async () => {
    const auth = { 'x-api-key': API_KEY };
    const created = await call('POST', '/events', {
      body: { type: 'order.created', source: 'shop,eu', payload: {} },
      headers: auth,
    });
    assert.equal(created.status, 201);
    const listed = await call('GET', '/events?source=shop%2Ceu', { headers: auth });
    assert.equal(listed.status, 200, JSON.stringify(listed.json));
    assert.deepEqual(
      listed.json.data.map((event: { id: string }) => event.id),
      [created.json.id],
    );
  });

  it('a bad body is a 400 in the error shape, never a 5xx', async () => {
    const res = await call('POST', '/events', { body: { type: 1 }, headers: { 'x-api-key': API_KEY } });
    assert.equal(res.status, 400);
    assert.equal(typeof res.json.error.message, 'string');
  });

  it('the container was set up once for all those invocations', () => {
    assert.equal(log.messages().filter((m) => m === 'container ready').length, 1);
  });
});

describe('API handler without an API key', () => {
  it('answers 503 in the error shape (details only in the log) and keeps trying', async () => {
    const testEnv = lambdaEnv({ TRIGGERS_JWT_SECRET: JWT_SECRET });
    const log = captureLogger();
    const handler = createApiHandler({ env: testEnv.env, logger: log.logger });
    try {
      for (let i = 0; i < 2; i++) {
        const res = parsed(await handler(functionUrlEvent('GET', '/health'), lambdaContext()));
        assert.equal(res.status, 503);
        assert.equal(res.json.error.code, 'misconfigured');
        assert.doesNotMatch(res.json.error.message, /TRIGGERS_API_KEY/);
      }
      const errors = log.lines.filter((line) => line.msg === 'the API could not start');
      assert.equal(errors.length, 2);
      assert.match(String((errors[0]?.err as { message?: string })?.message), /TRIGGERS_API_KEY/);
    } finally {
      await handler.close();
      testEnv.cleanup();
    }
  });
});
