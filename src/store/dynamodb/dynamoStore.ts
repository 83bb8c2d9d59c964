/**
 * The DynamoDB Store: any number of processes (or Lambda invocations) share one table. Every
 * state change of a delivery is a single-item conditional write; the verbs live in the modules
 * beside this one, and this class wires them together with the pieces that are per process:
 * the short-lived cache of active subscriptions that appends match against, the counters for
 * stats(), and the in-process wake-ups (other processes learn of new work through the table's
 * stream or by polling `nextDueAt`, so `crossProcessWakeups` is false).
 */
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { ApiKey, NewApiKey } from '../../core/apiKeys.js';
import { UnavailableError } from '../../core/errors.js';
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
import { Listeners } from '../listeners.js';
import { type HealthMark, markHealth } from '../health.js';
import * as apiKeys from './apiKeys.js';
import { ActiveSubscriptions } from './activeSubscriptions.js';
import { appendBatch, probeTransactions } from './appendEvents.js';
import { GroupCommit, type Outcome } from './groupCommit.js';
import { asUnavailable, type Dynamo } from './client.js';
import { CounterDeltas, deleteCounters, EVENTS_COUNTER, failedCounter, pendingCounter, readCounters } from './counters.js';
import { eraseEvent, getEvent, listEvents, purgeEvents } from './events.js';
import { expiresAt, type Layout } from './items.js';
import { claimDeliveries, extendLeases, inboxQuery, nextDueAt, releaseLeases } from './leases.js';
import { listDeadLetters, listInbox } from './listings.js';
import * as receiver from './receiver.js';
import { ackEvent, replay, settleAll } from './settle.js';
import * as subscriptions from './subscriptions.js';
import { purgeIdempotencyKeys } from './idempotency.js';
import { ensureTable } from './table.js';

export interface DynamoTuning extends Layout {
  /** How long appends may match against a cached list of active subscriptions (0: read every time). */
  subscriptionCacheMs: number;
  /** TransactWriteItems for appends: true, false, or 'auto' (use it unless the endpoint lacks it). */
  transactions: boolean | 'auto';
}

export class DynamoStore implements Store {
  readonly capabilities: StoreCapabilities = { crossProcessWakeups: false, multiProcess: true };
  private readonly ready = new Listeners<string[]>();
  private readonly changes = new Listeners();
  private readonly active: ActiveSubscriptions;
  private transactions: boolean | 'auto';
  private closed = false;
  private readonly appends: GroupCommit<AppendRequest, AppendResult>;
  private probe: Promise<boolean> | null = null;

  constructor(
    private readonly db: Dynamo,
    private readonly clock: () => EpochMs,
    private readonly tuning: DynamoTuning,
  ) {
    this.active = new ActiveSubscriptions(db, tuning.subscriptionCacheMs);
    this.transactions = tuning.transactions;
    this.appends = new GroupCommit({
      write: (requests) => this.writeAppends(requests),
      weight: (request) => Math.max(1, request.events.length),
      maxWeight: 1_000,
      maxInFlight: 4,
    });
  }

  private get shards(): number {
    return this.tuning.shards;
  }

  migrate(): Promise<void> {
    return ensureTable(this.db);
  }

  /** Lets queued and in-flight appends finish, then closes the connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appends.idle();
    this.ready.clear();
    this.changes.clear();
    this.db.raw.destroy();
  }

  async ping(): Promise<void> {
    try {
      await this.db.raw.send(new DescribeTableCommand({ TableName: this.db.table }));
    } catch (error) {
      throw asUnavailable(error);
    }
  }

  private wake(ids: Iterable<string>): void {
    const list = [...new Set(ids)];
    if (list.length > 0) this.ready.emit(list);
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────
  append(request: AppendRequest): Promise<AppendResult> {
    if (this.closed) return Promise.reject(new UnavailableError('the store is closed'));
    return this.appends.submit(request);
  }

  private async writeAppends(requests: AppendRequest[]): Promise<Outcome<AppendResult>[]> {
    const transactions = await this.useTransactions();
    const context = { db: this.db, layout: this.tuning, now: this.clock(), subscriptions: await this.active.get() };
    const appended = await appendBatch({ ...context, transactions }, requests);
    await appended.counters.write(this.db, this.shards);
    this.wake(appended.woken);
    return appended.outcomes;
  }

  /** 'auto': one probe, the first time, of whether the endpoint has TransactWriteItems (dynalite has not). */
  private async useTransactions(): Promise<boolean> {
    if (this.transactions !== 'auto') return this.transactions;
    this.probe ??= probeTransactions(this.db).finally(() => {
      this.probe = null;
    });
    const supported = await this.probe;
    this.transactions = supported;
    return supported;
  }

  getEvent(id: string): Promise<EventWithDeliveries | null> {
    return getEvent(this.db, id);
  }

  listEvents(query: EventQuery): Promise<Page<EventSummary>> {
    return listEvents(this.db, this.shards, query);
  }

  async deleteEvent(id: string): Promise<boolean> {
    const counters = new CounterDeltas();
    const found = await eraseEvent(this.db, id, counters);
    await counters.write(this.db, this.shards);
    return found;
  }

  // ── subscriptions ───────────────────────────────────────────────────────────────────────
  async createSubscription(subscription: NewSubscription): Promise<Subscription> {
    try {
      return await subscriptions.createSubscription(this.db, subscription, this.clock());
    } finally {
      this.active.invalidate();
      this.changes.emit();
    }
  }

  getSubscription(id: string): Promise<Subscription | null> {
    return subscriptions.getSubscription(this.db, id);
  }

  listSubscriptions(): Promise<Subscription[]> {
    return subscriptions.listSubscriptions(this.db);
  }

