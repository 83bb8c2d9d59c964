/**
 * Group commit: write verbs called in the same tick are queued and run in ONE transaction, so
 * one fsync pays for all of them; then every caller's promise settles. The fsync itself
 * (`durable`, see walSync.ts) runs off the event loop: callers are answered only after it
 * returns, while the next batch is already being built. Dispatchers are woken at COMMIT, so a
 * delivery starts while the disk syncs instead of after: the producer's 201 still waits for the
 * fsync, and an event is never reported stored before it is on disk (docs/architecture.md,
 * "Delivery starts at commit").
 *
 * Queue state machine (one instance per connection):
 *
 *   idle ── submit ──► queued (setImmediate scheduled) ── tick ends / queue hits the cap ──► flushing
 *     ▲                     │  ▲                                                              │
 *     │     only durable jobs, │ the sync returns                                             │
 *     │     a sync running  ▼  │                                                              │
 *     │                    held                                                               │
 *     └──────────────── COMMIT (resolve each) or ROLLBACK (reject each) ◄─────────────────────┘
 *
 * Held: while an fsync is running, a batch of durable jobs only could not be answered before the
 * NEXT fsync anyway (the disk syncs one at a time), so it keeps collecting until the running one
 * returns and then commits once, instead of committing every tick and having several commits
 * share that next fsync. Same answer times, far fewer commits (each writes its pages to the WAL):
 * under load it is about one commit per fsync. A batch holding a non-durable job (a claim, whose
 * caller is answered at COMMIT) is never held, and the size cap still flushes at once. Nor does
 * anything wait once the running sync is MAX_HOLD_MS old: a disk that stalls (shared virtual
 * disks do, for tens of milliseconds at a time) would otherwise keep new events from dispatchers
 * for as long; instead they commit every tick, are delivered, and are answered when it returns.
 *
 * Jobs run back to back with no savepoints (savepoints would cost more than the inserts). If one
 * throws (a validation error, a duplicate id), the batch is rolled back and run again with each
 * job in its own SAVEPOINT, so that job's failure rejects only its own promise. Jobs are pure
 * functions of the database and their inputs, so running one twice is safe. A failure that
 * takes the whole transaction down (disk full, I/O error) rejects every job of the batch:
 * none of them was committed.
 *
 * better-sqlite3 is synchronous, so a flush runs start to end without interleaving with other
 * JavaScript; reads done outside a flush never see a half-applied batch.
 */
import { UnavailableError } from '../../core/errors.js';
import type { EpochMs } from '../../core/types.js';
import { mapSqliteError } from './errors.js';
import type { Db, Statement } from './prepared.js';

/** What a job sees while it runs inside the batch transaction. */
export interface Tx {
  db: Db;
  /** The store clock, read when this job started. */
  now: EpochMs;
  /** Identifies the transaction: jobs with the same value share it (for per-batch caches). */
  batch: number;
  /** Subscriptions that have new due deliveries once this job commits (wakes dispatchers). */
  notify(subscriptionIds: Iterable<string>): void;
  /**
   * Adds to a named counter. Counts of the batch's successful jobs are summed and written once,
   * just before COMMIT (one UPDATE per counter per batch instead of one per job).
   */
  count(name: string, delta: number): void;
}

/** Writes summed counters inside the batch transaction. */
export type CountWriter = (db: Db, counts: ReadonlyMap<string, number>) => void;

interface Job {
  work: (tx: Tx) => unknown;
  /** false: answer right after COMMIT, without waiting for the disk (leases: losing one in a crash only means a redelivery). */
  durable: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Longest a batch of durable jobs waits for a running fsync before it commits anyway. Syncs
 * usually return well within it, so under load the hold still saves most commits.
 */
export const MAX_HOLD_MS = 2;

export class GroupCommit {
  private queue: Job[] = [];
  /** Rows the queued jobs touch (their `weight`s). */
  private queuedWeight = 0;
  private transactions = 0;
  private scheduled = false;
  /** Queued jobs that are answered at COMMIT, not after the fsync: their batch is never held. */
  private queuedEager = 0;
  /** fsyncs asked for and not yet returned. */
  private syncing = 0;
  /** When the running fsyncs began (`syncing` went from 0 to 1). */
  private syncSince = 0;
  private holdTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly clock: () => EpochMs,
    private readonly onCommit: (subscriptionIds: string[]) => void,
    /** Drops anything cached from inside a transaction that did not commit. */
    private readonly onRollback: () => void,
    private readonly writeCounts: CountWriter,
    /** Makes everything committed so far durable, then calls back (omitted: COMMIT is enough). */
    private readonly durable: ((done: (error: Error | null) => void) => void) | null = null,
    /** Rows (job weights) that make a batch run at once instead of at the end of the turn. */
    private readonly maxBatch = 1024,
    /** Age of the running sync after which batches stop waiting for it. */
    private readonly maxHoldMs = MAX_HOLD_MS,
  ) {
    this.savepoint = db.prepare('SAVEPOINT job');
    this.release = db.prepare('RELEASE job');
    this.rollbackTo = db.prepare('ROLLBACK TO job');
  }

  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  submit<T>(work: (tx: Tx) => T, options: { durable?: boolean; weight?: number } = {}): Promise<T> {
    if (this.closed) return Promise.reject(new UnavailableError('storage is closed', 5));
    return new Promise<T>((resolve, reject) => {
      const durable = options.durable ?? true;
      this.queue.push({ work, durable, resolve: resolve as (value: unknown) => void, reject });
      this.queuedWeight += options.weight ?? 1;
      if (!durable) this.queuedEager++;
      if (this.queuedWeight >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Flushes at the end of this turn of the event loop, unless the batch is held (see above). */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.hold()) this.flush();
    });
  }

