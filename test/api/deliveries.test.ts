import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, sendEvent, startTestServer, type TestServer } from './helpers.js';

interface Claimed {
  delivery_id: string;
  lease_token: string;
  retry_index: number;
  event: { id: string };
}

describe('deliveries: nack, settle, dead letters', () => {
  let server: TestServer;
  before(async () => {
    // TRIGGERS_RETRY_SCHEDULE is 1s,2s,4s in tests.
    server = await startTestServer();
  });
  after(() => server.close());

  /** A fresh subscription with one event queued and claimed. */
  async function claimOne(subscription: string): Promise<Claimed> {
    const created = await server.request('POST', '/subscriptions', {
      body: { id: subscription, event_types: [`${subscription}.*`] },
    });
    assert.equal(created.status, 201, created.text);
    await sendEvent(server, { type: `${subscription}.happened` });
    const res = await server.request('POST', '/inbox/claim', { body: { subscription } });
    assert.equal(res.json.deliveries.length, 1);
    return res.json.deliveries[0] as Claimed;
  }

  it('retries a 500 after the first scheduled delay, with the attempt recorded', async () => {
    const claimed = await claimOne('retry5xx');
    const before = Date.now();
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: {
        lease_token: claimed.lease_token,
        retry_index: 0,
        status_code: 500,
        error: 'HTTP 500',
        duration_ms: 30,
        response: 'oops',
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.applied, true);
    assert.equal(res.json.status, 'pending');
    const delay = Date.parse(res.json.next_attempt_at) - before;
    assert.ok(delay >= 700 && delay <= 1300, `delay ${delay}`);
    const event = await server.request('GET', `/events/${claimed.event.id}`);
    const delivery = event.json.deliveries.find((d: { subscription_id: string }) => d.subscription_id === 'retry5xx');
    assert.equal(delivery.status, 'pending');
    assert.equal(delivery.attempts.length, 1);
    assert.equal(delivery.attempts[0].status_code, 500);
    assert.equal(delivery.attempts[0].response, 'oops');
    assert.equal(delivery.last_status_code, 500);

    // Due again after the delay; the second attempt carries retry_index 1.
    const again = await server.request('POST', '/inbox/claim', { body: { subscription: 'retry5xx', wait: 3 } });
    assert.equal(again.json.deliveries.length, 1);
    assert.equal(again.json.deliveries[0].retry_index, 1);
    assert.equal(again.json.deliveries[0].attempt, 2);
  });

  it('honours retry_after, clamped to at least one second', async () => {
    const claimed = await claimOne('retryafter');
    const before = Date.now();
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 0, status_code: 429, retry_after: 120 },
    });
    const delay = Date.parse(res.json.next_attempt_at) - before;
    assert.ok(delay >= 119_000 && delay <= 121_000, `delay ${delay}`);
  });

  it('dead-letters a permanent 4xx at once', async () => {
    const claimed = await claimOne('perm4xx');
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 0, status_code: 400 },
    });
    assert.equal(res.json.status, 'failed');
    assert.equal(res.json.next_attempt_at, null);
    const event = await server.request('GET', `/events/${claimed.event.id}`);
    assert.equal(event.json.status, 'failed');
  });

  it('dead-letters a 410 and disables the subscription', async () => {
    const claimed = await claimOne('gone410');
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 0, status_code: 410 },
    });
    assert.equal(res.json.status, 'failed');
    const sub = await server.request('GET', '/subscriptions/gone410');
    assert.equal(sub.json.status, 'disabled');
    assert.match(sub.json.disabled_reason, /410/);
  });

  it('dead-letters when the schedule is used up', async () => {
    const claimed = await claimOne('usedup');
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 3, status_code: 503 },
    });
    assert.equal(res.json.status, 'failed');
  });

  it('retries a connection error (no status code)', async () => {
    const claimed = await claimOne('connerr');
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 0, status_code: null, error: 'ECONNREFUSED' },
    });
    assert.equal(res.json.status, 'pending');
  });

  it('settles many deliveries in one request: 2xx acks, others nack by the rules', async () => {
    await server.request('POST', '/subscriptions', { body: { id: 'settling', event_types: ['settle.*'] } });
    for (let i = 0; i < 3; i++) await sendEvent(server, { type: 'settle.item', payload: { i } });
    const claim = await server.request('POST', '/inbox/claim', { body: { subscription: 'settling', limit: 10 } });
    const [a, b, c] = claim.json.deliveries as Claimed[];
    assert.ok(a && b && c);
    const res = await server.request('POST', '/deliveries/settle', {
      body: {
        results: [
          { delivery_id: a.delivery_id, lease_token: a.lease_token, retry_index: 0, status_code: 204, duration_ms: 5 },
          { delivery_id: b.delivery_id, lease_token: b.lease_token, retry_index: 0, status_code: 502 },
          { delivery_id: c.delivery_id, lease_token: c.lease_token, retry_index: 0, status_code: 404 },
        ],
      },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.json.results.map((r: { status: string; applied: boolean }) => [r.status, r.applied]),
      [
        ['delivered', true],
        ['pending', true],
        ['failed', true],
      ],
    );
    const metrics = (await server.request('GET', '/metrics', { auth: false })).text;
    assert.match(metrics, /triggers_deliveries_succeeded_total\{subscription="settling"\} 1/);
    assert.match(metrics, /triggers_delivery_retries_total\{subscription="settling"\} 1/);
    assert.match(metrics, /triggers_deliveries_failed_total\{subscription="settling"\} 1/);
    // Attempts by what they led to, the same labels the built-in dispatcher uses.
    for (const result of ['success', 'retry', 'dead']) {
      assert.match(metrics, new RegExp(`triggers_delivery_attempts_total\\{subscription="settling",result="${result}"\\} 1`));
    }
    for (const body of [{}, { results: [] }, { results: [{ delivery_id: 'x' }] }, { results: 'x' }]) {
      const bad = await server.request('POST', '/deliveries/settle', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });

  it('lists dead letters with their events and replays them one by one and in bulk', async () => {
    const one = await claimOne('deadone');
    await server.request('POST', `/deliveries/${one.delivery_id}/nack`, {
      body: { lease_token: one.lease_token, retry_index: 0, status_code: 422 },
    });
    const listed = await server.request('GET', '/dead-letters?subscription=deadone');
    assert.equal(listed.status, 200);
    assert.equal(listed.json.data.length, 1);
    assert.equal(listed.json.data[0].id, one.delivery_id);
    assert.equal(listed.json.data[0].status, 'failed');
    assert.equal(listed.json.data[0].event.id, one.event.id);
    assert.equal(listed.json.next_cursor, null);

    const replay = await server.request('POST', `/deliveries/${one.delivery_id}/replay`);
    assert.equal(replay.status, 200);
    assert.deepEqual(replay.json, { replayed: 1 });
    assert.equal((await server.request('GET', '/dead-letters?subscription=deadone')).json.data.length, 0);
    const inbox = await server.request('GET', '/inbox?subscription=deadone');
    assert.equal(inbox.json.length, 1);
    const missing = await server.request('POST', `/deliveries/${one.delivery_id}/replay`);
    assert.equal(missing.status, 404);
    errorCode(missing);

    const two = await claimOne('deadbulk');
    await server.request('POST', `/deliveries/${two.delivery_id}/nack`, {
      body: { lease_token: two.lease_token, retry_index: 0, status_code: 400 },
    });
    const bulk = await server.request('POST', '/dead-letters/replay', { body: { subscription: 'deadbulk' } });
    assert.deepEqual(bulk.json, { replayed: 1 });
    const empty = await server.request('POST', '/dead-letters/replay', { body: { subscription: 'deadbulk' } });
    assert.deepEqual(empty.json, { replayed: 0 });

    // A misspelt filter, or a JSON null, must not replay every dead letter.
    const three = await claimOne('deadtypo');
    await server.request('POST', `/deliveries/${three.delivery_id}/nack`, {
      body: { lease_token: three.lease_token, retry_index: 0, status_code: 400 },
    });
    const typo = await server.request('POST', '/dead-letters/replay', { body: { subscripton: 'deadtypo' } });
    assert.equal(typo.status, 400);
    assert.equal(errorCode(typo), 'unknown_field');
    const nullBody = await server.request('POST', '/dead-letters/replay', {
      raw: 'null',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(nullBody.status, 400);
    assert.equal((await server.request('GET', '/dead-letters?subscription=deadtypo')).json.data.length, 1, 'still dead');
    const byIdName = await server.request('POST', '/dead-letters/replay', { body: { subscription_id: 'deadtypo' } });
    assert.deepEqual(byIdName.json, { replayed: 1 }, 'subscription_id names the subscription too');
  });

  it('reports what a settlement that did not apply found, and 404 for a delivery that does not exist', async () => {
    const claimed = await claimOne('asfound');
    const body = { lease_token: claimed.lease_token, retry_index: 0, status_code: 500 };
    const first = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, { body });
    assert.equal(first.json.applied, true);
    const again = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, { body });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json, { delivery_id: claimed.delivery_id, status: 'pending', next_attempt_at: null, applied: false });
    const event = await server.request('GET', `/events/${claimed.event.id}`);
    const stored = event.json.deliveries.find((d: { subscription_id: string }) => d.subscription_id === 'asfound');
    assert.equal(stored.next_attempt_at, first.json.next_attempt_at, 'the second nack moved nothing');
    assert.equal(stored.attempts.length, 1);

    const acked = await server.request('POST', `/deliveries/${claimed.delivery_id}/ack`, { body: {} });
    assert.equal(acked.json.applied, true);
    const twice = await server.request('POST', `/deliveries/${claimed.delivery_id}/ack`, { body: {} });
    assert.deepEqual(twice.json, {
      delivery_id: claimed.delivery_id,
      status: 'delivered',
      next_attempt_at: null,
      applied: false,
    });
    const lateNack = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, { body });
    assert.equal(lateNack.json.status, 'delivered');

    for (const route of ['ack', 'nack']) {
      const missing = await server.request('POST', `/deliveries/99999999/${route}`, {
        body: { lease_token: 'x', status_code: 500 },
      });
      assert.equal(missing.status, 404, route);
      assert.equal(errorCode(missing), 'not_found');
    }
    const batch = await server.request('POST', '/deliveries/settle', {
      body: { results: [{ delivery_id: '99999999', lease_token: 'x', status_code: 200 }] },
    });
    assert.deepEqual(batch.json.results, [{ delivery_id: '99999999', status: null, next_attempt_at: null, applied: false }]);
  });

  it('ignores a nack with a wrong lease token, and validates nack bodies', async () => {
    const claimed = await claimOne('wronglease');
    const res = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: 'not-the-token', retry_index: 0, status_code: 500 },
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.applied, false);
    assert.equal(res.json.status, 'pending', 'the status it has, not the one the nack would have given');
    assert.equal(res.json.next_attempt_at, null);
    for (const body of [
      {},
      { lease_token: 5 },
      { lease_token: 'x', status_code: 99 },
      { lease_token: 'x', retry_index: -1 },
      { lease_token: 'x', status_code: '500' },
    ]) {
      const bad = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });

  it('release gives a lease back: claimable again at once, no attempt recorded; validates its body', async () => {
    const claimed = await claimOne('released');
    const held = await server.request('POST', '/inbox/claim', { body: { subscription: 'released' } });
    assert.deepEqual(held.json.deliveries, [], 'leased: nobody else gets it');
    const res = await server.request('POST', '/deliveries/release', {
      body: {
        leases: [
          { delivery_id: claimed.delivery_id, lease_token: claimed.lease_token },
          { delivery_id: '99999999', lease_token: 'x' },
        ],
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { released: [claimed.delivery_id] });
    const again = await server.request('POST', '/inbox/claim', { body: { subscription: 'released' } });
    assert.equal(again.json.deliveries.length, 1, 'due at once');
    assert.equal(again.json.deliveries[0].delivery_id, claimed.delivery_id);
    assert.equal(again.json.deliveries[0].attempt, 1, 'no attempt was recorded');
    const stale = await server.request('POST', '/deliveries/release', {
      body: { leases: [{ delivery_id: claimed.delivery_id, lease_token: claimed.lease_token }] },
    });
    assert.deepEqual(stale.json, { released: [] }, 'the old token no longer holds it');
    for (const body of [{}, { leases: [] }, { leases: [{ delivery_id: claimed.delivery_id }] }, { leases: [], extra: 1 }]) {
      const bad = await server.request('POST', '/deliveries/release', { body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });

  it('a long poll already waiting hands out a nacked delivery at its retry time, not at the end of its wait', async () => {
    const claimed = await claimOne('retrywake');
    const started = Date.now();
    const waiting = server.request('POST', '/inbox/claim', { body: { subscription: 'retrywake', wait: 10 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const nack = await server.request('POST', `/deliveries/${claimed.delivery_id}/nack`, {
      body: { lease_token: claimed.lease_token, retry_index: 0, status_code: 500 },
    });
    assert.equal(nack.json.applied, true);
    const answered = await waiting;
    const took = Date.now() - started;
    assert.equal(answered.json.deliveries[0]?.delivery_id, claimed.delivery_id);
    assert.ok(took < 4_000, `the waiting claim answered after ${took}ms (retry due about 1 s after the nack)`);
  });
});
