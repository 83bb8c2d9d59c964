/**
 * What the dispatcher sends is what Standard Webhooks receivers accept: the spec's fixed test
 * vector, and real deliveries verified by both the `standardwebhooks` and `svix` packages —
 * also during a secret rotation, when every valid secret signs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { sign, signatureHeaders } from '../../src/core/signing.js';
import { USER_AGENT } from '../../src/dispatcher/index.js';
import type { Store } from '../../src/store/store.js';
import { type Sink, startSink } from '../support/sink.js';
import { addSubscription, appendEvents, deliveryStatus, type Harness, harness, OTHER_SECRET, SECRET } from './helpers.js';

test('sign() matches the Standard Webhooks test vector', () => {
  const signature = sign(SECRET, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
  assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const headers = signatureHeaders([SECRET, OTHER_SECRET], 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
  assert.equal(headers['webhook-signature'].split(' ')[0], signature);
  assert.equal(headers['webhook-signature'].split(' ').length, 2);
});

let sink: Sink;
let h: Harness;

before(async () => {
  sink = await startSink();
  h = await harness();
  h.dispatcher.start();
});

after(async () => {
  await h.close();
  await sink.close();
});

function headersOf(request: { headers: Record<string, string | string[] | undefined> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(request.headers)) if (typeof value === 'string') out[key] = value;
  return out;
}

test('a delivery carries the envelope and verifies with standardwebhooks and svix', async () => {
  await addSubscription(h.store, 'signed', `${sink.url}/signed`);
  const [id] = await appendEvents(h.store, 1, 'order.created', { total: 42, note: 'héllo ✓' });
  const [request] = await sink.waitFor(1, { path: '/signed' });
  assert.ok(request);
  assert.equal(request.method, 'POST');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['user-agent'], USER_AGENT);
  assert.match(USER_AGENT, /^Triggers\/\d+\.\d+\.\d+/);
  assert.equal(request.headers['webhook-id'], id);
  assert.ok(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000) < 5);

  const body = request.json<Record<string, unknown>>();
  assert.deepEqual(Object.keys(body), ['id', 'type', 'source', 'created_at', 'payload']);
  assert.equal(body.id, id);
  assert.equal(body.type, 'order.created');
  assert.equal(body.source, 'test');
  assert.match(String(body.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(body.payload, { total: 42, note: 'héllo ✓', i: 0 });

  const headers = headersOf(request);
  assert.deepEqual(new StandardWebhook(SECRET).verify(request.text(), headers), body);
  assert.deepEqual(new SvixWebhook(SECRET).verify(request.text(), headers), body);
  assert.throws(() => new StandardWebhook(OTHER_SECRET).verify(request.text(), headers));
  await deliveryStatus(h.store, id as string, 'signed', 'delivered');
});

test('during a rotation both the new and the previous secret verify; expired ones do not sign', async () => {
  await addSubscription(h.store, 'rotating', `${sink.url}/rotating`, {
    secrets: [
      { secret: OTHER_SECRET, expires_at: null },
      { secret: SECRET, expires_at: Date.now() + 3_600_000 },
      { secret: 'whsec_ZXhwaXJlZC1zZWNyZXQtZm9yLXRlc3RzLTEyMw==', expires_at: Date.now() - 1000 },
    ],
  });
  await appendEvents(h.store, 1, 'user.created');
  const [request] = await sink.waitFor(1, { path: '/rotating' });
  assert.ok(request);
  const headers = headersOf(request);
  assert.equal(headers['webhook-signature']?.split(' ').length, 2);
  for (const secret of [OTHER_SECRET, SECRET]) {
    new StandardWebhook(secret).verify(request.text(), headers);
    new SvixWebhook(secret).verify(request.text(), headers);
  }
  assert.throws(() => new StandardWebhook('whsec_ZXhwaXJlZC1zZWNyZXQtZm9yLXRlc3RzLTEyMw==').verify(request.text(), headers));
});

test('a rotated secret, new headers and a new URL apply to the very next delivery, not after a refresh', async () => {
  await addSubscription(h.store, 'live-edit', `${sink.url}/before`);
  await appendEvents(h.store, 1, 'user.created');
  await sink.waitFor(1, { path: '/before' });
  // The dispatcher now holds this target; the next periodic re-read of targets is seconds away.
  const current = (await h.store.getSubscription('live-edit')) as NonNullable<Awaited<ReturnType<Store['getSubscription']>>>;
  await h.store.updateSubscription('live-edit', {
    url: `${sink.url}/after`,
    secrets: [
      { secret: OTHER_SECRET, expires_at: null },
      ...current.secrets.map((s) => ({ ...s, expires_at: Date.now() + 60_000 })),
    ],
    delivery: { ...current.delivery, headers: { 'x-tenant': 'acme' } },
  });
  const started = Date.now();
  await appendEvents(h.store, 1, 'user.updated');
  const [request] = await sink.waitFor(1, { path: '/after', timeoutMs: 1_500 });
  assert.ok(request, 'delivered to the new URL');
  assert.ok(Date.now() - started < 1_500);
  const headers = headersOf(request);
  assert.equal(headers['x-tenant'], 'acme');
  assert.equal(headers['webhook-signature']?.split(' ').length, 2);
  new StandardWebhook(OTHER_SECRET).verify(request.text(), headers);
  new StandardWebhook(SECRET).verify(request.text(), headers);
});
