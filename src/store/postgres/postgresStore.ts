/**
 * The PostgreSQL Store: any number of processes share one database. Appends and settlements go
 * through group commits (one transaction per batch of concurrent calls); claims are a single
 * `FOR UPDATE SKIP LOCKED` statement; everything else is one or two statements on the pool.
 * Wake-ups reach every process through LISTEN/NOTIFY (notify.ts). The SQL lives in queries/,
 * one verb per file; this class only wires verbs to them.
 */
import type { ApiKey, NewApiKey } from '../../core/apiKeys.js';
import type {
  AppendRequest,
  AppendResult,
  ClaimedDelivery,
  EpochMs,
  EventWithDeliveries,
  NewReceivedRequest,
  NewSubscription,
  ReceivedRequest,
  ReceiverSummary,
  Settlement,
  SettleResult,
  Subscription,
  SubscriptionPatch,
} from '../../core/types.js';
import type {
  AckResult,
  ClaimQuery,
  DeadLetter,
  DeadLetterQuery,
  EventQuery,
  EventSummary,
  InboxItem,
  InboxQuery,
  Page,
  ReceivedQuery,
  ReplayFilter,
  Store,
  StoreCapabilities,
  StoreStats,
} from '../store.js';
import { GroupCommit } from './groupCommit.js';
import { migrate } from './migrate.js';
import type { Notifier } from './notify.js';
import type { Database } from './pool.js';
import { ackEvent } from './queries/ackEvent.js';
import * as apiKeys from './queries/apiKeys.js';
import { appendEvents, needsTransaction } from './queries/appendEvents.js';
import { claimDeliveries } from './queries/claimDeliveries.js';
import { deleteEvent, getEvent } from './queries/events.js';
import { extendLeases } from './queries/extendLeases.js';
import { releaseLeases } from './queries/releaseLeases.js';
import { listDeadLetters } from './queries/listDeadLetters.js';
import { listEvents } from './queries/listEvents.js';
import { listInbox } from './queries/listInbox.js';
import { nextDueAt } from './queries/nextDueAt.js';
import * as receiver from './queries/receiver.js';
import { replayDeliveries } from './queries/replayDeliveries.js';
import { purge } from './queries/purge.js';
import { settleDeliveries } from './queries/settleDeliveries.js';
import { foldCounters, stats } from './queries/stats.js';
import * as subscriptions from './queries/subscriptions.js';

export interface GroupCommitTuning {
  /** Events per append transaction, at most (one request is never split). */
  maxEventsPerCommit: number;
  /** Settlements per settle transaction, at most. */
  maxSettlementsPerCommit: number;
  /**
   * Append statements running at once, per process. One: while it commits, the next batch grows
   * with the load instead of the load splitting into more, smaller commits that contend for the
   * same index pages and subscription rows (their FOR KEY SHARE locks, taken by several
   * transactions at once, become MultiXacts). Measured on 2 cores: 1 in flight costs about half
   * the database CPU per event of 3, and ingests faster (docs/benchmarks.md).
   */
  maxAppendsInFlight: number;
  /** Settle transactions running at once, per process. */
  maxSettlesInFlight: number;
  /** How often this process folds counter deltas into the totals (see queries/stats.ts). */
  foldCountersEveryMs: number;
}

export class PostgresStore implements Store {
  readonly capabilities: StoreCapabilities = { crossProcessWakeups: true, multiProcess: true };
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private readonly settles: GroupCommit<Settlement[], SettleResult[]>;
  private readonly folding: NodeJS.Timeout;

