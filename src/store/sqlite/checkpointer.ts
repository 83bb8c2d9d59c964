/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses the threshold: it copies the WAL's pages into the database file and fsyncs both files
 * on the committing thread — ours is the event loop, so every thousand pages one request would
 * wait for two fsyncs and a page copy. Instead a worker thread with its own connection runs a
 * PASSIVE checkpoint every CHECKPOINT_INTERVAL_MS: it never blocks the writer (it copies only
 * frames already committed, and stops where the writer is), and a completed one lets the next
 * write start the WAL over from its beginning.
 *
 * PASSIVE checkpoints can fall behind a writer that never pauses (the WAL only restarts when a
 * write finds every frame copied), so the writer keeps an automatic checkpoint with a high
 * threshold (SAFETY_NET_PAGES) as a bound on the WAL's size; by the time it fires the worker has
 * copied nearly everything, so it costs little.
 *
 * Durability is SQLite's own: with synchronous=NORMAL a checkpoint syncs the WAL before copying
 * and the database file after, so no frame is dropped before it is on disk in the database.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './prepared.js';

export const CHECKPOINT_INTERVAL_MS = 100;
/**
 * The writer's own automatic checkpoint, in pages (4 KiB each): about 160 MB of WAL. Under
 * sustained writes the worker's checkpoints rarely let the WAL start over (a commit lands while
 * each runs), so this is what restarts it — with three fsyncs on the event loop (WAL, database,
 * new WAL header). At 1,000 events/s a serve process writes ~11,000 pages a second: 10,000 pages
 * meant those syncs about once a second, and a disk stall then stalled the loop; 40,000 makes it
 * four times rarer. The file stays at its high-water mark; it only gets there under such load.
 */
export const SAFETY_NET_PAGES = 40_000;

// Plain CommonJS run with `eval`, so it works the same from src/ (tsx) and from dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
db.pragma('cache_size = -512');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // Busy or I/O trouble: the writer's own automatic checkpoint still bounds the WAL.
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(db: Db, intervalMs = CHECKPOINT_INTERVAL_MS) {
    db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path: db.name, intervalMs },
      // It allocates next to nothing: a small heap keeps its resident cost to a few MB.
      resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16, codeRangeSizeMb: 8 },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // A worker that fails to start or dies leaves the writer's automatic checkpoint in charge.
    this.worker.on('error', () => {});
    this.worker.unref();
  }

  /** Stops the worker and closes its connection (before the writer's, which then checkpoints all). */
  async close(): Promise<void> {
    this.worker.postMessage('close');
    const timeout = setTimeout(() => void this.worker.terminate(), 5_000);
    await this.exited;
    clearTimeout(timeout);
  }
}
