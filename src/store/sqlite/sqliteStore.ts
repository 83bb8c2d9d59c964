/**
 * The SQLite Store: one file, one connection, one writer. Write verbs go to the writer
 * (writer.ts: the group commit, one transaction and one fsync per tick, whatever the number of
 * callers); reads run directly on the same connection between batches, so a read after an
 * awaited write sees it. The SQL lives in queries/, one verb per file; writeVerbs.ts names the
 * writes.
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
import { mapSqliteError } from './errors.js';
import { applyMigrations } from './migrate.js';
import type { Db } from './prepared.js';
import * as apiKeys from './queries/apiKeys.js';
import { getEvent } from './queries/getEvent.js';
import { listDeadLetters } from './queries/listDeadLetters.js';
import { listEvents } from './queries/listEvents.js';
import { listInbox } from './queries/listInbox.js';
import { getReceived, listReceived } from './queries/listReceived.js';
import { withPayload } from './queries/claimDeliveries.js';
import { nextDueAt } from './queries/nextDueAt.js';
import * as receivers from './queries/receivers.js';
import { stats } from './queries/stats.js';
import * as subscriptions from './queries/subscriptions.js';
import type { Verb, VerbArgs, VerbResult } from './writeVerbs.js';
import { LocalWriter, type Writer } from './writer.js';

type Listener = (subscriptionIds: string[]) => void;

export class SqliteStore implements Store {
  readonly capabilities: StoreCapabilities = { crossProcessWakeups: false, multiProcess: false };
  private readonly writer: Writer;
  private readonly listeners = new Set<Listener>();
  private closed = false;

  constructor(
    private readonly db: Db,
    private readonly clock: () => EpochMs,
  ) {
    this.writer = new LocalWriter(db, clock, (ids) => this.emit(ids));
  }

  async migrate(): Promise<void> {
    this.read(() => applyMigrations(this.db, this.clock()));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer.close();
    this.listeners.clear();
    this.db.close();
  }

  async ping(): Promise<void> {
    this.read(() => this.db.prepare('SELECT 1').get());
  }

  // ── events ──────────────────────────────────────────────────────────────────────────────
  append(request: AppendRequest): Promise<AppendResult> {
    return this.write('append', [request]);
  }

  async getEvent(id: string): Promise<EventWithDeliveries | null> {
    return this.read(() => getEvent(this.db, id));
  }

  async listEvents(query: EventQuery): Promise<Page<EventSummary>> {
    return this.read(() => listEvents(this.db, query));
  }

  deleteEvent(id: string): Promise<boolean> {
    return this.write('deleteEvent', [id]);
  }

  // ── subscriptions ───────────────────────────────────────────────────────────────────────
  createSubscription(subscription: NewSubscription): Promise<Subscription> {
    return this.write('createSubscription', [subscription]);
  }

  async getSubscription(id: string): Promise<Subscription | null> {
    return this.read(() => subscriptions.getSubscription(this.db, id));
  }

  async listSubscriptions(): Promise<Subscription[]> {
    return this.read(() => subscriptions.listSubscriptions(this.db));
  }

  updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription | null> {
    return this.write('updateSubscription', [id, patch]);
  }

  deleteSubscription(id: string): Promise<boolean> {
    return this.write('deleteSubscription', [id]);
  }

  // ── inbox ───────────────────────────────────────────────────────────────────────────────
  async listInbox(query: InboxQuery): Promise<Page<InboxItem>> {
    return this.read(() => listInbox(this.db, query));
  }

  ackEvent(subscriptionId: string, eventId: string): Promise<AckResult> {
    return this.write('ackEvent', [subscriptionId, eventId]);
  }

  claim(query: ClaimQuery): Promise<ClaimedDelivery[]> {
    // A lease need not be on disk before it is used: lost in a crash, it only means a redelivery.
    return this.write('claim', [query], false).then((claims) => claims.map(withPayload));
  }

  extendLeases(leases: { delivery_id: string; lease_token: string }[], leaseMs: number): Promise<string[]> {
    return this.write('extendLeases', [leases, leaseMs], false);
  }

  settle(settlements: Settlement[]): Promise<SettleResult[]> {
    return this.write('settle', [settlements]);
  }

  async nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return this.read(() => nextDueAt(this.db, subscriptionId));
  }

  onDeliveriesReady(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ── dead letters ────────────────────────────────────────────────────────────────────────
  async listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetter>> {
    return this.read(() => listDeadLetters(this.db, query));
  }

  replay(filter: ReplayFilter): Promise<number> {
    return this.write('replay', [filter]);
  }

  // ── receiver ────────────────────────────────────────────────────────────────────────────
  recordReceived(request: NewReceivedRequest): Promise<ReceivedRequest> {
    return this.write('recordReceived', [request]);
  }

  async listReceived(query: ReceivedQuery): Promise<Page<ReceivedRequest>> {
    return this.read(() => listReceived(this.db, query));
  }

  async getReceived(id: string): Promise<ReceivedRequest | null> {
    return this.read(() => getReceived(this.db, id));
  }

  clearReceived(name: string): Promise<number> {
    return this.write('clearReceived', [name]);
  }

  setReceiverSecret(name: string, secret: string | null): Promise<void> {
    return this.write('setReceiverSecret', [name, secret]);
  }

  async getReceiverSecret(name: string): Promise<string | null> {
    return this.read(() => receivers.getReceiverSecret(this.db, name));
  }

  async listReceivers(): Promise<ReceiverSummary[]> {
    return this.read(() => receivers.listReceivers(this.db));
  }

  purge(before: EpochMs, limit: number): Promise<number> {
    return this.write('purge', [before, limit]);
  }

  async stats(): Promise<StoreStats> {
    return this.read(() => stats(this.db));
  }

  // ── API keys ────────────────────────────────────────────────────────────────────────────
  createApiKey(key: NewApiKey): Promise<ApiKey> {
    return this.write('createApiKey', [key]);
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
    return this.write('revokeApiKey', [id]);
  }

  // ── plumbing ────────────────────────────────────────────────────────────────────────────
  private write<V extends Verb>(verb: V, args: VerbArgs<V>, durable = true): Promise<VerbResult<V>> {
    return this.writer.write(verb, args, { durable, now: this.clock() });
  }

  private read<T>(work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private emit(subscriptionIds: string[]): void {
    for (const listener of this.listeners) {
      try {
        listener(subscriptionIds);
      } catch {
        // A listener's failure must not undo or hide a committed write.
      }
    }
  }
}
