/** listInbox (order, filters, cursors) and ackEvent. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type OpenStore, append, appendMany, claimOne, collect, dead, delivered, storeTest, subscription, withCode } from './harness.js';

export function inboxTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('listInbox', () => {
    test('lists one subscription’s pending deliveries, leased ones included', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b', { event_types: ['invoice.*'] }));
      const events = [
        await append(ctx, 'order.created'),
        await append(ctx, 'invoice.sent'),
        await append(ctx, 'order.paid'),
        await append(ctx, 'order.created'),
      ];
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]); // events[0]
      await store.settle([dead(ctx, await claimOne(ctx, 'a'))]); // events[1]
      await claimOne(ctx, 'a'); // events[2], leased
      const inbox = await store.listInbox({ subscription_id: 'a', limit: 10 });
      assert.deepEqual(inbox.items.map((item) => item.id), [events[2]?.id, events[3]?.id]);
      assert.equal(inbox.next_cursor, null);
      const item = inbox.items[0];
      assert.ok(item);
      assert.deepEqual({ ...item, delivery_id: undefined, attempts_count: undefined }, { ...events[2], delivery_id: undefined, attempts_count: undefined });
      assert.equal(item.attempts_count, 0);
      assert.match(item.delivery_id, /.+/);
      const desc = await store.listInbox({ subscription_id: 'a', limit: 10, order: 'desc' });
      assert.deepEqual(desc.items.map((i) => i.id), [events[3]?.id, events[2]?.id]);
      const b = await store.listInbox({ subscription_id: 'b', limit: 10 });
      assert.deepEqual(b.items.map((i) => i.id), [events[1]?.id]);
      assert.deepEqual((await store.listInbox({ subscription_id: 'nobody', limit: 10 })).items, []);
    });

    test('type filters: exact, prefix, everything', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      for (const type of ['order.created', 'order.paid', 'orders.x', 'order', 'invoice.sent', 'order.item.added']) await append(ctx, type);
      const types = async (type?: string) =>
        (await store.listInbox({ subscription_id: 'a', limit: 10, ...(type === undefined ? {} : { type }) })).items.map((i) => i.type);
      assert.deepEqual(await types('order.created'), ['order.created']);
      assert.deepEqual(await types('order.*'), ['order.created', 'order.paid', 'order.item.added']);
      assert.equal((await types('*')).length, 6);
      assert.equal((await types()).length, 6);
    });

    test('cursors page through many items without gaps or repeats, both ways', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      const events = await appendMany(ctx, 103);
      const ids = events.map((e) => e.id);
      const asc = await collect((after) => store.listInbox({ subscription_id: 'a', limit: 7, after }));
      assert.deepEqual(asc.map((i) => i.id), ids);
      const desc = await collect((after) => store.listInbox({ subscription_id: 'a', limit: 10, after, order: 'desc' }));
      assert.deepEqual(desc.map((i) => i.id), [...ids].reverse());
      // Acking while paging: the remaining items are neither skipped nor repeated.
      const first = await store.listInbox({ subscription_id: 'a', limit: 20 });
      for (const item of first.items) await store.ackEvent('a', item.id);
      const rest = await collect((after) => store.listInbox({ subscription_id: 'a', limit: 20, after: after ?? first.next_cursor }));
      assert.deepEqual(rest.map((i) => i.id), ids.slice(20));
      const exact = await store.listInbox({ subscription_id: 'a', limit: 83 });
      assert.equal(exact.next_cursor, null, 'no cursor when the page holds the last item');
    });

    test('an invalid cursor is a 400 invalid_cursor', async ({ store }) => {
      await store.createSubscription(subscription('a'));
      await assert.rejects(store.listInbox({ subscription_id: 'a', limit: 10, after: '%%%' }), withCode('invalid_cursor'));
      await assert.rejects(store.listInbox({ subscription_id: 'a', limit: 10, after: 'eyJ4IjoxfQ' }), withCode('invalid_cursor'));
    });
  });

  describe('ackEvent', () => {
    test('acked, then already_acked; not_found for unknown events and subscriptions', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b', { event_types: ['other'] }));
      const event = await append(ctx);
      clock.advance(40);
      assert.equal(await store.ackEvent('a', event.id), 'acked');
      assert.equal(await store.ackEvent('a', event.id), 'already_acked');
      assert.equal(await store.ackEvent('b', event.id), 'not_found', 'no delivery for that subscription');
      assert.equal(await store.ackEvent('a', 'evt_unknown'), 'not_found');
      assert.equal(await store.ackEvent('nobody', event.id), 'not_found');
      const delivery = (await store.getEvent(event.id))?.deliveries[0];
      assert.equal(delivery?.status, 'delivered');
      assert.equal(delivery?.latency_ms, 40);
      assert.equal((await store.listInbox({ subscription_id: 'a', limit: 10 })).items.length, 0);
    });

    test('acking a leased delivery wins over the lease; acking a dead letter delivers it', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      const leased = await append(ctx);
      const failed = await append(ctx);
      const claim = await claimOne(ctx, 'a');
      assert.equal(await store.ackEvent('a', leased.id), 'acked');
      assert.deepEqual(await store.settle([dead(ctx, claim)]), [{ delivery_id: claim.delivery_id, applied: false, found: 'delivered' }]);
      await store.settle([dead(ctx, await claimOne(ctx, 'a'))]);
      assert.equal((await store.getEvent(failed.id))?.status, 'failed');
      assert.equal(await store.ackEvent('a', failed.id), 'acked');
      assert.equal((await store.getEvent(failed.id))?.status, 'delivered');
      assert.equal((await store.listDeadLetters({ limit: 10 })).items.length, 0);
    });
  });
}
