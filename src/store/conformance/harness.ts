/**
 * What every conformance test stands on: a fresh store per test, a clock the test moves by hand
 * (lease expiry, retries and due times are tested without sleeping), and small fixtures.
 */
import { it } from 'node:test';
import { newEventId } from '../../core/ids.js';
import type { Attempt, ClaimedDelivery, JsonObject, NewEvent, NewSubscription, Settlement } from '../../core/types.js';
import type { Store } from '../store.js';

/** Opens a fresh, empty, migrated store reading time from `clock`. The suite closes the store, then calls cleanup. */
export type OpenStore = (clock: () => number) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export class TestClock {
  now = Date.UTC(2030, 0, 1);
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

export interface Context {
  store: Store;
  clock: TestClock;
}

/** Registers one `it` that runs `body` against a fresh store. */
export function storeTest(open: OpenStore): (name: string, body: (ctx: Context) => Promise<void>) => void {
  return (name, body) =>
    it(name, async () => {
      await withStore(open, body);
    });
}

export async function withStore<T>(open: OpenStore, body: (ctx: Context) => Promise<T>): Promise<T> {
  const clock = new TestClock();
  const { store, cleanup } = await open(clock.read);
  try {
    return await body({ store, clock });
  } finally {
    await store.close();
    await cleanup();
  }
}

export function subscription(id: string, overrides: Partial<NewSubscription> = {}): NewSubscription {
  return {
    id,
    url: null,
    event_types: ['*'],
    secrets: [{ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', expires_at: null }],
    status: 'active',
    description: null,
    disabled_reason: null,
    metadata: {},
    ...overrides,
  };
}

export function newEvent(clock: TestClock, type = 'order.created', payload: JsonObject = { n: 1 }, source = 'test'): NewEvent {
  return { id: newEventId(clock.now), type, source, payload, created_at: clock.now };
}

/** Appends one event and returns it. */
export async function append(ctx: Context, type = 'order.created', payload: JsonObject = { n: 1 }, source = 'test'): Promise<NewEvent> {
  const event = newEvent(ctx.clock, type, payload, source);
  await ctx.store.append({ events: [event] });
  return event;
}

/** Appends `count` events, one millisecond apart, and returns them oldest first. */
export async function appendMany(ctx: Context, count: number, type = 'order.created'): Promise<NewEvent[]> {
  const events: NewEvent[] = [];
  for (let i = 0; i < count; i++) {
    events.push(await append(ctx, type, { i }));
    ctx.clock.advance(1);
  }
  return events;
}

export function attempt(ctx: Context, status_code: number | null, error: string | null = null): Omit<Attempt, 'n'> {
  return { at: ctx.clock.now, duration_ms: 12, status_code, error, response: status_code === null ? null : `answer ${status_code}` };
}

export const delivered = (ctx: Context, claim: ClaimedDelivery, status = 200): Settlement => ({
  delivery_id: claim.delivery_id,
  lease_token: claim.lease_token,
  attempt: attempt(ctx, status),
  outcome: { kind: 'delivered' },
});

export const retry = (ctx: Context, claim: ClaimedDelivery, at: number, status: number | null = 503): Settlement => ({
  delivery_id: claim.delivery_id,
  lease_token: claim.lease_token,
  attempt: attempt(ctx, status, status === null ? 'connection refused' : null),
  outcome: { kind: 'retry', next_attempt_at: at },
});

export const dead = (ctx: Context, claim: ClaimedDelivery, status = 400): Settlement => ({
  delivery_id: claim.delivery_id,
  lease_token: claim.lease_token,
  attempt: attempt(ctx, status),
  outcome: { kind: 'dead' },
});

/** Claims one delivery of `subscription_id` and fails when there is none. */
export async function claimOne(ctx: Context, subscription_id: string, lease_ms = 30_000): Promise<ClaimedDelivery> {
  const [claim] = await ctx.store.claim({ subscription_id, limit: 1, lease_ms });
  if (claim === undefined) throw new Error(`nothing to claim for ${subscription_id}`);
  return claim;
}

/** Follows cursors to the end; fails on a page that repeats a cursor (a loop). */
export async function collect<T>(
  page: (after: string | null) => Promise<{ items: T[]; next_cursor: string | null }>,
): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let after: string | null = null;
  for (;;) {
    const result = await page(after);
    items.push(...result.items);
    if (result.next_cursor === null) return items;
    if (seen.has(result.next_cursor)) throw new Error('cursor loop');
    seen.add(result.next_cursor);
    after = result.next_cursor;
  }
}

/** The TriggersError code of a rejection, for assert.rejects. */
export const withCode =
  (code: string) =>
  (error: unknown): boolean =>
    typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

/** Lets queued commits and their callbacks run. */
export async function settleTicks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** Wake-ups may come after the write resolves (e.g. through a database channel): wait a little. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting for a wake-up');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
