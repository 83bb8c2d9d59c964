/**
 * The SQLite store's writes on a worker thread (writerThread.ts), so that SQLite's own CPU time —
 * about 40 % of the event loop's at full ingest — runs on the machine's other core.
 *
 *   event loop                                   writer thread (own connection)
 *   write(verb, args) ─► queued ── setImmediate ─► one message: every write of the tick
 *                                                  └► group commit: one transaction, one fsync
 *   promises settle  ◄── one message per commit ◄── results (+ subscriptions to wake)
 *
 * Reads stay on the event loop's own connection: WAL lets them run beside the writer, and a read
 * issued after a write's promise settled sees that write (it committed before the answer left).
 * Messages are JSON text: the values crossing are JSON already (events, subscriptions, claims),
 * and stringify + a string copy costs the event loop a fraction of a structured clone of the
 * same objects (an `undefined` arrives absent, as it would over HTTP). Errors cross as plain data and are rebuilt as
 * the same classes (core/errors.ts), so a disk-full 503 is still a 503. If the thread dies, the
 * writes it held fail with 503 — none of them was answered as stored — and the next write
 * starts a new one. The thread keeps the process alive only while writes are outstanding.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AuthError, ConflictError, ForbiddenError, TriggersError, UnavailableError, ValidationError } from '../../core/errors.js';
import type { EpochMs } from '../../core/types.js';
import { type Verb, type VerbArgs, type VerbResult, weight } from './writeVerbs.js';
import type { CommitListener, WriteOptions, Writer } from './writer.js';

/** One write as it crosses: [id, verb, args, durable, now]. */
export type JobMessage = [number, Verb, unknown[], boolean, EpochMs];
/** One answer: [id, ok, value or PlainError]. */
export type ResultMessage = [number, boolean, unknown];

export type ToWriter = { type: 'jobs'; jobs: JobMessage[] } | { type: 'close' };
export type FromWriter = { type: 'results'; results: ResultMessage[]; notify: string[][] } | { type: 'closed' };

/** Messages cross as JSON text (see above). */
export const encode = (message: ToWriter | FromWriter): string => JSON.stringify(message);
export const decode = <T extends ToWriter | FromWriter>(text: string): T => JSON.parse(text) as T;

export interface PlainError {
  name: string;
  message: string;
  status?: number;
  code?: string;
  details?: unknown;
  retryAfterSeconds?: number;
}

export function toPlainError(error: unknown): PlainError {
  if (error instanceof TriggersError) {
    const plain: PlainError = { name: error.name, message: error.message, status: error.status, code: error.code };
    if (error.details !== undefined) plain.details = error.details;
    if (error instanceof UnavailableError) plain.retryAfterSeconds = error.retryAfterSeconds;
    return plain;
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(error) };
}

export function fromPlainError(plain: PlainError): Error {
  const { name, message, code } = plain;
  if (plain.status !== undefined && code !== undefined) {
    switch (name) {
      case 'UnavailableError':
        return new UnavailableError(message, plain.retryAfterSeconds, code);
      case 'ValidationError':
        return new ValidationError(message, plain.details, code);
      case 'ConflictError':
        return new ConflictError(message, code);
      case 'AuthError':
        return new AuthError(message, code);
      case 'ForbiddenError':
        return new ForbiddenError(message, code);
      default: {
        // NotFoundError and the like: same status, code and message; instanceof TriggersError holds.
        const error = new TriggersError(plain.status, code, message, plain.details);
        error.name = name;
        return error;
      }
    }
  }
  const error = new Error(message) as Error & { code?: string };
  error.name = name;
  if (code !== undefined) error.code = code;
  return error;
}

/** Rows queued (events appended, deliveries settled, else one per write) that leave for the thread at once. */
const SEND_BATCH = 32;


interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class ThreadWriter implements Writer {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, Pending>();
  #queued: JobMessage[] = [];
  #queuedWeight = 0;
  #scheduled = false;
  #nextId = 1;
  #closing: Promise<void> | null = null;

  constructor(
    private readonly path: string,
    private readonly onCommit: CommitListener,
  ) {}

  write<V extends Verb>(verb: V, args: VerbArgs<V>, options: WriteOptions): Promise<VerbResult<V>> {
    if (this.#closing !== null) return Promise.reject(new UnavailableError('storage is closed', 5));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#queued.push([id, verb, args, options.durable, options.now]);
      // A long turn of the event loop (hundreds of requests, or a few large batches) must not
      // hold the writer idle: a full batch leaves at once, so the thread commits while this one
      // goes on parsing.
      this.#queuedWeight += weight(verb, args);
      if (this.#queuedWeight >= SEND_BATCH) this.#send();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#send();
        });
      }
    });
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#send();
    const worker = this.#worker;
    if (worker === null) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage(encode({ type: 'close' }));
    await exited;
  }

  #send(): void {
    const jobs = this.#queued;
    this.#queued = [];
    this.#queuedWeight = 0;
    if (jobs.length === 0) return;
    const worker = this.#start();
    worker.ref();
    try {
      worker.postMessage(encode({ type: 'jobs', jobs }));
    } catch {
      // Something in one write cannot be encoded (a BigInt…): send them one by one so only that one fails.
      for (const job of jobs) {
        try {
          worker.postMessage(encode({ type: 'jobs', jobs: [job] }));
        } catch (error) {
          this.#answer(job[0], false, toPlainError(error));
        }
      }
    }
  }

  #start(): Worker {
    if (this.#worker !== null) return this.#worker;
    const worker = spawnWriterThread(this.path);
    worker.on('message', (text: string) => this.#receive(decode<FromWriter>(text)));
    worker.on('error', (error) => this.#lost(worker, error));
    worker.on('exit', (code) => this.#lost(worker, new Error(`writer thread exited with code ${code}`)));
    this.#worker = worker;
    return worker;
  }

  #receive(message: FromWriter): void {
    if (message.type === 'closed') {
      void this.#worker?.terminate();
      return;
    }
    for (const [id, ok, value] of message.results) this.#answer(id, ok, value);
    for (const ids of message.notify) this.onCommit(ids);
  }

  #answer(id: number, ok: boolean, value: unknown): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (ok) pending.resolve(value);
    else pending.reject(fromPlainError(value as PlainError));
    if (this.#pending.size === 0 && this.#closing === null) this.#worker?.unref();
  }

  /** The thread is gone: whatever it held was never answered as stored. */
  #lost(worker: Worker, error: Error): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    const failure = new UnavailableError(`storage writer stopped (${error.message})`, 1);
    for (const [id, pending] of this.#pending) {
      if (this.#queued.some((job) => job[0] === id)) continue;
      this.#pending.delete(id);
      pending.reject(failure);
    }
  }
}

/** Starts writerThread: from dist/ as plain JavaScript; from src/ (tests, under tsx) through tsx's require hook. */
function spawnWriterThread(path: string): Worker {
  const here = import.meta.url;
  // What the thread allocates lives for one commit (a few ms): a small young generation is
  // enough, and keeps the process about 15 MB smaller at 10,000 events/s (docs/benchmarks.md).
  const options = { workerData: { path }, resourceLimits: { maxYoungGenerationSizeMb: 8 } };
  if (!here.endsWith('.ts')) return new Worker(new URL('./writerThread.js', here), options);
  const entry = fileURLToPath(new URL('./writerThread.ts', here));
  const tsx = createRequire(here).resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(entry)});`, { ...options, eval: true });
}
