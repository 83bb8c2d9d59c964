/** Subscription CRUD, conflicts, disabling, and what deleting one takes with it. */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { ConflictError } from '../../core/errors.js';
import { type OpenStore, append, claimOne, storeTest, subscription } from './harness.js';

export function subscriptionTests(open: OpenStore): void {
  const test = storeTest(open);

  describe('subscriptions', () => {
    test('create, get, list, update, delete', async (ctx) => {
      const { store, clock } = ctx;
      const created = await store.createSubscription(
        subscription('s1', { url: 'https://example.test/hook', description: 'first', metadata: { team: 'a' } }),
      );
      assert.equal(created.created_at, clock.now);
      assert.equal(created.updated_at, clock.now);
      assert.deepEqual(await store.getSubscription('s1'), created);
      clock.advance(10);
      await store.createSubscription(subscription('s2', { event_types: ['order.*'] }));
      assert.deepEqual((await store.listSubscriptions()).map((s) => s.id), ['s1', 's2']);
      clock.advance(10);
      const updated = await store.updateSubscription('s1', {
        event_types: ['a.*', 'b'],
        description: null,
        secrets: [
          { secret: 'whsec_bmV3', expires_at: null },
          { secret: 'whsec_b2xk', expires_at: clock.now + 1000 },
        ],
      });
      assert.ok(updated);
      assert.deepEqual(updated.event_types, ['a.*', 'b']);
      assert.equal(updated.description, null);
      assert.equal(updated.url, 'https://example.test/hook', 'untouched fields stay');
      assert.deepEqual(updated.metadata, { team: 'a' });
      assert.equal(updated.secrets.length, 2);
      assert.equal(updated.created_at, created.created_at);
      assert.equal(updated.updated_at, clock.now);
      assert.deepEqual(await store.getSubscription('s1'), updated);
      assert.equal(await store.updateSubscription('nope', { description: 'x' }), null);
      assert.equal(await store.getSubscription('nope'), null);
      assert.equal(await store.deleteSubscription('s2'), true);
      assert.equal(await store.deleteSubscription('s2'), false);
      assert.deepEqual((await store.listSubscriptions()).map((s) => s.id), ['s1']);
    });

    test('creating a taken id is a ConflictError', async ({ store }) => {
      await store.createSubscription(subscription('dup'));
      await assert.rejects(store.createSubscription(subscription('dup', { url: 'https://other.test' })), ConflictError);
      assert.equal((await store.getSubscription('dup'))?.url, null);
    });

    test('deleting a subscription removes its deliveries, not the others', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      await store.createSubscription(subscription('b'));
      const event = await append(ctx);
      await store.settle([
        {
          delivery_id: (await claimOne(ctx, 'a')).delivery_id,
          lease_token: null,
          attempt: null,
          outcome: { kind: 'delivered' },
        },
      ]);
      await append(ctx);
      assert.equal(await store.deleteSubscription('a'), true);
      assert.deepEqual((await store.getEvent(event.id))?.deliveries.map((d) => d.subscription_id), ['b']);
      assert.equal((await store.listInbox({ subscription_id: 'a', limit: 10 })).items.length, 0);
      assert.equal((await store.listInbox({ subscription_id: 'b', limit: 10 })).items.length, 2);
      assert.deepEqual((await store.stats()).subscriptions.map((s) => s.subscription_id), ['b']);
      // Re-creating the id starts from nothing.
      await store.createSubscription(subscription('a'));
      assert.equal((await store.claim({ subscription_id: 'a', limit: 10, lease_ms: 1000 })).length, 0);
    });

    test('a disabled subscription gets no new deliveries and hands out no claims', async (ctx) => {
      const { store } = ctx;
      await store.createSubscription(subscription('a'));
      await append(ctx);
      await store.updateSubscription('a', { status: 'disabled' });
      const skipped = await append(ctx);
      assert.equal((await store.getEvent(skipped.id))?.deliveries.length, 0);
      assert.deepEqual(await store.claim({ subscription_id: 'a', limit: 10, lease_ms: 1000 }), []);
      await store.updateSubscription('a', { status: 'active' });
      assert.equal((await store.claim({ subscription_id: 'a', limit: 10, lease_ms: 1000 })).length, 1, 'the old one waited');
      assert.deepEqual(await store.claim({ subscription_id: 'missing', limit: 10, lease_ms: 1000 }), []);
    });
  });
}
