/**
 * The console's live feed: one server-sent-events hub per server. While at least one console is
 * connected, a one-second tick reads the metrics summary and the newest event once — whatever
 * the number of consoles — and sends every stream:
 *
 *   event: hello     on connect: { api_url, server_time }
 *   event: summary   every second: the `/metrics/summary` JSON
 *   event: event     when the newest event or the event count changed: { newest, events }
 *   event: delivery  when delivery counters or queue counts changed: { pending, failed, succeeded }
 *   event: received  at once, for each request the built-in receiver records
 *
 * With no console connected nothing runs. A stream whose client reads too slowly skips
 * summaries until it drains (the next one replaces them anyway). Every `recheckMs` each stream's
 * credentials are asked again, so one opened with a key revoked since (or a token of it) ends.
 */
import type { ServerResponse } from 'node:http';

/** The receiver's in-process feed, as far as the console needs it. */
export interface ReceiverFeedLike {
  onReceived(listener: (request: unknown) => void): (() => void) | undefined;
}

export interface LiveSource {
  summary(): Promise<Summary>;
  /** The newest event (id, type, status…), or null when there is none. */
  newest(): Promise<{ id: string } | null>;
  feed?: ReceiverFeedLike | null;
  apiUrl: string;
  clock: () => number;
}

export interface Summary {
  counts?: { events?: number; pending?: number; failed?: number };
  totals?: Record<string, number>;
}

interface Client {
  res: ServerResponse;
  timer: NodeJS.Timeout | null;
  /** Whether the credentials that opened the stream are still good (false: end it). */
  allowed: () => Promise<boolean>;
}

/** How often open streams' credentials are checked again. */
export const RECHECK_MS = 10_000;

const BODY_PREVIEW = 4096;

/**
 * A received request as sent live, shaped as the log API shows it (times as ISO strings); the
 * body is cut to a preview (the log API has it whole).
 */
function preview(request: unknown): unknown {
  if (typeof request !== 'object' || request === null) return request;
  const record = { ...(request as Record<string, unknown>) };
  if (typeof record.received_at === 'number') record.received_at = new Date(record.received_at).toISOString();
  if (typeof record.body === 'string' && record.body.length > BODY_PREVIEW) {
    record.body = record.body.slice(0, BODY_PREVIEW);
    record.body_truncated = true;
  }
  return record;
}

export class LiveHub {
  private readonly clients = new Set<Client>();
  private ticker: NodeJS.Timeout | null = null;
  private ticking = false;
  private lastEvents = '';
  private lastDeliveries = '';
  private lastRecheck = 0;
  private readonly unsubscribe: (() => void) | null;

  constructor(
    private readonly source: LiveSource,
    private readonly intervalMs = 1000,
    private readonly recheckMs = RECHECK_MS,
  ) {
    const off = source.feed?.onReceived((request) => this.broadcast('received', preview(request), true));
    this.unsubscribe = typeof off === 'function' ? off : null;
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Takes over a response as an event stream, until the client leaves, `until` passes, `allowed`
   * answers false at a re-check, or close().
   */
  add(res: ServerResponse, until: number | null, allowed: () => Promise<boolean> = async () => true): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, timer: null, allowed };
    // The stream lives no longer than the token that opened it; the console reconnects with a fresh one.
    if (until !== null) {
      client.timer = setTimeout(() => res.end(), Math.max(0, until - this.source.clock()));
      client.timer.unref();
    }
    this.clients.add(client);
    res.on('close', () => this.remove(client));
    this.write(client, 'hello', { api_url: this.source.apiUrl, server_time: new Date(this.source.clock()).toISOString() }, true);
    this.ticker ??= setInterval(() => void this.tick(), this.intervalMs);
    void this.tick();
  }

  close(): void {
    this.unsubscribe?.();
    for (const client of [...this.clients]) client.res.end();
    this.stop();
  }

  private remove(client: Client): void {
    if (client.timer) clearTimeout(client.timer);
    this.clients.delete(client);
    if (this.clients.size === 0) this.stop();
  }

  private stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.clients.size === 0) return;
    this.ticking = true;
    try {
      const now = this.source.clock();
      if (now - this.lastRecheck >= this.recheckMs) {
        this.lastRecheck = now;
        await this.recheck();
      }
      const [summary, newest] = await Promise.all([this.source.summary(), this.source.newest()]);
      this.broadcast('summary', summary, false);
      const counts = summary.counts ?? {};
      const totals = summary.totals ?? {};
      const events = `${newest?.id ?? ''}|${counts.events ?? 0}`;
      if (events !== this.lastEvents) {
        if (this.lastEvents !== '') this.broadcast('event', { newest, events: counts.events ?? 0 }, true);
        this.lastEvents = events;
      }
      const deliveries = [
        counts.pending,
        counts.failed,
        totals.deliveries_succeeded,
        totals.deliveries_failed,
        totals.delivery_attempts,
      ].join('|');
      if (deliveries !== this.lastDeliveries) {
        if (this.lastDeliveries !== '') {
          this.broadcast(
            'delivery',
            { pending: counts.pending ?? 0, failed: counts.failed ?? 0, succeeded: totals.deliveries_succeeded ?? 0 },
            true,
          );
        }
        this.lastDeliveries = deliveries;
      }
    } catch {
      // Storage hiccup: the next tick tries again; consoles keep their last numbers.
    } finally {
      this.ticking = false;
    }
  }

  /** Ends the streams whose credentials no longer pass (a revoked key, or its token). */
  private async recheck(): Promise<void> {
    const clients = [...this.clients];
    const verdicts = await Promise.all(clients.map((client) => client.allowed().catch(() => true)));
    clients.forEach((client, index) => {
      if (!verdicts[index]) client.res.end();
    });
  }

  private broadcast(name: string, data: unknown, essential: boolean): void {
    if (this.clients.size === 0) return;
    const frame = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.clients) this.send(client, frame, essential);
  }

  private write(client: Client, name: string, data: unknown, essential: boolean): void {
    this.send(client, `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`, essential);
  }

  private send(client: Client, frame: string, essential: boolean): void {
    const { res } = client;
    if (res.destroyed || res.writableEnded) return;
    if (!essential && res.writableNeedDrain) return;
    res.write(frame);
  }
}
