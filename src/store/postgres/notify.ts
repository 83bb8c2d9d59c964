/**
 * Wake-ups across processes with LISTEN/NOTIFY.
 *
 * A write that makes deliveries due (append, replay) calls `notifyInTransaction`: the NOTIFY is
 * queued inside the writer's transaction, so PostgreSQL sends it only if and when it commits.
 * Each process keeps one dedicated connection LISTENing on the channel and hands the ids to its
 * `onDeliveriesReady` listeners. The writing process calls its own listeners directly right
 * after the commit (no round trip through the server) and ignores its own notifications, which
 * carry its origin id.
 *
 * The same channel carries "subscriptions changed" (`notifyChanged`, sent after a subscription
 * write commits): `onSubscriptionsChanged` listeners re-read their targets, so a rotated secret or
 * a new URL is used by every dispatcher at once rather than at its next periodic refresh.
 *
 * Listener connection states:
 *
 *   idle ──first listener──► connecting ──LISTEN ok──► listening
 *                                ▲                         │ error / server restart
 *                                └──── backoff (≤ 5 s) ◄───┘
 *                    on reconnect: every listener is called with every active subscription,
 *                    and every change listener once, since notifications sent while the
 *                    connection was down are lost.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Listeners } from '../listeners.js';
import type { Queryable } from './pool.js';

/** NOTIFY payloads must stay under 8,000 bytes. */
const MAX_PAYLOAD = 7_000;
const MAX_BACKOFF_MS = 5_000;
/**
 * A LISTEN connection only reads, so a server that vanished without closing the socket (a
 * network partition, a frozen host) would go unnoticed; a tiny query now and then (bounded by
 * the client's query timeout) finds out, and the usual reconnect follows.
 */
const HEARTBEAT_MS = 15_000;

export function channelFor(schema: string): string {
  return schema === 'public' ? 'triggers_ready' : `triggers_ready.${schema}`;
}

export interface NotifierOptions {
  channel: string;
  connection: pg.ClientConfig;
  /** The ids to wake everyone with after a reconnect. */
  activeSubscriptions: () => Promise<string[]>;
  onError: (error: Error) => void;
}

export class Notifier {
  /** Tags this process's notifications so it can skip them when they come back. */
  readonly origin = randomBytes(6).toString('base64url');
  private readonly ready: Listeners<string[]>;
  private readonly changes: Listeners;
  private client: pg.Client | null = null;
  private state: 'idle' | 'connecting' | 'listening' | 'closed' = 'idle';
  private backoffMs = 100;
  private retryTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private connectedOnce = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: NotifierOptions) {
    this.ready = new Listeners<string[]>(options.onError);
    this.changes = new Listeners(options.onError);
  }

  get channel(): string {
    return this.options.channel;
  }

  subscribe(listener: (subscriptionIds: string[]) => void): () => void {
    const off = this.ready.add(listener);
    if (this.state === 'idle') void this.connect();
    return off;
  }

  /** Listens for subscription changes made by any process (this one's are told directly). */
  subscribeChanges(listener: () => void): () => void {
    const off = this.changes.add(listener);
    if (this.state === 'idle') void this.connect();
    return off;
  }

  /**
   * After a subscription write committed: tells this process's change listeners, then the
   * others'. Not part of the write: if the NOTIFY fails (reported to onError), the other
   * processes catch up at their dispatchers' periodic refresh.
   */
  async notifyChanged(db: Queryable): Promise<void> {
    this.changes.emit();
    try {
      await db.query('SELECT pg_notify($1, $2)', [this.options.channel, JSON.stringify({ o: this.origin, c: 1 })]);
    } catch (error) {
      this.options.onError(error as Error);
    }
  }

  /** Resolves once the LISTEN connection is up (for tests and orderly starts). */
  listening(): Promise<void> {
    if (this.state === 'listening') return Promise.resolve();
    if (this.state === 'idle') void this.connect();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Queues the NOTIFY in the caller's transaction; sent on commit. */
  async notifyInTransaction(client: Queryable, subscriptionIds: Iterable<string>): Promise<void> {
    for (const payload of this.payloads([...subscriptionIds])) {
      await client.query('SELECT pg_notify($1, $2)', [this.options.channel, payload]);
    }
  }

  /** Calls this process's listeners (after the write committed). */
  emitLocal(subscriptionIds: Iterable<string>): void {
    const ids = [...subscriptionIds];
    if (ids.length > 0) this.ready.emit(ids);
  }

  async close(): Promise<void> {
    this.state = 'closed';
    this.ready.clear();
    this.changes.clear();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    const client = this.client;
    this.client = null;
    if (client !== null) await client.end().catch(() => {});
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  private payloads(ids: string[]): string[] {
    const out: string[] = [];
    let chunk: string[] = [];
    let size = 0;
    for (const id of ids) {
      if (size + id.length + 3 > MAX_PAYLOAD && chunk.length > 0) {
        out.push(JSON.stringify({ o: this.origin, s: chunk }));
        chunk = [];
        size = 0;
      }
      chunk.push(id);
      size += id.length + 3;
    }
    if (chunk.length > 0) out.push(JSON.stringify({ o: this.origin, s: chunk }));
    return out;
  }

  private async connect(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'connecting';
    const client = new pg.Client(this.options.connection);
    this.client = client;
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('LISTEN connection ended')));
    client.on('notification', (message) => this.received(message.payload));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.client !== client) {
      // Closed (or replaced) while connecting.
      await client.end().catch(() => {});
      return;
    }
    this.state = 'listening';
    this.backoffMs = 100;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((error: Error) => this.lost(client, error));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
    for (const waiter of this.waiters.splice(0)) waiter();
    if (this.connectedOnce) void this.wakeEveryone();
    this.connectedOnce = true;
  }

  private received(payload: string | undefined): void {
    if (payload === undefined) return;
    try {
      const message = JSON.parse(payload) as { o?: string; s?: unknown; c?: unknown };
      if (message.o === this.origin) return;
      if (message.c === 1) {
        this.changes.emit();
        return;
      }
      if (!Array.isArray(message.s)) return;
      const ids = message.s.filter((id): id is string => typeof id === 'string');
      if (ids.length > 0) this.ready.emit(ids);
    } catch {
      // Not ours: someone else NOTIFYing on the channel by hand.
    }
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.state === 'closed') return;
    this.client = null;
    this.state = 'connecting';
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.options.onError(error);
    client.end().catch(() => {});
    const delay = this.backoffMs;
    this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private async wakeEveryone(): Promise<void> {
    this.changes.emit();
    try {
      const ids = await this.options.activeSubscriptions();
      if (ids.length > 0) this.ready.emit(ids);
    } catch (error) {
      this.options.onError(error as Error);
    }
  }
}
