/**
 * The one contract between Triggers and its storage. Every backend (sqlite/, postgres/, …)
 * implements it and passes the shared suite in conformance/ unchanged.
 *
 * The interface speaks in domain verbs and exposes no connection or transaction type: a verb
 * is atomic on its own. Durability rule: when a write verb's promise resolves, the write is
 * committed and on disk (fsync'd); backends batch concurrent calls into one commit (group
 * commit) so that rule stays cheap.
 */
import type { ApiKey, NewApiKey } from '../core/apiKeys.js';
import type {
  AppendRequest,
  AppendResult,
  ClaimedDelivery,
  Delivery,
  EpochMs,
  Event,
  EventStatus,
  EventWithDeliveries,
  NewReceivedRequest,
  NewSubscription,
  ReceivedRequest,
  ReceiverSummary,
  ReceiverVerdict,
  SettleResult,
  Settlement,
  Subscription,
  SubscriptionPatch,
} from '../core/types.js';

export interface Page<T> {
  items: T[];
  /** Opaque; pass back as `after` for the next page. null on the last page. */
  next_cursor: string | null;
}

export interface EventQuery {
  limit: number;
  after?: string | null;
  order?: 'asc' | 'desc';
  type?: string;
  source?: string;
  status?: EventStatus;
  since?: EpochMs;
  until?: EpochMs;
}

export interface EventSummary extends Event {
  status: EventStatus;
}

export interface InboxQuery {
  subscription_id: string;
  limit: number;
  after?: string | null;
  order?: 'asc' | 'desc';
  /** An event-type filter (`*`, exact, or `prefix.*`). */
  type?: string;
}

export interface InboxItem extends Event {
  delivery_id: string;
  attempts_count: number;
}

export interface ClaimQuery {
  subscription_id: string;
  limit: number;
  lease_ms: number;
}

export type AckResult = 'acked' | 'already_acked' | 'not_found';

export interface DeadLetterQuery {
  limit: number;
  after?: string | null;
  subscription_id?: string;
  type?: string;
  since?: EpochMs;
  until?: EpochMs;
}

export interface DeadLetter extends Delivery {
  event: Event;
}

export interface ReplayFilter {
  delivery_id?: string;
  subscription_id?: string;
  type?: string;
  since?: EpochMs;
  until?: EpochMs;
}

export interface SubscriptionStats {
  subscription_id: string;
  pending: number;
  failed: number;
  /** created_at of the oldest pending delivery, for a lag gauge. */
  oldest_pending_at: EpochMs | null;
}

export interface StoreStats {
  events: number;
  subscriptions: SubscriptionStats[];
}

export interface ReceivedQuery {
  limit: number;
  after?: string | null;
  /** One receiver's requests; all receivers' when absent. */
  name?: string;
  verdict?: ReceiverVerdict;
}

/** What a backend can and cannot do, so callers branch on a flag and never on a backend's name. */
export interface StoreCapabilities {
  /** Wake-ups (`onDeliveriesReady`) reach other processes sharing the database (PostgreSQL). */
  crossProcessWakeups: boolean;
  /** Several processes may use the same database at once. */
  multiProcess: boolean;
}

export interface Store {
  readonly capabilities: StoreCapabilities;

  /** Applies pending numbered migrations. Safe to call on every start, from every process. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when storage cannot serve requests. */
  ping(): Promise<void>;

  // ── events ──────────────────────────────────────────────────────────────────────────────
  /**
   * Stores events and, in the same transaction, one pending delivery (due now) for every
   * active subscription whose filters match each event's type.
   */
  append(request: AppendRequest): Promise<AppendResult>;
  getEvent(id: string): Promise<EventWithDeliveries | null>;
  listEvents(query: EventQuery): Promise<Page<EventSummary>>;
  /** Erases the event, its deliveries and attempts. false when there was no such event. */
  deleteEvent(id: string): Promise<boolean>;

  // ── subscriptions ───────────────────────────────────────────────────────────────────────
  /** Throws ConflictError when the id is taken. */
  createSubscription(subscription: NewSubscription): Promise<Subscription>;
  getSubscription(id: string): Promise<Subscription | null>;
  listSubscriptions(): Promise<Subscription[]>;
  updateSubscription(id: string, patch: SubscriptionPatch): Promise<Subscription | null>;
  /** Deletes the subscription and its deliveries. */
  deleteSubscription(id: string): Promise<boolean>;

