/**
 * SSRF: subscription URLs that point inside the network are refused at creation and on update,
 * by IP literal (in every spelling the URL parser accepts), by DNS name, and at connect time for
 * a URL that got into the store anyway; a redirect is never followed. Nothing is stored for a
 * refused request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addSubscription, appendEvents, eventually, harness, type Harness } from '../dispatcher/helpers.js';
import { errorCode, startTestServer, type TestServer } from '../api/helpers.js';
import { type Sink, startSink } from '../support/sink.js';

const PRIVATE_LITERALS = [
  'http://127.0.0.1/hook',
  'http://127.0.0.1:8080/hook',
  'http://10.0.0.1/hook',
  'http://172.16.0.1/hook',
  'http://192.168.1.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/hook',
  'http://0.0.0.0/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://[fd00::1]/hook',
  'http://[fe80::1]/hook',
  // IPv6 forms that carry an IPv4 address a translator or relay would reach.
  'http://[::127.0.0.1]/hook',
  'http://[::ffff:0:127.0.0.1]/hook',
  'http://[64:ff9b:1::a9fe:a9fe]/hook',
  'http://[2002:7f00:1::1]/hook',
  'http://[2002:a9fe:a9fe::1]/hook',
  'http://0x7f000001/hook',
  'http://2130706433/hook',
  'http://017700000001/hook',
  'http://127.1/hook',
  'https://127.0.0.1/hook',
];
/** Names that can only mean this machine: refused without asking DNS. */
const PRIVATE_NAMES = [
  'http://localhost/hook',
  'http://localhost:9/hook',
  'http://LOCALHOST/hook',
  'http://localhost./hook',
  'http://foo.localhost/hook',
];
/** Names that can never resolve. */
const NEVER_RESOLVE = ['http://nothing.invalid/hook', 'https://a.b.INVALID./hook'];
const MALFORMED = [
  'file:///etc/passwd',
  'gopher://127.0.0.1:70/',
  'ftp://example.com/',
  'http://user:pass@example.com/',
  'not a url',
  'http://',
];

describe('security: SSRF at creation and update', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('refuses private targets by IP, by DNS name, unresolvable and malformed URLs, storing nothing', async () => {
    const before = (await server.request('GET', '/subscriptions')).json.data;
    const cases: [string[], string[]][] = [
      [PRIVATE_LITERALS, ['private_target']],
      [PRIVATE_NAMES, ['private_target']],
      [NEVER_RESOLVE, ['invalid_url']],
      [MALFORMED, ['invalid_url']],
    ];
    for (const [urls, codes] of cases) {
      for (const url of urls) {
        const res = await server.request('POST', '/subscriptions', { body: { url } });
        assert.equal(res.status, 400, `${url}: ${res.status} ${res.text}`);
        assert.ok(codes.includes(errorCode(res)), `${url}: ${errorCode(res)}`);
        const patched = await server.request('PATCH', '/subscriptions/default', { body: { url } });
        assert.equal(patched.status, 400, `PATCH ${url}`);
      }
    }
    assert.deepEqual((await server.request('GET', '/subscriptions')).json.data, before, 'nothing stored or changed');
  });
});

describe('security: a name that does not resolve when the subscription is written', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('is accepted (no DNS here, a record not yet published): the dispatcher checks the address it dials', async () => {
    // `.example` is reserved (RFC 2606): it resolves nowhere, with or without a network.
    const url = 'https://hooks.triggers-test.example/in';
    const created = await server.request('POST', '/subscriptions', { body: { url } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.url, url);
    const patched = await server.request('PATCH', `/subscriptions/${created.json.id}`, { body: { url: `${url}/v2` } });
    assert.equal(patched.status, 200, patched.text);
  });
});

describe('security: SSRF at connect time and by redirect', () => {
  let sink: Sink;
  let inside: Sink;
  before(async () => {
    sink = await startSink();
    inside = await startSink();
  });
  after(async () => {
    await sink.close();
    await inside.close();
  });

  it('a private URL that reached the store anyway is refused when connecting: a failed attempt, no request', async () => {
    const h: Harness = await harness({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'false' });
    try {
      h.dispatcher.start();
      await addSubscription(h.store, 'sneaky', `${inside.url}/internal`);
      const [id] = await appendEvents(h.store, 1);
      const delivery = await eventually(async () => {
        const found = (await h.store.getEvent(id as string))?.deliveries.find((d) => d.subscription_id === 'sneaky');
        return found !== undefined && found.attempts_count > 0 ? found : undefined;
      });
      assert.equal(delivery.status === 'delivered', false);
      assert.equal(delivery.last_status_code, null);
      assert.match(delivery.last_error ?? '', /private|loopback|refused|not allowed/i);
      assert.equal(inside.requestsTo('/internal').length, 0, 'no request reached the inside');
    } finally {
      await h.close();
    }
  });

  it('a 302 to a private address is not followed: the attempt is a failure and the inside gets nothing', async () => {
    // Private targets are allowed here only so the test's own sink (on loopback) can be reached.
    const h: Harness = await harness({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
    try {
      sink.respond('/redirect', { status: 302, headers: { location: `${inside.url}/internal` } });
      h.dispatcher.start();
      await addSubscription(h.store, 'redirected', `${sink.url}/redirect`);
      const [id] = await appendEvents(h.store, 1);
      await sink.waitFor(1, { path: '/redirect' });
      const delivery = await eventually(async () => {
        const found = (await h.store.getEvent(id as string))?.deliveries.find((d) => d.subscription_id === 'redirected');
        return found !== undefined && found.attempts_count > 0 ? found : undefined;
      });
      assert.notEqual(delivery.status, 'delivered');
      assert.equal(delivery.last_status_code, 302);
      assert.equal(inside.requestsTo('/internal').length, 0, 'the redirect was not followed');
    } finally {
      await h.close();
    }
  });
});
