/** listDeadLetters and replay. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { type Context, type OpenStore, append, claimOne, collect, dead, storeTest, subscription, withCode } from './harness.js';

/** Appends an event of `type` and dead-letters its delivery to `subscriptionId` at the current time. */
async function deadLetter(ctx: Context, subscriptionId: string, type: string): Promise<string> {
  await append(ctx, type);
  const claim = await claimOne(ctx, subscriptionId);
  await ctx.store.settle([dead(ctx, claim)]);
  return claim.delivery_id;
}

export function deadLetterTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('dead letters', () => {
    test('listed newest failure first, with filters and cursors', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a', { event_types: ['order.*'] }));
      await store.createSubscription(subscription('b', { event_types: ['invoice.*'] }));
      const t0 = clock.now;
      const a1 = await deadLetter(ctx, 'a', 'order.created');
      clock.advance(1000);
      const b1 = await deadLetter(ctx, 'b', 'invoice.sent');
      clock.advance(1000);
      const a2 = await deadLetter(ctx, 'a', 'order.paid');
      await append(ctx, 'order.created'); // pending, not a dead letter
      const ids = async (query: Parameters<typeof store.listDeadLetters>[0]) => (await store.listDeadLetters(query)).items.map((d) => d.id);
      assert.deepEqual(await ids({ limit: 10 }), [a2, b1, a1]);
      assert.deepEqual(await ids({ limit: 10, subscription_id: 'a' }), [a2, a1]);
      assert.deepEqual(await ids({ limit: 10, type: 'order.paid' }), [a2]);
      assert.deepEqual(await ids({ limit: 10, type: 'invoice.*' }), [b1]);
      assert.deepEqual(await ids({ limit: 10, since: t0 + 1000 }), [a2, b1]);
      assert.deepEqual(await ids({ limit: 10, until: t0 + 1000 }), [b1, a1]);
      assert.deepEqual(await ids({ limit: 10, since: t0 + 500, until: t0 + 1500 }), [b1]);
      const letter = (await store.listDeadLetters({ limit: 1 })).items[0];
      assert.equal(letter?.event.type, 'order.paid');
      assert.equal(letter?.status, 'failed');
      assert.equal(letter?.subscription_id, 'a');
      const paged = await collect((after) => store.listDeadLetters({ limit: 1, after }));
      assert.deepEqual(paged.map((d) => d.id), [a2, b1, a1]);
      await assert.rejects(store.listDeadLetters({ limit: 10, after: 'garbage!' }), withCode('invalid_cursor'));
    });

    test('replay one: pending, due now, fresh schedule, attempts kept', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      const id = await deadLetter(ctx, 'a', 'order.created');
      clock.advance(5000);
      assert.equal(await store.replay({ delivery_id: id }), 1);
      assert.equal(await store.replay({ delivery_id: id }), 0, 'no longer failed');
      assert.equal(await store.replay({ delivery_id: '424242' }), 0);
      assert.equal(await store.replay({ delivery_id: 'nonsense' }), 0);
      assert.equal(await store.nextDueAt('a'), clock.now);
      const claim = await claimOne(ctx, 'a');
      assert.equal(claim.delivery_id, id);
      assert.equal(claim.attempt, 2);
      assert.equal(claim.retry_index, 0);
      assert.equal((await store.listDeadLetters({ limit: 10 })).items.length, 0);
    });

    test('replay by filter', async (ctx) => {
      const { store, clock } = ctx;
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b', { event_types: ['order.*'] }));
      const t0 = clock.now;
      await deadLetter(ctx, 'a', 'order.created');
      clock.advance(1000);
      await deadLetter(ctx, 'a', 'invoice.sent');
      clock.advance(1000);
      await deadLetter(ctx, 'a', 'order.paid');
      await deadLetter(ctx, 'b', 'order.created'); // b's first due delivery is the first order.created
      assert.equal(await store.replay({ subscription_id: 'a', type: 'order.*', since: t0 + 1 }), 1);
      assert.equal(await store.replay({ subscription_id: 'a', until: t0 }), 1);
      assert.equal(await store.replay({ type: 'invoice.sent' }), 1);
      assert.equal(await store.replay({}), 1, 'the rest: b’s');
      assert.equal((await store.listDeadLetters({ limit: 10 })).items.length, 0);
      assert.deepEqual(
        (await store.stats()).subscriptions.map((s) => [s.subscription_id, s.pending, s.failed]),
        [
          ['a', 4, 0],
          ['b', 3, 0],
        ],
      );
    });
  });
}
