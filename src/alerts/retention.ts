/**
 * Retention: purges what is older than TRIGGERS_RETENTION_DAYS — events with their deliveries
 * and attempts, and received requests — plus idempotency keys past their 24 hours. At start and
 * then hourly, in batches of `batch` rows per transaction, yielding to the event loop between
 * batches so ingest and delivery never wait long behind it.
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import type { EpochMs } from '../core/types.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';

export interface RetentionOptions {
  store: Store;
  log: Logger;
  retentionDays: number;
  batch?: number;
  intervalMs?: number;
  clock?: () => EpochMs;
}

const DAY_MS = 86_400_000;

export class Retention {
  readonly #options: RetentionOptions;
  readonly #clock: () => EpochMs;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<number> | null = null;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  start(): void {
    if (this.#timer) return;
    this.#stopped = false;
    this.#timer = setInterval(() => void this.run(), this.#options.intervalMs ?? 3_600_000);
    this.#timer.unref();
    void this.run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One full pass; returns how many rows went. Overlapping calls share one pass. */
  run(): Promise<number> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  async #pass(): Promise<number> {
    const { store, log, retentionDays } = this.#options;
    const batch = this.#options.batch ?? 500;
    const before = this.#clock() - retentionDays * DAY_MS;
    let total = 0;
    try {
      while (!this.#stopped) {
        const removed = await store.purge(before, batch);
        total += removed;
        if (removed === 0) break;
        await yieldNow();
      }
    } catch (error) {
      log.error({ err: error }, 'retention purge failed; it runs again within the hour');
    }
    if (total > 0) log.info({ removed: total, before: new Date(before).toISOString() }, 'retention purged old data');
    return total;
  }
}