  constructor(
    private readonly db: Database,
    private readonly notifier: Notifier,
    private readonly clock: () => EpochMs,
    tuning: GroupCommitTuning,
  ) {
    this.appends = new GroupCommit({
      commit: (batch) => this.commitAppends(batch),
      weight: (request) => Math.max(1, request.events.length),
      maxWeight: tuning.maxEventsPerCommit,
      maxInFlight: tuning.maxAppendsInFlight,
    });
    this.settles = new GroupCommit({
      commit: (batch) => this.commitSettles(batch),
      weight: (settlements) => Math.max(1, settlements.length),
      maxWeight: tuning.maxSettlementsPerCommit,
      maxInFlight: tuning.maxSettlesInFlight,
    });
    // Keeps counter_deltas short even when no one reads stats(); an outage just skips a turn.
    this.folding = setInterval(() => void foldCounters(db).catch(() => {}), tuning.foldCountersEveryMs);
    this.folding.unref();
  }

  migrate(): Promise<void> {
    return migrate(this.db);
  }

  async close(): Promise<void> {
    clearInterval(this.folding);
    await this.notifier.close();
    await this.db.close();
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  /** Resolves once this process's LISTEN connection is up; wake-ups from others arrive after. */
  listening(): Promise<void> {
    return this.notifier.listening();
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────
  append(request: AppendRequest): Promise<AppendResult> {
    return this.appends.submit(request);
  }

  getEvent(id: string): Promise<EventWithDeliveries | null> {
    return getEvent(this.db, id);
  }

  listEvents(query: EventQuery): Promise<Page<EventSummary>> {
    return listEvents(this.db, query);
  }

  deleteEvent(id: string): Promise<boolean> {
    return deleteEvent(this.db, id);
  }

  // ── subscriptions ───────────────────────────────────────────────────────────────────────
  async createSubscription(subscription: NewSubscription): Promise<Subscription> {
    const created = await subscriptions.createSubscription(this.db, subscription, this.clock());
    this.changed();
    return created;
  }

  getSubscription(id: string): Promise<Subscription | null> {
    return subscriptions.getSubscription(this.db, id);
  }

  listSubscriptions(): Promise<Subscription[]> {
    return subscriptions.listSubscriptions(this.db);
  }

  async updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    let enabled = false;
    const updated = await this.db.transaction(async (client) => {
      const result = await subscriptions.updateSubscription(client, id, patch, this.clock());
      enabled = result?.enabled === true;
      // Enabled again: its pending deliveries are due, so dispatchers are woken as for new ones.
      if (enabled) await this.notifier.notifyInTransaction(client, new Set([id]));
      return result?.subscription ?? null;
    });
    if (enabled) this.notifier.emitLocal(new Set([id]));
    if (updated) this.changed();
    return updated;
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const deleted = await this.db.transaction((client) => subscriptions.deleteSubscription(client, id));
    if (deleted) this.changed();
    return deleted;
  }

  /** After a subscription write committed: dispatchers here and in other processes re-read their targets. */
  private changed(): void {
    void this.notifier.notifyChanged(this.db);
  }

  // ── inbox ───────────────────────────────────────────────────────────────────────────────
  listInbox(query: InboxQuery): Promise<Page<InboxItem>> {
    return listInbox(this.db, query);
  }

  ackEvent(subscriptionId: string, eventId: string): Promise<AckResult> {
    return ackEvent(this.db, subscriptionId, eventId, this.clock());
  }

  claim(query: ClaimQuery): Promise<ClaimedDelivery[]> {
    return claimDeliveries(this.db, query, this.clock());
  }

  extendLeases(leases: { delivery_id: string; lease_token: string }[], leaseMs: number): Promise<string[]> {
    return extendLeases(this.db, leases, leaseMs, this.clock());
  }

  async releaseLeases(leases: { delivery_id: string; lease_token: string }[]): Promise<string[]> {
    const result = await this.db.transaction(async (client) => {
      const found = await releaseLeases(client, leases, this.clock());
      await this.notifier.notifyInTransaction(client, found.subscriptions);
      return found;
    });
    this.notifier.emitLocal(result.subscriptions);
    return result.released;
  }

  async settle(settlements: Settlement[]): Promise<SettleResult[]> {
    if (settlements.length === 0) return [];
    return this.settles.submit(settlements);
  }

  nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return nextDueAt(this.db, subscriptionId);
  }

