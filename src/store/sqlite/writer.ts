/**
 * Where the SQLite store's writes run. A `Writer` takes a named write verb (writeVerbs.ts) with
 * its arguments and answers with the verb's result once it is committed — and, for durable
 * writes, once the WAL is fsync'd. `LocalWriter` runs them on the calling thread: the group
 * commit, the WAL fsync on libuv's pool (walSync.ts) and the checkpoint worker (checkpointer.ts).
 *
 * Running the writer on a worker thread of its own was built and measured (docs/benchmarks.md,
 * "Tried and measured"): on two cores it cost as much as it saved, and added latency.
 */
import type { EpochMs } from '../../core/types.js';
import { Checkpointer } from './checkpointer.js';
import { GroupCommit, type Tx } from './groupCommit.js';
import type { Db } from './prepared.js';
import { writeCounts } from './queries/counters.js';
import { WalSync } from './walSync.js';
import { createWriteVerbs, type Verb, type VerbArgs, type VerbResult, type WriteVerbs, weight } from './writeVerbs.js';

export interface WriteOptions {
  /** false: answer right after COMMIT, without waiting for the disk (leases). */
  durable: boolean;
  /** The caller's clock reading: the transaction's `now`. */
  now: EpochMs;
}

export interface Writer {
  write<V extends Verb>(verb: V, args: VerbArgs<V>, options: WriteOptions): Promise<VerbResult<V>>;
  /** Answers what is queued, then stops; later writes fail with 503. Does not close `db`. */
  close(): Promise<void>;
}

/** Called after a commit with the subscriptions that have new due deliveries. */
export type CommitListener = (subscriptionIds: string[]) => void;

export class LocalWriter implements Writer {
  private readonly commit: GroupCommit;
  private readonly verbs: WriteVerbs;
  private readonly walSync: WalSync | null;
  private readonly checkpointer: Checkpointer | null;

  constructor(db: Db, clock: () => EpochMs, onCommit: CommitListener) {
    const { verbs, onRollback } = createWriteVerbs();
    this.verbs = verbs;
    this.walSync = db.memory ? null : new WalSync(`${db.name}-wal`);
    this.checkpointer = db.memory ? null : new Checkpointer(db);
    const walSync = this.walSync;
    this.commit = new GroupCommit(db, clock, onCommit, onRollback, writeCounts, walSync ? (done) => walSync.sync(done) : null);
  }

  write<V extends Verb>(verb: V, args: VerbArgs<V>, options: WriteOptions): Promise<VerbResult<V>> {
    const run = this.verbs[verb] as (tx: Tx, ...args: unknown[]) => VerbResult<V>;
    return this.commit.submit((tx) => run(tx, ...args), { ...options, weight: weight(verb, args) });
  }

  async close(): Promise<void> {
    this.commit.close();
    await this.walSync?.drained();
    this.walSync?.close();
    await this.checkpointer?.close();
  }
}
