import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { buildApi } from '../../src/api/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import type { Store } from '../../src/store/store.js';
import { errorCode, sendEvent, startTestServer, type TestServer } from './helpers.js';

describe('inbox', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  async function subscription(id: string, eventTypes = ['*']): Promise<void> {
    const res = await server.request('POST', '/subscriptions', { body: { id, event_types: eventTypes } });
    assert.equal(res.status, 201, res.text);
  }

  it('lists pending events as a JSON array, oldest first, with a next-page cursor in headers', async () => {
    await subscription('paging', ['page.*']);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await sendEvent(server, { type: `page.item`, payload: { i } }));
    const first = await server.request('GET', '/inbox?subscription=paging&limit=2');
    assert.equal(first.status, 200);
    assert.ok(Array.isArray(first.json));
    assert.deepEqual(first.json.map((e: { id: string }) => e.id), ids.slice(0, 2));
    assert.deepEqual(Object.keys(first.json[0]).sort(), ['attempts', 'created_at', 'delivery_id', 'id', 'payload', 'source', 'status', 'type']);
    assert.equal(first.json[0].status, 'pending');
    assert.deepEqual(first.json[0].payload, { i: 0 });
    const cursor = first.headers.get('x-next-cursor');
    assert.ok(cursor);
    const link = first.headers.get('link') ?? '';
    // No TRIGGERS_API_URL here: a relative reference, resolved against the request's URL.
    const match = /^<(\/inbox\?[^>]+)>; rel="next"$/.exec(link);
    assert.ok(match, link);
    const next = await fetch(new URL(match[1] as string, server.url), { headers: { 'x-api-key': server.apiKey } });
    const nextIds = ((await next.json()) as { id: string }[]).map((e) => e.id);
    assert.deepEqual(nextIds, ids.slice(2, 4));
    const last = await server.request('GET', `/inbox?subscription=paging&limit=2&cursor=${encodeURIComponent(next.headers.get('x-next-cursor') ?? '')}`);
    assert.deepEqual(last.json.map((e: { id: string }) => e.id), ids.slice(4));
    assert.equal(last.headers.get('x-next-cursor'), null);
    const desc = await server.request('GET', '/inbox?subscription=paging&order=desc&limit=1');
    assert.equal(desc.json[0].id, ids[4]);
  });

  it("never builds the Link header from the request's Host header", async () => {
    await subscription('hosted', ['host.*']);
    await sendEvent(server, { type: 'host.one' });
    await sendEvent(server, { type: 'host.two' });
    const { port } = new URL(server.url);
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/inbox?subscription=hosted&limit=1',
          headers: { host: 'evil.example', 'x-api-key': server.apiKey },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const link = String(headers.link);
    assert.ok(!link.includes('evil.example'), link);
    assert.match(link, /^<\/inbox\?subscription=hosted&limit=1&order=asc&cursor=[^>]+>; rel="next"$/);
    assert.ok(headers['x-next-cursor']);
  });

  it('filters by type', async () => {
    await subscription('typed');
    const a = await sendEvent(server, { type: 'shape.circle' });
    const b = await sendEvent(server, { type: 'shape.square' });
    await sendEvent(server, { type: 'colour.red' });
    const exact = await server.request('GET', '/inbox?subscription=typed&type=shape.circle');
    assert.deepEqual(exact.json.map((e: { id: string }) => e.id), [a]);
    const prefix = await server.request('GET', '/inbox?subscription=typed&type=shape.*');
    assert.deepEqual(prefix.json.map((e: { id: string }) => e.id), [a, b]);
    const bad = await server.request('GET', '/inbox?subscription=typed&type=bad%20type');
    assert.equal(bad.status, 400);
  });

  it('uses the default subscription when none is named', async () => {
    const id = await sendEvent(server, { type: 'default.one' });
    const res = await server.request('GET', '/inbox?type=default.one');
    assert.deepEqual(res.json.map((e: { id: string }) => e.id), [id]);
  });

  it('acks an event (twice harmlessly), drops it from the inbox, and 404s unknown ones', async () => {
    await subscription('acking');
    const id = await sendEvent(server, { type: 'ack.me' });
    const ack = await server.request('POST', `/inbox/${id}/ack?subscription=acking`);
    assert.equal(ack.status, 200);
    assert.deepEqual(ack.json, { id, subscription_id: 'acking', status: 'delivered', already_acked: false });
    const again = await server.request('POST', `/inbox/${id}/ack?subscription=acking`);
    assert.equal(again.status, 200);
    assert.equal(again.json.already_acked, true);
    const listed = await server.request('GET', '/inbox?subscription=acking&type=ack.me');
    assert.deepEqual(listed.json, []);
    const unknown = await server.request('POST', '/inbox/evt_00000000000000000000000000/ack?subscription=acking');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'not_found');
    assert.equal((await server.request('POST', '/inbox/bad.id/ack')).status, 400);
    const metrics = (await server.request('GET', '/metrics', { auth: false })).text;
    assert.match(metrics, /triggers_deliveries_succeeded_total\{subscription="acking"\} 1/);
  });

  it('an empty limit is the default, as an empty type is no filter; a bad one says what it takes', async () => {
    const empty = await server.request('GET', '/inbox?limit=&type=');
    assert.equal(empty.status, 200, empty.text);
    assert.ok(Array.isArray(empty.json));
    for (const limit of ['abc', '0', '1001', '1e2', '-5', ' 5']) {
      const bad = await server.request('GET', `/inbox?limit=${encodeURIComponent(limit)}`);
      assert.equal(bad.status, 400, limit);
      assert.match(bad.json.error.message, /limit must be an integer from 1 to 1000/, limit);
    }
  });

  it('answers 404 for an unknown subscription', async () => {
    const res = await server.request('GET', '/inbox?subscription=nobody');
    assert.equal(res.status, 404);
    assert.equal((await server.request('POST', '/inbox/claim', { body: { subscription: 'nobody' } })).status, 404);
  });

  it('claims with a lease: a leased delivery is not handed out twice', async () => {
    await subscription('leasing', ['lease.*']);
    const id = await sendEvent(server, { type: 'lease.me', payload: { x: 1 } });
    const first = await server.request('POST', '/inbox/claim', { body: { subscription: 'leasing', limit: 5, lease: 30 } });
    assert.equal(first.status, 200);
    assert.equal(first.json.deliveries.length, 1);
    const claimed = first.json.deliveries[0];
    assert.equal(claimed.event.id, id);
    assert.deepEqual(claimed.event.payload, { x: 1 });
    assert.equal(claimed.subscription_id, 'leasing');
    assert.equal(claimed.attempt, 1);
    assert.equal(claimed.retry_index, 0);
    assert.equal(typeof claimed.lease_token, 'string');
    const leaseEnds = Date.parse(claimed.lease_expires_at) - Date.now();
    assert.ok(leaseEnds > 25_000 && leaseEnds <= 31_000, String(leaseEnds));
    const second = await server.request('POST', '/inbox/claim', { body: { subscription: 'leasing' } });
    assert.deepEqual(second.json.deliveries, []);
    const ack = await server.request('POST', `/deliveries/${claimed.delivery_id}/ack`, {
      body: { lease_token: claimed.lease_token, status_code: 200, duration_ms: 12 },
    });
    assert.equal(ack.status, 200);
    assert.equal(ack.json.applied, true);
    assert.equal(ack.json.status, 'delivered');
    const event = await server.request('GET', `/events/${id}`);
    const delivery = event.json.deliveries.find((d: { subscription_id: string }) => d.subscription_id === 'leasing');
    assert.equal(delivery.status, 'delivered');
    assert.equal(delivery.attempts.length, 1);
    assert.equal(delivery.attempts[0].status_code, 200);
  });

  it('hands a delivery out again once its lease expires', async () => {
    await subscription('expiring', ['expire.*']);
    await sendEvent(server, { type: 'expire.me' });
    const first = await server.request('POST', '/inbox/claim', { body: { subscription: 'expiring', lease: '1s' } });
    assert.equal(first.json.deliveries.length, 1);
    const again = await server.request('POST', '/inbox/claim', { body: { subscription: 'expiring', wait: 3 } });
    assert.equal(again.json.deliveries.length, 1);
    assert.equal(again.json.deliveries[0].delivery_id, first.json.deliveries[0].delivery_id);
    assert.notEqual(again.json.deliveries[0].lease_token, first.json.deliveries[0].lease_token);
    const stale = await server.request('POST', `/deliveries/${first.json.deliveries[0].delivery_id}/nack`, {
      body: { lease_token: first.json.deliveries[0].lease_token, retry_index: 0, status_code: 500 },
    });
    assert.equal(stale.status, 200);
    assert.equal(stale.json.applied, false);
  });

  it('long-polls: a waiting claim wakes as soon as an event arrives', async () => {
    await subscription('waiting', ['wake.*']);
    const started = Date.now();
    const claim = server.request('POST', '/inbox/claim', { body: { subscription: 'waiting', wait: 10 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const id = await sendEvent(server, { type: 'wake.up' });
    const res = await claim;
    const elapsed = Date.now() - started;
    assert.equal(res.status, 200);
    assert.equal(res.json.deliveries.length, 1);
    assert.equal(res.json.deliveries[0].event.id, id);
    assert.ok(elapsed < 3000, `took ${elapsed} ms`);
  });

  it('long-polls: answers empty after the wait, and validates its inputs', async () => {
    await subscription('quiet', ['quiet.*']);
    const started = Date.now();
    const res = await server.request('POST', '/inbox/claim', { body: { subscription: 'quiet', wait: '500ms' } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.deliveries, []);
    assert.ok(Date.now() - started >= 450);
    for (const body of [{ wait: 31 }, { wait: -1 }, { lease: 0 }, { lease: '13h' }, { limit: 0 }, { limit: 1001 }, { subscription: 5 }, { wait: 'soon' }]) {
      const bad = await server.request('POST', '/inbox/claim', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      errorCode(bad);
    }
  });
});

describe('inbox Link header with TRIGGERS_API_URL set', () => {
  it('points at the configured public URL, whatever the Host header says', async () => {
    const server = await startTestServer({ TRIGGERS_API_URL: 'https://api.example.com/triggers/' });
    try {
      await sendEvent(server, { type: 'linked.one' });
      await sendEvent(server, { type: 'linked.two' });
      const res = await server.request('GET', '/inbox?limit=1', { headers: { 'x-forwarded-host': 'evil.example' } });
      const cursor = res.headers.get('x-next-cursor') ?? '';
      assert.ok(cursor);
      assert.equal(
        res.headers.get('link'),
        `<https://api.example.com/triggers/inbox?subscription=default&limit=1&order=asc&cursor=${encodeURIComponent(cursor)}>; rel="next"`,
      );
    } finally {
      await server.close();
    }
  });
});

describe('inbox long-poll shutdown', () => {
  it('releases waiting claims when the server closes', async () => {
    const server = await startTestServer();
    const claim = server.request('POST', '/inbox/claim', { body: { wait: 30 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await server.close();
    const res = await claim;
    assert.ok(Date.now() - started < 3000);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.deliveries, []);
  });

  it('stops waiting when the client hangs up', async () => {
    const server = await startTestServer();
    try {
      // Count live wake-up listeners: a long poll holds one while it waits.
      let listeners = 0;
      const counting = Object.create(server.store) as Store;
      counting.onDeliveriesReady = (listener) => {
        listeners++;
        const off = server.store.onDeliveriesReady(listener);
        return () => {
          listeners--;
          off();
        };
      };
      const app = await buildApi({ config: server.config, store: counting, metrics: new Metrics({ defaultMetrics: false }), logger: silentLogger() });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const body = JSON.stringify({ wait: 30 });
        const claim = request(`${url}/inbox/claim`, {
          method: 'POST',
          agent: false,
          headers: { 'x-api-key': server.apiKey, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        const failed = new Promise((resolve) => claim.on('error', resolve));
        claim.end(body);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(listeners, 1);
        claim.destroy();
        await failed;
        const deadline = Date.now() + 2000;
        while (listeners > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(listeners, 0);
      } finally {
        await app.close();
      }
    } finally {
      await server.close();
    }
  });
});
