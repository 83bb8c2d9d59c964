/**
 * The attack list for credentials: every forged, expired, tampered, revoked or under-scoped
 * credential is refused with a clear 4xx, and nothing is stored for it. Also the key lifecycle
 * through the API, the route → scope map, and the per-key ingest rate limit.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { errorCode, startTestServer, TEST_JWT_SECRET, type TestResponse, type TestServer } from '../api/helpers.js';

const jwtKey = new TextEncoder().encode(TEST_JWT_SECRET);
const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const event = { type: 'order.created', source: 'attack', payload: { n: 1 } };

/** Requests with the given credential only (no default key). */
function as(server: TestServer, credential: { key?: string; token?: string }) {
  const headers: Record<string, string> = {};
  if (credential.key !== undefined) headers['x-api-key'] = credential.key;
  if (credential.token !== undefined) headers.authorization = `Bearer ${credential.token}`;
  return (method: string, path: string, body?: unknown) =>
    server.request(method, path, { auth: false, headers, ...(body === undefined ? {} : { body }) });
}

async function createKey(server: TestServer, scopes: string[], extra: Record<string, unknown> = {}) {
  const res = await server.request('POST', '/keys', { body: { name: `k-${scopes.join('-')}`, scopes, ...extra } });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; key: string; scopes: string[]; prefix: string };
}

async function tokenFor(server: TestServer, key: string): Promise<string> {
  const res = await server.request('POST', '/token', { auth: false, body: { api_key: key } });
  assert.equal(res.status, 200, res.text);
  return res.json.access_token as string;
}

async function eventCount(server: TestServer): Promise<number> {
  const res = await server.request('GET', '/events?limit=1000');
  assert.equal(res.status, 200);
  return res.json.data.length as number;
}

function refused(res: TestResponse, status: number, code: string): void {
  assert.equal(res.status, status, res.text);
  assert.equal(errorCode(res), code);
}

