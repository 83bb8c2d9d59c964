/**
 * Property tests on the security surface: whatever body reaches POST /keys, whatever id reaches
 * DELETE /keys/{id}, whatever credential arrives — the answer is a 2xx only when it should be, a
 * well-formed 4xx otherwise, never a 5xx; and no made-up credential opens anything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { SCOPES } from '../../src/core/apiKeys.js';
import { startTestServer, type TestServer } from '../api/helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 80);

function wellFormed(res: { statusCode: number; body: string }): void {
  assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body.slice(0, 200)}`);
  if (res.statusCode >= 400) {
    const body = JSON.parse(res.body) as { error?: { code?: unknown; message?: unknown } };
    assert.equal(typeof body.error?.code, 'string');
    assert.equal(typeof body.error?.message, 'string');
  }
}

/** Whether POST /keys must accept this body. */
function valid(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { name, scopes, rate_limit } = body as Record<string, unknown>;
  if (typeof name !== 'string' || name.length < 1 || name.length > 200 || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return false;
  if (!Array.isArray(scopes) || scopes.length < 1 || scopes.length > 3) return false;
  if (!scopes.every((s) => (SCOPES as readonly unknown[]).includes(s)) || new Set(scopes).size !== scopes.length) return false;
  if (rate_limit !== undefined && rate_limit !== null && !(Number.isInteger(rate_limit) && (rate_limit as number) >= 1 && (rate_limit as number) <= 1_000_000)) return false;
  return true;
}

describe('security: properties', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const inject = (method: 'POST' | 'DELETE' | 'GET', url: string, headers: Record<string, string>, payload?: string) =>
    server.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const admin = () => ({ 'x-api-key': server.apiKey, 'content-type': 'application/json' });

  it('POST /keys: 201 exactly for valid bodies (scopes and limit as asked), a 4xx otherwise', async () => {
    const body = fc.oneof(
      fc.record(
        {
          name: fc.oneof(fc.string({ maxLength: 210 }), fc.integer(), fc.constant(null)),
          scopes: fc.oneof(fc.subarray([...SCOPES]), fc.array(fc.oneof(fc.constantFrom(...SCOPES), fc.string({ maxLength: 8 })), { maxLength: 4 }), fc.string()),
          rate_limit: fc.oneof(fc.integer({ min: -5, max: 2_000_000 }), fc.double(), fc.constant(null), fc.string({ maxLength: 4 })),
        },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 3 }),
    );
    await fc.assert(
      fc.asyncProperty(body, async (generated) => {
        // What the server receives: JSON has no NaN or ±Infinity (they are sent as null), so the
        // model judges the body as sent, not the value generated.
        const sent = JSON.stringify(generated);
        const input = JSON.parse(sent) as unknown;
        const res = await inject('POST', '/keys', admin(), sent);
        wellFormed(res);
        const expected = valid(input);
        assert.equal(res.statusCode === 201, expected, `${res.statusCode} for ${JSON.stringify(input).slice(0, 200)}: ${res.body.slice(0, 200)}`);
        if (res.statusCode === 201) {
          const created = JSON.parse(res.body) as { key: string; scopes: string[]; rate_limit: number | null };
          const asked = input as { scopes: string[]; rate_limit?: number | null };
          assert.deepEqual([...created.scopes].sort(), [...asked.scopes].sort());
          assert.equal(created.rate_limit, asked.rate_limit ?? null);
          const token = await inject('POST', '/token', { 'content-type': 'application/json' }, JSON.stringify({ api_key: created.key }));
          assert.equal(token.statusCode, 200);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('DELETE /keys/{id}: any id answers 200, 400 or 404, never revokes another key', async () => {
    const keep = await inject('POST', '/keys', admin(), JSON.stringify({ name: 'keep', scopes: ['read'] }));
    const kept = JSON.parse(keep.body) as { id: string; key: string };
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (id) => {
        fc.pre(id !== kept.id);
        const res = await inject('DELETE', `/keys/${encodeURIComponent(id)}`, { 'x-api-key': server.apiKey });
        wellFormed(res);
        assert.ok([400, 404, 405].includes(res.statusCode) || res.statusCode === 200, String(res.statusCode));
      }),
      { numRuns: RUNS },
    );
    assert.equal((await inject('GET', '/events', { 'x-api-key': kept.key })).statusCode, 200, 'the kept key still works');
  });

  it('made-up keys and tokens never open anything (401, well formed)', async () => {
    const credential = fc.oneof(
      fc.string({ minLength: 1, maxLength: 200 }).map((key) => ({ 'x-api-key': key })),
      fc.string({ minLength: 1, maxLength: 400 }).map((token) => ({ authorization: `Bearer ${token}` })),
      fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map(([a, b, c]) => ({ authorization: `Bearer ${a}.${b}.${c}` })),
    );
    await fc.assert(
      fc.asyncProperty(credential, fc.constantFrom('/events', '/subscriptions', '/keys'), async (headers, path) => {
        const safe = Object.fromEntries(Object.entries(headers).filter(([, v]) => [...v].every((c) => c === '\t' || (c >= ' ' && c <= '~')) && v.trim() !== '' && v.trim() !== 'Bearer'));
        fc.pre(Object.keys(safe).length > 0 && safe['x-api-key'] !== server.apiKey);
        const res = await inject('GET', path, safe);
        wellFormed(res);
        assert.equal(res.statusCode, 401, `${JSON.stringify(safe)} → ${res.statusCode}`);
      }),
      { numRuns: RUNS },
    );
  });
});