  // ── inbox: listing, acking, leasing ─────────────────────────────────────────────────────
  /** Pending deliveries of one subscription, as events, leased or not. */
  listInbox(query: InboxQuery): Promise<Page<InboxItem>>;
  /** Marks the subscription's delivery of the event delivered. Acking twice is harmless. */
  ackEvent(subscriptionId: string, eventId: string): Promise<AckResult>;
  /**
   * Leases up to `limit` due deliveries of one subscription (pending, due, no live lease),
   * oldest first. A leased delivery is handed to nobody else until the lease expires.
   */
  claim(query: ClaimQuery): Promise<ClaimedDelivery[]>;
  /** Extends live leases; returns the ids whose lease was still held. */
  extendLeases(leases: { delivery_id: string; lease_token: string }[], lease_ms: number): Promise<string[]>;
  /**
   * Gives leases back without an attempt (a consumer stopping, or work it will not do): each
   * delivery still held is due again at once, nobody's lease, and its subscription's consumers
   * are woken. Returns the ids released; a lost lease or a settled delivery is left alone.
   */
  releaseLeases(leases: { delivery_id: string; lease_token: string }[]): Promise<string[]>;
  /** Records attempts and applies outcomes, all in one commit. */
  settle(settlements: Settlement[]): Promise<SettleResult[]>;
  /** When the subscription's earliest pending delivery becomes due (a lease end counts); null if none. */
  nextDueAt(subscriptionId: string): Promise<EpochMs | null>;
  /**
   * Calls the listener after new deliveries become due (appends, replays, released leases) or a
   * retry is scheduled (a consumer waiting for the next due delivery must look again), with the
   * ids of the subscriptions concerned. Returns an unsubscribe function.
   */
  onDeliveriesReady(listener: (subscriptionIds: string[]) => void): () => void;
  /**
   * Calls the listener after a subscription is created, updated (secrets, URL, filters, delivery
   * options, status) or deleted, so dispatchers re-read their targets at once instead of at their
   * next periodic refresh. In this process always; in other processes sharing the database where
   * `capabilities.crossProcessWakeups` says so. Returns an unsubscribe function.
   */
  onSubscriptionsChanged(listener: () => void): () => void;

  // ── dead letters ────────────────────────────────────────────────────────────────────────
  listDeadLetters(query: DeadLetterQuery): Promise<Page<DeadLetter>>;
  /** Sets matching failed deliveries back to pending, due now, with a fresh schedule. Returns how many. */
  replay(filter: ReplayFilter): Promise<number>;

  // ── receiver: requests that arrived at the built-in receiver, and its secrets ────────────
  /**
   * Stores one received request, stamped with the store's clock and a new id. `duplicate` is
   * set, in the same transaction, when the request is accepted (verified or unsigned), carries a
   * `webhook_id`, and an earlier accepted request to the same name carried the same one.
   */
  recordReceived(request: NewReceivedRequest): Promise<ReceivedRequest>;
  /** Newest first; `after` is the previous page's cursor. */
  listReceived(query: ReceivedQuery): Promise<Page<ReceivedRequest>>;
  /** null when there is no such request (any id that is not one reads as none). */
  getReceived(id: string): Promise<ReceivedRequest | null>;
  /** Erases one receiver's stored requests (and so what dedupe remembers); returns how many. */
  clearReceived(name: string): Promise<number>;
  /** Sets (or, with null, removes) the secret a receiver verifies with. */
  setReceiverSecret(name: string, secret: string | null): Promise<void>;
  getReceiverSecret(name: string): Promise<string | null>;
  /** Every receiver that has received a request or has a secret, by name. */
  listReceivers(): Promise<ReceiverSummary[]>;

  // ── retention ───────────────────────────────────────────────────────────────────────────
  /**
   * Removes up to `limit` events created before `before` (with their deliveries and attempts),
   * up to `limit` received requests stored before it, and up to `limit` idempotency keys older
   * than IDEMPOTENCY_TTL_MS, in one short transaction. Returns how many rows went; call again
   * until it returns 0.
   */
  purge(before: EpochMs, limit: number): Promise<number>;

  // ── numbers for gauges and the console ──────────────────────────────────────────────────
  stats(): Promise<StoreStats>;

  // ── API keys: stored as SHA-256 digests only (core/apiKeys.ts) ─────────────────────────
  /** Stamps created_at with the store's clock. Throws ConflictError when the id or digest is taken. */
  createApiKey(key: NewApiKey): Promise<ApiKey>;
  /** Every key, revoked ones too, oldest first. */
  listApiKeys(): Promise<ApiKey[]>;
  getApiKey(id: string): Promise<ApiKey | null>;
  /** The key whose digest this is, revoked or not; null when none. */
  getApiKeyByHash(hash: string): Promise<ApiKey | null>;
  /** Sets revoked_at (the first revocation's time stays); null when there is no such key. */
  revokeApiKey(id: string): Promise<ApiKey | null>;
}

export interface StoreOptions {
  /** The time source; tests pass a controllable clock. */
  clock?: () => EpochMs;
  /**
   * Told how long each disk sync that makes commits durable took, in seconds (SQLite: the WAL
   * fdatasync after a group commit), for `triggers_store_sync_seconds`. Backends whose COMMIT is
   * durable by itself (PostgreSQL, DynamoDB) never call it.
   */
  onDiskSync?: (seconds: number) => void;
}
