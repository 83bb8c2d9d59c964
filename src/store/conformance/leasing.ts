/** claim, leases, settle outcomes, attempts, extendLeases, nextDueAt. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type Context,
  type OpenStore,
  append,
  appendMany,
  attempt,
  claimOne,
  dead,
  delivered,
  newEvent,
  retry,
  storeTest,
  subscription,
  waitFor,
} from './harness.js';

async function deliveryOf(ctx: Context, eventId: string, subscriptionId = 'a') {
  const event = await ctx.store.getEvent(eventId);
  const found = event?.deliveries.find((d) => d.subscription_id === subscriptionId);
  assert.ok(found, `delivery of ${eventId} to ${subscriptionId}`);
  return found;
}

export function leasingTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('claim', () => {
    test('respects the limit and hands out the oldest due first', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      const events = await appendMany(ctx, 5);
      const first = await ctx.store.claim({ subscription_id: 'a', limit: 2, lease_ms: 30_000 });
      assert.deepEqual(first.map((c) => c.event.id), events.slice(0, 2).map((e) => e.id));
      const claim = first[0];
      assert.ok(claim);
      assert.equal(claim.attempt, 1);
      assert.equal(claim.retry_index, 0);
      assert.equal(claim.subscription_id, 'a');
      assert.equal(claim.lease_expires_at, ctx.clock.now + 30_000);
      assert.deepEqual(claim.event, events[0]);
      const rest = await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 });
      assert.deepEqual(rest.map((c) => c.event.id), events.slice(2).map((e) => e.id));
      assert.deepEqual(await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 }), []);
    });

    test('a retry due earlier is handed out before newer deliveries', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      const [older] = await appendMany(ctx, 1);
      await ctx.store.settle([retry(ctx, await claimOne(ctx, 'a'), ctx.clock.now + 1)]);
      ctx.clock.advance(2);
      const newer = await append(ctx); // due after the retry
      ctx.clock.advance(5);
      const claims = await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 1000 });
      assert.deepEqual(claims.map((c) => c.event.id), [older?.id, newer.id]);
      assert.equal(claims[0]?.attempt, 2);
      assert.equal(claims[0]?.retry_index, 1);
    });

    test('concurrent claimers never get the same delivery', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      await ctx.store.append({ events: Array.from({ length: 100 }, (_, i) => newEvent(ctx.clock, 'bulk', { i })) });
      const batches = await Promise.all(
        Array.from({ length: 12 }, () => ctx.store.claim({ subscription_id: 'a', limit: 15, lease_ms: 30_000 })),
      );
      const ids = batches.flat().map((c) => c.delivery_id);
      assert.equal(ids.length, 100);
      assert.equal(new Set(ids).size, 100);
    });

    test('a lease hides the delivery until it expires, then it is due again', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      await append(ctx);
      const first = await claimOne(ctx, 'a', 30_000);
      assert.equal(await ctx.store.nextDueAt('a'), ctx.clock.now + 30_000, 'the lease end counts as due');
      ctx.clock.advance(29_999);
      assert.deepEqual(await ctx.store.claim({ subscription_id: 'a', limit: 10, lease_ms: 30_000 }), []);
      assert.equal((await ctx.store.listInbox({ subscription_id: 'a', limit: 10 })).items.length, 1, 'leased is still in the inbox');
      ctx.clock.advance(1);
      const second = await claimOne(ctx, 'a', 30_000);
      assert.equal(second.delivery_id, first.delivery_id);
      assert.notEqual(second.lease_token, first.lease_token);
      assert.equal(second.attempt, 1, 'an expired lease is not an attempt');
    });
  });

  describe('settle', () => {
    test('delivered: records the attempt, latency, and leaves the inbox', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      const event = await append(ctx);
      const claim = await claimOne(ctx, 'a');
      clock.advance(250);
      assert.deepEqual(await store.settle([delivered(ctx, claim)]), [{ delivery_id: claim.delivery_id, applied: true }]);
      const delivery = await deliveryOf(ctx, event.id);
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.delivered_at, clock.now);
      assert.equal(delivery.latency_ms, 250);
      assert.equal(delivery.next_attempt_at, null);
      assert.equal(delivery.attempts_count, 1);
      assert.equal(delivery.last_status_code, 200);
      assert.deepEqual(delivery.attempts, [{ n: 1, at: clock.now, duration_ms: 12, status_code: 200, error: null, response: 'answer 200' }]);
      assert.equal((await store.listInbox({ subscription_id: 'a', limit: 10 })).items.length, 0);
      assert.deepEqual(await store.settle([delivered(ctx, claim)]), [{ delivery_id: claim.delivery_id, applied: false, found: 'delivered' }]);
      assert.equal((await deliveryOf(ctx, event.id)).attempts.length, 1, 'an ignored settlement records nothing');
    });

    test('retry: due again at next_attempt_at, attempts numbered', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      const event = await append(ctx);
      for (let n = 1; n <= 3; n++) {
        const claim = await claimOne(ctx, 'a');
        assert.equal(claim.attempt, n);
        assert.equal(claim.retry_index, n - 1);
        const at = clock.now + 1000 * n;
        await store.settle([retry(ctx, claim, at, n === 2 ? null : 503)]);
        const delivery = await deliveryOf(ctx, event.id);
        assert.equal(delivery.status, 'pending');
        assert.equal(delivery.next_attempt_at, at);
        assert.equal(delivery.last_status_code, n === 2 ? null : 503);
        assert.equal(delivery.last_error, n === 2 ? 'connection refused' : null);
        assert.equal(await store.nextDueAt('a'), at);
        clock.advance(1000 * n - 1);
        assert.deepEqual(await store.claim({ subscription_id: 'a', limit: 1, lease_ms: 1000 }), [], 'not before it is due');
        clock.advance(1);
      }
      await store.settle([delivered(ctx, await claimOne(ctx, 'a'))]);
      const delivery = await deliveryOf(ctx, event.id);
      assert.deepEqual(delivery.attempts.map((a) => [a.n, a.status_code]), [[1, 503], [2, null], [3, 503], [4, 200]]);
      assert.equal(delivery.attempts_count, 4);
      assert.equal(await store.nextDueAt('a'), null);
    });

    test('dead: failed, listed as a dead letter', async (ctx) => {
      await ctx.store.createSubscription(subscription('a'));
      const event = await append(ctx);
      const claim = await claimOne(ctx, 'a');
      assert.deepEqual(await ctx.store.settle([dead(ctx, claim, 422)]), [{ delivery_id: claim.delivery_id, applied: true }]);
      const delivery = await deliveryOf(ctx, event.id);
      assert.equal(delivery.status, 'failed');
      assert.equal(delivery.next_attempt_at, null);
      assert.equal(delivery.last_status_code, 422);
      const letters = await ctx.store.listDeadLetters({ limit: 10 });
      assert.deepEqual(letters.items.map((d) => [d.id, d.event.id]), [[claim.delivery_id, event.id]]);
      assert.equal(await ctx.store.nextDueAt('a'), null);
    });

    test('a stale lease token is ignored; the current holder settles', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      const event = await append(ctx);
      const stale = await claimOne(ctx, 'a', 1000);
      clock.advance(1000);
      const current = await claimOne(ctx, 'a', 1000);
      assert.deepEqual(await store.settle([retry(ctx, stale, clock.now + 5000)]), [{ delivery_id: stale.delivery_id, applied: false, found: 'pending' }]);
      assert.deepEqual(await store.settle([dead(ctx, stale)]), [{ delivery_id: stale.delivery_id, applied: false, found: 'pending' }]);
      assert.equal((await deliveryOf(ctx, event.id)).attempts.length, 0);
      assert.deepEqual(await store.settle([retry(ctx, current, clock.now + 5000)]), [{ delivery_id: current.delivery_id, applied: true }]);
      assert.equal((await deliveryOf(ctx, event.id)).next_attempt_at, clock.now + 5000);
    });

    test('a late delivered ack still applies after the lease was lost', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      const event = await append(ctx);
      const late = await claimOne(ctx, 'a', 1000);
      clock.advance(1500);
      const current = await claimOne(ctx, 'a', 1000);
      assert.deepEqual(await store.settle([delivered(ctx, late)]), [{ delivery_id: late.delivery_id, applied: true }]);
      assert.equal((await deliveryOf(ctx, event.id)).status, 'delivered');
      assert.deepEqual(await store.settle([retry(ctx, current, clock.now + 1)]), [{ delivery_id: current.delivery_id, applied: false, found: 'delivered' }]);
      // A plain ack with no token and no attempt (an inbox consumer) applies too.
      const other = await append(ctx);
      const claim = await claimOne(ctx, 'a');
      const plain = { delivery_id: claim.delivery_id, lease_token: null, attempt: null, outcome: { kind: 'delivered' as const } };
      assert.deepEqual(await store.settle([plain]), [{ delivery_id: claim.delivery_id, applied: true }]);
      const delivery = await deliveryOf(ctx, other.id);
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.attempts_count, 0);
    });

    test('410 Gone: dead-lettered and the subscription disabled', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b'));
      await append(ctx);
      const claim = await claimOne(ctx, 'a');
      await store.settle([{ ...dead(ctx, claim, 410), disable_subscription: 'endpoint answered 410 Gone' }]);
      const disabled = await store.getSubscription('a');
      assert.equal(disabled?.status, 'disabled');
      assert.equal(disabled?.disabled_reason, 'endpoint answered 410 Gone');
      const next = await append(ctx);
      assert.deepEqual((await store.getEvent(next.id))?.deliveries.map((d) => d.subscription_id), ['b']);
    });

    test('many settlements in one call, results in order; unknown ids are not applied and found null', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      await appendMany(ctx, 3);
      const [one, two, three] = await store.claim({ subscription_id: 'a', limit: 3, lease_ms: 1000 });
      assert.ok(one && two && three);
      const results = await store.settle([
        delivered(ctx, one),
        { delivery_id: '999999', lease_token: 'x', attempt: attempt(ctx, 200), outcome: { kind: 'delivered' } },
        retry(ctx, two, clock.now + 10),
        { delivery_id: 'not-a-delivery', lease_token: 'x', attempt: null, outcome: { kind: 'dead' } },
        dead(ctx, three),
      ]);
      assert.deepEqual(results.map((r) => [r.delivery_id, r.applied, r.found]), [
        [one.delivery_id, true, undefined],
        ['999999', false, null],
        [two.delivery_id, true, undefined],
        ['not-a-delivery', false, null],
        [three.delivery_id, true, undefined],
      ]);
      const stats = (await store.stats()).subscriptions[0];
      assert.deepEqual([stats?.pending, stats?.failed], [1, 1]);
    });
  });

  describe('extendLeases and nextDueAt', () => {
    test('extends only leases still held', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      await appendMany(ctx, 2);
      const [held, lost] = await store.claim({ subscription_id: 'a', limit: 2, lease_ms: 1000 });
      assert.ok(held && lost);
      clock.advance(900);
      assert.deepEqual(await store.extendLeases([{ delivery_id: held.delivery_id, lease_token: held.lease_token }], 5000), [held.delivery_id]);
      clock.advance(200);
      const reclaimed = await store.claim({ subscription_id: 'a', limit: 10, lease_ms: 1000 });
      assert.deepEqual(reclaimed.map((c) => c.delivery_id), [lost.delivery_id], 'the extended one stays hidden');
      const extended = await store.extendLeases(
        [
          { delivery_id: held.delivery_id, lease_token: held.lease_token },
          { delivery_id: lost.delivery_id, lease_token: lost.lease_token },
          { delivery_id: 'bogus', lease_token: 'x' },
        ],
        1000,
      );
      assert.deepEqual(extended, [held.delivery_id]);
    });

    test('releaseLeases gives held leases back, due at once, and wakes consumers', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      await appendMany(ctx, 3);
      const [first, second, third] = await store.claim({ subscription_id: 'a', limit: 3, lease_ms: 60_000 });
      assert.ok(first && second && third);
      await store.settle([delivered(ctx, third)]);
      const woken: string[] = [];
      const off = store.onDeliveriesReady((ids) => woken.push(...ids));
      clock.advance(5);
      const released = await store.releaseLeases([
        { delivery_id: first.delivery_id, lease_token: first.lease_token },
        { delivery_id: second.delivery_id, lease_token: 'not-its-token' },
        { delivery_id: third.delivery_id, lease_token: third.lease_token },
        { delivery_id: 'bogus', lease_token: 'x' },
      ]);
      assert.deepEqual(released, [first.delivery_id], 'only a lease still held, on a pending delivery');
      await waitFor(() => woken.includes('a'));
      off();
      assert.equal(await store.nextDueAt('a'), clock.now, 'due again now, not at the lease end');
      const again = await store.claim({ subscription_id: 'a', limit: 10, lease_ms: 60_000 });
      assert.deepEqual(
        again.map((c) => c.delivery_id),
        [first.delivery_id],
        'handed out again; the other lease still holds',
      );
      assert.equal(again[0]?.attempt, first.attempt, 'a release is not an attempt');
      const stale = await store.settle([retry(ctx, first, clock.now + 1000)]);
      assert.equal(stale[0]?.applied, false, 'the released token settles nothing');
      const event = await store.getEvent(first.event.id);
      assert.equal(event?.deliveries[0]?.attempts.length, 0);
    });

    test('nextDueAt: null when nothing is pending, else the earliest due time', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      assert.equal(await store.nextDueAt('a'), null);
      assert.equal(await store.nextDueAt('missing'), null);
      await append(ctx);
      assert.equal(await store.nextDueAt('a'), clock.now);
      await store.settle([retry(ctx, await claimOne(ctx, 'a'), clock.now + 60_000)]);
      assert.equal(await store.nextDueAt('a'), clock.now + 60_000);
      clock.advance(10);
      await append(ctx);
      assert.equal(await store.nextDueAt('a'), clock.now);
    });
  });
}
