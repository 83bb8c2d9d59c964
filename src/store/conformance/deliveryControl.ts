/** Delivery control in the store: options round-trip, ordered claims, endpoint health, retention. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { DEFAULT_DELIVERY_OPTIONS, type DeliveryOptions, IDEMPOTENCY_TTL_MS } from '../../core/types.js';
import {
  type OpenStore,
  append,
  appendMany,
  claimOne,
  dead,
  delivered,
  newEvent,
  retry,
  storeTest,
  subscription,
} from './harness.js';

const ordered: DeliveryOptions = { ...DEFAULT_DELIVERY_OPTIONS, ordered: true };

export function deliveryControlTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('delivery control', () => {
    test('options are stored, defaulted and patched', async (ctx) => {
      const plain = await ctx.store.createSubscription(subscription('plain'));
      assert.deepEqual(plain.delivery, DEFAULT_DELIVERY_OPTIONS);
      assert.equal(plain.first_failure_at, null);
      assert.equal(plain.last_success_at, null);
      const options: DeliveryOptions = {
        rate_limit: 20,
        max_concurrency: 3,
        timeout_ms: 2500,
        headers: { 'x-tenant': 'acme' },
        retry_schedule: [1000, 10_000, 60_000],
        ordered: true,
      };
      await ctx.store.createSubscription(subscription('a', { delivery: options }));
      assert.deepEqual((await ctx.store.getSubscription('a'))?.delivery, options);
      const patched = { ...options, rate_limit: null, headers: {} };
      await ctx.store.updateSubscription('a', { delivery: patched });
      assert.deepEqual((await ctx.store.getSubscription('a'))?.delivery, patched);
      assert.deepEqual((await ctx.store.listSubscriptions()).find((s) => s.id === 'a')?.delivery, patched);
    });

    test('an ordered subscription hands out one delivery at a time, in event order, across retries', async (ctx) => {
      await ctx.store.createSubscription(subscription('a', { delivery: ordered }));
      const events = await appendMany(ctx, 3);
      const first = await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 });
      assert.deepEqual(first.map((c) => c.event.id), [events[0]?.id]);
      // Leased: nothing later is handed out.
      assert.deepEqual(await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 }), []);
      // Waiting for its retry: still nothing later, even though later ones are due.
      await ctx.store.settle([retry(ctx, first[0] as never, ctx.clock.now + 5_000)]);
      assert.deepEqual(await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 }), []);
      assert.equal(await ctx.store.nextDueAt('a'), ctx.clock.now + 5_000, 'the head decides when anything is due');
      ctx.clock.advance(5_000);
      const again = await claimOne(ctx, 'a');
      assert.equal(again.event.id, events[0]?.id);
      assert.equal(again.attempt, 2);
      await ctx.store.settle([dead(ctx, again)]);
      // Dead-lettered: the next one flows.
      const second = await claimOne(ctx, 'a');
      assert.equal(second.event.id, events[1]?.id);
      await ctx.store.settle([delivered(ctx, second)]);
      const third = await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 });
      assert.deepEqual(third.map((c) => c.event.id), [events[2]?.id]);
    });

    test('an ordered head whose lease expired is handed out again before later ones', async (ctx) => {
      await ctx.store.createSubscription(subscription('a', { delivery: ordered }));
      const events = await appendMany(ctx, 2);
      await claimOne(ctx, 'a', 1_000);
      ctx.clock.advance(1_001);
      const again = await claimOne(ctx, 'a');
      assert.equal(again.event.id, events[0]?.id);
    });

    test('concurrent claimers of an ordered subscription get one delivery between them', async (ctx) => {
      await ctx.store.createSubscription(subscription('a', { delivery: ordered }));
      await appendMany(ctx, 5);
      const claims = await Promise.all(
        Array.from({ length: 8 }, () => ctx.store.claim({ subscription_id: 'a', limit: 5, lease_ms: 30_000 })),
      );
      assert.equal(claims.flat().length, 1);
    });

    test('settle keeps endpoint health; enabling clears the failure clock', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      await appendMany(ctx, 3);
      const start = ctx.clock.now;
      await ctx.store.settle([retry(ctx, await claimOne(ctx, 'a'), ctx.clock.now + 60_000)]);
      assert.equal((await ctx.store.getSubscription('a'))?.first_failure_at, start);
      ctx.clock.advance(10);
      await ctx.store.settle([dead(ctx, await claimOne(ctx, 'a'), 500)]);
      assert.equal((await ctx.store.getSubscription('a'))?.first_failure_at, start, 'kept from the first failure');
      ctx.clock.advance(10);
      await ctx.store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      let s = await ctx.store.getSubscription('a');
      assert.equal(s?.first_failure_at, null);
      assert.equal(s?.last_success_at, ctx.clock.now);
      await append(ctx);
      ctx.clock.advance(10);
      await ctx.store.settle([dead(ctx, await claimOne(ctx, 'a'), 500)]);
      await ctx.store.updateSubscription('a', { status: 'disabled', disabled_reason: 'failing' });
      assert.equal((await ctx.store.getSubscription('a'))?.first_failure_at, ctx.clock.now);
      await ctx.store.updateSubscription('a', { status: 'active', disabled_reason: null });
      s = await ctx.store.getSubscription('a');
      assert.equal(s?.first_failure_at, null);
      assert.notEqual(s?.last_success_at, null);
    });

    test('enabling a disabled subscription wakes dispatchers for it', async (ctx) => {
      await ctx.store.createSubscription(subscription('a', { status: 'disabled', disabled_reason: 'paused' }));
      const woken: string[] = [];
      const off = ctx.store.onDeliveriesReady((ids) => woken.push(...ids));
      try {
        await ctx.store.updateSubscription('a', { description: 'still disabled' });
        await ctx.store.updateSubscription('a', { status: 'active', disabled_reason: null });
        const deadline = Date.now() + 2_000;
        while (!woken.includes('a') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
        assert.deepEqual([...new Set(woken)], ['a']);
      } finally {
        off();
      }
    });

    test('purge removes old events with deliveries and attempts, old received requests and old keys', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      const old = await appendMany(ctx, 5);
      await ctx.store.settle([dead(ctx, await claimOne(ctx, 'a'))]);
      await ctx.store.recordReceived({
        name: 'r',
        method: 'POST',
        path: '/receiver/r',
        headers: {},
        body: '{}',
        body_size: 2,
        webhook_id: null,
        verdict: 'unsigned',
        legacy: false,
      });
      const keyed = newEvent(ctx.clock);
      await ctx.store.append({ events: [keyed], idempotency: { key: 'k', response: { status: 201, body: { id: keyed.id } } } });
      ctx.clock.advance(IDEMPOTENCY_TTL_MS + 1);
      const cutoff = ctx.clock.now;
      const recent = await appendMany(ctx, 2);
      let removed = 0;
      for (let n = await ctx.store.purge(cutoff, 2); n > 0; n = await ctx.store.purge(cutoff, 2)) removed += n;
      assert.equal(removed, 5 + 1 + 1 + 1, 'six events, one received request, one key');
      for (const event of old) assert.equal(await ctx.store.getEvent(event.id), null);
      for (const event of recent) assert.ok(await ctx.store.getEvent(event.id));
      assert.deepEqual((await ctx.store.listDeadLetters({ limit: 10 })).items, []);
      assert.deepEqual((await ctx.store.listReceived({ limit: 10 })).items, []);
      const receivers = await ctx.store.listReceivers();
      assert.equal(receivers.find((r) => r.name === 'r')?.count ?? 0, 0);
      const stats = await ctx.store.stats();
      assert.equal(stats.events, 2);
      assert.equal(stats.subscriptions.find((s) => s.subscription_id === 'a')?.pending, 2);
      assert.equal(stats.subscriptions.find((s) => s.subscription_id === 'a')?.failed, 0);
    });

    test('an idempotency key answers with its first response for 24 hours, then is new', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      const first = newEvent(ctx.clock);
      const request = (id: string) => ({ key: 'same', response: { status: 201, body: { id } } });
      assert.equal((await ctx.store.append({ events: [first], idempotency: request(first.id) })).kind, 'stored');
      ctx.clock.advance(IDEMPOTENCY_TTL_MS - 1);
      const repeat = newEvent(ctx.clock);
      const replayed = await ctx.store.append({ events: [repeat], idempotency: request(repeat.id) });
      assert.deepEqual(replayed, { kind: 'replayed', response: { status: 201, body: { id: first.id } } });
      ctx.clock.advance(2);
      const later = newEvent(ctx.clock);
      assert.equal((await ctx.store.append({ events: [later], idempotency: request(later.id) })).kind, 'stored');
      const again = newEvent(ctx.clock);
      const now = await ctx.store.append({ events: [again], idempotency: request(again.id) });
      assert.deepEqual(now, { kind: 'replayed', response: { status: 201, body: { id: later.id } } });
    });
  });
}
