/**
 * Concurrent appends grouped: the calls made while a batch is being written wait and go
 * together in the next one, so they share one read of the active subscriptions, one
 * BatchWriteItem per 25 deliveries and one ADD per counter, instead of paying for each alone.
 * Every call still resolves only once its own writes are done, and fails alone (a taken event id
 * fails its own request, not its neighbours).
 *
 *   submit ──► queue ──(microtask)──► batch of up to `maxWeight` ──► write(batch) ──► settle each
 *                 ▲                                              │
 *                 └──────── while `maxInFlight` batches run, new calls pile up
 */
export type Outcome<Res> = { ok: true; value: Res } | { ok: false; error: unknown };

export interface GroupOptions<Req, Res> {
  /** Writes a batch; one outcome per request, in order. Throwing fails the whole batch. */
  write: (batch: Req[]) => Promise<Outcome<Res>[]>;
  weight: (request: Req) => number;
  maxWeight: number;
  maxInFlight: number;
}

interface Waiting<Req, Res> {
  request: Req;
  resolve: (value: Res) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Req, Res> {
  private queue: Waiting<Req, Res>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: GroupOptions<Req, Res>) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.pump();
      });
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      let weight = 0;
      let count = 0;
      while (count < this.queue.length) {
        const next = this.options.weight((this.queue[count] as Waiting<Req, Res>).request);
        if (count > 0 && weight + next > this.options.maxWeight) break;
        weight += next;
        count++;
      }
      const batch = this.queue.splice(0, count);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
    if (this.inFlight === 0 && this.queue.length === 0 && !this.scheduled) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once every call submitted so far has been written (or has failed). */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(batch: Waiting<Req, Res>[]): Promise<void> {
    try {
      const outcomes = await this.options.write(batch.map((waiting) => waiting.request));
      batch.forEach((waiting, index) => {
        const outcome = outcomes[index];
        if (outcome?.ok) waiting.resolve(outcome.value);
        else waiting.reject(outcome === undefined ? new Error('no outcome for a batched request') : outcome.error);
      });
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
