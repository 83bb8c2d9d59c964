/**
 * A property test: random sequences of append / claim / settle / ack / replay / time passing,
 * checked against a small model of the delivery state machine. After every step:
 *   - every delivery is in exactly the status the model says (via inbox, dead letters, stats),
 *   - no claim hands out a delivery that another live lease holds,
 *   - paging through the inbox yields exactly the pending set.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Context, type OpenStore, attempt, collect, newEvent, subscription, withStore } from './harness.js';

const SUBSCRIPTIONS = [
  { id: 'a', event_types: ['*'] },
  { id: 'b', event_types: ['order.*'] },
] as const;
const TYPES = ['order.created', 'invoice.sent'] as const;

type Command =
  | { kind: 'append'; type: number; count: number }
  | { kind: 'claim'; sub: number; limit: number; leaseMs: number }
  | { kind: 'settle'; pick: number; outcome: 'delivered' | 'retry' | 'dead'; delayMs: number }
  | { kind: 'ack'; sub: number; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'replay'; sub: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), type: fc.nat(1), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('claim' as const), sub: fc.nat(1), limit: fc.integer({ min: 1, max: 4 }), leaseMs: fc.integer({ min: 1, max: 3 }).map((n) => n * 1000) }),
  fc.record({ kind: fc.constant('settle' as const), pick: fc.nat(), outcome: fc.constantFrom('delivered' as const, 'retry' as const, 'dead' as const), delayMs: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ kind: fc.constant('ack' as const), sub: fc.nat(1), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4000 }) }),
  fc.record({ kind: fc.constant('replay' as const), sub: fc.nat(1) }),
);

interface ModelDelivery {
  sub: string;
  eventId: string;
  status: 'pending' | 'delivered' | 'failed';
  token: string | null;
  /** next_attempt_at, or the lease end while leased. */
  due: number;
}

async function run(ctx: Context, commands: Command[]): Promise<void> {
  const { store, clock } = ctx;
  for (const { id, event_types } of SUBSCRIPTIONS) await store.createSubscription(subscription(id, { event_types: [...event_types] }));
  const model = new Map<string, ModelDelivery>();
  const events: { id: string; type: string }[] = [];
  const claims: { deliveryId: string; token: string; key: string }[] = [];
  const key = (sub: string, eventId: string) => `${sub}|${eventId}`;

  for (const step of commands) {
    const now = clock.now;
    switch (step.kind) {
      case 'append': {
        const batch = Array.from({ length: step.count }, () => newEvent(clock, TYPES[step.type] as string));
        await store.append({ events: batch });
        for (const event of batch) {
          events.push(event);
          for (const sub of SUBSCRIPTIONS) {
            if (sub.id === 'b' && !event.type.startsWith('order.')) continue;
            model.set(key(sub.id, event.id), { sub: sub.id, eventId: event.id, status: 'pending', token: null, due: now });
          }
        }
        break;
      }
      case 'claim': {
        const sub = SUBSCRIPTIONS[step.sub]?.id as string;
        const due = [...model.values()].filter((d) => d.sub === sub && d.status === 'pending' && d.due <= now);
        const got = await store.claim({ subscription_id: sub, limit: step.limit, lease_ms: step.leaseMs });
        assert.equal(got.length, Math.min(step.limit, due.length));
        for (const claim of got) {
          const entry = model.get(key(sub, claim.event.id));
          assert.ok(entry && entry.status === 'pending' && entry.due <= now, 'claimed something not due (a live lease?)');
          entry.token = claim.lease_token;
          entry.due = claim.lease_expires_at;
          claims.push({ deliveryId: claim.delivery_id, token: claim.lease_token, key: key(sub, claim.event.id) });
        }
        break;
      }
      case 'settle': {
        const claim = claims[step.pick % Math.max(1, claims.length)];
        if (claim === undefined) break;
        const entry = model.get(claim.key) as ModelDelivery;
        const applies = entry.status === 'pending' && (step.outcome === 'delivered' || entry.token === claim.token);
        const outcome =
          step.outcome === 'retry' ? { kind: 'retry' as const, next_attempt_at: now + step.delayMs } : { kind: step.outcome };
        const [result] = await store.settle([
          { delivery_id: claim.deliveryId, lease_token: claim.token, attempt: attempt(ctx, 500), outcome },
        ]);
        assert.equal(result?.applied, applies);
        if (applies) {
          entry.token = null;
          if (step.outcome === 'retry') entry.due = now + step.delayMs;
          else entry.status = step.outcome === 'delivered' ? 'delivered' : 'failed';
        }
        break;
      }
      case 'ack': {
        const sub = SUBSCRIPTIONS[step.sub]?.id as string;
        const event = events[step.pick % Math.max(1, events.length)];
        if (event === undefined) break;
        const entry = model.get(key(sub, event.id));
        const expected = entry === undefined ? 'not_found' : entry.status === 'delivered' ? 'already_acked' : 'acked';
        assert.equal(await store.ackEvent(sub, event.id), expected);
        if (entry !== undefined) {
          entry.status = 'delivered';
          entry.token = null;
        }
        break;
      }
      case 'advance':
        clock.advance(step.ms);
        break;
      case 'replay': {
        const sub = SUBSCRIPTIONS[step.sub]?.id as string;
        const failed = [...model.values()].filter((d) => d.sub === sub && d.status === 'failed');
        assert.equal(await store.replay({ subscription_id: sub }), failed.length);
        for (const entry of failed) Object.assign(entry, { status: 'pending', token: null, due: now });
        break;
      }
    }
    await check(ctx, model);
  }
}

async function check(ctx: Context, model: Map<string, ModelDelivery>): Promise<void> {
  const stats = await ctx.store.stats();
  for (const { id } of SUBSCRIPTIONS) {
    const mine = [...model.values()].filter((d) => d.sub === id);
    const pending = mine.filter((d) => d.status === 'pending').map((d) => d.eventId).sort();
    const failed = mine.filter((d) => d.status === 'failed').map((d) => d.eventId).sort();
    const inbox = await collect((after) => ctx.store.listInbox({ subscription_id: id, limit: 3, after }));
    assert.deepEqual(inbox.map((item) => item.id), pending, `inbox of ${id}`);
    const letters = await collect((after) => ctx.store.listDeadLetters({ subscription_id: id, limit: 3, after }));
    assert.deepEqual(letters.map((d) => d.event.id).sort(), failed, `dead letters of ${id}`);
    const counts = stats.subscriptions.find((s) => s.subscription_id === id);
    assert.deepEqual([counts?.pending, counts?.failed], [pending.length, failed.length], `stats of ${id}`);
  }
}

export function propertyTests(open: OpenStore): void {
  describe('state machine (property)', () => {
    it('random append/claim/settle/ack/replay sequences keep the invariants', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), (commands) =>
          withStore(open, (ctx) => run(ctx, commands)),
        ),
        { numRuns: 40 },
      );
    });
  });
}
