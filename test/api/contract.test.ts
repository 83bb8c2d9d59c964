/**
 * The error contract at its edges: bodies that are JSON but that the API will not store,
 * compressed bodies. Each answer is checked as a client sees it: status,
 * `{ error: { code, message } }`, and nothing stored.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { errorCode, startTestServer, type TestServer } from './helpers.js';

describe('HTTP contract: JSON bodies the API will not store', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const eventCount = async () => (await server.request('GET', '/events?limit=1000')).json.data.length as number;
  const post = (path: string, raw: string, headers: Record<string, string> = {}) =>
    server.request('POST', path, { raw, headers: { 'content-type': 'application/json', ...headers } });
  const event = (payload: string) => `{"type":"a.b","source":"s","payload":${payload}}`;
  const batch = (payload: string) => `{"events":[${event('{}')},${event(payload)}]}`;

  it('refuses strings with lone UTF-16 surrogates with 400 invalid_json, on events and batches', async () => {
    const before = await eventCount();
    for (const payload of [
      '{"x":"\\ud800"}',
      '{"x":"a\\uDFFFb"}',
      '{"x":["\\udbff"]}',
      '{"\\ud800":1}',
      '{"x":"\\uDC00\\uD800"}',
    ]) {
      for (const body of [event(payload), batch(payload)]) {
        const res = await post(body.startsWith('{"events"') ? '/events/batch' : '/events', body);
        assert.equal(res.status, 400, `${body}: ${res.text}`);
        assert.equal(errorCode(res), 'invalid_json');
        assert.match(res.json.error.message, /surrogate/);
      }
    }
    const subscription = await post('/subscriptions', '{"url":null,"description":"\\ud83d"}');
    assert.equal(subscription.status, 400);
    assert.equal(errorCode(subscription), 'invalid_json');
    assert.equal(await eventCount(), before, 'nothing stored');
    // Paired surrogates (an emoji, escaped or not) are fine, and come back as sent.
    const ok = await post('/events', event('{"x":"\\ud83d\\ude00","y":"😀","z":"\\\\ud800"}'));
    assert.equal(ok.status, 201, ok.text);
    const read = await server.request('GET', `/events/${ok.json.id}`);
    assert.deepEqual(read.json.payload, { x: '😀', y: '😀', z: '\\ud800' });
  });

  it('refuses "__proto__" and "constructor.prototype" keys with a message that says so', async () => {
    const before = await eventCount();
    for (const payload of ['{"__proto__":{"x":1}}', '{"a":{"\\u005f_proto__":{}}}', '{"constructor":{"prototype":{"x":1}}}']) {
      for (const [path, body] of [
        ['/events', event(payload)],
        ['/events/batch', batch(payload)],
      ] as const) {
        const res = await post(path, body);
        assert.equal(res.status, 400, body);
        assert.equal(errorCode(res), 'invalid_json');
        assert.match(res.json.error.message, /"__proto__" and "constructor\.prototype" are not accepted/);
      }
    }
    assert.equal(await eventCount(), before, 'nothing stored');
    // A "constructor" key on its own is data like any other; text that is not JSON says so.
    assert.equal((await post('/events', event('{"constructor":"x","prototype":1}'))).status, 201);
    const broken = await post('/events', '{"type":');
    assert.equal(errorCode(broken), 'invalid_json');
    assert.equal(broken.json.error.message, 'Body is not valid JSON');
  });

  it('refuses numbers beyond the range of a double with 400, instead of storing null', async () => {
    const before = await eventCount();
    for (const number of ['1e400', '-1E+309', '1.8e308', `1${'0'.repeat(400)}`, '0.5e99999']) {
      for (const [path, body] of [
        ['/events', event(`{"f":${number}}`)],
        ['/events/batch', batch(`{"f":[1,${number}]}`)],
      ] as const) {
        const res = await post(path, body);
        assert.equal(res.status, 400, `${number}: ${res.text}`);
        assert.equal(errorCode(res), 'invalid_json');
        assert.match(res.json.error.message, /outside the range of a double/);
      }
    }
    assert.equal(await eventCount(), before, 'nothing stored');
    // The largest doubles, tiny numbers and text that only looks like a big exponent are fine.
    const ok = await post('/events', event('{"max":1.7976931348623157e308,"tiny":1e-400,"s":"1e999","id":"ab1e234"}'));
    assert.equal(ok.status, 201, ok.text);
    const read = await server.request('GET', `/events/${ok.json.id}`);
    assert.deepEqual(read.json.payload, { max: Number.MAX_VALUE, tiny: 0, s: '1e999', id: 'ab1e234' });
  });

  it('answers a body with a Content-Encoding other than identity with 415 unsupported_encoding', async () => {
    const before = await eventCount();
    const body = event('{"n":1}');
    for (const encoding of ['gzip', 'deflate', 'br', 'GZIP', 'gzip, identity']) {
      const plain = await post('/events', body, { 'content-encoding': encoding });
      assert.equal(plain.status, 415, `${encoding}: ${plain.text}`);
      assert.equal(errorCode(plain), 'unsupported_encoding');
    }
    const response = await fetch(`${server.url}/events`, {
      method: 'POST',
      headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(body),
    });
    assert.equal(response.status, 415);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'unsupported_encoding');
    assert.equal(await eventCount(), before, 'nothing stored');
    assert.equal((await post('/events', body, { 'content-encoding': 'identity' })).status, 201);
  });
});
