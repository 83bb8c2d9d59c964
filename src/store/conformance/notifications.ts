/** onDeliveriesReady wake-ups, onSubscriptionsChanged, stats, ping and migrate. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type OpenStore,
  append,
  claimOne,
  dead,
  delivered,
  newEvent,
  retry,
  settleTicks,
  storeTest,
  subscription,
  waitFor,
} from './harness.js';

export function notificationTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('onDeliveriesReady', () => {
    test('fires after appends, replays and scheduled retries with the subscriptions concerned', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a', { event_types: ['order.*'] }));
      await store.createSubscription(subscription('b', { event_types: ['invoice.*'] }));
      const calls: string[][] = [];
      const stop = store.onDeliveriesReady((ids) => calls.push([...ids].sort()));
      await append(ctx, 'order.created');
      await waitFor(() => calls.length >= 1);
      assert.deepEqual(calls.flat(), ['a']);
      calls.length = 0;
      await Promise.all([
        store.append({ events: [newEvent(clock, 'order.x')] }),
        store.append({ events: [newEvent(clock, 'invoice.y')] }),
      ]);
      await waitFor(() => new Set(calls.flat()).size >= 2);
      assert.deepEqual([...new Set(calls.flat())].sort(), ['a', 'b']);
      calls.length = 0;
      await append(ctx, 'nobody.cares');
      await store.settle([dead(ctx, await claimOne(ctx, 'a'))]);
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      await settleTicks();
      assert.deepEqual(calls, [], 'no matching subscription, dead-lettered, delivered: no wake-up');
      await append(ctx, 'order.created');
      await waitFor(() => calls.length >= 1);
      calls.length = 0;
      // A retry due sooner than a waiting consumer thought: it must look again.
      await store.settle([retry(ctx, await claimOne(ctx, 'a'), clock.now + 10)]);
      await waitFor(() => calls.length >= 1);
      assert.deepEqual(calls.flat(), ['a']);
      calls.length = 0;
      clock.advance(10);
      await store.settle([dead(ctx, await claimOne(ctx, 'a'))]);
      await settleTicks();
      assert.deepEqual(calls, []);
      assert.equal(await store.replay({ subscription_id: 'a' }), 2);
      await waitFor(() => calls.length >= 1);
      assert.deepEqual(calls.flat(), ['a']);
      stop();
      calls.length = 0;
      await append(ctx, 'order.created');
      await settleTicks();
      assert.deepEqual(calls, []);
    });
  });

  describe('onSubscriptionsChanged', () => {
    test('fires after a subscription is created, updated and deleted, and not after appends', async (ctx) => {
      const { store } = ctx;
      let calls = 0;
      const stop = store.onSubscriptionsChanged(() => calls++);
      await store.createSubscription(subscription('a'));
      await waitFor(() => calls >= 1);
      const afterCreate = calls;
      await append(ctx, 'order.created');
      await settleTicks();
      assert.equal(calls, afterCreate, 'an append changes no subscription');
      await store.updateSubscription('a', { url: 'https://example.com/moved' });
      await waitFor(() => calls > afterCreate);
      const afterUpdate = calls;
      assert.equal(await store.deleteSubscription('a'), true);
      await waitFor(() => calls > afterUpdate);
      stop();
      const afterStop = calls;
      await store.createSubscription(subscription('b'));
      await settleTicks();
      assert.equal(calls, afterStop, 'no calls after unsubscribing');
    });
  });

  describe('stats', () => {
    test('counts events and per-subscription pending, failed and the oldest pending', async (ctx) => {
      const { store, clock } = ctx;
      assert.deepEqual(await store.stats(), { events: 0, subscriptions: [] });
      await store.createSubscription(subscription('a'));
      clock.advance(1);
      await store.createSubscription(subscription('b', { event_types: ['x'] }));
      const t0 = clock.now;
      await append(ctx);
      clock.advance(100);
      await append(ctx);
      await append(ctx);
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      await store.settle([dead(ctx, await claimOne(ctx, 'a'))]);
      const stats = await store.stats();
      assert.equal(stats.events, 3);
      assert.deepEqual(stats.subscriptions, [
        { subscription_id: 'a', pending: 1, failed: 1, oldest_pending_at: t0 + 100 },
        { subscription_id: 'b', pending: 0, failed: 0, oldest_pending_at: null },
      ]);
    });

    test('ping answers and migrate is repeatable', async ({ store }) => {
      await store.ping();
      await store.migrate();
      await store.migrate();
      await store.ping();
    });
  });
}
