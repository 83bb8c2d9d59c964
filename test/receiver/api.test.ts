/**
 * The receiver's management API over real HTTP: listing receivers, reading and paging the log
 * (one receiver's, everyone's), clearing it, setting secrets, the by-hand verify tool, names,
 * authentication, and the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, startTestServer, type TestServer } from '../api/helpers.js';
import { legacyHeader, post, SECRET, signedHeaders } from './helpers.js';

const body = '{"hello":"world"}';

describe('receiver management API', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('needs credentials, unlike the endpoint', async () => {
    for (const [method, path] of [
      ['GET', '/receivers'],
      ['GET', '/receivers/demo/requests'],
      ['GET', '/receiver-requests'],
      ['GET', '/receivers/demo/requests/1'],
      ['DELETE', '/receivers/demo/requests'],
      ['PUT', '/receivers/demo/secret'],
      ['DELETE', '/receivers/demo/secret'],
      ['POST', '/receivers/verify'],
    ] as const) {
      const res = await server.request(method, path, {
        auth: false,
        body: method === 'PUT' || method === 'POST' ? {} : undefined,
      });
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });

  it('lists, reads, pages, filters and clears the log', async () => {
    await server.request('PUT', '/receivers/signed/secret', { body: { secret: SECRET } });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post(server.url, 'alpha', `{"i":${i}}`)).json.id);
    const goodHeaders = signedHeaders(SECRET, body);
    const good = await post(server.url, 'signed', body, goodHeaders);
    const bad = await post(server.url, 'signed', body, { 'x-webhook-signature': legacyHeader('wrong', body) });
    assert.equal(bad.status, 401);
    const badId = (await server.store.listReceived({ limit: 1, name: 'signed' })).items[0]?.id;

    const receivers = await server.request('GET', '/receivers');
    assert.equal(receivers.status, 200);
    const byName = Object.fromEntries(receivers.json.data.map((r: { name: string }) => [r.name, r]));
    assert.deepEqual(
      { ...byName.alpha, last_received_at: typeof byName.alpha.last_received_at },
      { name: 'alpha', count: 5, last_received_at: 'string', has_secret: false, verifies_with: null },
    );
    assert.equal(byName.signed.count, 2);
    assert.equal(byName.signed.has_secret, true);
    assert.equal(byName.signed.verifies_with, 'own_secret');
    assert.ok(!Number.isNaN(Date.parse(byName.alpha.last_received_at)));

    const first = await server.request('GET', '/receivers/alpha/requests?limit=2');
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.json.data.map((r: { id: string }) => r.id),
      [ids[4], ids[3]],
    );
    const item = first.json.data[0];
    assert.equal(item.name, 'alpha');
    assert.equal(item.body, '{"i":4}');
    assert.equal(item.verdict, 'unsigned');
    assert.equal(item.headers['content-type'], 'application/json');
    assert.ok(!Number.isNaN(Date.parse(item.received_at)));
    const rest = await server.request('GET', `/receivers/alpha/requests?limit=2&cursor=${first.json.next_cursor}`);
    assert.deepEqual(
      rest.json.data.map((r: { id: string }) => r.id),
      [ids[2], ids[1]],
    );

    const all = await server.request('GET', '/receiver-requests?limit=100');
    assert.deepEqual(
      all.json.data.slice(0, 2).map((r: { id: string }) => r.id),
      [badId, good.json.id],
    );
    assert.equal(all.json.next_cursor, null);
    const verified = await server.request('GET', '/receiver-requests?verdict=verified');
    assert.deepEqual(
      verified.json.data.map((r: { id: string }) => r.id),
      [good.json.id],
    );
    const invalid = await server.request('GET', '/receivers/signed/requests?verdict=invalid_signature');
    assert.deepEqual(
      invalid.json.data.map((r: { id: string }) => r.id),
      [badId],
    );
    const onlyAlpha = await server.request('GET', '/receiver-requests?name=alpha&limit=100');
    assert.equal(onlyAlpha.json.data.length, 5);

    const one = await server.request('GET', `/receivers/signed/requests/${good.json.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.json.verdict, 'verified');
    assert.equal(one.json.webhook_id, goodHeaders['webhook-id']);
    assert.equal(one.json.body, body);
    assert.equal(one.json.body_size, body.length);
    for (const path of [
      `/receivers/alpha/requests/${good.json.id}`,
      '/receivers/signed/requests/999999',
      '/receivers/signed/requests/x',
    ]) {
      const missing = await server.request('GET', path);
      assert.equal(missing.status, 404, path);
      assert.equal(errorCode(missing), 'not_found');
    }

    const cleared = await server.request('DELETE', '/receivers/alpha/requests');
    assert.deepEqual([cleared.status, cleared.json], [200, { deleted: 5 }]);
    assert.deepEqual((await server.request('DELETE', '/receivers/alpha/requests')).json, { deleted: 0 });
    assert.deepEqual((await server.request('GET', '/receivers/alpha/requests')).json, { data: [], next_cursor: null });
    assert.equal((await server.request('GET', '/receivers/signed/requests')).json.data.length, 2, 'other logs are kept');
  });

  it('rejects bad names, bad cursors, bad limits and bad verdicts with 400', async () => {
    const cases: [string, string, unknown?][] = [
      ['GET', '/receivers/bad.name/requests'],
      ['GET', '/receivers/bad.name/requests/1'],
      ['DELETE', '/receivers/bad.name/requests'],
      ['PUT', '/receivers/bad.name/secret', { secret: 's' }],
      ['DELETE', '/receivers/bad.name/secret'],
      ['GET', '/receiver-requests?name=bad.name'],
      ['GET', `/receivers/${'a'.repeat(65)}/requests`],
    ];
    for (const [method, path, requestBody] of cases) {
      const res = await server.request(method, path, { body: requestBody });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.equal(errorCode(res), 'invalid_receiver_name', `${method} ${path}`);
    }
    assert.equal(errorCode(await server.request('GET', '/receiver-requests?cursor=nonsense')), 'invalid_cursor');
    assert.equal((await server.request('GET', '/receiver-requests?limit=0')).status, 400);
    assert.equal((await server.request('GET', '/receiver-requests?limit=1001')).status, 400);
    assert.equal((await server.request('GET', '/receiver-requests?verdict=maybe')).status, 400);
  });

  it('secrets: any text from 1 to 256 characters; 204 on set and remove', async () => {
    assert.equal((await server.request('PUT', '/receivers/s/secret', { body: { secret: 'x'.repeat(256) } })).status, 204);
    assert.equal(await server.store.getReceiverSecret('s'), 'x'.repeat(256));
    for (const bad of [{ secret: '' }, { secret: 'x'.repeat(257) }, { secret: 42 }, {}]) {
      const res = await server.request('PUT', '/receivers/s/secret', { body: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      errorCode(res);
    }
    assert.equal(
      (await server.request('PUT', '/receivers/s/secret', { raw: 'secret', headers: { 'content-type': 'text/plain' } })).status,
      415,
    );
    assert.equal((await server.request('DELETE', '/receivers/s/secret')).status, 204);
    assert.equal(await server.store.getReceiverSecret('s'), null);
    assert.equal((await server.request('DELETE', '/receivers/never-set/secret')).status, 204);
  });

  it('the verify tool judges a request by hand and shows the expected signatures', async () => {
    const headers = signedHeaders(SECRET, body);
    const verify = (request: unknown) => server.request('POST', '/receivers/verify', { body: request });

    const ok = await verify({ secret: SECRET, body, headers });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json, {
      verdict: 'verified',
      legacy: false,
      signature_matches: true,
      expected_signature: headers['webhook-signature'],
      expected_legacy_signature: legacyHeader(SECRET, body),
    });

    const tampered = await verify({ secret: SECRET, body: `${body} `, headers });
    assert.equal(tampered.json.verdict, 'invalid_signature');
    assert.equal(tampered.json.signature_matches, false);
    assert.notEqual(tampered.json.expected_signature, headers['webhook-signature']);

    const old = signedHeaders(SECRET, body, { at: new Date(Date.now() - 3_600_000) });
    const stale = await verify({ secret: SECRET, body, headers: old });
    assert.equal(stale.json.verdict, 'stale_timestamp');
    assert.equal(stale.json.signature_matches, true, 'the signature itself is right');
    assert.equal(stale.json.expected_signature, old['webhook-signature']);

    const legacy = await verify({ secret: SECRET, body, legacy_signature: legacyHeader(SECRET, body) });
    assert.deepEqual([legacy.json.verdict, legacy.json.legacy, legacy.json.signature_matches], ['verified', true, true]);
    assert.equal(legacy.json.expected_signature, null);

    const nothing = await verify({ secret: SECRET, body });
    assert.equal(nothing.json.verdict, 'missing_signature');
    assert.equal(nothing.json.expected_legacy_signature, legacyHeader(SECRET, body));

    const computeOnly = await verify({
      secret: SECRET,
      body,
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1700000000' },
    });
    assert.equal(
      computeOnly.json.expected_signature,
      new (await import('standardwebhooks')).Webhook(SECRET).sign('msg_1', new Date(1_700_000_000_000), body),
    );

    for (const bad of [
      { body },
      { secret: '', body },
      { secret: SECRET },
      { secret: SECRET, body, headers: { 'webhook-timestamp': 'soon' } },
    ]) {
      const res = await verify(bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      errorCode(res);
    }
  });

  it('the OpenAPI document describes the receiver routes', async () => {
    const doc = (await server.request('GET', '/openapi.json')).json;
    for (const [path, method] of [
      ['/receiver/{name}', 'post'],
      ['/receivers', 'get'],
      ['/receivers/{name}/requests', 'get'],
      ['/receivers/{name}/requests', 'delete'],
      ['/receivers/{name}/requests/{id}', 'get'],
      ['/receiver-requests', 'get'],
      ['/receivers/{name}/secret', 'put'],
      ['/receivers/{name}/secret', 'delete'],
      ['/receivers/verify', 'post'],
    ]) {
      const operation = doc.paths[path as string]?.[method as string];
      assert.ok(operation, `${method} ${path}`);
      assert.deepEqual(operation.tags, ['receiver']);
    }
    assert.deepEqual(doc.paths['/receiver/{name}'].post.security, []);
  });
});
