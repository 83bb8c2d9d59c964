import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, sendEvent, startTestServer, type TestServer } from './helpers.js';

describe('events', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ TRIGGERS_MAX_BATCH: '5', TRIGGERS_BODY_LIMIT: '4kb' });
  });
  after(() => server.close());

  it('accepts an event with 201 and the contract fields', async () => {
    const before = Date.now();
    const res = await server.request('POST', '/events', { body: { type: 'order.created', source: 'shop', payload: { total: 12 } } });
    assert.equal(res.status, 201);
    assert.match(res.json.id, /^evt_[0-9A-Z]{26}$/);
    assert.equal(res.json.type, 'order.created');
    assert.equal(res.json.source, 'shop');
    assert.equal(res.json.status, 'pending');
    assert.ok(Date.parse(res.json.created_at) >= before - 5);
    assert.ok(!res.json.id.includes('.'));
  });

  it('reads an event back with its deliveries, and erases it', async () => {
    const id = await sendEvent(server, { type: 'user.signup', payload: { email: 'a@b.c' } });
    const res = await server.request('GET', `/events/${id}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.id, id);
    assert.deepEqual(res.json.payload, { email: 'a@b.c' });
    assert.equal(res.json.status, 'pending');
    assert.equal(res.json.deliveries.length, 1);
    assert.equal(res.json.deliveries[0].subscription_id, 'default');
    assert.equal(res.json.deliveries[0].status, 'pending');
    assert.deepEqual(res.json.deliveries[0].attempts, []);

    assert.equal((await server.request('DELETE', `/events/${id}`)).status, 204);
    const gone = await server.request('GET', `/events/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(errorCode(gone), 'not_found');
    assert.equal((await server.request('DELETE', `/events/${id}`)).status, 404);
  });

  it('answers a malformed id with 400 invalid_id and an unknown one with 404', async () => {
    const bad = await server.request('GET', '/events/evt.bad%20id');
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), 'invalid_id');
    assert.equal((await server.request('GET', '/events/evt_00000000000000000000000000')).status, 404);
  });

  it('lists events with filters and a cursor', async () => {
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await sendEvent(server, { type: 'list.item', source: 'lister', payload: { i } }));
    const first = await server.request('GET', '/events?type=list.item&limit=2&order=asc');
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.data.map((e: { id: string }) => e.id), ids.slice(0, 2));
    assert.equal(first.json.data[0].status, 'pending');
    assert.equal(typeof first.json.next_cursor, 'string');
    const second = await server.request('GET', `/events?type=list.item&limit=2&order=asc&cursor=${encodeURIComponent(first.json.next_cursor)}`);
    assert.deepEqual(second.json.data.map((e: { id: string }) => e.id), ids.slice(2, 4));
    const newest = await server.request('GET', '/events?source=lister&limit=1');
    assert.equal(newest.json.data[0].id, ids[4]);
    for (const query of ['limit=0', 'limit=1001', 'limit=abc', 'order=up', 'since=yesterday', 'status=done']) {
      const res = await server.request('GET', `/events?${query}`);
      assert.equal(res.status, 400, query);
      errorCode(res);
    }
  });

  it('stores a batch all or nothing', async () => {
    const res = await server.request('POST', '/events/batch', {
      body: { events: [1, 2, 3].map((n) => ({ type: 'batch.item', source: 'b', payload: { n } })) },
    });
    assert.equal(res.status, 201);
    assert.equal(res.json.events.length, 3);
    const ids = res.json.events.map((e: { id: string }) => e.id);
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, 3);

    const bad = await server.request('POST', '/events/batch', {
      body: { events: [{ type: 'batch.bad', source: 'b', payload: {} }, { type: 'batch.bad', source: 'b' }] },
    });
    assert.equal(bad.status, 400);
    const listed = await server.request('GET', '/events?type=batch.bad');
    assert.equal(listed.json.data.length, 0);

    assert.equal((await server.request('POST', '/events/batch', { body: { events: [] } })).status, 400);
    const tooMany = Array.from({ length: 6 }, () => ({ type: 'x', source: 'y', payload: {} }));
    assert.equal((await server.request('POST', '/events/batch', { body: { events: tooMany } })).status, 400);
  });

  it('replays a repeated Idempotency-Key with the first response and stores nothing new', async () => {
    const key = `key-${Date.now()}`;
    const first = await server.request('POST', '/events', {
      body: { type: 'idem.test', source: 's', payload: { a: 1 } },
      headers: { 'idempotency-key': key },
    });
    assert.equal(first.status, 201);
    const again = await server.request('POST', '/events', {
      body: { type: 'idem.test', source: 's', payload: { a: 2 } },
      headers: { 'idempotency-key': key },
    });
    assert.equal(again.status, 201);
    assert.deepEqual(again.json, first.json);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const listed = await server.request('GET', '/events?type=idem.test');
    assert.equal(listed.json.data.length, 1);

    const batchKey = `${key}-batch`;
    const body = { events: [{ type: 'idem.batch', source: 's', payload: {} }] };
    const b1 = await server.request('POST', '/events/batch', { body, headers: { 'idempotency-key': batchKey } });
    const b2 = await server.request('POST', '/events/batch', { body, headers: { 'idempotency-key': batchKey } });
    assert.deepEqual(b2.json, b1.json);

    // The same key on the other route is another request: never a body of the other route's shape.
    const crossed = await server.request('POST', '/events/batch', { body, headers: { 'idempotency-key': key } });
    assert.equal(crossed.status, 201);
    assert.equal(crossed.headers.get('idempotent-replayed'), null);
    assert.deepEqual(Object.keys(crossed.json), Object.keys(b1.json));

    for (const bad of ['', 'x'.repeat(256), 'caf\u00e9']) {
      const res = await server.request('POST', '/events', {
        body: { type: 'idem.test', source: 's', payload: {} },
        headers: { 'idempotency-key': bad },
      }).catch(() => null);
      if (res) assert.equal(res.status, 400, JSON.stringify(bad));
    }
  });

  it('validates events with 400 and a message naming the field', async () => {
    const cases: unknown[] = [
      {},
      { type: 'a', source: 's' },
      { type: 'a', source: 's', payload: [] },
      { type: 'a', source: 's', payload: null },
      { type: 'a', source: 's', payload: 'text' },
      { type: 42, source: 's', payload: {} },
      { type: 'a', source: 42, payload: {} },
      { type: 'a', source: '', payload: {} },
      { type: 'a', source: 'x'.repeat(201), payload: {} },
      { type: '', source: 's', payload: {} },
      { type: 'has space', source: 's', payload: {} },
      { type: 'a..b', source: 's', payload: {} },
      { type: 'a.', source: 's', payload: {} },
      { type: 'x'.repeat(201), source: 's', payload: {} },
      [],
      'text',
      null,
      42,
    ];
    for (const body of cases) {
      const res = await server.request('POST', '/events', { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(errorCode(res), 'invalid_request');
    }
  });

  it('accepts and ignores unknown top-level fields', async () => {
    const res = await server.request('POST', '/events', { body: { type: 'extra.field', source: 's', payload: {}, extra: true } });
    assert.equal(res.status, 201);
    const read = await server.request('GET', `/events/${res.json.id}`);
    assert.equal(read.json.extra, undefined);
  });

  it('answers malformed JSON, wrong content-types and oversize bodies with JSON 4xx', async () => {
    const malformed = await server.request('POST', '/events', { raw: '{"type": "a",', headers: { 'content-type': 'application/json' } });
    assert.equal(malformed.status, 400);
    assert.equal(errorCode(malformed), 'invalid_json');

    const proto = await server.request('POST', '/events', {
      raw: '{"type":"a","source":"s","payload":{"__proto__":{"x":1}}}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(proto.status, 400);
    assert.equal(errorCode(proto), 'invalid_json');
    assert.match(proto.json.error.message, /"__proto__" and "constructor\.prototype" are not accepted/);

    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await server.request('POST', '/events', { raw: 'type=a', headers: { 'content-type': type } });
      assert.equal(res.status, 415, type);
      assert.equal(errorCode(res), 'unsupported_media_type');
    }
    const noBody = await server.request('POST', '/events');
    assert.equal(noBody.status, 400);

    const big = await server.request('POST', '/events', { body: { type: 'a', source: 's', payload: { blob: 'x'.repeat(5000) } } });
    assert.equal(big.status, 413);
    assert.equal(errorCode(big), 'payload_too_large');
  });

  it('counts ingested events in the metrics', async () => {
    await sendEvent(server, { type: 'metric.counted' });
    const text = (await server.request('GET', '/metrics', { auth: false })).text;
    assert.match(text, /triggers_events_ingested_total\{type="metric.counted"\} 1/);
    assert.match(text, /triggers_ingest_requests_total\{outcome="rejected"\} [1-9]/);
  });
});
