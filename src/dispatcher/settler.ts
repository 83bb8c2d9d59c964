/**
 * Group settlement: attempt reports are collected and committed with one `source.settle` call,
 * one call at a time. A batch goes when it is full, or a few milliseconds after its first
 * report — spaced by the last call's own duration, so commits stay a small share of the time
 * whatever the disk's fsync costs. Just before a call, `beforeSettle` lets the engine issue its
 * top-up claims in the same tick, so a group-committing store pays one fsync for both.
 *
 *   empty ── report ──► collecting ── full / timer ──► settling ── answer ──► empty | collecting
 *                                                         │
 *                                        error: reports back in front, retry in 500 ms
 */
import type { Logger } from '../observability/logger.js';
import type { AttemptReport, DeliverySource, SettledReport } from './source.js';
import { MAX_CLAIM } from './targetState.js';

export interface SettlerOptions<T> {
  source: DeliverySource;
  log: Logger;
  delayMs: number;
  batch: number;
  beforeSettle: () => void;
  settled: (reports: AttemptReport[], tags: T[], outcomes: SettledReport[]) => void;
  failed: (error: unknown) => void;
  /** Called after every call ends, for idleness checks. */
  changed: () => void;
}

export class Settler<T> {
  #reports: AttemptReport[] = [];
  /** Whatever the engine attached to each report (its target). */
  #tags: T[] = [];
  #settling: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastMs = 0;
  #failures = 0;
  /** After close(): reports are dropped (their leases expire and they are delivered again). */
  #closed = false;

  constructor(private readonly options: SettlerOptions<T>) {}

  get pending(): number {
    return this.#reports.length;
  }

  get busy(): boolean {
    return this.#settling !== null;
  }

  push(report: AttemptReport, tag: T): void {
    if (this.#closed) return;
    this.#reports.push(report);
    this.#tags.push(tag);
    if (this.#reports.length >= this.options.batch) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), this.options.delayMs);
  }

  flush(): void {
    this.#clearTimer();
    if (this.#settling || this.#reports.length === 0) return;
    const reports = this.#reports.splice(0, MAX_CLAIM);
    const tags = this.#tags.splice(0, reports.length);
    this.options.beforeSettle();
    const startedAt = performance.now();
    this.#settling = this.options.source.settle(reports).then(
      (outcomes) => {
        this.#settling = null;
        this.#failures = 0;
        this.#lastMs = performance.now() - startedAt;
        this.options.settled(reports, tags, outcomes);
        this.#next(false);
      },
      (error: unknown) => {
        this.#settling = null;
        this.#failures++;
        if (this.#failures === 1 || this.#failures % 20 === 0) {
          this.options.log.error({ err: error, results: reports.length, failures: this.#failures }, 'settle failed; retrying');
        }
        this.options.failed(error);
        // Back in front; their leases outlast several retries.
        this.#reports.unshift(...reports);
        this.#tags.unshift(...tags);
        this.#next(true);
      },
    );
  }

  /** Settles everything collected, retrying a failed call a few times. */
  async drain(): Promise<void> {
    for (let tries = 0; tries < 5; tries++) {
      if (this.#settling) await this.#settling;
      if (this.#reports.length === 0) break;
      this.flush();
      if (this.#settling) await this.#settling;
      this.#clearTimer();
      if (this.#reports.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 200 * (tries + 1)));
    }
    this.#clearTimer();
    if (this.#reports.length > 0) {
      this.options.log.error(
        { results: this.#reports.length },
        'could not settle results; their leases will expire and they will be retried',
      );
    }
  }

  /** Stops settling: pending and later reports are dropped, no timer stays behind. */
  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#reports = [];
    this.#tags = [];
  }

  open(): void {
    this.#closed = false;
  }

  #next(failed: boolean): void {
    if (this.#reports.length > 0 && !this.#closed) {
      if (failed) this.#timer ??= setTimeout(() => this.flush(), 500);
      else if (this.#reports.length >= this.options.batch) this.flush();
      else {
        const delay = Math.max(this.options.delayMs, Math.min(50, 4 * this.#lastMs));
        this.#timer ??= setTimeout(() => this.flush(), delay);
      }
    }
    this.options.changed();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
