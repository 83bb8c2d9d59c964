/**
 * Hostile bodies and headers: oversize, deeply nested, header injection through a
 * subscription's custom headers. Each is refused with a clear 4xx, never a 5xx or a crash, and
 * nothing is stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, startTestServer, type TestServer } from '../api/helpers.js';

const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('security: hostile bodies', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_BODY_LIMIT: '64kb' });
  });
  after(() => server.close());

  const counts = async () => ({
    events: (await server.request('GET', '/events?limit=1000')).json.data.length as number,
    subscriptions: (await server.request('GET', '/subscriptions')).json.data.length as number,
    keys: (await server.request('GET', '/keys')).json.data.length as number,
  });
  const raw = (method: string, path: string, body: string) =>
    server.request(method, path, { raw: body, headers: { 'content-type': 'application/json' } });

  it('refuses 10,000-deep JSON on every write route with 400, and the server keeps serving', async () => {
    const before = await counts();
    const routes: [string, string, (nested: string) => string][] = [
      ['POST', '/events', (n) => `{"type":"a.b","source":"s","payload":{"x":${n}}}`],
      ['POST', '/events/batch', (n) => `{"events":[{"type":"a.b","source":"s","payload":{"x":${n}}}]}`],
      ['POST', '/subscriptions', (n) => `{"url":null,"metadata":{"x":${n}}}`],
      ['PATCH', '/subscriptions/default', (n) => `{"metadata":${n}}`],
      ['POST', '/keys', (n) => `{"name":"x","scopes":["read"],"extra":${n}}`],
      ['POST', '/token', (n) => `{"api_key":${n}}`],
      ['POST', '/inbox/claim', (n) => `{"subscription_id":"default","x":${n}}`],
      ['POST', '/deliveries/settle', (n) => `{"settlements":${n}}`],
      ['POST', '/dead-letters/replay', (n) => `{"subscription_id":${n}}`],
    ];
    for (const [method, path, body] of routes) {
      for (const nested of [deepObject(10_000), deepArray(10_000), deepArray(200_000)]) {
        const res = await raw(method, path, body(nested));
        assert.ok(res.status === 400 || res.status === 413, `${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
        assert.ok(['invalid_json', 'payload_too_large'].includes(errorCode(res)));
      }
    }
    assert.deepEqual(await counts(), before, 'nothing stored');
    // Brackets inside strings are text, not nesting; moderate nesting is fine.
    const text = await raw('POST', '/events', `{"type":"a.b","source":"s","payload":{"s":"${'['.repeat(5_000)}","x":${deepObject(50)}}}`);
    assert.equal(text.status, 201, text.text);
    assert.equal((await server.request('GET', '/health', { auth: false })).status, 200);
  });

  it('refuses oversize bodies with 413 and oversize headers with 431', async () => {
    const before = await counts();
    const big = JSON.stringify({ type: 'a.b', source: 's', payload: { blob: 'x'.repeat(70 * 1024) } });
    const res = await raw('POST', '/events', big);
    assert.equal(res.status, 413);
    assert.equal(errorCode(res), 'payload_too_large');
    assert.equal((await raw('POST', '/events/batch', JSON.stringify({ events: [JSON.parse(big)] }))).status, 413);
    assert.equal((await raw('POST', '/subscriptions', JSON.stringify({ url: null, description: 'x'.repeat(70 * 1024) }))).status, 413);
    const headers = await fetch(`${server.url}/events`, { headers: { 'x-api-key': server.apiKey, 'x-big': 'x'.repeat(64 * 1024) } });
    assert.equal(headers.status, 431);
    await headers.arrayBuffer();
    assert.deepEqual(await counts(), before, 'nothing stored');
  });

  it("refuses header injection through a subscription's custom headers, storing nothing", async () => {
    const before = await counts();
    const attempts: Record<string, string>[] = [
      { 'X-Team': 'a\r\nX-Injected: 1' },
      { 'X-Team': 'a\nX-Injected: 1' },
      { 'X-Team': 'a\rb' },
      { 'X-Team': 'a\u0000b' },
      { 'X-Team\r\nX-Injected': 'v' },
      { 'X Team': 'v' },
      { '': 'v' },
      { Host: 'internal.example' },
      { 'Content-Length': '0' },
      { 'Transfer-Encoding': 'chunked' },
      { 'webhook-signature': 'v1,forged' },
      { 'Webhook-Id': 'msg_forged' },
      { 'X-Team': 'é' },
    ];
    for (const headers of attempts) {
      const res = await server.request('POST', '/subscriptions', { body: { url: 'https://example.com/hook', headers } });
      assert.equal(res.status, 400, `${JSON.stringify(headers)}: ${res.status} ${res.text}`);
      const patched = await server.request('PATCH', '/subscriptions/default', { body: { headers } });
      assert.equal(patched.status, 400, `PATCH ${JSON.stringify(headers)}`);
    }
    assert.deepEqual(await counts(), before, 'nothing stored');
    const current = (await server.request('GET', '/subscriptions/default')).json;
    assert.ok(!JSON.stringify(current).includes('Injected'));
  });
});
