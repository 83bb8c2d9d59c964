/**
 * One dispatcher invocation on Lambda, on the same engine `triggers dispatch --once` uses
 * (createDispatcher → runOnce): claim due deliveries, POST them, settle them in the store.
 *
 *   run ──► budget left and a retry of this invocation falls due within TRIGGERS_LAMBDA_RETRY_WAIT
 *    ▲      (and the function has time for it)? ── no ──► done: summary + EMF
 *    └── sleep until it is due ◄── yes
 *
 * so the seed's fast retries (1s, 2s, 4s) happen inside one invocation, as its dispatcher did,
 * while longer ones stay in the store for a later run. The source wrapper below limits a run to
 * some subscriptions (the stream handler's) and tallies every settled attempt of the invocation,
 * across runs, the way the engine tallies one run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClaimedDelivery, EpochMs } from '../core/types.js';
import type {
  AttemptReport,
  ClaimOptions,
  DeliverySource,
  Dispatcher,
  PushTarget,
  RunSummary,
  SettledReport,
} from '../dispatcher/index.js';
import { RunTally } from '../dispatcher/summary.js';

export class LambdaSource implements DeliverySource {
  readonly longPoll = false;
  readonly #inner: DeliverySource;
  /** Subscriptions a run may work on; null: all. */
  scope: ReadonlySet<string> | null = null;
  tally = new RunTally();
  /** The earliest retry this invocation scheduled, if any. */
  earliestRetry: EpochMs | null = null;

  constructor(inner: DeliverySource) {
    this.#inner = inner;
  }

  async targets(): Promise<PushTarget[]> {
    const targets = await this.#inner.targets();
    const scope = this.scope;
    return scope === null ? targets : targets.filter((target) => scope.has(target.id));
  }

  claim(subscriptionId: string, limit: number, leaseMs: number, options?: ClaimOptions): Promise<ClaimedDelivery[]> {
    return this.#inner.claim(subscriptionId, limit, leaseMs, options);
  }

  async settle(reports: AttemptReport[]): Promise<SettledReport[]> {
    const outcomes = await this.#inner.settle(reports);
    const tally = this.tally;
    for (let i = 0; i < reports.length; i++) {
      const report = reports[i] as AttemptReport;
      const outcome = outcomes[i];
      tally.processed++;
      if (!outcome) continue;
      if (outcome.kind === 'delivered') {
        tally.succeeded++;
        tally.latencies.push(Math.max(0, report.at + report.duration_ms - report.claim.event.created_at));
      } else if (outcome.kind === 'retry') {
        tally.retries++;
        const at = outcome.next_attempt_at;
        if (outcome.applied && at !== null && (this.earliestRetry === null || at < this.earliestRetry)) this.earliestRetry = at;
      } else tally.failed++;
    }
    return outcomes;
  }

  nextDueAt(subscriptionId: string): Promise<EpochMs | null> {
    return this.#inner.nextDueAt(subscriptionId);
  }

  release(claims: ClaimedDelivery[]): Promise<void> {
    return this.#inner.release(claims);
  }

  /** Never started: an invocation runs the engine with runOnce only. */
  onReady(): () => void {
    return () => undefined;
  }
}

export interface InvocationOptions {
  /** Most attempts in this invocation (TRIGGERS_MAX_EVENTS_PER_RUN). */
  budget: number;
  /** Wait for retries due within this long (TRIGGERS_LAMBDA_RETRY_WAIT); 0: never wait. */
  retryWaitMs: number;
  /** The longest one attempt may take (TRIGGERS_DELIVERY_TIMEOUT): never start a run without that much time left. */
  attemptMs: number;
  /** The function's time left (context.getRemainingTimeInMillis); unbounded when absent. */
  remainingMs?: () => number;
  /** Subscriptions to work on; null: all. */
  scope: ReadonlySet<string> | null;
}

export interface InvocationSummary extends RunSummary {
  /** Engine runs in this invocation (more than one when it waited for fast retries). */
  runs: number;
}

export interface InvocationResult {
  summary: InvocationSummary;
  /** Event created → delivered, per delivery, milliseconds (EMF samples). */
  latencies: number[];
  /** A run that failed after earlier attempts of this invocation were settled (they are reported). */
  error: unknown;
}

/** Time kept in hand after the last run, for settling, logs and metrics. */
const SAFETY_MS = 1_000;

export async function runInvocation(
  engine: Dispatcher,
  source: LambdaSource,
  options: InvocationOptions,
): Promise<InvocationResult> {
  source.scope = options.scope;
  source.tally = new RunTally();
  let budget = Math.max(0, Math.floor(options.budget));
  let runs = 0;
  let failure: unknown = null;
  try {
    while (budget > 0) {
      source.earliestRetry = null;
      const run = await engine.runOnce(budget);
      runs++;
      budget -= run.processed;
      const due = source.earliestRetry;
      if (budget <= 0 || options.retryWaitMs <= 0 || due === null || run.processed === 0) break;
      const wait = Math.max(0, due - Date.now());
      if (wait > options.retryWaitMs) break;
      if (options.remainingMs && options.remainingMs() < wait + options.attemptMs + SAFETY_MS) break;
      // A few ms past the due time: the store compares with its own clock.
      await sleep(wait + 5);
    }
  } catch (error) {
    // A failed run after others: report what was done; a failure before any attempt fails the invocation.
    if (source.tally.processed === 0) throw error;
    failure = error;
  }
  const tally = source.tally;
  return { summary: { ...tally.summary(), runs }, latencies: tally.latencies.slice(), error: failure };
}
