/**
 * The dispatch engine: claim → POST → settle, over any DeliverySource.
 *
 * Per push target (subscription) it keeps a window of claimed deliveries: up to
 * `perSubscription` in flight, plus a buffer sized to ~250 ms of that endpoint's observed
 * throughput (at least `perSubscription`), refilled in batches once a quarter of the window is
 * free — so a busy subscription costs one claim per hundreds of deliveries and a slow one keeps
 * few leases waiting. Requests in flight are bounded globally (`concurrency`, shared round-robin
 * between targets) and per target, so one dead endpoint holds at most its own slots. Results are
 * settled in groups: collected for a few milliseconds (or until a batch is full) and committed
 * with one settle call, one at a time. Claims and settles are issued in the same tick whenever
 * they can be, so a store with group commit makes one commit (one fsync) of both.
 *
 * A target's claim loop:
 *
 *             wake (new deliveries, retry timer, safety poll, long-poll answer)
 *   drained ─────────────────────────────────────────────────────────────► claiming
 *      ▲                                                                      │
 *      └── claim returned less than asked ◄───────────────────────────────────┤
 *                                          claim returned a full batch:       │
 *                       claim again as soon as a quarter of the window is free ┘
 *
 * A drained target sleeps until `nextDueAt` (timer), a wake-up from the source, or the slow
 * safety poll (which also catches leases left behind by a crashed dispatcher). Deliveries are
 * only started while their lease has at least the request timeout left, so a lease never runs
 * out under a request in flight. Claims that will not be attempted — one that waited too long
 * for a slot (an endpoint that went from fast to hanging with a full buffer), a removed
 * target's buffer (disabled, deleted, 410), everything buffered at stop() — are released: due
 * again at once for the next claim, instead of waiting out their leases.
 */
import type { Config } from '../config/config.js';
import type { ClaimedDelivery } from '../core/types.js';
import type { Logger } from '../observability/logger.js';
import { silentLogger } from '../observability/logger.js';
import { Metrics } from '../observability/metrics.js';
import { Deliverer } from './deliver.js';
import { SubscriptionMetrics } from './metrics.js';
import { recordOutcomes } from './outcomes.js';
import { Settler } from './settler.js';
import type { AttemptReport, DeliverySource } from './source.js';
import { type RunSummary, RunTally } from './summary.js';
import { MAX_CLAIM, TargetState } from './targetState.js';
import { WakeTimer } from './wakeTimer.js';

export interface DispatcherOptions {
  source: DeliverySource;
  config: Pick<Config, 'dispatch' | 'allowPrivateTargets' | 'apiUrl' | 'webhookUrl'>;
  metrics?: Metrics;
  logger?: Logger;
  /** Safety poll: how often idle targets are re-checked (expired leases, missed wake-ups). */
  pollIntervalMs?: number;
  /** How often the list of targets is re-read. */
  refreshIntervalMs?: number;
  /** How long results wait to be settled together. */
  settleDelayMs?: number;
  /** Most results in one settle call. */
  settleBatch?: number;
  /** Long-poll wait for sources that support it. */
  longPollMs?: number;
  /** How long stop() waits for requests in flight. */
  stopTimeoutMs?: number;
}

export interface Dispatcher {
  start(): void;
  stop(): Promise<void>;
  /** Claims at most `max` deliveries across targets, delivers and settles them, and reports. */
  runOnce(max: number): Promise<RunSummary>;
}

/** Deliveries claimed but not started, over all targets, beyond twice the concurrency. */
const GLOBAL_BUFFER = 2000;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  return new Engine(options);
}

class Engine implements Dispatcher {
  readonly #source: DeliverySource;
  readonly #log: Logger;
  readonly #metrics: SubscriptionMetrics;
  readonly #concurrency: number;
  readonly #perTarget: number;
  readonly #leaseMs: number;
  /** A delivery starts only if its lease has at least this long left. */
  readonly #leaseMargin: number;
  readonly #pollMs: number;
  readonly #refreshMs: number;
  readonly #longPollMs: number;
  readonly #stopTimeoutMs: number;
  readonly #delivererOptions: ConstructorParameters<typeof Deliverer>[0];
  #deliverer: Deliverer | null = null;

