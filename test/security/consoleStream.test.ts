/**
 * The console's live feed (`GET /console/stream`) checks credentials itself (it sits under the
 * open `/console/` prefix and takes `?access_token=` for EventSource). It must refuse what every
 * other `read` route refuses: a key or token without the `read` scope, and the tokens of a
 * revoked key. The feed carries received webhook bodies and headers, so it is worth guarding.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RECHECK_MS } from '../../src/console/server/stream.js';
import { startTestServer, type TestServer } from '../api/helpers.js';

/** Opens the stream, reads the status and error code (if any), and closes it. */
async function openStream(
  server: TestServer,
  query: string,
  headers: Record<string, string>,
): Promise<{ status: number; code?: string }> {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/console/stream${query}`, { headers, signal: controller.signal });
  if (res.status === 200) {
    controller.abort();
    return { status: 200 };
  }
  const body = (await res.json()) as { error?: { code?: string } };
  return { status: res.status, code: body.error?.code };
}

async function createKey(server: TestServer, scopes: string[]): Promise<{ id: string; key: string; token: string }> {
  const created = await server.request('POST', '/keys', { body: { name: `stream-${scopes.join('-')}`, scopes } });
  assert.equal(created.status, 201, created.text);
  const token = await server.request('POST', '/token', { auth: false, body: { api_key: created.json.key } });
  assert.equal(token.status, 200, token.text);
  return { id: created.json.id, key: created.json.key, token: token.json.access_token };
}

describe('security: the console live feed', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('refuses keys and tokens without the read scope (403), however they are sent', async () => {
    const ingest = await createKey(server, ['ingest']);
    for (const [query, headers] of [
      [`?access_token=${ingest.token}`, {}],
      ['', { authorization: `Bearer ${ingest.token}` }],
      ['', { 'x-api-key': ingest.key }],
    ] as const) {
      assert.deepEqual(
        await openStream(server, query, headers),
        { status: 403, code: 'forbidden' },
        `${query} ${JSON.stringify(headers)}`,
      );
    }
  });

  it('opens for a stored read key, and refuses its tokens once the key is revoked', async () => {
    const reader = await createKey(server, ['read']);
    assert.equal((await openStream(server, '', { 'x-api-key': reader.key })).status, 200);
    assert.equal((await openStream(server, `?access_token=${reader.token}`, {})).status, 200);
    assert.equal((await server.request('DELETE', `/keys/${reader.id}`)).status, 200);
    assert.deepEqual(await openStream(server, `?access_token=${reader.token}`, {}), { status: 401, code: 'key_revoked' });
    assert.deepEqual(await openStream(server, '', { authorization: `Bearer ${reader.token}` }), {
      status: 401,
      code: 'key_revoked',
    });
    assert.deepEqual(await openStream(server, '', { 'x-api-key': reader.key }), { status: 401, code: 'invalid_credentials' });
  });

  it('ends a stream already open once its key is revoked (at the next re-check, within RECHECK_MS)', async () => {
    const reader = await createKey(server, ['read']);
    const streams = [
      await fetch(`${server.url}/console/stream`, { headers: { 'x-api-key': reader.key } }),
      await fetch(`${server.url}/console/stream?access_token=${reader.token}`),
    ];
    const untouched = await fetch(`${server.url}/console/stream`, { headers: { 'x-api-key': server.apiKey } });
    for (const res of [...streams, untouched]) assert.equal(res.status, 200);
    const ended = streams.map(async (res) => {
      // Read until the server ends the stream.
      for await (const _chunk of res.body as AsyncIterable<Uint8Array>) {
        // frames: hello, summary…
      }
      return Date.now();
    });
    const revokedAt = Date.now();
    assert.equal((await server.request('DELETE', `/keys/${reader.id}`)).status, 200);
    const times = await Promise.race([
      Promise.all(ended),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still open')), RECHECK_MS + 5_000)),
    ]);
    for (const at of times) assert.ok(at - revokedAt <= RECHECK_MS + 2_000, `ended ${at - revokedAt} ms after the revocation`);
    // Another key's stream stays open.
    const reader2 = untouched.body?.getReader();
    assert.ok(reader2);
    assert.equal((await reader2.read()).done, false);
    await reader2.cancel();
  });
});
