/**
 * Property: whatever arrives at `POST /receiver/{name}` — any bytes, any content-type, any
 * Standard Webhooks or legacy headers, well-formed or not — the answer is a 200 or a 4xx with
 * the JSON error shape, never a 5xx, and every accepted request reads back byte for byte (as
 * UTF-8 text) from the store. With a secret set, nothing unsigned is ever accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { startTestServer, type TestServer } from '../api/helpers.js';
import { SECRET, signedHeaders } from './helpers.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 80);

/** Header values fastify and node accept: visible ASCII and spaces, no leading/trailing space. */
const headerValue = fc.stringMatching(/^[!-~]([ -~]{0,80}[!-~])?$/);

const headers = fc.record(
  {
    'content-type': fc.oneof(
      headerValue,
      fc.constantFrom('application/json', 'text/plain; charset=utf-8', 'application/octet-stream', ';;'),
    ),
    'webhook-id': headerValue,
    'webhook-timestamp': fc.oneof(headerValue, fc.integer({ min: 0, max: 4_000_000_000 }).map(String)),
    'webhook-signature': fc.oneof(
      headerValue,
      fc
        .array(
          fc.oneof(
            fc.base64String({ maxLength: 60 }).map((b) => `v1,${b}`),
            headerValue,
          ),
          { maxLength: 4 },
        )
        .map((parts) => parts.join(' ').trim() || 'v1,'),
    ),
    'x-webhook-signature': fc.oneof(headerValue, fc.stringMatching(/^[0-9a-f]{64}$/)),
  },
  { requiredKeys: [] },
);

const bodies = fc.oneof(
  fc.string({ maxLength: 300 }).map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.json().map((text) => Buffer.from(text)),
);

const names = fc.oneof(fc.constantFrom('demo', 'secret', 'a-b_C9'), fc.string({ minLength: 1, maxLength: 70 }));

describe('POST /receiver/{name} (properties)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await server.store.setReceiverSecret('secret', SECRET);
  });
  after(() => server.close());

  it('never answers 5xx; accepted requests are stored as sent; nothing unsigned passes a secret', async () => {
    await fc.assert(
      fc.asyncProperty(names, bodies, headers, fc.boolean(), async (name, body, sent, signIt) => {
        const all: Record<string, string> = { ...sent };
        if (signIt) Object.assign(all, signedHeaders(SECRET, body.toString('utf8')));
        const url = `/receiver/${encodeURIComponent(name)}`;
        const res = await server.app.inject({ method: 'POST', url, headers: all, payload: body });
        assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body.slice(0, 200)}`);
        const json = JSON.parse(res.body) as { id?: string; verdict?: string; error?: { code?: unknown; message?: unknown } };
        if (res.statusCode >= 400) {
          assert.equal(typeof json.error?.code, 'string', res.body);
          assert.equal(typeof json.error?.message, 'string', res.body);
          return;
        }
        assert.equal(res.statusCode, 200);
        const stored = await server.store.getReceived(json.id as string);
        assert.ok(stored);
        assert.equal(stored.name, name);
        assert.equal(stored.body_size, body.length);
        assert.equal(stored.body, body.toString('utf8').replaceAll('\u0000', '\uFFFD'));
        if (name === 'secret') assert.equal(json.verdict, 'verified', 'the only way past a secret');
        else assert.equal(json.verdict, 'unsigned');
      }),
      { numRuns: RUNS },
    );
  });
});
