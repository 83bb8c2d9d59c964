import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { errorCode, startTestServer, TEST_API_KEY, TEST_JWT_SECRET, type TestServer } from './helpers.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const secret = new TextEncoder().encode(TEST_JWT_SECRET);

describe('auth', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const withToken = (token: string) => server.request('GET', '/subscriptions', { auth: false, headers: { authorization: `Bearer ${token}` } });

  it('issues a token for the seed form (username=api&password=<key>)', async () => {
    const res = await server.request('POST', '/token', {
      auth: false,
      raw: `grant_type=password&username=api&password=${encodeURIComponent(TEST_API_KEY)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.token_type, 'bearer');
    assert.equal(res.json.expires_in, 3600);
    assert.equal((await withToken(res.json.access_token)).status, 200);
  });

  it('issues a token for JSON {api_key} and JSON {username, password}', async () => {
    const a = await server.request('POST', '/token', { auth: false, body: { api_key: TEST_API_KEY } });
    assert.equal(a.status, 200);
    assert.match(a.json.access_token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    const b = await server.request('POST', '/token', { auth: false, body: { username: 'api', password: TEST_API_KEY } });
    assert.equal(b.status, 200);
    assert.equal((await withToken(b.json.access_token)).status, 200);
  });

  it('refuses a wrong key with 401 invalid_credentials', async () => {
    const form = await server.request('POST', '/token', {
      auth: false,
      raw: 'username=api&password=nope',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(form.status, 401);
    assert.equal(errorCode(form), 'invalid_credentials');
    const json = await server.request('POST', '/token', { auth: false, body: { api_key: 'wrong-key-123' } });
    assert.equal(json.status, 401);
    assert.equal(errorCode(json), 'invalid_credentials');
  });

  it('answers malformed token requests with 400', async () => {
    for (const body of [{}, { api_key: 42 }, [], 'text', null, { password: '' }]) {
      const res = await server.request('POST', '/token', { auth: false, raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, JSON.stringify(body));
      errorCode(res);
    }
    const grant = await server.request('POST', '/token', { auth: false, body: { grant_type: 'client_credentials', api_key: TEST_API_KEY } });
    assert.equal(grant.status, 400);
    const bad = await server.request('POST', '/token', { auth: false, raw: '{"api_key":', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), 'invalid_json');
    const plain = await server.request('POST', '/token', { auth: false, raw: 'x', headers: { 'content-type': 'text/plain' } });
    assert.equal(plain.status, 415);
    assert.equal(errorCode(plain), 'unsupported_media_type');
    assert.match(plain.json.error.message, /x-www-form-urlencoded.*application\/json/, 'names both forms /token takes');
  });

  it('requires credentials on protected routes', async () => {
    const res = await server.request('GET', '/events', { auth: false });
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), 'unauthorized');
    assert.match(res.headers.get('www-authenticate') ?? '', /Bearer/);
    const wrongKey = await server.request('GET', '/events', { auth: false, headers: { 'x-api-key': 'nope' } });
    assert.equal(wrongKey.status, 401);
    const basic = await server.request('GET', '/events', { auth: false, headers: { authorization: 'Basic abc' } });
    assert.equal(basic.status, 401);
    assert.equal(errorCode(basic), 'invalid_token');
  });

  it('accepts the API key in X-API-Key', async () => {
    assert.equal((await server.request('GET', '/events')).status, 200);
  });

  it('refuses an expired token with token_expired', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(now - 7200).setExpirationTime(now - 3600).sign(secret);
    const res = await withToken(token);
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), 'token_expired');
  });

  it('refuses tampered, unsigned, foreign-algorithm and foreign-key tokens with invalid_token', async () => {
    const good = (await server.request('POST', '/token', { auth: false, body: { api_key: TEST_API_KEY } })).json.access_token as string;
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const forgedPayload = b64({ sub: 'admin', exp: Math.floor(Date.now() / 1000) + 3600 });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const tokens = {
      tamperedPayload: `${header}.${forgedPayload}.${signature}`,
      tamperedSignature: `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BB' : 'AA'}`,
      algNone: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'api', exp })}.`,
      hs512: await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setExpirationTime(exp).sign(secret),
      otherKey: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime(exp).sign(new TextEncoder().encode('another-secret-of-32-characters!!')),
      noExp: await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(secret),
      garbage: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(tokens)) {
      const res = await withToken(token);
      assert.equal(res.status, 401, name);
      assert.equal(errorCode(res), 'invalid_token', name);
    }
  });

  it('leaves /health, /metrics, /openapi.json and /docs open', async () => {
    for (const path of ['/health', '/metrics', '/openapi.json', '/docs']) {
      const res = await server.request('GET', path, { auth: false });
      assert.equal(res.status, 200, path);
    }
    assert.equal((await server.request('GET', '/metrics/summary', { auth: false })).status, 401);
  });
});

describe('auth with TRIGGERS_METRICS_AUTH', () => {
  it('protects /metrics', async () => {
    const server = await startTestServer({ TRIGGERS_METRICS_AUTH: 'true' });
    try {
      assert.equal((await server.request('GET', '/metrics', { auth: false })).status, 401);
      assert.equal((await server.request('GET', '/metrics')).status, 200);
    } finally {
      await server.close();
    }
  });
});
