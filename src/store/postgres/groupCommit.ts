/**
 * Group commit: concurrent callers' writes ride in one transaction, so the price of a durable
 * commit (a WAL flush; synchronous_commit stays on) is paid once per batch instead of once per
 * call, and a resolved promise still means "committed".
 *
 *   submit ──► queue ──(microtask)──► batch of up to `maxWeight` ──► commit(batch) ──► resolve each
 *                 ▲                                               │
 *                 └────────── while `maxInFlight` commits run, new calls wait and pile up
 *
 * When a batch fails as a whole for a reason other than an outage (say one request's event id
 * is taken), each request is retried alone, so one bad request fails only its own caller.
 */
import { isUnavailable } from './pool.js';

export interface GroupCommitOptions<Req> {
  /** Commits a batch; returns one result per request, in order. */
  commit: (batch: Req[]) => Promise<unknown[]>;
  /** How much of a batch one request takes (events in it, say); 1 by default. */
  weight?: (request: Req) => number;
  maxWeight: number;
  maxInFlight: number;
}

interface Pending<Req> {
  request: Req;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Req, Res> {
  private queue: Pending<Req>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly options: GroupCommitOptions<Req>) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        // Let every call made in this tick join the same batch.
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private take(): Pending<Req>[] {
    const weigh = this.options.weight ?? (() => 1);
    let total = 0;
    let count = 0;
    while (count < this.queue.length) {
      const next = weigh((this.queue[count] as Pending<Req>).request);
      if (count > 0 && total + next > this.options.maxWeight) break;
      total += next;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async run(batch: Pending<Req>[]): Promise<void> {
    try {
      const results = await this.options.commit(batch.map((item) => item.request));
      for (const [index, item] of batch.entries()) item.resolve(results[index]);
    } catch (error) {
      if (batch.length === 1 || isUnavailable(error)) {
        for (const item of batch) item.reject(error);
        return;
      }
      for (const item of batch) {
        try {
          const [result] = await this.options.commit([item.request]);
          item.resolve(result);
        } catch (alone) {
          item.reject(alone);
        }
      }
    }
  }
}
