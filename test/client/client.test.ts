/** The typed client against a real API: every resource, tokens and their renewal, errors. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { TriggersApiError, TriggersClient } from '../../src/client/index.js';
import { API_KEY, startApi, type TestApi } from './api.js';

let api: TestApi;
let client: TriggersClient;

before(async () => {
  api = await startApi();
  client = new TriggersClient({ baseUrl: api.url, apiKey: API_KEY });
});

after(async () => {
  await client.close();
  await api.close();
});

test('token() trades the API key for a bearer token; a wrong key is a TriggersApiError', async () => {
  const token = await client.token();
  assert.equal(token.token_type, 'bearer');
  assert.ok(token.expires_in > 0);
  assert.equal(token.access_token.split('.').length, 3);

  const wrong = new TriggersClient({ baseUrl: api.url, apiKey: 'not-the-right-key-at-all' });
  await assert.rejects(wrong.listSubscriptions(), (error: unknown) => {
    assert.ok(error instanceof TriggersApiError);
    assert.equal(error.status, 401);
    assert.equal(typeof error.code, 'string');
    return true;
  });
  await wrong.close();

  const fixed = new TriggersClient({ baseUrl: api.url, token: token.access_token });
  assert.ok(Array.isArray(await fixed.listSubscriptions()));
  await fixed.close();
});

test('an unreachable API is a TriggersApiError with status 0', async () => {
  const nowhere = new TriggersClient({ baseUrl: 'http://127.0.0.1:1', apiKey: API_KEY });
  await assert.rejects(
    nowhere.health(),
    (error: unknown) => error instanceof TriggersApiError && error.status === 0 && error.code === 'network_error',
  );
  await nowhere.close();
});

test('an API that answers too slowly is a TriggersApiError timeout, not "unreachable"', async () => {
  const silent = createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  const { port } = silent.address() as AddressInfo;
  const slow = new TriggersClient({ baseUrl: `http://127.0.0.1:${port}`, token: 'x', timeoutMs: 200 });
  try {
    await assert.rejects(
      slow.health(),
      (error: unknown) =>
        error instanceof TriggersApiError &&
        error.status === 0 &&
        error.code === 'timeout' &&
        /within 200 ms/.test(error.message),
    );
  } finally {
    await slow.close();
    silent.closeAllConnections();
    silent.close();
  }
});

test('a token the server refuses is renewed with the API key, once, transparently', async () => {
  const renewing = new TriggersClient({
    baseUrl: api.url,
    apiKey: API_KEY,
    token: 'eyJhbGciOiJIUzI1NiJ9.e30.not-a-valid-signature',
  });
  const events = await renewing.listEvents({ limit: 1 });
  assert.ok(Array.isArray(events.data));
  await renewing.close();
});

test('events: send (with idempotency), batch, get, list, delete', async () => {
  const sent = await client.sendEvent({ type: 'order.created', source: 'shop', payload: { id: 1 } }, { idempotencyKey: 'k-1' });
  assert.match(sent.id, /^evt_/);
  assert.equal(sent.status, 'pending');
  assert.equal(sent.replayed, false);
  const again = await client.sendEvent({ type: 'order.created', source: 'shop', payload: { id: 1 } }, { idempotencyKey: 'k-1' });
  assert.equal(again.id, sent.id);
  assert.equal(again.replayed, true, 'the answer says it was a replay and nothing new was stored');

  const batch = await client.sendEvents([
    { type: 'order.paid', source: 'shop', payload: { id: 2 } },
    { type: 'order.shipped', source: 'shop', payload: { id: 3 } },
  ]);
  assert.equal(batch.length, 2);

  const detail = await client.getEvent(sent.id);
  assert.equal(detail.id, sent.id);
  assert.deepEqual(detail.payload, { id: 1 });
  assert.equal(detail.deliveries[0]?.subscription_id, 'default');

  const page = await client.listEvents({ limit: 2, order: 'asc' });
  assert.equal(page.data.length, 2);
  assert.ok(page.next_cursor);
  const next = await client.listEvents({ limit: 2, order: 'asc', cursor: page.next_cursor as string });
  assert.equal(next.data.length, 1);

  await client.deleteEvent(batch[1]?.id as string);
  await assert.rejects(
    client.getEvent(batch[1]?.id as string),
    (error: unknown) => error instanceof TriggersApiError && error.status === 404 && error.code === 'not_found',
  );

  const twice = [{ type: 'order.paid', source: 'shop', payload: { id: 9 } }];
  const first = await client.sendEvents(twice, { idempotencyKey: 'k-batch' });
  const repeated = await client.sendEvents(twice, { idempotencyKey: 'k-batch' });
  assert.deepEqual([first[0]?.replayed, repeated[0]?.replayed, repeated[0]?.id], [false, true, first[0]?.id]);
});

test('inbox: list pages, ack; claim, ack and nack deliveries; settle many', async () => {
  await client.createSubscription({ id: 'worker', event_types: ['job.*'] });
  await client.sendEvents(Array.from({ length: 5 }, (_, i) => ({ type: 'job.run', source: 'test', payload: { i } })));

  const first = await client.inbox({ subscription: 'worker', limit: 3 });
  assert.equal(first.items.length, 3);
  assert.ok(first.next_cursor);
  const rest = await client.inbox({ subscription: 'worker', limit: 3, cursor: first.next_cursor as string });
  assert.equal(rest.items.length, 2);
  assert.equal(rest.next_cursor, null);

  const acked = await client.ack(first.items[0]?.id as string, { subscription: 'worker' });
  assert.equal(acked.status, 'delivered');
  assert.equal(acked.already_acked, false);
  assert.equal((await client.ack(first.items[0]?.id as string, { subscription: 'worker' })).already_acked, true);

  const claimed = await client.claim({ subscription: 'worker', limit: 10, lease: '30s' });
  assert.equal(claimed.length, 4);
  assert.deepEqual(await client.claim({ subscription: 'worker', limit: 10 }), []);
  const [a, b, c, d] = claimed;
  const ackA = await client.ackDelivery(a?.delivery_id as string, {
    lease_token: a?.lease_token as string,
    status_code: 200,
    duration_ms: 3,
  });
  assert.equal(ackA.status, 'delivered');
  assert.equal(ackA.applied, true);
  const nackB = await client.nackDelivery(b?.delivery_id as string, {
    lease_token: b?.lease_token as string,
    retry_index: b?.retry_index as number,
    status_code: 503,
    error: 'busy',
  });
  assert.equal(nackB.status, 'pending');
  assert.ok(nackB.next_attempt_at);
  const settled = await client.settle([
    { delivery_id: c?.delivery_id as string, lease_token: c?.lease_token as string, retry_index: 0, status_code: 204 },
    {
      delivery_id: d?.delivery_id as string,
      lease_token: d?.lease_token as string,
      retry_index: 0,
      status_code: 400,
      error: 'nope',
    },
  ]);
  assert.deepEqual(
    settled.map((r) => [r.status, r.applied]),
    [
      ['delivered', true],
      ['failed', true],
    ],
  );

  // Long poll: the claim waits and returns as soon as an event arrives.
  const waiting = client.claim({ subscription: 'worker', limit: 5, wait: 5 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await client.sendEvent({ type: 'job.run', source: 'test', payload: { late: true } });
  const woken = await waiting;
  assert.equal(woken.length, 1);
  assert.ok(Date.now() - started < 2_000);
});

test('subscriptions: create, get, list, update, disable, enable, rotate, delete', async () => {
  const created = await client.createSubscription({
    url: 'https://example.com/hook',
    event_types: ['user.*'],
    description: 'users',
  });
  assert.match(created.secret ?? '', /^whsec_/);
  assert.equal(created.status, 'active');
  assert.equal((await client.getSubscription(created.id)).url, 'https://example.com/hook');
  assert.ok((await client.listSubscriptions()).some((s) => s.id === created.id));
  assert.equal((await client.updateSubscription(created.id, { description: 'people' })).description, 'people');
  assert.equal((await client.disableSubscription(created.id)).status, 'disabled');
  assert.equal((await client.enableSubscription(created.id)).status, 'active');
  const rotated = await client.rotateSecret(created.id);
  assert.notEqual(rotated.secret, created.secret);
  assert.deepEqual(
    rotated.previous_secrets.map((p) => p.secret),
    [created.secret],
  );
  await client.deleteSubscription(created.id);
  await assert.rejects(
    client.getSubscription(created.id),
    (error: unknown) => error instanceof TriggersApiError && error.status === 404,
  );
  await assert.rejects(
    client.createSubscription({ url: 'not a url' }),
    (error: unknown) => error instanceof TriggersApiError && error.status === 400,
  );
});

test('dead letters: list and replay one or in bulk', async () => {
  await client.createSubscription({ id: 'dl', event_types: ['dl.*'] });
  await client.sendEvents([
    { type: 'dl.one', source: 'test', payload: {} },
    { type: 'dl.two', source: 'test', payload: {} },
  ]);
  const claimed = await client.claim({ subscription: 'dl', limit: 10 });
  await client.settle(
    claimed.map((c) => ({
      delivery_id: c.delivery_id,
      lease_token: c.lease_token,
      retry_index: c.retry_index,
      status_code: 404,
    })),
  );
  const dead = await client.listDeadLetters({ subscription: 'dl' });
  assert.equal(dead.data.length, 2);
  assert.equal(dead.data[0]?.event.type.startsWith('dl.'), true);
  assert.deepEqual(await client.replayDelivery(dead.data[0]?.id as string), { replayed: 1 });
  assert.deepEqual(await client.replayDeadLetters({ subscription: 'dl' }), { replayed: 1 });
  assert.equal((await client.listDeadLetters({ subscription: 'dl' })).data.length, 0);
});

test('health answers without credentials', async () => {
  const open = new TriggersClient({ baseUrl: api.url });
  const health = await open.health();
  assert.equal(health.status, 'ok');
  await assert.rejects(open.listSubscriptions(), (error: unknown) => error instanceof TriggersApiError && error.status === 401);
  await open.close();
});