  async updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    try {
      const updated = await subscriptions.updateSubscription(this.db, id, patch, this.clock());
      // Enabled again: its pending deliveries are due, so dispatchers are woken as for new ones.
      if (updated?.enabled) this.wake([id]);
      return updated?.subscription ?? null;
    } finally {
      this.active.invalidate();
      this.changes.emit();
    }
  }

  async deleteSubscription(id: string): Promise<boolean> {
    try {
      const deleted = await subscriptions.deleteSubscription(this.db, id, this.shards);
      if (deleted) await deleteCounters(this.db, this.shards, id);
      return deleted;
    } finally {
      this.active.invalidate();
      this.changes.emit();
    }
  }

  // ── inbox ───────────────────────────────────────────────────────────────────────────────
  listInbox(query: InboxQuery): Promise<Page<InboxItem>> {
    return listInbox(this.db, this.shards, query);
  }

  async ackEvent(subscriptionId: string, eventId: string): Promise<AckResult> {
    const counters = new CounterDeltas();
    const result = await ackEvent(this.db, subscriptionId, eventId, this.clock(), counters);
    await counters.write(this.db, this.shards);
    return result;
  }

  async claim(query: ClaimQuery): Promise<ClaimedDelivery[]> {
    const now = this.clock();
    const subscription = await subscriptions.getSubscription(this.db, query.subscription_id);
    return claimDeliveries(this.db, this.shards, subscription, query, now);
  }

  extendLeases(leases: { delivery_id: string; lease_token: string }[], leaseMs: number): Promise<string[]> {
    return extendLeases(this.db, leases, leaseMs, this.clock());
  }

  async releaseLeases(leases: { delivery_id: string; lease_token: string }[]): Promise<string[]> {
    const { released, subscriptions } = await releaseLeases(this.db, leases, this.clock());
    this.wake(subscriptions);
    return released;
  }

  async settle(settlements: Settlement[]): Promise<SettleResult[]> {
    if (settlements.length === 0) return [];
    const now = this.clock();
    const settled = await settleAll(this.db, settlements, now);
    const counters = new CounterDeltas();
    const health = new Map<string, HealthMark>();
    const disabled = new Map<string, string>();
    const retried = new Set<string>();
    settlements.forEach((settlement, index) => {
      const item = settled[index]?.item;
      if (item === null || item === undefined) return;
      const subscriptionId = String(item.subscription_id);
      if (settlement.outcome.kind !== 'retry') counters.add(pendingCounter(subscriptionId), -1);
      else retried.add(subscriptionId);
      if (settlement.outcome.kind === 'dead') counters.add(failedCounter(subscriptionId), 1);
      if (settlement.attempt !== null) markHealth(health, subscriptionId, settlement.outcome.kind === 'delivered');
      if (settlement.disable_subscription !== undefined) disabled.set(subscriptionId, settlement.disable_subscription);
    });
    await Promise.all([
      counters.write(this.db, this.shards),
      ...[...health].map(([id, mark]) => subscriptions.recordHealth(this.db, id, mark, now)),
      ...[...disabled].map(([id, reason]) => subscriptions.disableSubscription(this.db, id, reason, now)),
    ]);
    if (disabled.size > 0) this.active.invalidate();
    // A retry moves a delivery's due time, maybe before what a waiting long poll sleeps until.
    this.wake(retried);
    return settled.map((s) => s.result);
  }

  async nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return nextDueAt(this.db, this.shards, await subscriptions.getSubscription(this.db, subscriptionId));
  }

  onDeliveriesReady(listener: (subscriptionIds: string[]) => void): () => void {
    return this.ready.add(listener);
  }

  /** This process only: other processes notice at their dispatchers' periodic refresh. */
  onSubscriptionsChanged(listener: () => void): () => void {
    return this.changes.add(listener);
  }

  // ── dead letters ────────────────────────────────────────────────────────────────────────
  listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetter>> {
    return listDeadLetters(this.db, this.shards, query);
  }

  async replay(filter: ReplayFilter): Promise<number> {
    const ids = await replay(this.db, this.shards, filter, this.clock());
    const counters = new CounterDeltas();
    for (const id of ids) counters.add(failedCounter(id), -1).add(pendingCounter(id), 1);
    await counters.write(this.db, this.shards);
    this.wake(ids);
    return ids.length;
  }

  // ── receiver ────────────────────────────────────────────────────────────────────────────
  recordReceived(request: NewReceivedRequest): Promise<ReceivedRequest> {
    const now = this.clock();
    return receiver.recordReceived(this.db, request, now, expiresAt(this.tuning, now));
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

  // ── retention ───────────────────────────────────────────────────────────────────────────
  async purge(before: EpochMs, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const counters = new CounterDeltas();
    const [events, received, keys] = await Promise.all([
      purgeEvents(this.db, this.shards, before, limit, counters),
      receiver.purgeReceived(this.db, before, limit),
      purgeIdempotencyKeys(this.db, this.shards, this.clock(), limit),
    ]);
    await counters.write(this.db, this.shards);
    return events + received + keys;
  }

  async stats(): Promise<StoreStats> {
    const [counters, all] = await Promise.all([readCounters(this.db, this.shards), subscriptions.listSubscriptions(this.db)]);
    const rows = await Promise.all(
      all.map(async ({ id }) => {
        const pending = Math.max(0, counters.get(pendingCounter(id)) ?? 0);
        const oldest = pending > 0 ? await inboxQuery(this.db, this.shards, id, 1).next() : null;
        return {
          subscription_id: id,
          pending,
          failed: Math.max(0, counters.get(failedCounter(id)) ?? 0),
          oldest_pending_at: oldest === null ? null : Number(oldest.created_at),
        };
      }),
    );
    return { events: Math.max(0, counters.get(EVENTS_COUNTER) ?? 0), subscriptions: rows };
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
}
