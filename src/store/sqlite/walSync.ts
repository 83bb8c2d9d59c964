/**
 * Durability without blocking the event loop. The database runs with synchronous=NORMAL, so a
 * COMMIT appends its frames to the WAL file with write() and returns at once; then this module
 * fdatasync()s the WAL file on libuv's thread pool, and only when that returns do the batch's
 * callers get their answers. The effect is the same as synchronous=FULL — nothing is reported
 * stored before it is on disk — but the main thread keeps parsing requests and running the next
 * batch while the disk works, so fsyncs of consecutive batches overlap with useful work.
 *
 * Why this is safe: WAL recovery replays every frame with a valid checksum up to the last commit
 * frame, and an fdatasync issued after a COMMIT returned covers every byte that COMMIT wrote.
 * SQLite itself still syncs the WAL before each checkpoint (NORMAL does that), so checkpoints
 * never copy frames that are not durable. The WAL file keeps its inode while the database is open
 * (SQLite rewrites it in place after a checkpoint), so one file descriptor serves throughout.
 */
import { closeSync, existsSync, fdatasync, openSync } from 'node:fs';

export class WalSync {
  private fd: number | null = null;
  private syncing = false;
  /** Callers whose commits landed while a sync was running: the next sync covers them all. */
  private next: ((error: Error | null) => void)[] = [];
  private idle: (() => void)[] = [];

  constructor(
    private readonly walPath: string,
    /** Told each fdatasync's duration in seconds (the triggers_store_sync_seconds histogram). */
    private readonly observe: (seconds: number) => void = () => {},
  ) {}

  /**
   * Calls `done` once everything committed so far is on disk. At most one fdatasync runs at a
   * time: commits that land meanwhile share the next one (concurrent fsyncs of one file queue in
   * the kernel anyway, and tiny batches would otherwise each pay for their own).
   */
  sync(done: (error: Error | null) => void): void {
    if (this.fd === null) {
      // The WAL file appears with the first write; until then there is nothing to sync.
      if (!existsSync(this.walPath)) {
        done(null);
        return;
      }
      this.fd = openSync(this.walPath, 'r');
    }
    if (this.syncing) {
      this.next.push(done);
      return;
    }
    this.run([done]);
  }

  private run(waiters: ((error: Error | null) => void)[]): void {
    this.syncing = true;
    const startedAt = performance.now();
    fdatasync(this.fd as number, (error) => {
      this.syncing = false;
      this.observe((performance.now() - startedAt) / 1000);
      for (const waiter of waiters) waiter(error);
      if (this.next.length > 0) {
        const following = this.next;
        this.next = [];
        this.run(following);
      } else {
        for (const resolve of this.idle.splice(0)) resolve();
      }
    });
  }

  /** Resolves when no sync is running or waiting. */
  drained(): Promise<void> {
    if (!this.syncing) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