  /**
   * Whether the queued batch waits for the running sync: its return flushes it, or, if it runs
   * past MAX_HOLD_MS, a timer does (and while it keeps running, batches commit at once).
   */
  private hold(): boolean {
    if (this.syncing === 0 || this.queuedEager > 0) return false;
    const left = this.maxHoldMs - (performance.now() - this.syncSince);
    if (left <= 0) return false;
    this.holdTimer ??= setTimeout(() => {
      this.holdTimer = null;
      this.flush();
    }, left);
    return true;
  }

  /** Runs everything queued now, in one transaction. */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.queuedWeight = 0;
    this.queuedEager = 0;
    if (this.holdTimer !== null) {
      clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    if (batch.length === 0) return;
    const { outcomes, notified } = this.runBatch(batch);
    // Committed: dispatchers may start on it now; its callers hear once it is on disk.
    if (notified.size > 0) this.onCommit([...notified]);
    const mustSync = batch.some((job, index) => job.durable && (outcomes[index] as Outcome).ok);
    if (!mustSync || this.durable === null) {
      this.answer(batch, outcomes, () => true);
      return;
    }
    // Failures and non-durable jobs are answered now; the rest once the disk has them.
    this.answer(batch, outcomes, (job, outcome) => !outcome.ok || !job.durable);
    if (this.syncing++ === 0) this.syncSince = performance.now();
    this.durable((error) => {
      this.syncing--;
      // What was held meanwhile commits now and shares the next fsync.
      if (this.queue.length > 0) this.schedule();
      const waiting = (job: Job, outcome: Outcome) => outcome.ok && job.durable;
      if (error) {
        // Committed but not known to be on disk: report it unstored so the client retries.
        const failure =
          error instanceof UnavailableError
            ? error
            : new UnavailableError(`storage could not sync to disk (${error.message})`, 5);
        const failed = outcomes.map((outcome): Outcome => (outcome.ok ? { ok: false, error: failure } : outcome));
        this.answer(batch, failed, (job, _outcome, index) => waiting(job, outcomes[index] as Outcome));
        return;
      }
      this.answer(batch, outcomes, waiting);
    });
  }

  private answer(batch: Job[], outcomes: Outcome[], which: (job: Job, outcome: Outcome, index: number) => boolean): void {
    for (const [index, job] of batch.entries()) {
      const outcome = outcomes[index] as Outcome;
      if (!which(job, outcome, index)) continue;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.error);
    }
  }

  /** Flushes what is queued and refuses further work. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private runBatch(batch: Job[]): { outcomes: Outcome[]; notified: Set<string> } {
    const fast = this.attempt(batch, false);
    if (fast !== 'job failed') return fast;
    return this.attempt(batch, true) as { outcomes: Outcome[]; notified: Set<string> };
  }

  /**
   * One try at the batch. Without savepoints, the first failing job aborts the try ('job
   * failed', everything rolled back) unless it is the only job.
   */
  private attempt(batch: Job[], savepoints: boolean): { outcomes: Outcome[]; notified: Set<string> } | 'job failed' {
    const db = this.db;
    const failAll = (error: unknown) => {
      this.rollback();
      const mapped = mapSqliteError(error);
      return { outcomes: batch.map((): Outcome => ({ ok: false, error: mapped })), notified: new Set<string>() };
    };
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      return failAll(error);
    }
    const outcomes: Outcome[] = [];
    const notified: string[] = [];
    const counts = new Map<string, number>();
    const transaction = ++this.transactions;
    for (const job of batch) {
      const ids: string[] = [];
      const deltas: [string, number][] = [];
      const tx: Tx = {
        db,
        now: this.clock(),
        batch: transaction,
        notify: (list) => ids.push(...list),
        count: (name, delta) => deltas.push([name, delta]),
      };
      try {
        if (savepoints) this.savepoint.run();
        const value = job.work(tx);
        if (savepoints) this.release.run();
        outcomes.push({ ok: true, value });
        notified.push(...ids);
        for (const [name, delta] of deltas) counts.set(name, (counts.get(name) ?? 0) + delta);
      } catch (error) {
        // Disk full, I/O errors and the like can end the whole transaction, not just the job.
        if (batch.length === 1 || !db.inTransaction) return failAll(error);
        if (!savepoints) {
          this.rollback();
          return 'job failed';
        }
        try {
          this.rollbackTo.run();
          this.release.run();
        } catch (rollbackError) {
          return failAll(rollbackError);
        }
        outcomes.push({ ok: false, error: mapSqliteError(error) });
      }
    }
    try {
      if (counts.size > 0) this.writeCounts(db, counts);
      db.exec('COMMIT');
    } catch (error) {
      return failAll(error);
    }
    return { outcomes, notified: new Set(notified) };
  }

  private rollback(): void {
    if (this.db.open && this.db.inTransaction) {
      try {
        this.db.exec('ROLLBACK');
      } catch {
        // The transaction is already gone; nothing left to undo.
      }
    }
    this.onRollback();
  }
}