describe('security: credentials', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('refuses every forged, expired, tampered or revoked credential, and stores nothing', async () => {
    const before = await eventCount(server);
    const readOnly = await createKey(server, ['read']);
    const readToken = await tokenFor(server, readOnly.key);
    const [header, , signature] = readToken.split('.') as [string, string, string];
    const revoked = await createKey(server, ['ingest', 'read']);
    const revokedToken = await tokenFor(server, revoked.key);
    assert.equal((await server.request('DELETE', `/keys/${revoked.id}`)).status, 200);

    const attacks: [string, { key?: string; token?: string }, number, string][] = [
      [
        'JWT signed with another secret',
        {
          token: await new SignJWT({ scopes: ['admin'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('api')
            .setExpirationTime(now() + 60)
            .sign(new TextEncoder().encode('not-the-secret-0123456789abcdef')),
        },
        401,
        'invalid_token',
      ],
      [
        'expired JWT',
        {
          token: await new SignJWT({ scopes: ['admin'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('api')
            .setIssuedAt(now() - 7200)
            .setExpirationTime(now() - 3600)
            .sign(jwtKey),
        },
        401,
        'token_expired',
      ],
      [
        'alg: none',
        { token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'api', scopes: ['admin'], exp: now() + 60 })}.` },
        401,
        'invalid_token',
      ],
      [
        'alg: none with a signature',
        { token: `${b64({ alg: 'none' })}.${b64({ sub: 'api', exp: now() + 60 })}.${signature}` },
        401,
        'invalid_token',
      ],
      [
        'HS512 token',
        {
          token: await new SignJWT({})
            .setProtectedHeader({ alg: 'HS512' })
            .setSubject('api')
            .setExpirationTime(now() + 60)
            .sign(new Uint8Array(64)),
        },
        401,
        'invalid_token',
      ],
      [
        'tampered payload: read → admin',
        { token: `${header}.${b64({ sub: readOnly.id, scopes: ['admin'], iat: now(), exp: now() + 3600 })}.${signature}` },
        401,
        'invalid_token',
      ],
      [
        'tampered payload: subject → bootstrap',
        { token: `${header}.${b64({ sub: 'api', iat: now(), exp: now() + 3600 })}.${signature}` },
        401,
        'invalid_token',
      ],
      [
        'validly signed token with an unknown scope',
        {
          token: await new SignJWT({ scopes: ['root'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('api')
            .setExpirationTime(now() + 60)
            .sign(jwtKey),
        },
        401,
        'invalid_token',
      ],
      [
        'validly signed token for a key that never existed',
        {
          token: await new SignJWT({ scopes: ['admin'] })
            .setProtectedHeader({ alg: 'HS256' })
            .setSubject('key_nope')
            .setExpirationTime(now() + 60)
            .sign(jwtKey),
        },
        401,
        'key_revoked',
      ],
      ['garbage token', { token: 'a.b.c' }, 401, 'invalid_token'],
      ['wrong API key', { key: 'trg_wrong-key-0123456789' }, 401, 'invalid_credentials'],
      ['revoked key', { key: revoked.key }, 401, 'invalid_credentials'],
      ['token of a revoked key', { token: revokedToken }, 401, 'key_revoked'],
      ['read-only key ingesting', { key: readOnly.key }, 403, 'forbidden'],
      ['read-only token ingesting', { token: readToken }, 403, 'forbidden'],
      ['no credentials', {}, 401, 'unauthorized'],
    ];
    for (const [name, credential, status, code] of attacks) {
      const call = as(server, credential);
      const one = await call('POST', '/events', event);
      assert.equal(one.status, status, `${name}: ${one.text}`);
      assert.equal(errorCode(one), code, name);
      assert.equal((await call('POST', '/events/batch', { events: [event] })).status, status, name);
      if (status === 401) assert.equal((await call('GET', '/subscriptions')).status, 401, name);
    }
    assert.equal(await eventCount(server), before, 'nothing was stored');
    // The revoked key cannot get a new token either.
    refused(await server.request('POST', '/token', { auth: false, body: { api_key: revoked.key } }), 401, 'invalid_credentials');
  });

  it('creates a key shown once, lists it without secrets, and revokes it (key and tokens)', async () => {
    const created = await createKey(server, ['ingest', 'read'], { rate_limit: 100 });
    assert.match(created.key, /^trg_[\w-]{43}$/);
    assert.equal(created.prefix, created.key.slice(0, 8));
    const token = await tokenFor(server, created.key);
    const claims = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
    assert.deepEqual(claims.scopes, ['ingest', 'read']);
    assert.equal(claims.sub, created.id);
    assert.equal((await as(server, { key: created.key })('POST', '/events', event)).status, 201);
    assert.equal((await as(server, { token })('POST', '/events', event)).status, 201);

    const listed = await server.request('GET', '/keys');
    assert.equal(listed.status, 200);
    const entry = listed.json.data.find((k: { id: string }) => k.id === created.id);
    assert.deepEqual(Object.keys(entry).sort(), ['created_at', 'id', 'name', 'prefix', 'rate_limit', 'revoked_at', 'scopes']);
    assert.equal(entry.rate_limit, 100);
    assert.ok(!listed.text.includes(created.key));
    assert.ok(
      !readFileSync(server.config.database.kind === 'sqlite' ? server.config.database.path : '', 'latin1').includes(created.key),
    );

    const revoked = await server.request('DELETE', `/keys/${created.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(typeof revoked.json.revoked_at, 'string');
    refused(await as(server, { key: created.key })('GET', '/events'), 401, 'invalid_credentials');
    refused(await as(server, { token })('GET', '/events'), 401, 'key_revoked');
    refused(await server.request('DELETE', '/keys/key_nope'), 404, 'not_found');
    assert.equal((await server.request('DELETE', `/keys/${created.id}`)).status, 200, 'revoking twice is harmless');
  });

  it('maps each class of route to its scope (403 forbidden otherwise)', async () => {
    const ingest = as(server, { key: (await createKey(server, ['ingest'])).key });
    const read = as(server, { key: (await createKey(server, ['read'])).key });
    const consumer = as(server, { key: (await createKey(server, ['read', 'ingest'])).key });
    const admin = as(server, { token: await tokenFor(server, (await createKey(server, ['admin'])).key) });
    const cases: [
      string,
      string,
      unknown,
      {
        allowed: ((m: string, p: string, b?: unknown) => Promise<TestResponse>)[];
        refused: ((m: string, p: string, b?: unknown) => Promise<TestResponse>)[];
      },
    ][] = [
      ['POST', '/events', event, { allowed: [ingest, consumer, admin], refused: [read] }],
      ['GET', '/events', undefined, { allowed: [read, consumer, admin], refused: [ingest] }],
      ['GET', '/subscriptions', undefined, { allowed: [read, admin], refused: [ingest] }],
      ['GET', '/dead-letters', undefined, { allowed: [read, admin], refused: [ingest] }],
      ['GET', '/receivers', undefined, { allowed: [read, admin], refused: [ingest] }],
      ['GET', '/inbox?subscription_id=default', undefined, { allowed: [read, admin], refused: [ingest] }],
      ['POST', '/inbox/claim', { subscription_id: 'default', limit: 1 }, { allowed: [consumer, admin], refused: [read, ingest] }],
      ['POST', '/subscriptions', { url: null }, { allowed: [admin], refused: [read, ingest, consumer] }],
      ['POST', '/dead-letters/replay', { subscription_id: 'default' }, { allowed: [admin], refused: [read, ingest, consumer] }],
      [
        'PUT',
        '/receivers/demo/secret',
        { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
        { allowed: [admin], refused: [read, ingest, consumer] },
      ],
      ['GET', '/keys', undefined, { allowed: [admin], refused: [read, ingest, consumer] }],
      ['POST', '/keys', { name: 'x', scopes: ['admin'] }, { allowed: [admin], refused: [read, ingest, consumer] }],
      ['DELETE', '/keys/key_nope', undefined, { allowed: [], refused: [read, ingest, consumer] }],
    ];
    const before = (await server.request('GET', '/subscriptions')).json.data.length;
    for (const [method, path, body, who] of cases) {
      for (const call of who.refused) refused(await call(method, path, body), 403, 'forbidden');
      for (const call of who.allowed) {
        const res = await call(method, path, body);
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
      }
    }
    assert.equal(
      (await server.request('GET', '/subscriptions')).json.data.length,
      before + 1,
      'only the admin created a subscription',
    );
  });

  it('shows signing secrets and custom header values to admin and dispatcher keys, never to read-only ones', async () => {
    const created = await server.request('POST', '/subscriptions', {
      body: {
        url: 'https://93.184.216.34/hook',
        event_types: ['nothing.matches'],
        headers: { Authorization: 'Bearer sink-token' },
      },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id as string;
    assert.match(created.json.secret, /^whsec_/);
    const rotated = await server.request('POST', `/subscriptions/${id}/rotate-secret`);
    assert.equal(rotated.status, 200, rotated.text);
    const secret = rotated.json.secret as string;

    const readOnly = await createKey(server, ['read']);
    const dispatcher = await createKey(server, ['read', 'ingest']);
    for (const token of [false, true]) {
      const reader = as(server, token ? { token: await tokenFor(server, readOnly.key) } : { key: readOnly.key });
      const one = await reader('GET', `/subscriptions/${id}`);
      assert.equal(one.status, 200, one.text);
      assert.equal(one.json.secret, null);
      assert.equal(one.json.previous_secrets.length, 1, 'the rotation is visible');
      assert.equal(one.json.previous_secrets[0].secret, null);
      assert.equal(typeof one.json.previous_secrets[0].expires_at, 'string');
      assert.deepEqual(one.json.headers, { authorization: null }, 'the header name, not its value');
      const list = await reader('GET', '/subscriptions');
      assert.doesNotMatch(list.text, /whsec_|sink-token/);
    }
    const seen = await as(server, { key: dispatcher.key })('GET', `/subscriptions/${id}`);
    assert.equal(seen.json.secret, secret, 'a remote dispatcher needs the secret to sign');
    assert.match(seen.json.previous_secrets[0].secret, /^whsec_/);
    assert.deepEqual(seen.json.headers, { authorization: 'Bearer sink-token' });
    await server.request('DELETE', `/subscriptions/${id}`);
  });

  it("scopes Idempotency-Key to the API key: another producer's same key stores its own event", async () => {
    const mine = await createKey(server, ['ingest']);
    const theirs = await createKey(server, ['ingest']);
    const send = (credential: Record<string, string>, type: string) =>
      server.request('POST', '/events', {
        auth: false,
        headers: { ...credential, 'idempotency-key': '1' },
        body: { type, source: 's', payload: {} },
      });
    const first = await send({ 'x-api-key': mine.key }, 'idem.mine');
    const other = await send({ authorization: `Bearer ${await tokenFor(server, theirs.key)}` }, 'idem.theirs');
    assert.equal(first.status, 201);
    assert.equal(other.status, 201);
    assert.equal(other.headers.get('idempotent-replayed'), null, "not the other producer's response");
    assert.notEqual(other.json.id, first.json.id);
    assert.equal(other.json.type, 'idem.theirs');
    const again = await send({ 'x-api-key': mine.key }, 'idem.mine');
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.json, first.json);
    const viaToken = await send({ authorization: `Bearer ${await tokenFor(server, mine.key)}` }, 'idem.mine');
    assert.equal(viaToken.headers.get('idempotent-replayed'), 'true', 'a token counts as its key');
    assert.deepEqual(viaToken.json, first.json);
  });

  it('refuses invalid key requests with 400 and stores no key', async () => {
    const count = (await server.request('GET', '/keys')).json.data.length;
    const bad = [
      {},
      { name: 'x' },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['root'] },
      { name: 'x', scopes: ['read', 'read'] },
      { name: '', scopes: ['read'] },
      { name: 'x', scopes: ['read'], rate_limit: 0 },
      { name: 'x', scopes: ['read'], rate_limit: 1.5 },
      { name: 'x', scopes: ['read'], rate_limit: '10' },
      { name: 'x', scopes: 'read' },
      { name: 'x\r\nX-Injected: 1', scopes: ['read'] },
    ];
    for (const body of bad) assert.equal((await server.request('POST', '/keys', { body })).status, 400, JSON.stringify(body));
    assert.equal((await server.request('GET', '/keys')).json.data.length, count);
  });
});

describe('security: ingest rate limit', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_INGEST_RATE_LIMIT: '3' });
  });
  after(() => server.close());

  it("a key's own limit answers 429 rate_limited with Retry-After, and stores nothing over it", async () => {
    const before = await eventCount(server);
    const limited = await createKey(server, ['ingest'], { rate_limit: 2 });
    const send = as(server, { key: limited.key });
    assert.equal((await send('POST', '/events', event)).status, 201);
    assert.equal((await send('POST', '/events/batch', { events: [event] })).status, 201);
    const over = await send('POST', '/events', event);
    refused(over, 429, 'rate_limited');
    assert.equal(over.headers.get('retry-after'), '1');
    assert.equal(await eventCount(server), before + 2);
    // Reads are not ingest: not limited.
    assert.equal((await as(server, { key: (await createKey(server, ['read'])).key })('GET', '/events')).status, 200);
  });

  it('TRIGGERS_INGEST_RATE_LIMIT applies to every key without its own, the bootstrap key included', async () => {
    let accepted = 0;
    let limited = 0;
    for (let i = 0; i < 6; i++) {
      const res = await server.request('POST', '/events', { body: event });
      if (res.status === 201) accepted++;
      else if (res.status === 429) limited++;
    }
    assert.ok(accepted >= 3 && accepted <= 4, `accepted ${accepted}`);
    assert.equal(accepted + limited, 6);
  });
});
