/**
 * `POST /receiver/{name}` on a real server over a real SQLite file: verdicts for senders signed
 * by the standardwebhooks package, tampered and stale requests, replays, several signatures,
 * the legacy header, per-name secrets, raw bytes, and every request stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sign } from '../../src/core/signing.js';
import type { ReceivedRequest } from '../../src/core/types.js';
import { receiverFeed } from '../../src/receiver/feed.js';
import { errorCode, startTestServer, type TestServer } from '../api/helpers.js';
import { legacyHeader, OTHER_SECRET, post, SECRET, signedHeaders } from './helpers.js';

const body = JSON.stringify({ type: 'order.created', payload: { id: 42 } });

async function stored(server: TestServer, id: string): Promise<ReceivedRequest> {
  const found = await server.store.getReceived(id);
  assert.ok(found, `request ${id} is stored`);
  return found;
}

describe('receiver without a secret', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('accepts any request as unsigned and stores it as sent', async () => {
    const seen: ReceivedRequest[] = [];
    const stop = receiverFeed(server.store).onReceived((request) => seen.push(request));
    const res = await post(server.url, 'demo', 'plain text, not JSON', { 'content-type': 'text/plain', 'x-custom': 'yes' });
    stop();
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.json).sort(), ['duplicate', 'id', 'received', 'verdict']);
    assert.equal(res.json.received, true);
    assert.equal(res.json.verdict, 'unsigned');
    assert.equal(res.json.duplicate, false);
    const request = await stored(server, res.json.id);
    assert.equal(request.name, 'demo');
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/receiver/demo');
    assert.equal(request.body, 'plain text, not JSON');
    assert.equal(request.body_size, 20);
    assert.equal(request.headers['content-type'], 'text/plain');
    assert.equal(request.headers['x-custom'], 'yes');
    assert.equal(request.webhook_id, null);
    assert.deepEqual(seen, [request], 'the feed saw the stored request');
  });

  it('a signed request is accepted unsigned too, and its webhook-id still dedupes', async () => {
    const headers = signedHeaders(SECRET, body);
    const first = await post(server.url, 'nosecret', body, headers);
    assert.deepEqual([first.status, first.json.verdict, first.json.duplicate], [200, 'unsigned', false]);
    const again = await post(server.url, 'nosecret', body, headers);
    assert.deepEqual([again.status, again.json.verdict, again.json.duplicate], [200, 'unsigned', true]);
  });

  it('any content-type, a malformed one, or none at all: the body is kept as bytes', async () => {
    for (const contentType of [
      'application/json',
      'application/x-www-form-urlencoded',
      'foo',
      ';;;',
      'multipart/form-data; boundary=x',
    ]) {
      const res = await post(server.url, 'types', '{"not": "parsed"', { 'content-type': contentType });
      assert.equal(res.status, 200, contentType);
      const request = await stored(server, res.json.id);
      assert.equal(request.body, '{"not": "parsed"');
      assert.equal(request.headers['content-type'], contentType);
    }
    const empty = await fetch(`${server.url}/receiver/types`, { method: 'POST' });
    assert.equal(empty.status, 200);
    const request = await stored(server, ((await empty.json()) as { id: string }).id);
    assert.equal(request.body, '');
    assert.equal(request.body_size, 0);
  });

  it('a body over 256 KiB is stored cut, with its full size', async () => {
    const big = 'x'.repeat(300 * 1024);
    const res = await post(server.url, 'big', big, { 'content-type': 'text/plain' });
    assert.equal(res.status, 200);
    const request = await stored(server, res.json.id);
    assert.equal(request.body.length, 256 * 1024);
    assert.equal(request.body_size, 300 * 1024);
  });

  it('a body over the server limit is refused with 413', async () => {
    const res = await post(server.url, 'big', 'x'.repeat(server.config.bodyLimitBytes + 1));
    assert.equal(res.status, 413);
    assert.equal(res.json.error.code, 'payload_too_large');
  });

  it('bad names are 400 invalid_receiver_name; other methods 405', async () => {
    for (const name of ['bad.name', 'sp%20ace', 'a'.repeat(65), '%C3%A9']) {
      const res = await post(server.url, name, body);
      assert.equal(res.status, 400, name);
      assert.equal(res.json.error.code, 'invalid_receiver_name');
    }
    const get = await fetch(`${server.url}/receiver/demo`);
    assert.equal(get.status, 405);
    assert.equal(((await get.json()) as { error: { code: string } }).error.code, 'method_not_allowed');
  });

  it('needs no credentials, and ignores any sent', async () => {
    const res = await post(server.url, 'demo', body, { authorization: 'Bearer nonsense', 'x-api-key': 'wrong' });
    assert.equal(res.status, 200);
  });
});

describe('receiver with TRIGGERS_RECEIVER_SECRET', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_RECEIVER_SECRET: SECRET });
  });
  after(() => server.close());

  it('a request signed by the standardwebhooks package is verified', async () => {
    const headers = signedHeaders(SECRET, body);
    const res = await post(server.url, 'demo', body, headers);
    assert.equal(res.status, 200);
    assert.equal(res.json.verdict, 'verified');
    assert.equal(res.json.duplicate, false);
    const request = await stored(server, res.json.id);
    assert.equal(request.verdict, 'verified');
    assert.equal(request.legacy, false);
    assert.equal(request.webhook_id, headers['webhook-id']);
    assert.equal(request.headers['webhook-signature'], headers['webhook-signature']);
  });

  it('a tampered body is 401 invalid_signature, and stored so', async () => {
    const headers = signedHeaders(SECRET, body);
    const res = await post(server.url, 'demo', body.replace('42', '43'), headers);
    assert.equal(res.status, 401);
    assert.equal(errorCode({ ...res, headers: new Headers(), text: '' }), 'invalid_signature');
    const [latest] = (await server.store.listReceived({ limit: 1, name: 'demo' })).items;
    assert.equal(latest?.verdict, 'invalid_signature');
    assert.equal(latest?.body, body.replace('42', '43'));
    assert.match(res.json.error.message, new RegExp(`stored as request ${latest?.id}`));
  });

  it('a signature by another secret is 401 invalid_signature', async () => {
    const res = await post(server.url, 'demo', body, signedHeaders(OTHER_SECRET, body));
    assert.deepEqual([res.status, res.json.error.code], [401, 'invalid_signature']);
  });

  it('a timestamp more than 5 minutes old, or ahead, is 401 stale_timestamp', async () => {
    for (const offset of [-6 * 60_000, 6 * 60_000]) {
      const res = await post(server.url, 'demo', body, signedHeaders(SECRET, body, { at: new Date(Date.now() + offset) }));
      assert.deepEqual([res.status, res.json.error.code], [401, 'stale_timestamp']);
      const [latest] = (await server.store.listReceived({ limit: 1, name: 'demo' })).items;
      assert.equal(latest?.verdict, 'stale_timestamp');
    }
    const recent = await post(server.url, 'demo', body, signedHeaders(SECRET, body, { at: new Date(Date.now() - 4 * 60_000) }));
    assert.equal(recent.status, 200, 'four minutes is within the tolerance');
  });

  it('a replayed webhook-id answers 200 duplicate and is stored as a duplicate', async () => {
    const headers = signedHeaders(SECRET, body);
    const first = await post(server.url, 'replay', body, headers);
    const second = await post(server.url, 'replay', body, headers);
    assert.deepEqual([first.status, first.json.duplicate], [200, false]);
    assert.deepEqual([second.status, second.json.verdict, second.json.duplicate], [200, 'verified', true]);
    assert.notEqual(second.json.id, first.json.id);
    assert.equal((await stored(server, second.json.id)).duplicate, true);
    // The same webhook-id to another receiver is news there.
    const elsewhere = await post(server.url, 'replay-other', body, headers);
    assert.equal(elsewhere.json.duplicate, false);
  });

  it('a rejected copy does not count as seen: the genuine one after it is not a duplicate', async () => {
    const headers = signedHeaders(SECRET, body);
    const forged = await post(server.url, 'forge', body, {
      ...headers,
      'webhook-signature': signedHeaders(OTHER_SECRET, body)['webhook-signature'],
    });
    assert.equal(forged.status, 401);
    const genuine = await post(server.url, 'forge', body, headers);
    assert.deepEqual([genuine.status, genuine.json.duplicate], [200, false]);
  });

  it('several signatures in one header: one valid is enough', async () => {
    const headers = signedHeaders(SECRET, body);
    const other = signedHeaders(OTHER_SECRET, body, { id: headers['webhook-id'] })['webhook-signature'];
    const signature = `v1,${Buffer.alloc(32).toString('base64')} ${other} v2,unknown-scheme ${headers['webhook-signature']}`;
    const res = await post(server.url, 'demo', body, { ...headers, 'webhook-signature': signature });
    assert.deepEqual([res.status, res.json.verdict], [200, 'verified']);
    const none = await post(server.url, 'demo', body, { ...headers, 'webhook-signature': `${other} v1,AAAA` });
    assert.deepEqual([none.status, none.json.error.code], [401, 'invalid_signature']);
  });

  it('the legacy X-Webhook-Signature (hex HMAC of the body) is verified, and flagged legacy', async () => {
    const res = await post(server.url, 'legacy', body, { 'x-webhook-signature': legacyHeader(SECRET, body) });
    assert.deepEqual([res.status, res.json.verdict], [200, 'verified']);
    assert.equal((await stored(server, res.json.id)).legacy, true);
    const prefixed = await post(server.url, 'legacy', body, { 'x-webhook-signature': `sha256=${legacyHeader(SECRET, body)}` });
    assert.equal(prefixed.status, 200);
    const wrong = await post(server.url, 'legacy', `${body} `, { 'x-webhook-signature': legacyHeader(SECRET, body) });
    assert.deepEqual([wrong.status, wrong.json.error.code], [401, 'invalid_signature']);
    const garbage = await post(server.url, 'legacy', body, { 'x-webhook-signature': 'not hex at all' });
    assert.deepEqual([garbage.status, garbage.json.error.code], [401, 'invalid_signature']);
  });

  it('no signature at all, or incomplete Standard Webhooks headers, is 401 missing_signature', async () => {
    const res = await post(server.url, 'demo', body);
    assert.deepEqual([res.status, res.json.error.code], [401, 'missing_signature']);
    const { 'webhook-id': _id, ...withoutId } = signedHeaders(SECRET, body);
    const partial = await post(server.url, 'demo', body, withoutId);
    assert.deepEqual([partial.status, partial.json.error.code], [401, 'missing_signature']);
    const [latest] = (await server.store.listReceived({ limit: 1, name: 'demo' })).items;
    assert.equal(latest?.verdict, 'missing_signature');
  });

  it('the signature is over the exact bytes: whitespace and binary bodies verify as sent', async () => {
    const odd = '{ "a" :1,\n\t"b":[ 2 ] }\r\n';
    const res = await post(server.url, 'bytes', odd, signedHeaders(SECRET, odd));
    assert.equal(res.status, 200);
    assert.equal((await stored(server, res.json.id)).body, odd);
    const utf8 = 'grüße, 世界 🎉';
    const text = await post(server.url, 'bytes', utf8, signedHeaders(SECRET, utf8));
    assert.equal(text.status, 200);
    assert.equal((await stored(server, text.json.id)).body, utf8);
    // Not UTF-8: the standardwebhooks package signs text, so these bytes are signed over the bytes here.
    const binary = Buffer.from([0, 1, 2, 254, 255, 0x7b, 0x00]);
    const ts = Math.floor(Date.now() / 1000);
    const bin = await post(server.url, 'bytes', binary, {
      'content-type': 'application/octet-stream',
      'webhook-id': 'msg_binary',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign(SECRET, 'msg_binary', ts, binary),
    });
    assert.equal(bin.status, 200);
    const request = await stored(server, bin.json.id);
    assert.equal(request.body_size, 7);
    assert.ok(!request.body.includes('\u0000'), 'NUL characters are not stored');
  });

  it('a secret set for a name overrides TRIGGERS_RECEIVER_SECRET for that name only', async () => {
    const put = await server.request('PUT', '/receivers/special/secret', { body: { secret: OTHER_SECRET } });
    assert.equal(put.status, 204);
    const withEnvSecret = await post(server.url, 'special', body, signedHeaders(SECRET, body));
    assert.deepEqual([withEnvSecret.status, withEnvSecret.json.error.code], [401, 'invalid_signature']);
    const withOwn = await post(server.url, 'special', body, signedHeaders(OTHER_SECRET, body));
    assert.deepEqual([withOwn.status, withOwn.json.verdict], [200, 'verified']);
    const elsewhere = await post(server.url, 'ordinary', body, signedHeaders(SECRET, body));
    assert.equal(elsewhere.status, 200, 'other names keep the environment secret');
    const listed = (await server.request('GET', '/receivers')).json.data as { name: string; verifies_with: string | null }[];
    const checkedWith = Object.fromEntries(listed.map((r) => [r.name, r.verifies_with]));
    assert.deepEqual(
      [checkedWith.special, checkedWith.ordinary],
      ['own_secret', 'TRIGGERS_RECEIVER_SECRET'],
      'the list says which secret checks each name',
    );
    assert.equal((await server.request('DELETE', '/receivers/special/secret')).status, 204);
    const back = await post(server.url, 'special', body, signedHeaders(SECRET, body));
    assert.equal(back.status, 200, 'without its own secret, the environment secret applies again');
  });

  it('a plain-text secret works for both schemes', async () => {
    assert.equal(
      (await server.request('PUT', '/receivers/plain/secret', { body: { secret: 'not a whsec secret' } })).status,
      204,
    );
    const legacy = await post(server.url, 'plain', body, { 'x-webhook-signature': legacyHeader('not a whsec secret', body) });
    assert.equal(legacy.status, 200);
    const ts = Math.floor(Date.now() / 1000);
    const standard = await post(server.url, 'plain', body, {
      'webhook-id': 'msg_plain',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign('not a whsec secret', 'msg_plain', ts, body),
    });
    assert.equal(standard.status, 200);
  });
});
