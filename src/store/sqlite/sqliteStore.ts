/**
 * The SQLite Store: one file, one connection, one writer. Write verbs go through the group
 * commit (one transaction and one fsync per tick, whatever the number of callers); reads run
 * directly on the same connection between batches, so a read after an awaited write sees it.
 * The SQL lives in queries/, one verb per file; this class only wires verbs to them.
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
import { Listeners } from '../listeners.js';
import { Checkpointer } from './checkpointer.js';
import { mapSqliteError } from './errors.js';
import { FileIdentity } from './fileIdentity.js';
import { GroupCommit, type Tx } from './groupCommit.js';
import { applyMigrations } from './migrate.js';
import type { Db } from './prepared.js';
import { ackEvent } from './queries/ackEvent.js';
import * as apiKeys from './queries/apiKeys.js';
import { appendEvents } from './queries/appendEvents.js';
import { claimDeliveries } from './queries/claimDeliveries.js';
import { writeCounts } from './queries/counters.js';
import { extendLeases } from './queries/extendLeases.js';
import { releaseLeases } from './queries/releaseLeases.js';
import { deleteEvent, getEvent } from './queries/getEvent.js';
import { listDeadLetters } from './queries/listDeadLetters.js';
import { listEvents } from './queries/listEvents.js';
import { listInbox } from './queries/listInbox.js';
import { getReceived, listReceived } from './queries/listReceived.js';
import { nextDueAt } from './queries/nextDueAt.js';
import { purge } from './queries/purge.js';
import * as receivers from './queries/receivers.js';
import { recordReceived } from './queries/recordReceived.js';
import { replayDeliveries } from './queries/replayDeliveries.js';
import { settleDeliveries } from './queries/settleDeliveries.js';
import { stats } from './queries/stats.js';
import * as subscriptions from './queries/subscriptions.js';
import { SubscriptionCache } from './subscriptionCache.js';
import { WalSync } from './walSync.js';

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = { crossProcessWakeups: false, multiProcess: false };
  private readonly writer: GroupCommit;
  private readonly walSync: WalSync | null;
  private readonly checkpointer: Checkpointer | null;
  private readonly identity: FileIdentity | null;
  private readonly active = new SubscriptionCache();
  private readonly ready = new Listeners<string[]>();
  private readonly changes = new Listeners();
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly clock: () => EpochMs,
    onDiskSync?: (seconds: number) => void,
  ) {
    const walSync = db.memory ? null : new WalSync(`${db.name}-wal`, onDiskSync);
    this.walSync = walSync;
    const identity = db.memory ? null : new FileIdentity(db.name);
    this.identity = identity;
    this.checkpointer = db.memory ? null : new Checkpointer(db);
    this.writer = new GroupCommit(
      db,
      clock,
      (ids) => this.ready.emit(ids),
      () => this.active.invalidate(),
      writeCounts,
      // On disk, and in the file that is still at the database's path.
      walSync ? (done) => walSync.sync((error) => done(error ?? identity?.check() ?? null)) : null,
    );
  }

  async migrate(): Promise<void> {
    this.read(() => applyMigrations(this.db, this.clock()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    await this.walSync?.drained();
    this.walSync?.close();
    await this.checkpointer?.close();
    this.ready.clear();
    this.changes.clear();
    this.db.close();
  }

  async ping(): Promise<void> {
    const lost = this.identity?.check();
    if (lost) throw lost;
    this.read(() => this.db.prepare('SELECT 1').get());
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────
  append(request: AppendRequest): Promise<AppendResult> {
    return this.write((tx) => appendEvents(tx, request, this.active.get(tx.db, tx.batch)), { weight: request.events.length });
  }

  async getEvent(id: string): Promise<EventWithDeliveries | null> {
    return this.read(() => getEvent(this.db, id));
  }

  async listEvents(query: EventQuery): Promise<Page<EventSummary>> {
    return this.read(() => listEvents(this.db, query));
  }

  deleteEvent(id: string): Promise<boolean> {
    return this.write((tx) => deleteEvent(tx, id));
  }

  // ── subscriptions ───────────────────────────────────────────────────────────────────────
  createSubscription(subscription: NewSubscription): Promise<Subscription> {
    return this.changing(this.write((tx) => this.invalidating(() => subscriptions.createSubscription(tx, subscription))));
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    return this.read(() => subscriptions.getSubscription(this.db, id));
  }

  async listSubscriptions(): Promise<Subscription[]> {
    return this.read(() => subscriptions.listSubscriptions(this.db));
  }

  updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    return this.changing(this.write((tx) => this.invalidating(() => subscriptions.updateSubscription(tx, id, patch))));
  }

  deleteSubscription(id: string): Promise<boolean> {
    return this.changing(this.write((tx) => this.invalidating(() => subscriptions.deleteSubscription(tx, id))));
  }

  // ── inbox ───────────────────────────────────────────────────────────────────────────────
  async listInbox(query: InboxQuery): Promise<Page<InboxItem>> {
    return this.read(() => listInbox(this.db, query));
  }

  ackEvent(subscriptionId: string, eventId: string): Promise<AckResult> {
    return this.write((tx) => ackEvent(tx, subscriptionId, eventId));
  }

  claim(query: ClaimQuery): Promise<ClaimedDelivery[]> {
    // A lease need not be on disk before it is used: lost in a crash, it only means a redelivery.
    return this.write((tx) => claimDeliveries(tx, query), { durable: false });
  }

  extendLeases(leases: { delivery_id: string; lease_token: string }[], leaseMs: number): Promise<string[]> {
    return this.write((tx) => extendLeases(tx, leases, leaseMs), { durable: false });
  }

  releaseLeases(leases: { delivery_id: string; lease_token: string }[]): Promise<string[]> {
    // Not fsync'd: a release lost in a crash only means the lease runs its course.
    return this.write((tx) => releaseLeases(tx, leases), { durable: false });
  }

  settle(settlements: Settlement[]): Promise<SettleResult[]> {
    return this.write(
      (tx) => {
        const { results, disabled } = settleDeliveries(tx, settlements);
        if (disabled) this.active.invalidate();
        return results;
      },
      { weight: settlements.length },
    );
  }

  async nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return this.read(() => nextDueAt(this.db, subscriptionId));
  }

  onDeliveriesReady(listener: (subscriptionIds: string[]) => void): () => void {
    return this.ready.add(listener);
  }

  onSubscriptionsChanged(listener: () => void): () => void {
    return this.changes.add(listener);
  }

  // ── dead letters ────────────────────────────────────────────────────────────────────────
  async listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetter>> {
    return this.read(() => listDeadLetters(this.db, query));
  }

  replay(filter: ReplayFilter): Promise<number> {
    return this.write((tx) => replayDeliveries(tx, filter));
  }

  // ── receiver ────────────────────────────────────────────────────────────────────────────
  recordReceived(request: NewReceivedRequest): Promise<ReceivedRequest> {
    return this.write((tx) => recordReceived(tx, request));
  }

  async listReceived(query: ReceivedQuery): Promise<Page<ReceivedRequest>> {
    return this.read(() => listReceived(this.db, query));
  }

  async getReceived(id: string): Promise<ReceivedRequest | null> {
    return this.read(() => getReceived(this.db, id));
  }

  clearReceived(name: string): Promise<number> {
    return this.write((tx) => receivers.clearReceived(tx, name));
  }

  setReceiverSecret(name: string, secret: string | null): Promise<void> {
    return this.write((tx) => receivers.setReceiverSecret(tx, name, secret));
  }

  async getReceiverSecret(name: string): Promise<string | null> {
    return this.read(() => receivers.getReceiverSecret(this.db, name));
  }

  async listReceivers(): Promise<ReceiverSummary[]> {
    return this.read(() => receivers.listReceivers(this.db));
  }

  purge(before: EpochMs, limit: number): Promise<number> {
    return this.write((tx) => purge(tx, before, limit));
  }

  async stats(): Promise<StoreStats> {
    return this.read(() => stats(this.db));
  }

  // ── API keys ────────────────────────────────────────────────────────────────────────────
  createApiKey(key: NewApiKey): Promise<ApiKey> {
    return this.write((tx) => apiKeys.createApiKey(tx, key));
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return this.read(() => apiKeys.listApiKeys(this.db));
  }

  async getApiKey(id: string): Promise<ApiKey | null> {
    return this.read(() => apiKeys.getApiKey(this.db, id));
  }

  async getApiKeyByHash(hash: string): Promise<ApiKey | null> {
    return this.read(() => apiKeys.getApiKeyByHash(this.db, hash));
  }

  revokeApiKey(id: string): Promise<ApiKey | null> {
    return this.write((tx) => apiKeys.revokeApiKey(tx, id));
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────────
  /** `weight`: the rows the write touches (events appended, deliveries settled), for sizing batches. */
  private write<T>(work: (tx: Tx) => T, options: { durable?: boolean; weight?: number } = {}): Promise<T> {
    return this.writer.submit(work, options);
  }

  private read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  /** Runs a subscription write and drops the cached active list, whether it commits or not. */
  private invalidating<T>(work: () => T): T {
    try {
      return work();
    } finally {
      this.active.invalidate();
    }
  }

  /** Tells onSubscriptionsChanged listeners once the subscription write is committed. */
  private async changing<T>(write: Promise<T>): Promise<T> {
    const result = await write;
    this.changes.emit();
    return result;
  }
}
