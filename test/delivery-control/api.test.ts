/**
 * Delivery-control fields through the HTTP API: set on create, patched, reset with null, shown
 * on reads; bad values answer 400 with a clear code (header injection included), never a 5xx —
 * checked by hand and by fast-check.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../api/helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

describe('subscription delivery control (API)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
  });
  after(() => server.close());

  it('creates, reads, patches and resets the fields', async () => {
    const created = await server.request('POST', '/subscriptions', {
      body: {
        url: 'https://example.com/hook',
        rate_limit: 20,
        max_concurrency: 4,
        timeout: '2500ms',
        headers: { 'X-Tenant': 'acme' },
        retry_schedule: '1s, 10s,1m',
        ordered: true,
      },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.json.id as string;
    assert.deepEqual(
      {
        rate_limit: created.json.rate_limit,
        max_concurrency: created.json.max_concurrency,
        timeout: created.json.timeout,
        headers: created.json.headers,
        retry_schedule: created.json.retry_schedule,
        ordered: created.json.ordered,
        first_failure_at: created.json.first_failure_at,
        last_success_at: created.json.last_success_at,
      },
      {
        rate_limit: 20,
        max_concurrency: 4,
        timeout: '2500ms',
        headers: { 'x-tenant': 'acme' },
        retry_schedule: '1s,10s,1m',
        ordered: true,
        first_failure_at: null,
        last_success_at: null,
      },
    );
    assert.deepEqual((await server.store.getSubscription(id))?.delivery.retry_schedule, [1_000, 10_000, 60_000]);

    const patched = await server.request('PATCH', `/subscriptions/${id}`, { body: { rate_limit: null, timeout: 30, ordered: false } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.rate_limit, null);
    assert.equal(patched.json.timeout, '30s');
    assert.equal(patched.json.ordered, false);
    assert.equal(patched.json.max_concurrency, 4, 'untouched fields stay');
    assert.deepEqual(patched.json.headers, { 'x-tenant': 'acme' });

    const read = await server.request('GET', `/subscriptions/${id}`);
    assert.equal(read.json.timeout, '30s');
    const reset = await server.request('PATCH', `/subscriptions/${id}`, { body: { headers: null, retry_schedule: null } });
    assert.deepEqual(reset.json.headers, {});
    assert.equal(reset.json.retry_schedule, null);
    const plain = await server.request('POST', '/subscriptions', { body: { url: null } });
    assert.equal(plain.json.ordered, false);
    assert.equal(plain.json.rate_limit, null);
  });

  it('refuses bad values with a 400 naming the field, and stores nothing', async () => {
    const before = (await server.store.listSubscriptions()).length;
    const cases: [Record<string, unknown>, string][] = [
      [{ rate_limit: 0 }, 'invalid_rate_limit'],
      [{ rate_limit: -5 }, 'invalid_rate_limit'],
      [{ max_concurrency: 0 }, 'invalid_max_concurrency'],
      [{ max_concurrency: 1.5 }, ''],
      [{ timeout: '10 years' }, 'invalid_timeout'],
      [{ timeout: '50ms' }, 'invalid_timeout'],
      [{ timeout: '6m' }, 'invalid_timeout'],
      [{ retry_schedule: '1s,soon' }, 'invalid_retry_schedule'],
      [{ retry_schedule: '1s,,2s' }, 'invalid_retry_schedule'],
      [{ retry_schedule: '30d' }, 'invalid_retry_schedule'],
      [{ headers: { 'x-a': 'one\r\nx-injected: yes' } }, 'invalid_headers'],
      [{ headers: { 'x-a': 'line\nbreak' } }, 'invalid_headers'],
      [{ headers: { 'bad name': 'v' } }, 'invalid_headers'],
      [{ headers: { 'Content-Type': 'text/plain' } }, 'invalid_headers'],
      [{ headers: { 'webhook-signature': 'v1,forged' } }, 'invalid_headers'],
      [{ headers: { Host: 'evil.example' } }, 'invalid_headers'],
      [{ headers: { 'Transfer-Encoding': 'chunked' } }, 'invalid_headers'],
      [{ headers: { 'x-a': 'a', 'X-A': 'b' } }, 'invalid_headers'],
      [{ ordered: 'yes' }, ''],
    ];
    for (const [fields, code] of cases) {
      const res = await server.request('POST', '/subscriptions', { body: { url: 'https://example.com/h', ...fields } });
      assert.equal(res.status, 400, `${JSON.stringify(fields)} → ${res.status} ${res.text}`);
      if (code) assert.equal(res.json.error.code, code, res.text);
      assert.equal(typeof res.json.error.message, 'string');
    }
    assert.equal((await server.store.listSubscriptions()).length, before);
    const created = await server.request('POST', '/subscriptions', { body: { url: null } });
    const patched = await server.request('PATCH', `/subscriptions/${created.json.id}`, { body: { headers: { 'x-a': 'a\rb' } } });
    assert.equal(patched.status, 400);
    assert.deepEqual((await server.store.getSubscription(created.json.id))?.delivery.headers, {});
  });

  it('any value of any delivery-control field answers 2xx or 4xx, never 5xx (property)', async () => {
    const anyValue = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      fc.string(),
      fc.constantFrom('1s', '0', '', '1s,2s', '5m', '100ms', '1e9s', ' ', ',', '1s,,2s'),
      fc.dictionary(fc.string({ maxLength: 20 }), fc.oneof(fc.string({ maxLength: 30 }), fc.integer()), { maxKeys: 4 }),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    const field = fc.constantFrom('rate_limit', 'max_concurrency', 'timeout', 'headers', 'retry_schedule', 'ordered');
    const created = await server.request('POST', '/subscriptions', { body: { url: null } });
    await fc.assert(
      fc.asyncProperty(field, anyValue, fc.boolean(), async (name, value, patch) => {
        const body = { [name]: value };
        const res = patch
          ? await server.request('PATCH', `/subscriptions/${created.json.id}`, { body })
          : await server.request('POST', '/subscriptions', { body: { url: null, ...body } });
        assert.ok(res.status < 500, `${res.status} for ${JSON.stringify(body)}: ${res.text}`);
        if (res.status >= 400) assert.equal(typeof res.json.error.code, 'string');
        else {
          const headers = res.json.headers as Record<string, string>;
          for (const v of Object.values(headers)) assert.ok(!/[\r\n]/.test(v));
        }
      }),
      { numRuns: RUNS },
    );
  });
});
