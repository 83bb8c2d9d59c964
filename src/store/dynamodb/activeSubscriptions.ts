/**
 * The active subscriptions appends match events against, cached per process: re-read after
 * `ttlMs`, and at once after any subscription write made through this process (a read that
 * started before such a write is never cached). Concurrent callers share one read.
 */
import type { ActiveSubscription } from './appendEvents.js';
import type { Dynamo } from './client.js';
import * as subscriptions from './subscriptions.js';

/** Active subscriptions for appends, re-read after `ttlMs` or after any local subscription write. */
export class ActiveSubscriptions {
  private generation = 0;
  private cached: { generation: number; at: number; value: ActiveSubscription[] } | null = null;
  private inFlight: { generation: number; promise: Promise<ActiveSubscription[]> } | null = null;

  constructor(
    private readonly db: Dynamo,
    private readonly ttlMs: number,
  ) {}

  invalidate(): void {
    this.generation++;
    this.cached = null;
  }

  get(): Promise<ActiveSubscription[]> {
    const generation = this.generation;
    if (this.cached !== null && this.cached.generation === generation && Date.now() - this.cached.at < this.ttlMs) {
      return Promise.resolve(this.cached.value);
    }
    if (this.inFlight !== null && this.inFlight.generation === generation) return this.inFlight.promise;
    const promise = subscriptions.listSubscriptions(this.db).then((all) => {
      const value = all.filter((s) => s.status === 'active').map(({ id, event_types }) => ({ id, event_types }));
      if (this.generation === generation && this.ttlMs > 0) this.cached = { generation, at: Date.now(), value };
      return value;
    });
    const entry = { generation, promise };
    this.inFlight = entry;
    promise.then(
      () => {
        if (this.inFlight === entry) this.inFlight = null;
      },
      () => {
        if (this.inFlight === entry) this.inFlight = null;
      },
    );
    return promise;
  }
}
