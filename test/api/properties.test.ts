/**
 * Property tests on request bodies: whatever arrives, the API answers with a 2xx or a 4xx, and
 * every error is `{ error: { code, message } }`. Valid events are always accepted and read back
 * unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from './helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

describe('request bodies (properties)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_MAX_BATCH: '20' });
  });
  after(() => server.close());

  async function send(method: 'POST' | 'PATCH', url: string, payload: string, contentType = 'application/json') {
    const res = await server.app.inject({
      method,
      url,
      headers: { 'content-type': contentType, 'x-api-key': server.apiKey },
      payload,
    });
    return res;
  }

  function assertWellFormed(res: { statusCode: number; body: string }, input: string): void {
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${input.slice(0, 200)}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
      assert.equal(typeof body.error?.code, 'string', res.body);
      assert.equal(typeof body.error?.message, 'string', res.body);
    }
  }

  const targets: ['POST' | 'PATCH', string][] = [
    ['POST', '/events'],
    ['POST', '/events/batch'],
    ['POST', '/token'],
    ['POST', '/subscriptions'],
    ['PATCH', '/subscriptions/default'],
    ['POST', '/inbox/claim'],
    ['POST', '/deliveries/settle'],
    ['POST', '/deliveries/1/nack'],
    ['POST', '/dead-letters/replay'],
  ];

  // Shapes close to the real ones, so validation is exercised past the first keyword.
  const nearMiss = fc.record(
    {
      type: fc.oneof(fc.string(), fc.jsonValue()),
      source: fc.oneof(fc.string(), fc.jsonValue()),
      payload: fc.jsonValue(),
      events: fc.jsonValue(),
      api_key: fc.jsonValue(),
      password: fc.jsonValue(),
      subscription: fc.jsonValue(),
      wait: fc.oneof(fc.double(), fc.string()),
      lease: fc.oneof(fc.double(), fc.string()),
      limit: fc.jsonValue(),
      url: fc.oneof(fc.constantFrom('http://127.0.0.1/', 'https://10.1.2.3/x', 'ftp://x', 'http://[::1]:80/', 'https://user:pw@h/'), fc.string(), fc.constant(null)),
      event_types: fc.jsonValue(),
      results: fc.jsonValue(),
      status_code: fc.jsonValue(),
      lease_token: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  it('never answers arbitrary JSON with a 5xx, and errors are always JSON with a code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.oneof(fc.jsonValue(), nearMiss), async ([method, url], value) => {
        const payload = JSON.stringify(value) ?? 'null';
        assertWellFormed(await send(method, url, payload), payload);
      }),
      { numRuns: RUNS * targets.length },
    );
  });

  it('never answers arbitrary text with a 5xx, whatever the content-type', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=utf-8'),
        async ([method, url], payload, contentType) => {
          assertWellFormed(await send(method, url, payload, contentType), payload);
        },
      ),
      { numRuns: RUNS * 4 },
    );
  });

  const segment = fc.stringMatching(/^[A-Za-z0-9_\-:/]{1,12}$/);
  const validEvent = fc.record({
    type: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.')),
    source: fc.string({ minLength: 1, maxLength: 200 }),
    payload: fc
      .dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 })
      .filter((payload) => !JSON.stringify(payload).includes('"__proto__"')),
  });

  it('accepts every valid event with 201 and reads it back unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(validEvent, async (event) => {
        const body = JSON.stringify(event);
        const res = await send('POST', '/events', body);
        assert.equal(res.statusCode, 201, `${body.slice(0, 300)} → ${res.body}`);
        const created = JSON.parse(res.body) as { id: string; type: string; source: string };
        assert.equal(created.type, event.type);
        assert.equal(created.source, event.source);
        const read = await server.app.inject({ method: 'GET', url: `/events/${created.id}`, headers: { 'x-api-key': server.apiKey } });
        assert.equal(read.statusCode, 200);
        const stored = JSON.parse(read.body) as { type: string; source: string; payload: unknown };
        assert.equal(stored.type, event.type);
        assert.equal(stored.source, event.source);
        assert.deepEqual(stored.payload, JSON.parse(JSON.stringify(event.payload)));
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