  onDeliveriesReady(listener: (subscriptionIds: string[]) => void): () => void {
    return this.notifier.subscribe(listener);
  }

  onSubscriptionsChanged(listener: () => void): () => void {
    return this.notifier.subscribeChanges(listener);
  }

  // ── dead letters ────────────────────────────────────────────────────────────────────────
  listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetter>> {
    return listDeadLetters(this.db, query);
  }

  async replay(filter: ReplayFilter): Promise<number> {
    const woken = await this.db.transaction(async (client) => {
      const ids = await replayDeliveries(client, filter, this.clock());
      const unique = new Set(ids);
      await this.notifier.notifyInTransaction(client, unique);
      return { count: ids.length, unique };
    });
    this.notifier.emitLocal(woken.unique);
    return woken.count;
  }

  // ── receiver ────────────────────────────────────────────────────────────────────────────
  recordReceived(request: NewReceivedRequest): Promise<ReceivedRequest> {
    return this.db.transaction((client) => receiver.recordReceived(client, request, this.clock()));
  }

  listReceived(query: ReceivedQuery): Promise<Page<ReceivedRequest>> {
    return receiver.listReceived(this.db, query);
  }

  getReceived(id: string): Promise<ReceivedRequest | null> {
    return receiver.getReceived(this.db, id);
  }

  clearReceived(name: string): Promise<number> {
    return receiver.clearReceived(this.db, name);
  }

  setReceiverSecret(name: string, secret: string | null): Promise<void> {
    return receiver.setReceiverSecret(this.db, name, secret);
  }

  getReceiverSecret(name: string): Promise<string | null> {
    return receiver.getReceiverSecret(this.db, name);
  }

  listReceivers(): Promise<ReceiverSummary[]> {
    return receiver.listReceivers(this.db);
  }

  purge(before: EpochMs, limit: number): Promise<number> {
    return purge(this.db, before, limit, this.clock());
  }

  stats(): Promise<StoreStats> {
    return stats(this.db);
  }

  // ── API keys ────────────────────────────────────────────────────────────────────────────
  createApiKey(key: NewApiKey): Promise<ApiKey> {
    return apiKeys.createApiKey(this.db, key, this.clock());
  }

  listApiKeys(): Promise<ApiKey[]> {
    return apiKeys.listApiKeys(this.db);
  }

  getApiKey(id: string): Promise<ApiKey | null> {
    return apiKeys.getApiKey(this.db, id);
  }

  getApiKeyByHash(hash: string): Promise<ApiKey | null> {
    return apiKeys.getApiKeyByHash(this.db, hash);
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return apiKeys.revokeApiKey(this.db, id, this.clock());
  }

  // ── group commits ───────────────────────────────────────────────────────────────────────
  /** One statement when no request carries an idempotency key (see queries/appendEvents.ts). */
  private async commitAppends(batch: AppendRequest[]): Promise<AppendResult[]> {
    const wake = { channel: this.notifier.channel, origin: this.notifier.origin };
    const now = this.clock();
    const { results, woken } = needsTransaction(batch)
      ? await this.db.transaction((client) => appendEvents(client, batch, now, wake))
      : await appendEvents(this.db, batch, now, wake);
    this.notifier.emitLocal(woken);
    return results;
  }

  private async commitSettles(batch: Settlement[][]): Promise<SettleResult[][]> {
    const flat = batch.flat();
    // A retry moves a delivery's due time, maybe before what a waiting long poll sleeps until.
    const retried = new Set<string>();
    const results = await this.db.transaction(async (client) => {
      const settled = await settleDeliveries(client, flat, this.clock(), retried);
      if (retried.size > 0) await this.notifier.notifyInTransaction(client, retried);
      return settled;
    });
    this.notifier.emitLocal(retried);
    const out: SettleResult[][] = [];
    let offset = 0;
    for (const settlements of batch) {
      out.push(results.slice(offset, offset + settlements.length));
      offset += settlements.length;
    }
    return out;
  }
}
