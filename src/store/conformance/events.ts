/** append, idempotency, getEvent and its status rules, listEvents, deleteEvent. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError } from '../../core/errors.js';
import {
  type OpenStore,
  append,
  appendMany,
  claimOne,
  collect,
  dead,
  delivered,
  newEvent,
  storeTest,
  subscription,
  withCode,
} from './harness.js';

export function eventTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('append', () => {
    test('creates one delivery per matching active subscription', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('all'));
      await store.createSubscription(subscription('exact', { event_types: ['order.created'] }));
      await store.createSubscription(subscription('prefix', { event_types: ['order.*'] }));
      await store.createSubscription(subscription('invoices', { event_types: ['invoice.*', 'refund.issued'] }));
      await store.createSubscription(subscription('off', { status: 'disabled' }));
      const expect = async (type: string, subscriptions: string[]) => {
        const event = newEvent(ctx.clock, type);
        assert.deepEqual(await store.append({ events: [event] }), { kind: 'stored', deliveries: subscriptions.length });
        const stored = await store.getEvent(event.id);
        assert.deepEqual(stored?.deliveries.map((d) => d.subscription_id).sort(), subscriptions.sort(), type);
        for (const delivery of stored?.deliveries ?? []) {
          assert.equal(delivery.status, 'pending');
          assert.equal(delivery.next_attempt_at, ctx.clock.now, 'due at once');
          assert.equal(delivery.attempts_count, 0);
        }
      };
      await expect('order.created', ['all', 'exact', 'prefix']);
      await expect('order.paid', ['all', 'prefix']);
      await expect('order.item.added', ['all', 'prefix']);
      await expect('orders.created', ['all']);
      await expect('invoice.sent', ['all', 'invoices']);
      await expect('refund.issued', ['all', 'invoices']);
    });

    test('stores every event of a batch with its payload', async (ctx) => {
      await ctx.store.createSubscription(subscription('all'));
      const events = [newEvent(ctx.clock, 'a.b', { x: [1, { y: null }] }), newEvent(ctx.clock, 'c', {}), newEvent(ctx.clock, 'd')];
      assert.deepEqual(await ctx.store.append({ events }), { kind: 'stored', deliveries: 3 });
      for (const event of events) {
        const stored = await ctx.store.getEvent(event.id);
        assert.deepEqual({ ...stored, deliveries: undefined, status: undefined }, { ...event, deliveries: undefined, status: undefined });
      }
    });

    test('an idempotency key stores once and replays the first response', async (ctx) => {
      await ctx.store.createSubscription(subscription('all'));
      const response = { status: 201, body: { id: 'first', nested: { ok: true } } };
      const first = await ctx.store.append({ events: [newEvent(ctx.clock)], idempotency: { key: 'k1', response } });
      assert.deepEqual(first, { kind: 'stored', deliveries: 1 });
      const again = await ctx.store.append({
        events: [newEvent(ctx.clock)],
        idempotency: { key: 'k1', response: { status: 201, body: { id: 'second' } } },
      });
      assert.deepEqual(again, { kind: 'replayed', response });
      assert.equal((await ctx.store.listEvents({ limit: 10 })).items.length, 1);
      const other = await ctx.store.append({ events: [newEvent(ctx.clock)], idempotency: { key: 'k2', response } });
      assert.equal(other.kind, 'stored');
    });

    test('concurrent appends with the same idempotency key store once', async (ctx) => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          ctx.store.append({ events: [newEvent(ctx.clock)], idempotency: { key: 'same', response: { status: 201, body: { i } } } }),
        ),
      );
      const stored = results.filter((result) => result.kind === 'stored');
      assert.equal(stored.length, 1);
      const winner = results.findIndex((result) => result.kind === 'stored');
      for (const result of results) {
        if (result.kind === 'replayed') assert.deepEqual(result.response, { status: 201, body: { i: winner } });
      }
      assert.equal((await ctx.store.listEvents({ limit: 100 })).items.length, 1);
    });

    test('500 concurrent appends are all stored, each with its delivery', async (ctx) => {
      await ctx.store.createSubscription(subscription('all'));
      const events = Array.from({ length: 500 }, (_, i) => newEvent(ctx.clock, 'bulk.item', { i }));
      const results = await Promise.all(events.map((event) => ctx.store.append({ events: [event] })));
      assert.ok(results.every((result) => result.kind === 'stored' && result.deliveries === 1));
      const listed = await collect((after) => ctx.store.listEvents({ limit: 100, after, order: 'asc' }));
      assert.deepEqual(listed.map((e) => e.id).sort(), events.map((e) => e.id).sort());
      const inbox = await collect((after) => ctx.store.listInbox({ subscription_id: 'all', limit: 100, after }));
      assert.equal(inbox.length, 500);
      assert.equal((await ctx.store.stats()).events, 500);
    });

    test('a duplicate event id is refused without failing concurrent appends', async (ctx) => {
      const taken = await append(ctx);
      const fresh = [newEvent(ctx.clock), newEvent(ctx.clock)];
      const [a, dup, b] = await Promise.allSettled([
        ctx.store.append({ events: [fresh[0]!] }),
        ctx.store.append({ events: [{ ...taken, payload: { other: true } }] }),
        ctx.store.append({ events: [fresh[1]!] }),
      ]);
      assert.equal(a?.status, 'fulfilled');
      assert.equal(b?.status, 'fulfilled');
      assert.equal(dup?.status, 'rejected');
      assert.ok(dup?.status === 'rejected' && dup.reason instanceof ConflictError);
      assert.deepEqual((await ctx.store.getEvent(taken.id))?.payload, taken.payload);
      for (const event of fresh) assert.ok(await ctx.store.getEvent(event.id));
    });
  });

  describe('getEvent', () => {
    test('unknown id → null', async ({ store }) => {
      assert.equal(await store.getEvent('evt_nope'), null);
    });

    test('status: delivered with no deliveries, pending until all delivered, failed once any is dead', async (ctx) => {
      const { store } = ctx;
      const lonely = await append(ctx);
      assert.equal((await store.getEvent(lonely.id))?.status, 'delivered');
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b'));
      await store.createSubscription(subscription('c'));
      const event = await append(ctx);
      assert.equal((await store.getEvent(event.id))?.status, 'pending');
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      assert.equal((await store.getEvent(event.id))?.status, 'pending');
      await store.settle([dead(ctx, await claimOne(ctx, 'b'))]);
      assert.equal((await store.getEvent(event.id))?.status, 'failed', 'failed wins over pending');
      await store.ackEvent('c', event.id);
      assert.equal((await store.getEvent(event.id))?.status, 'failed');
      await store.ackEvent('b', event.id);
      assert.equal((await store.getEvent(event.id))?.status, 'delivered');
    });
  });

  describe('listEvents', () => {
    test('orders, filters and pages', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      const orders = await appendMany(ctx, 5, 'order.created');
      const start = ctx.clock.now;
      const invoices = await appendMany(ctx, 4, 'invoice.sent');
      await append(ctx, 'order.paid', {}, 'shop');
      const desc = await store.listEvents({ limit: 100 });
      assert.equal(desc.items.length, 10);
      assert.equal(desc.items[0]?.type, 'order.paid', 'newest first by default');
      const asc = await store.listEvents({ limit: 100, order: 'asc' });
      assert.deepEqual(asc.items.map((e) => e.id), desc.items.map((e) => e.id).reverse());
      assert.equal((await store.listEvents({ limit: 100, type: 'order.created' })).items.length, 5);
      assert.equal((await store.listEvents({ limit: 100, type: 'order.*' })).items.length, 6);
      assert.equal((await store.listEvents({ limit: 100, type: '*' })).items.length, 10);
      assert.equal((await store.listEvents({ limit: 100, source: 'shop' })).items.length, 1);
      const window = await store.listEvents({ limit: 100, since: start, until: start + 3, order: 'asc' });
      assert.deepEqual(window.items.map((e) => e.id), invoices.map((e) => e.id));
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      const done = await store.listEvents({ limit: 100, status: 'delivered' });
      assert.deepEqual(done.items.map((e) => e.id), [orders[0]?.id]);
      assert.equal((await store.listEvents({ limit: 100, status: 'pending' })).items.length, 9);
      for (const order of ['asc', 'desc'] as const) {
        const paged = await collect((after) => store.listEvents({ limit: 3, after, order }));
        assert.deepEqual(paged.map((e) => e.id), (order === 'asc' ? asc : desc).items.map((e) => e.id));
      }
      const typed = await collect((after) => store.listEvents({ limit: 2, after, type: 'order.*' }));
      assert.equal(typed.length, 6);
    });

    test('an invalid cursor is a 400 invalid_cursor', async ({ store }) => {
      await assert.rejects(store.listEvents({ limit: 10, after: 'not a cursor!' }), withCode('invalid_cursor'));
      await assert.rejects(store.listEvents({ limit: 10, after: 'bm9wZQ' }), withCode('invalid_cursor'));
    });
  });

  describe('deleteEvent', () => {
    test('erases the event, its deliveries and attempts', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      const erased = await append(ctx);
      ctx.clock.advance(1);
      const kept = await append(ctx);
      const claim = await claimOne(ctx, 'a');
      assert.equal(claim.event.id, erased.id, 'oldest first');
      await store.settle([dead(ctx, claim)]);
      assert.equal(await store.deleteEvent(erased.id), true);
      assert.equal(await store.getEvent(erased.id), null);
      assert.equal(await store.deleteEvent(erased.id), false);
      assert.equal((await store.listDeadLetters({ limit: 10 })).items.length, 0);
      const inbox = await store.listInbox({ subscription_id: 'a', limit: 10 });
      assert.deepEqual(inbox.items.map((item) => item.id), [kept.id]);
      const stats = await store.stats();
      assert.equal(stats.events, 1);
      assert.deepEqual(
        stats.subscriptions.map(({ pending, failed }) => ({ pending, failed })),
        [{ pending: 1, failed: 0 }],
      );
      assert.equal((await store.listEvents({ limit: 10 })).items.length, 1);
    });

    test("a deleted event's delivery ids are never handed out again: a late ack of one settles nothing", async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      const seen = new Set<string>();
      for (let round = 0; round < 3; round++) {
        ctx.clock.advance(1);
        const newest = await append(ctx);
        const claim = await claimOne(ctx, 'a');
        assert.equal(claim.event.id, newest.id);
        assert.ok(!seen.has(claim.delivery_id), `delivery id ${claim.delivery_id} used twice`);
        seen.add(claim.delivery_id);
        assert.equal(await store.deleteEvent(newest.id), true);
        ctx.clock.advance(1);
        const next = await append(ctx);
        const [late] = await store.settle([delivered(ctx, claim)]);
        assert.equal(late?.applied, false, 'the late ack of the deleted delivery');
        const inbox = await store.listInbox({ subscription_id: 'a', limit: 10 });
        assert.deepEqual(
          inbox.items.map((item) => item.id),
          [next.id],
          'the next event is still pending',
        );
        assert.ok(!seen.has(inbox.items[0]?.delivery_id ?? ''), 'a new id');
        await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      }
    });
  });
}
