/**
 * The error contract at its edges: requests fastify or Node refuse before any route runs, bodies
 * that are JSON but that the API will not store, compressed bodies, missing static files. Each
 * answer is checked as a client sees it: status, `{ error: { code, message } }`, and nothing
 * stored.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { drain } from '../../src/api/errors.js';
import { errorCode, startTestServer, type TestServer } from './helpers.js';

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely
  json: any;
  /** The server closed the connection after answering. */
  closed: boolean;
  /** Everything the server sent, pipelined answers included. */
  text: string;
}

/** Writes `data` on a fresh TCP connection and reads one HTTP response (until close or 2 s). */
function rawRequest(url: string, data: string): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, json, closed, text });
      socket.destroy();
    };
    const timer = setTimeout(finish, 2_000);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('end', () => {
      closed = true;
      finish();
    });
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('error', reject);
    socket.write(data);
  });
}

const rawError = (answer: RawAnswer): string => {
  assert.equal(typeof answer.json?.error?.message, 'string', JSON.stringify(answer.json));
  return answer.json.error.code;
};

describe('HTTP contract: errors before routing', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers paths that do not percent-decode with 400 invalid_url, in our shape', async () => {
    for (const path of ['/events/%', '/%', '/inbox/%/ack', '/events/%zz', '/events/%ff']) {
      for (const method of ['GET', 'POST']) {
        const res = await server.request(method, path);
        assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
        assert.equal(errorCode(res), 'invalid_url', `${method} ${path}`);
        assert.deepEqual(Object.keys(res.json), ['error']);
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      }
    }
    // Without credentials too: the answer does not wait for the auth guard.
    assert.equal(errorCode(await server.request('GET', '/events/%', { auth: false })), 'invalid_url');
  });

  it('answers a path segment longer than 256 characters with 414 uri_too_long', async () => {
    const res = await server.request('GET', `/events/${'a'.repeat(300)}`);
    assert.equal(res.status, 414);
    assert.equal(errorCode(res), 'uri_too_long');
  });

  it('answers oversized headers or a ~20 KB query string with 431 headers_too_large', async () => {
    const query = await server.request('GET', `/events?x=${'a'.repeat(20_000)}`);
    assert.equal(query.status, 431);
    assert.equal(errorCode(query), 'headers_too_large');
    assert.deepEqual(Object.keys(query.json), ['error']);
    const header = await server.request('GET', '/events', { headers: { 'x-big': 'x'.repeat(20_000) } });
    assert.equal(header.status, 431);
    assert.equal(errorCode(header), 'headers_too_large');
  });

  it('answers a malformed request line with a well-formed 400 invalid_request, and closes', async () => {
    const requests = [
      'GARBAGE\r\n\r\n',
      'GET /health HTTP/9\r\n\r\n',
      'GET /health HTTP/1.1\r\nBad Header\r\n\r\n',
      'POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
    ];
    for (const line of requests) {
      const answer = await rawRequest(server.url, line);
      assert.equal(answer.status, 400, JSON.stringify(line));
      assert.equal(rawError(answer), 'invalid_request');
      assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
      assert.equal(Number(answer.headers['content-length']), Buffer.byteLength(JSON.stringify(answer.json)));
      assert.equal(answer.headers.connection, 'close');
      assert.ok(answer.closed);
    }
  });

  it('answers a malformed request pipelined after a valid one only after that one has its own answer', async () => {
    const body = '{"type":"pipelined.ok","source":"s","payload":{}}';
    const answer = await rawRequest(
      server.url,
      `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}GARBAGE\r\n\r\n`,
    );
    // The stored event's client reads its 201, not the next request's 400.
    assert.equal(answer.status, 201, answer.text);
    const id = /"id":"(evt_\w+)"/.exec(answer.text)?.[1];
    assert.match(answer.text, /\r\n\r\n\{"id":"evt_[\s\S]*HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"code":"invalid_request"/);
    assert.ok(answer.closed);
    const stored = await server.request('GET', '/events?type=pipelined.ok');
    assert.deepEqual(
      stored.json.data.map((event: { id: string }) => event.id),
      [id],
    );
  });

  it('answers CONNECT with 405 method_not_allowed, alone or pipelined, and closes', async () => {
    for (const target of ['/events', '127.0.0.1:80']) {
      const answer = await rawRequest(server.url, `CONNECT ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.equal(answer.status, 405, answer.text);
      assert.equal(rawError(answer), 'method_not_allowed');
      assert.equal(answer.headers.connection, 'close');
      assert.ok(answer.closed);
    }
    const pipelined = await rawRequest(
      server.url,
      'GET /health HTTP/1.1\r\nHost: x\r\n\r\nCONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.equal(pipelined.status, 200, pipelined.text);
    assert.match(pipelined.text, /HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*"code":"method_not_allowed"/);
  });

  it('answers an HTTP/1.1 request without Host (400) and an unknown Expect (417) in our shape', async () => {
    const noHost = await rawRequest(server.url, 'GET /health HTTP/1.1\r\n\r\n');
    assert.equal(noHost.status, 400);
    assert.equal(rawError(noHost), 'invalid_request');
    assert.match(noHost.json.error.message, /Host/);
    assert.ok(noHost.closed);
    // HTTP/1.0 has no Host requirement.
    assert.equal((await rawRequest(server.url, 'GET /health HTTP/1.0\r\n\r\n')).status, 200);
    const expect = await rawRequest(server.url, 'GET /health HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n');
    assert.equal(expect.status, 417);
    assert.equal(rawError(expect), 'expectation_failed');
    assert.match(expect.headers['content-type'] ?? '', /^application\/json/);
  });

  it('refuses Content-Length with Transfer-Encoding (request smuggling) with 400, storing nothing', async () => {
    const before = (await server.request('GET', '/events?limit=1000')).json.data.length;
    const body = '{"type":"a.b","source":"s","payload":{}}';
    const answer = await rawRequest(
      server.url,
      `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    );
    assert.equal(answer.status, 400);
    assert.equal(rawError(answer), 'invalid_request');
    assert.match(answer.json.error.message, /Transfer-Encoding/);
    assert.equal((await server.request('GET', '/events?limit=1000')).json.data.length, before);
    assert.equal((await server.request('GET', '/health', { auth: false })).status, 200);
  });

  it('answers a body whose chunked encoding breaks off with 400 at once, storing nothing, on every body-reading route', async () => {
    const json = 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const cases = [
      // A chunk size that is not hex, first thing or after a good chunk.
      `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\n${json}ZZ\r\nabc\r\n0\r\n\r\n`,
      `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\n${json}5\r\n{"typ\r\nnot-hex\r\n`,
      `POST /subscriptions HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\n${json}ZZ\r\n`,
      `POST /token HTTP/1.1\r\nHost: x\r\n${json}ZZ\r\n`,
      `POST /receiver/chunks HTTP/1.1\r\nHost: x\r\n${json}ZZ\r\n`,
    ];
    const before = (await server.request('GET', '/events?limit=1000')).json.data.length;
    for (const request of cases) {
      const started = Date.now();
      const answer = await rawRequest(server.url, request);
      assert.equal(answer.status, 400, `${request.split('\r\n')[0]}: ${answer.text}`);
      assert.equal(rawError(answer), 'invalid_request');
      assert.match(answer.json.error.message, /chunk/i);
      assert.ok(answer.closed);
      assert.ok(Date.now() - started < 1_000, 'answered at once, not left hanging');
    }
    assert.equal((await server.request('GET', '/events?limit=1000')).json.data.length, before);
  });

  it('answers a missing static file with 404 not_found, for GET and HEAD', async () => {
    const missing = await server.request('GET', '/docs/static/nope.js', { auth: false });
    assert.equal(missing.status, 404);
    assert.equal(errorCode(missing), 'not_found');
    assert.equal(missing.headers.get('allow'), null);
    const head = await server.request('HEAD', '/docs/static/nope.js', { auth: false });
    assert.equal(head.status, 404);
    assert.equal((await server.request('GET', '/docs/static/index.css', { auth: false })).status, 200);
    // A known path with another method is still a 405 that lists what is allowed.
    const wrong = await server.request('PUT', '/events');
    assert.equal(wrong.status, 405);
    assert.match(wrong.headers.get('allow') ?? '', /GET/);
  });
});

describe('HTTP contract: slow clients and shutdown', () => {
  it('answers a request whose body stops arriving with 408 request_timeout and closes, storing nothing', async () => {
    const server = await startTestServer({}, { requestTimeoutMs: 300 });
    try {
      const body = '{"type":"stalled.upload","source":"s","payload":{}}';
      const started = Date.now();
      // Headers and half the body, then nothing: a stalled upload (or a slowloris).
      const answer = await rawRequest(
        server.url,
        `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
      );
      assert.equal(answer.status, 408, answer.text);
      assert.equal(rawError(answer), 'request_timeout');
      assert.ok(answer.closed);
      assert.ok(Date.now() - started < 1_900, 'answered soon after the timeout, not when the client gave up');
      assert.equal((await server.request('GET', '/events?type=stalled.upload')).json.data.length, 0);
    } finally {
      await server.close();
    }
  });

  it('while draining before a stop, a request on an idle keep-alive connection is answered 503, not dropped', async () => {
    const server = await startTestServer();
    const { socket, received, ended } = rawConnection(server.url);
    try {
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      for (let i = 0; i < 100 && !received().includes('\r\n\r\n'); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      // The connection is idle and kept alive; the stop begins with a drain.
      const draining = drain(server.app, 2_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      await draining;
      const answers = received().split(/(?=HTTP\/1\.1 )/);
      assert.equal(answers.length, 2, received());
      assert.match(answers[1] as string, /^HTTP\/1\.1 503 /);
      assert.match(answers[1] as string, /\r\nconnection: close\r\n/i);
    } finally {
      socket.destroy();
      await server.close();
    }
  });

  it('answers requests that arrive while the server closes with 503 unavailable in our shape, and closes', async () => {
    const server = await startTestServer();
    const { socket, received, ended } = rawConnection(server.url);
    try {
      // An upload in progress keeps the connection busy, so closing waits for it instead of
      // dropping it; the request pipelined behind it arrives once closing has begun.
      const body = '{"type":"closing.upload","source":"s","payload":{}}';
      socket.write(
        `POST /events HTTP/1.1\r\nHost: x\r\nX-API-Key: ${server.apiKey}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const closing = server.close();
      await new Promise((resolve) => setTimeout(resolve, 100));
      socket.write(`${body.slice(10)}GET /health HTTP/1.1\r\nHost: x\r\n\r\n`);
      await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      await closing;
      const answers = received().split(/(?=HTTP\/1\.1 )/);
      assert.equal(answers.length, 2, received());
      assert.match(answers[0] as string, /^HTTP\/1\.1 201 /, 'the request in flight is answered as usual');
      assert.match(answers[1] as string, /^HTTP\/1\.1 503 /);
      assert.match(answers[1] as string, /\r\nretry-after: 1\r\n/i);
      assert.match(answers[1] as string, /\r\nconnection: close\r\n/i);
      const json = JSON.parse((answers[1] as string).split('\r\n\r\n')[1] as string);
      assert.equal(json.error.code, 'unavailable');
    } finally {
      socket.destroy();
      await server.close();
    }
  });
});

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

  it('refuses bodies that are not UTF-8 with 400 invalid_json instead of storing U+FFFD in their place', async () => {
    const before = await eventCount();
    const bytes = (payload: string, bad: number[]) => {
      const [head, tail] = event(payload).split('@') as [string, string];
      return new Uint8Array([...Buffer.from(head), ...bad, ...Buffer.from(tail)]);
    };
    for (const bad of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
      const res = await server.request('POST', '/events', {
        raw: bytes('{"s":"@"}', bad),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(res.status, 400, `${bad}: ${res.text}`);
      assert.equal(errorCode(res), 'invalid_json');
      assert.match(res.json.error.message, /UTF-8/);
    }
    assert.equal(await eventCount(), before, 'nothing stored');
    // Real UTF-8, U+FFFD itself included, is stored as sent.
    const text = 'héllo ✓ \uFFFD 🙂';
    const ok = await post('/events', event(JSON.stringify({ s: text })));
    assert.equal(ok.status, 201, ok.text);
    assert.equal((await server.request('GET', `/events/${ok.json.id}`)).json.payload.s, text);
  });

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

/** A raw TCP connection to the server: what it sent so far, and when it closed. */
function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    text += chunk;
  });
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => text, ended };
}
