/**
 * Property tests on every route's path and query input: whatever ids, cursors, limits, filters
 * and times arrive in the URL, the API answers with a 2xx or a 4xx, never a 5xx, and every error
 * is `{ error: { code, message } }`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from './helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 60);

/** Routes taking ids in the path, with `{}` where a generated segment goes. */
const PATH_ROUTES: ['GET' | 'POST' | 'DELETE', string][] = [
  ['GET', '/events/{}'],
  ['DELETE', '/events/{}'],
  ['POST', '/inbox/{}/ack'],
  ['GET', '/subscriptions/{}'],
  ['DELETE', '/subscriptions/{}'],
  ['POST', '/subscriptions/{}/disable'],
  ['POST', '/subscriptions/{}/enable'],
  ['POST', '/deliveries/{}/replay'],
  ['GET', '/receivers/{}/requests'],
  ['DELETE', '/receivers/{}/requests'],
  ['DELETE', '/keys/{}'],
];

/** Routes with query strings, and the parameters they read. */
const QUERY_ROUTES: [string, string[]][] = [
  ['/events', ['limit', 'cursor', 'order', 'type', 'source', 'status', 'since', 'until']],
  ['/events/export', ['format', 'limit', 'type', 'source', 'status', 'since', 'until']],
  ['/inbox', ['subscription', 'limit', 'cursor', 'order', 'type']],
  ['/dead-letters', ['subscription', 'type', 'since', 'until', 'limit', 'cursor']],
  ['/receiver-requests', ['name', 'verdict', 'limit', 'cursor']],
  ['/subscriptions', ['limit']],
];

const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,140}$/),
  fc.constantFrom('evt_01J0000000000000000000000', '..', '%00', '%2F', 'default', '-1', '9'.repeat(30)),
);

const value = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('', 'asc', 'desc', 'pending', 'failed', 'delivered', 'csv', 'ndjson', '*', 'order.*', '2026-01-01T00:00:00Z', 'eyJ4IjoxfQ', '-5', '1e309'),
);

describe('path and query input (properties)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  function assertWellFormed(res: { statusCode: number; body: string; headers: Record<string, unknown> }, input: string): void {
    assert.ok(res.statusCode < 500, `${res.statusCode} for ${input}: ${res.body.slice(0, 200)}`);
    if (res.statusCode >= 400) {
      const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
      assert.equal(typeof body.error?.code, 'string', `${input}: ${res.body}`);
      assert.equal(typeof body.error?.message, 'string', `${input}: ${res.body}`);
    }
  }

  for (const [method, template] of PATH_ROUTES) {
    it(`${method} ${template} with any id`, async () => {
      await fc.assert(
        fc.asyncProperty(segment, async (id) => {
          const url = template.replace('{}', encodeURIComponent(id));
          const res = await server.app.inject({ method, url, headers: { 'x-api-key': server.apiKey } });
          assertWellFormed(res, `${method} ${url}`);
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const [path, names] of QUERY_ROUTES) {
    it(`GET ${path} with any query`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), value, { maxKeys: names.length }), async (query) => {
          const url = `${path}?${new URLSearchParams(query).toString()}`;
          const res = await server.app.inject({ method: 'GET', url, headers: { 'x-api-key': server.apiKey } });
          assertWellFormed(res, `GET ${url}`);
        }),
        { numRuns: RUNS },
      );
    });
  }
});