  readonly #targets = new Map<string, TargetState>();
  /** Targets with buffered deliveries and a free per-target slot, waiting for a global slot. */
  readonly #ready = new Set<TargetState>();
  /** Targets that wanted to claim but the global window was full. */
  readonly #starved = new Set<TargetState>();
  #inFlight = 0;
  #buffered = 0;
  #claims = 0;
  #claimSlots = 0;
  #skipped = 0;
  #skippedLoggedAt = 0;

  #running = false;
  #once = false;
  #budget = Number.POSITIVE_INFINITY;
  /** Set during runOnce(). */
  #tally: RunTally | null = null;
  #runError: unknown = null;

  readonly #settler: Settler<TargetState>;
  readonly #wakeTimer: WakeTimer<TargetState>;
  /** Inside a settle's beforeSettle: claims issued now ride in the same commit. */
  #flushing = false;
  #pollTimer: NodeJS.Timeout | null = null;
  #lastRefresh = 0;
  #refreshing: Promise<void> | null = null;
  #refreshAgain = false;
  /**
   * A subscription changed and targets are being re-read: no request starts until they are, so
   * the next one already uses the new URL, secret or headers (a wake-up for a new event can
   * arrive before the re-read finishes).
   */
  #stale = false;
  /** Subscriptions woken for that were not push targets at the last read (inboxes). */
  readonly #notPush = new Set<string>();
  /** Woken-for subscriptions unknown so far, for the next read to classify. */
  readonly #unknown = new Set<string>();
  #unsubscribe: (() => void) | null = null;
  #idleWaiters: (() => void)[] = [];
  /** Claims to give back, sent together on the next turn of the event loop. */
  #toRelease: ClaimedDelivery[] = [];
  #releaseTimer: NodeJS.Immediate | null = null;
  /** Releases under way, which stop() waits for. */
  readonly #releasing = new Set<Promise<void>>();

