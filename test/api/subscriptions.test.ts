import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isValidSecret } from '../../src/core/signing.js';
import { errorCode, sendEvent, startTestServer, type TestServer } from './helpers.js';

describe('subscriptions', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_API_URL: 'http://127.0.0.1:8080' });
  });
  after(() => server.close());

  it('creates, reads, lists, updates and deletes', async () => {
    const created = await server.request('POST', '/subscriptions', {
      body: {
        url: 'https://93.184.215.14/hooks',
        event_types: ['order.*', 'user.created'],
        description: 'shop',
        metadata: { team: 'a' },
      },
    });
    assert.equal(created.status, 201, created.text);
    const sub = created.json;
    assert.match(sub.id, /^sub_/);
    assert.equal(sub.url, 'https://93.184.215.14/hooks');
    assert.deepEqual(sub.event_types, ['order.*', 'user.created']);
    assert.equal(sub.status, 'active');
    assert.ok(isValidSecret(sub.secret));
    assert.deepEqual(sub.previous_secrets, []);
    assert.deepEqual(sub.metadata, { team: 'a' });
    assert.equal(sub.disabled_reason, null);
    assert.ok(Date.parse(sub.created_at) > 0);

    assert.deepEqual((await server.request('GET', `/subscriptions/${sub.id}`)).json, sub);
    const list = await server.request('GET', '/subscriptions');
    assert.ok(list.json.data.some((s: { id: string }) => s.id === sub.id));

    const patched = await server.request('PATCH', `/subscriptions/${sub.id}`, {
      body: { event_types: ['*'], description: null, url: null },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.json.event_types, ['*']);
    assert.equal(patched.json.description, null);
    assert.equal(patched.json.url, null);

    assert.equal((await server.request('DELETE', `/subscriptions/${sub.id}`)).status, 204);
    const gone = await server.request('GET', `/subscriptions/${sub.id}`);
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'not_found');
    assert.equal((await server.request('DELETE', `/subscriptions/${sub.id}`)).status, 404);
  });

  it('refuses to delete the default subscription (it comes from configuration), and its inbox stays', async () => {
    const refused = await server.request('DELETE', '/subscriptions/default');
    assert.equal(refused.status, 409);
    assert.equal(errorCode(refused), 'default_subscription');
    assert.match(refused.json.error.message, /disable/);
    assert.equal((await server.request('GET', '/subscriptions/default')).status, 200);
    assert.equal((await server.request('GET', '/inbox')).status, 200);
  });

  it('defaults to a pull-only inbox for every event, and takes a chosen id and secret', async () => {
    const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    const res = await server.request('POST', '/subscriptions', { body: { id: 'chosen-id', secret } });
    assert.equal(res.status, 201);
    assert.equal(res.json.id, 'chosen-id');
    assert.equal(res.json.url, null);
    assert.deepEqual(res.json.event_types, ['*']);
    assert.equal(res.json.secret, secret);
    const dup = await server.request('POST', '/subscriptions', { body: { id: 'chosen-id' } });
    assert.equal(dup.status, 409);
    assert.equal(errorCode(dup), 'conflict');
  });

  it('only queues events matching its filters', async () => {
    await server.request('POST', '/subscriptions', { body: { id: 'filtered', event_types: ['invoice.*'] } });
    const match = await sendEvent(server, { type: 'invoice.paid' });
    await sendEvent(server, { type: 'order.paid' });
    const inbox = await server.request('GET', '/inbox?subscription=filtered');
    assert.deepEqual(
      inbox.json.map((e: { id: string }) => e.id),
      [match],
    );
  });

  it('says in words what an event type and a filter must be, not as a regular expression', async () => {
    const filter = await server.request('POST', '/subscriptions', { body: { event_types: ['ok', 'bad filter'] } });
    assert.equal(filter.status, 400);
    assert.equal(
      filter.json.error.message,
      'body/event_types/1 must be *, an event type (words of letters, digits, _ - : / joined by dots) or a prefix filter like order.*',
    );
    const none = await server.request('POST', '/subscriptions', { body: { event_types: [] } });
    assert.match(none.json.error.message, /^body\/event_types must list at least one filter/);
    const type = await server.request('POST', '/events', { body: { type: 'bad type', source: 's', payload: {} } });
    assert.match(type.json.error.message, /^body\/type must be an event type: words of letters/);
    const batch = await server.request('POST', '/events/batch', {
      body: {
        events: [
          { type: 'ok', source: 's', payload: {} },
          { type: 'bad type', source: 's', payload: {} },
        ],
      },
    });
    assert.match(batch.json.error.message, /^body\/events\/1\/type must be an event type/);
  });

  it('validates bodies: filters, secrets, urls, ids', async () => {
    const cases: [unknown, string][] = [
      [{ event_types: ['bad filter'] }, 'invalid_request'],
      [{ event_types: [] }, 'invalid_request'],
      [{ event_types: ['a.*.b'] }, 'invalid_request'],
      [{ event_types: 'order.*' }, 'invalid_request'],
      [{ secret: 'plain' }, 'invalid_secret'],
      [{ url: 'ftp://example.com/' }, 'invalid_url'],
      [{ url: 'not a url' }, 'invalid_url'],
      [{ url: 'https://user:pw@example.com/' }, 'invalid_url'],
      // Stored as sent, called as parsed: nothing the parser would trim or repair is taken.
      [{ url: '  https://93.184.215.14/x  ' }, 'invalid_url'],
      [{ url: 'http:93.184.215.14/x' }, 'invalid_url'],
      [{ url: 'http:/93.184.215.14/x' }, 'invalid_url'],
      [{ url: 'https://93.184.215.14/a b' }, 'invalid_url'],
      [{ url: 42 }, 'invalid_request'],
      [{ id: 'has space' }, 'invalid_id'],
      [{ metadata: { a: 1 } }, 'invalid_request'],
    ];
    for (const [body, code] of cases) {
      const res = await server.request('POST', '/subscriptions', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(errorCode(res), code, JSON.stringify(body));
    }
    const patch = await server.request('PATCH', '/subscriptions/default', { body: { status: 'paused' } });
    assert.equal(patch.status, 400);
  });

  it('refuses loopback and private targets unless allowed', async () => {
    for (const url of [
      'http://127.0.0.1/',
      'http://localhost/',
      'http://10.0.0.1/hook',
      'http://[::1]/',
      'http://169.254.169.254/latest',
    ]) {
      const res = await server.request('POST', '/subscriptions', { body: { url } });
      assert.equal(res.status, 400, url);
      assert.equal(errorCode(res), 'private_target', url);
    }
    const patch = await server.request('PATCH', '/subscriptions/default', { body: { url: 'http://127.0.0.1:9/' } });
    assert.equal(patch.status, 400);
    assert.equal(errorCode(patch), 'private_target');
  });

  it("allows this server's own built-in receiver, by any loopback name, and only that path", async () => {
    for (const url of [
      'http://127.0.0.1:8080/receiver/demo',
      'http://localhost:8080/receiver/demo',
      'http://[::1]:8080/receiver/demo',
    ]) {
      const ok = await server.request('POST', '/subscriptions', { body: { url } });
      assert.equal(ok.status, 201, `${url}: ${ok.text}`);
    }
    for (const url of ['http://127.0.0.1:8080/events', 'http://localhost:8080/events', 'http://localhost:8081/receiver/demo']) {
      const other = await server.request('POST', '/subscriptions', { body: { url } });
      assert.equal(other.status, 400, url);
      assert.equal(errorCode(other), 'private_target', url);
    }
  });

  it('disables and enables', async () => {
    await server.request('POST', '/subscriptions', { body: { id: 'toggle', event_types: ['toggle.*'] } });
    const disabled = await server.request('POST', '/subscriptions/toggle/disable');
    assert.equal(disabled.status, 200);
    assert.equal(disabled.json.status, 'disabled');
    await sendEvent(server, { type: 'toggle.off' });
    assert.deepEqual((await server.request('GET', '/inbox?subscription=toggle')).json, []);
    const enabled = await server.request('POST', '/subscriptions/toggle/enable', {
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(enabled.status, 200);
    assert.equal(enabled.json.status, 'active');
    assert.equal((await server.request('POST', '/subscriptions/missing/disable')).status, 404);
  });

  it('creates a subscription disabled when asked, and refuses PATCH fields that would change nothing', async () => {
    const created = await server.request('POST', '/subscriptions', {
      body: { id: 'born-off', event_types: ['off.*'], status: 'disabled' },
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.status, 'disabled');
    await sendEvent(server, { type: 'off.one' });
    assert.deepEqual((await server.request('GET', '/inbox?subscription=born-off')).json, []);

    const before = (await server.request('GET', '/subscriptions/born-off')).json;
    for (const [body, words] of [
      [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, /rotate-secret/],
      [{ id: 'renamed' }, /cannot be changed/],
      [{ urll: 'https://93.184.215.14/typo' }, /unknown field "urll"/],
    ] as const) {
      const res = await server.request('PATCH', '/subscriptions/born-off', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(errorCode(res), 'unknown_field');
      assert.match(res.json.error.message, words);
    }
    assert.deepEqual((await server.request('GET', '/subscriptions/born-off')).json, before, 'nothing changed');
  });

  it('refuses a create with a field it does not know, so a typo never widens a subscription', async () => {
    for (const [body, words] of [
      [{ id: 'typo-types', url: 'https://93.184.215.14/hook', event_type: ['order.created'] }, /unknown field "event_type"/],
      [{ id: 'typo-secret', secrett: 'whsec_x' }, /unknown field "secrett".*event_types/],
    ] as const) {
      const res = await server.request('POST', '/subscriptions', { body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(errorCode(res), 'unknown_field');
      assert.match(res.json.error.message, words);
      assert.equal((await server.request('GET', `/subscriptions/${body.id}`)).status, 404, 'nothing created');
    }
    const nullBody = await server.request('POST', '/subscriptions', {
      raw: 'null',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(nullBody.status, 400, 'a JSON null is not an empty body');
    const rotated = await server.request('POST', '/subscriptions/default/rotate-secret', { body: { secret_: 'x' } });
    assert.equal(rotated.status, 400);
    assert.equal(errorCode(rotated), 'unknown_field');
  });

  it('rotates the secret, keeping the previous one for 24 hours', async () => {
    const created = (await server.request('POST', '/subscriptions', { body: { id: 'rotating' } })).json;
    const rotated = await server.request('POST', '/subscriptions/rotating/rotate-secret');
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.json.secret, created.secret);
    assert.ok(isValidSecret(rotated.json.secret));
    assert.equal(rotated.json.previous_secrets.length, 1);
    assert.equal(rotated.json.previous_secrets[0].secret, created.secret);
    const expires = Date.parse(rotated.json.previous_secrets[0].expires_at) - Date.now();
    assert.ok(expires > 23.9 * 3600_000 && expires <= 24 * 3600_000, String(expires));

    const chosen = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
    const again = await server.request('POST', '/subscriptions/rotating/rotate-secret', { body: { secret: chosen } });
    assert.equal(again.json.secret, chosen);
    assert.deepEqual(
      again.json.previous_secrets.map((s: { secret: string }) => s.secret),
      [rotated.json.secret, created.secret],
    );
    const bad = await server.request('POST', '/subscriptions/rotating/rotate-secret', { body: { secret: 'nope' } });
    assert.equal(bad.status, 400);
  });
});

describe('subscriptions with TRIGGERS_ALLOW_PRIVATE_TARGETS', () => {
  it('accepts loopback targets', async () => {
    const server = await startTestServer({ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true' });
    try {
      const res = await server.request('POST', '/subscriptions', { body: { url: 'http://127.0.0.1:9999/hook' } });
      assert.equal(res.status, 201);
    } finally {
      await server.close();
    }
  });
});
