/**
 * What happens once a batch is settled: the seed's five metrics per subscription, the run
 * summary (runOnce), and logs — a warning per dead letter; at debug, a line per attempt
 * (delivered, or failed and retried).
 */
import type { Logger } from '../observability/logger.js';
import type { SubscriptionMetrics } from './metrics.js';
import type { AttemptReport, SettledReport } from './source.js';
import type { RunTally } from './summary.js';

export interface OutcomeSinks<T> {
  metrics: SubscriptionMetrics;
  log: Logger;
  /** Set during runOnce. */
  tally: RunTally | null;
  /** A retry is due again at `at`. */
  retryAt: (tag: T, at: number) => void;
}

export function recordOutcomes<T>(reports: AttemptReport[], tags: T[], outcomes: SettledReport[], sinks: OutcomeSinks<T>): void {
  const { tally, log } = sinks;
  const debug = log.isLevelEnabled('debug');
  for (let i = 0; i < reports.length; i++) {
    const report = reports[i] as AttemptReport;
    const outcome = outcomes[i];
    const claim = report.claim;
    const series = sinks.metrics.for(claim.subscription_id);
    series.requestDuration.observe(report.duration_ms / 1000);
    if (tally) tally.processed++;
    if (!outcome) continue;
    if (outcome.kind === 'delivered') {
      const latency = Math.max(0, report.at + report.duration_ms - claim.event.created_at);
      if (tally) {
        tally.succeeded++;
        tally.latencies.push(latency);
      }
      series.success.inc();
      series.succeeded.inc();
      series.latency.observe(latency / 1000);
      if (debug) log.debug({ ...attemptFields(report, outcome), latency_ms: latency }, 'delivered');
    } else if (outcome.kind === 'retry') {
      if (tally) tally.retries++;
      series.retry.inc();
      series.retries.inc();
      if (outcome.next_attempt_at !== null) sinks.retryAt(tags[i] as T, outcome.next_attempt_at);
      if (debug) log.debug(attemptFields(report, outcome), 'delivery attempt failed; will retry');
    } else {
      if (tally) tally.failed++;
      series.dead.inc();
      series.failed.inc();
      log.warn(attemptFields(report, outcome), 'delivery dead-lettered');
    }
  }
}

function attemptFields(report: AttemptReport, outcome: SettledReport): Record<string, unknown> {
  return {
    event_id: report.claim.event.id,
    subscription_id: report.claim.subscription_id,
    delivery_id: report.claim.delivery_id,
    attempt: report.claim.attempt,
    status_code: report.status_code,
    error: report.error,
    next_attempt_at: outcome.next_attempt_at === null ? undefined : new Date(outcome.next_attempt_at).toISOString(),
    applied: outcome.applied,
  };
}