  constructor(options: DispatcherOptions) {
    const { dispatch } = options.config;
    this.#source = options.source;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'dispatcher' });
    this.#metrics = new SubscriptionMetrics(options.metrics ?? new Metrics({ defaultMetrics: false }));
    this.#concurrency = dispatch.concurrency;
    this.#perTarget = Math.min(dispatch.perSubscription, dispatch.concurrency);
    this.#leaseMs = dispatch.leaseMs;
    this.#leaseMargin = Math.min(dispatch.timeoutMs + 1_000, dispatch.leaseMs / 2);
    if (dispatch.leaseMs < 2 * dispatch.timeoutMs) {
      this.#log.warn(
        { lease_ms: dispatch.leaseMs, timeout_ms: dispatch.timeoutMs },
        'the delivery lease is shorter than twice the request timeout; slow endpoints may get duplicates',
      );
    }
    this.#pollMs = options.pollIntervalMs ?? 2_000;
    this.#refreshMs = options.refreshIntervalMs ?? 10_000;
    this.#settler = new Settler<TargetState>({
      source: this.#source,
      log: this.#log,
      delayMs: options.settleDelayMs ?? 10,
      batch: options.settleBatch ?? 500,
      beforeSettle: () => this.#topUp(),
      settled: (reports, states, outcomes) => {
        recordOutcomes(reports, states, outcomes, {
          metrics: this.#metrics,
          log: this.#log,
          tally: this.#tally,
          retryAt: (state, at) => this.#setWake(state, at),
        });
        // An ordered target's next delivery becomes claimable only once this one is settled.
        for (const state of new Set(states)) if (state.ordered && !state.removed) this.#wake(state);
      },
      failed: (error) => {
        this.#runError ??= error;
      },
      changed: () => this.#checkIdle(),
    });
    this.#wakeTimer = new WakeTimer(
      () => this.#targets.values(),
      (state) => this.#wake(state),
    );
    this.#longPollMs = options.longPollMs ?? 20_000;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? dispatch.timeoutMs + 2_000;
    this.#delivererOptions = {
      timeoutMs: dispatch.timeoutMs,
      connectionsPerOrigin: this.#concurrency,
      allowPrivateTargets: options.config.allowPrivateTargets,
      receiverOrigin: options.config.apiUrl,
      trustedUrls: options.config.webhookUrl ? [options.config.webhookUrl] : [],
    };
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#once = false;
    this.#budget = Number.POSITIVE_INFINITY;
    this.#settler.open();
    const offReady = this.#source.onReady((ids) => this.#onReady(ids));
    // A rotated secret, new headers or a new URL apply from the next request, not the next refresh.
    const offChanged = this.#source.onTargetsChanged?.(() => {
      this.#stale = true;
      this.#refresh();
    });
    this.#unsubscribe = () => {
      offReady();
      offChanged?.();
    };
    this.#pollTimer = setInterval(() => this.#poll(), this.#pollMs);
    this.#refresh();
  }

  async stop(): Promise<void> {
    const wasRunning = this.#running;
    this.#running = false;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#pollTimer) clearInterval(this.#pollTimer);
    this.#pollTimer = null;
    this.#wakeTimer.clear();
    if (wasRunning) {
      for (const state of this.#targets.values()) {
        state.longPoll?.abort();
        if (state.rateTimer) clearTimeout(state.rateTimer);
        state.rateTimer = null;
        // Claimed but not started: given back, for another dispatcher (or the next start).
        this.#dropQueue(state);
      }
      this.#ready.clear();
      this.#starved.clear();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.#stopTimeoutMs);
      });
      const late = await Promise.race([this.#whenIdle().then(() => false), timedOut]);
      if (late) this.#log.warn({ in_flight: this.#inFlight }, 'stopped with requests still in flight; their leases will expire');
      await this.#settler.drain();
      this.#flushReleases();
      await Promise.race([Promise.all(this.#releasing), timedOut]);
      clearTimeout(timer);
    }
    // Requests still running past the stop timeout are cut; their leases expire and they come back.
    this.#settler.close();
    const deliverer = this.#deliverer;
    this.#deliverer = null;
    await deliverer?.close();
  }

  async runOnce(max: number): Promise<RunSummary> {
    if (this.#running) throw new Error('runOnce() cannot be used while the dispatcher is started');
    this.#running = true;
    this.#once = true;
    this.#settler.open();
    this.#budget = Math.max(0, Math.floor(max));
    this.#tally = new RunTally();
    this.#runError = null;
    try {
      await this.#loadTargets();
      for (const state of this.#targets.values()) this.#wake(state);
      await this.#whenIdle();
      await this.#settler.drain();
    } finally {
      this.#running = false;
      this.#once = false;
    }
    const summary = (this.#tally as RunTally).summary();
    this.#tally = null;
    if (this.#runError && summary.processed === 0) throw this.#runError;
    return summary;
  }

  // ── targets ──────────────────────────────────────────────────────────────────────────────

  async #loadTargets(): Promise<void> {
    const asked = [...this.#unknown];
    this.#unknown.clear();
    const targets = await this.#source.targets();
    this.#lastRefresh = Date.now();
    const seen = new Set<string>();
    for (const target of targets) {
      seen.add(target.id);
      const state = this.#targets.get(target.id);
      if (state) state.target = target;
      else {
        const fresh = new TargetState(target);
        this.#targets.set(target.id, fresh);
        if (this.#running && !this.#once) this.#wake(fresh);
      }
    }
    // Woken for, yet no push target after a fresh read: an inbox (pull-only) subscription. Its
    // appends wake nobody until the next periodic read, which also notices a URL added to it.
    for (const id of asked) if (!seen.has(id)) this.#notPush.add(id);
    for (const [id, state] of this.#targets) {
      if (seen.has(id)) continue;
      state.removed = true;
      state.longPoll?.abort();
      if (state.rateTimer) clearTimeout(state.rateTimer);
      state.rateTimer = null;
      this.#dropQueue(state);
      this.#ready.delete(state);
      this.#starved.delete(state);
      this.#targets.delete(id);
    }
  }

  /** Re-reads targets in the background; concurrent requests coalesce into one more pass. */
  #refresh(): void {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = this.#loadTargets()
      .catch((error: unknown) => this.#log.error({ err: error }, 'could not read subscriptions'))
      .finally(() => {
        this.#refreshing = null;
        if (this.#refreshAgain && this.#running) {
          this.#refreshAgain = false;
          this.#refresh();
        } else if (this.#stale) {
          // Read (or failed to: the old settings are better than none): requests may start again.
          this.#stale = false;
          this.#startReady();
        }
      });
  }

  #onReady(ids: string[]): void {
    for (const id of ids) {
      const state = this.#targets.get(id);
      if (state) this.#wake(state);
      else if (!this.#notPush.has(id)) {
        // Unknown: a subscription created since the last read. Read again at once.
        this.#unknown.add(id);
        this.#refresh();
      }
    }
  }

  #poll(): void {
    if (Date.now() - this.#lastRefresh >= this.#refreshMs) {
      this.#notPush.clear();
      this.#refresh();
    }
    for (const state of this.#targets.values()) {
      if (!state.claiming && state.inFlight === 0 && state.queue.length === 0) this.#wake(state);
    }
  }

  // ── claiming ─────────────────────────────────────────────────────────────────────────────

  #wake(state: TargetState): void {
    if (state.claiming) {
      state.again = true;
      return;
    }
    state.drained = false;
    this.#claim(state);
  }

  /**
   * Claims for a target if it has room. A busy target waits until a quarter of its window is
   * free (an eighth when riding along with a settle), so claims come in batches.
   */
  #claim(state: TargetState, ridingAlong = false): void {
    if (!this.#running || state.removed) return;
    if (state.claiming) {
      state.again = true;
      return;
    }
    const busy = state.busy;
    // An ordered target is woken after each settle instead: its next delivery becomes claimable
    // then, which a long poll on the server would not notice.
    const longPoll = this.#source.longPoll && !this.#once && busy === 0 && !state.ordered;
    if (state.drained && !longPoll) return;
    if (state.backoffUntil > Date.now()) return;
    const window = state.window(this.#slots(state));
    const room = window - busy;
    const globalRoom = 2 * this.#concurrency + GLOBAL_BUFFER - this.#inFlight - this.#buffered - this.#claimSlots;
    const limit = Math.min(room, globalRoom, this.#budget, MAX_CLAIM);
    if (limit <= 0) {
      // Out of global room, or (runOnce) the budget is reserved by claims in flight: retry when they answer.
      if (globalRoom <= 0 || (this.#budget <= 0 && this.#claimSlots > 0)) this.#starved.add(state);
      return;
    }
    if (busy > 0 && limit < Math.ceil(window / (ridingAlong ? 8 : 4))) return;

    state.claiming = true;
    state.again = false;
    this.#claims++;
    this.#claimSlots += limit;
    this.#budget -= limit;
    const waitMs = longPoll ? this.#longPollMs : 0;
    if (waitMs > 0) state.longPoll = new AbortController();
    const requestedAt = Date.now();
    const claimOptions = waitMs > 0 ? { waitMs, signal: (state.longPoll as AbortController).signal } : undefined;
    const leaseMs = this.#leaseFor(state);
    this.#source.claim(state.target.id, limit, leaseMs, claimOptions).then(
      (batch) => this.#claimed(state, limit, requestedAt, leaseMs, waitMs, batch),
      (error: unknown) => this.#claimFailed(state, limit, error),
    );
    // Pending results ride in the same commit as this claim.
    if (!this.#flushing && this.#settler.pending > 0 && !this.#settler.busy) this.#settler.flush();
  }

  /** Tops up busy targets just before a settle, so the claims share its commit. */
  #topUp(): void {
    this.#flushing = true;
    for (const state of this.#targets.values()) {
      if (!state.claiming && state.busy > 0) this.#claim(state, true);
    }
    this.#flushing = false;
  }

  #claimed(
    state: TargetState,
    limit: number,
    requestedAt: number,
    leaseMs: number,
    waitMs: number,
    batch: ClaimedDelivery[],
  ): void {
    state.claiming = false;
    state.longPoll = null;
    state.failures = 0;
    this.#claims--;
    this.#claimSlots -= limit;
    this.#budget += limit - batch.length;
    if (state.removed || !this.#running) {
      // Stopped or removed while claiming: given back, due again at once.
      this.#release(batch);
      this.#checkIdle();
      return;
    }
    const until = requestedAt + leaseMs;
    for (const claim of batch) state.queue.push({ claim, until });
    this.#buffered += batch.length;
    // A long poll that waited its full time and found nothing simply polls again.
    const waitedOut = waitMs > 0 && batch.length === 0 && Date.now() - requestedAt >= waitMs / 2;
    state.drained = batch.length < limit && !state.again && !waitedOut;
    if (state.drained && !this.#once) this.#scheduleNextDue(state);
    this.#markReady(state);
    this.#startReady();
    this.#claim(state);
    if (batch.length < limit) this.#retryStarved();
    this.#checkIdle();
  }

  /** Gives targets that could not claim (no global room or budget) another chance. */
  #retryStarved(): void {
    for (const starved of this.#starved) {
      this.#starved.delete(starved);
      this.#claim(starved);
      if (this.#starved.has(starved)) break;
    }
  }

  #claimFailed(state: TargetState, limit: number, error: unknown): void {
    state.claiming = false;
    state.longPoll = null;
    this.#claims--;
    this.#claimSlots -= limit;
    this.#budget += limit;
    this.#retryStarved();
    if (this.#running && !state.removed) {
      state.failures++;
      this.#runError ??= error;
      if (this.#once) state.drained = true;
      else {
        const backoff = Math.min(30_000, 500 * 2 ** Math.min(state.failures - 1, 6));
        state.backoffUntil = Date.now() + backoff;
        this.#setWake(state, state.backoffUntil);
        if (state.failures === 1 || state.failures % 20 === 0) {
          this.#log.error({ err: error, subscription_id: state.target.id, failures: state.failures }, 'claim failed');
        }
      }
    }
    this.#checkIdle();
  }

  #scheduleNextDue(state: TargetState): void {
    this.#source.nextDueAt(state.target.id).then(
      (at) => {
        if (at !== null) this.#setWake(state, Math.max(at, Date.now() + 20));
      },
      (error: unknown) => this.#log.debug({ err: error, subscription_id: state.target.id }, 'nextDueAt failed'),
    );
  }

  // ── timers ───────────────────────────────────────────────────────────────────────────────

  #setWake(state: TargetState, at: number): void {
    if (this.#running && !this.#once) this.#wakeTimer.set(state, at);
  }

  // ── delivering ───────────────────────────────────────────────────────────────────────────

  #slots(state: TargetState): number {
    return state.slots(this.#perTarget, this.#concurrency);
  }

  #markReady(state: TargetState): void {
    if (state.queue.length > 0 && state.inFlight < this.#slots(state) && state.rateTimer === null) this.#ready.add(state);
  }

  /**
   * The lease a target's claims ask for: TRIGGERS_LEASE, or longer for a subscription whose own
   * timeout (up to 5m) would otherwise let a slow request outlive its lease and be sent again.
   */
  #leaseFor(state: TargetState): number {
    const timeout = state.target.delivery?.timeout_ms;
    return timeout ? Math.max(this.#leaseMs, 2 * (timeout + 1_000)) : this.#leaseMs;
  }

  /** A delivery starts only if its lease has at least the target's request timeout (+1 s) left. */
  #marginFor(state: TargetState): number {
    const timeout = state.target.delivery?.timeout_ms;
    return timeout ? Math.min(timeout + 1_000, this.#leaseFor(state) / 2) : this.#leaseMargin;
  }

  /** Starts buffered deliveries while global slots are free, one target at a time, round-robin. */
  #startReady(): void {
    if (this.#stale) return;
    while (this.#inFlight < this.#concurrency && this.#ready.size > 0) {
      const state = this.#ready.values().next().value as TargetState;
      this.#ready.delete(state);
      if (state.queue.length === 0) continue;
      const wait = state.takeToken(Date.now());
      if (wait > 0) {
        // Rate-limited: out of the ready set until a token is free.
        state.rateTimer = setTimeout(() => {
          state.rateTimer = null;
          this.#markReady(state);
          this.#startReady();
        }, wait);
        continue;
      }
      const next = state.queue.shift();
      if (!next) continue;
      this.#buffered--;
      if (next.until - Date.now() >= this.#marginFor(state)) this.#deliver(state, next.claim);
      else this.#leaseTooShort(next.claim);
      this.#markReady(state);
    }
  }

  /** Waited so long for a slot that its lease could run out mid-request: given back, to be claimed afresh. */
  #leaseTooShort(claim: ClaimedDelivery): void {
    this.#skipped++;
    this.#release([claim]);
    const now = Date.now();
    if (now - this.#skippedLoggedAt >= 10_000) {
      this.#skippedLoggedAt = now;
      this.#log.warn(
        { subscription_id: claim.subscription_id, event_id: claim.event.id, skipped: this.#skipped },
        'claimed deliveries waited too long for a free slot; released to be claimed again',
      );
    }
  }

  // ── releasing ────────────────────────────────────────────────────────────────────────────

  /** Empties a target's buffer, giving its claims back. */
  #dropQueue(state: TargetState): void {
    if (state.queue.length === 0) return;
    this.#buffered -= state.queue.length;
    this.#release(state.queue.map((queued) => queued.claim));
    state.queue = [];
  }

  /** Gives claims back (batched per turn of the event loop); a failure only means they wait out their leases. */
  #release(claims: ClaimedDelivery[]): void {
    if (claims.length === 0) return;
    for (const claim of claims) this.#toRelease.push(claim);
    this.#releaseTimer ??= setImmediate(() => this.#flushReleases());
  }

  #flushReleases(): void {
    if (this.#releaseTimer) clearImmediate(this.#releaseTimer);
    this.#releaseTimer = null;
    const claims = this.#toRelease;
    if (claims.length === 0) return;
    this.#toRelease = [];
    const done: Promise<void> = this.#source
      .release(claims)
      .catch((error: unknown) =>
        this.#log.warn(
          { err: error, count: claims.length },
          'could not release claimed deliveries; they come back when their leases expire',
        ),
      )
      .finally(() => this.#releasing.delete(done));
    this.#releasing.add(done);
  }

  #deliver(state: TargetState, claim: ClaimedDelivery): void {
    state.inFlight++;
    this.#inFlight++;
    this.#deliverer ??= new Deliverer(this.#delivererOptions);
    this.#deliverer.deliver(claim, state.target).then((report) => this.#delivered(state, report));
  }

  #delivered(state: TargetState, report: AttemptReport): void {
    state.inFlight--;
    this.#inFlight--;
    state.completed(Date.now());
    this.#settler.push(report, state);
    // 410 Gone disables the subscription: drop it from the targets soon.
    if (report.status_code === 410 && this.#running && !this.#once) this.#refresh();

    if (this.#starved.size > 0) this.#retryStarved();
    this.#markReady(state);
    this.#startReady();
    this.#claim(state);
  }

  // ── idleness ─────────────────────────────────────────────────────────────────────────────

  #isIdle(): boolean {
    return (
      this.#inFlight === 0 && this.#buffered === 0 && this.#claims === 0 && this.#settler.pending === 0 && !this.#settler.busy
    );
  }

  #whenIdle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length === 0 || !this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
