/** The numbers one dispatcher run reports (the seed's Lambda summary). */

export interface RunSummary {
  /** Attempts made. */
  processed: number;
  /** Delivered (2xx). */
  succeeded: number;
  /** Dead-lettered. */
  failed: number;
  /** Failed attempts rescheduled for a later retry. */
  retries: number;
  /** Event creation → successful delivery, over this run's successes. */
  latency_ms: { avg: number; p50: number; p99: number; max: number };
}

export class RunTally {
  processed = 0;
  succeeded = 0;
  failed = 0;
  retries = 0;
  readonly latencies: number[] = [];

  summary(): RunSummary {
    const sorted = this.latencies.slice().sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
    const sum = sorted.reduce((total, value) => total + value, 0);
    const round = (value: number) => Math.round(value * 100) / 100;
    return {
      processed: this.processed,
      succeeded: this.succeeded,
      failed: this.failed,
      retries: this.retries,
      latency_ms: {
        avg: sorted.length === 0 ? 0 : round(sum / sorted.length),
        p50: round(at(0.5)),
        p99: round(at(0.99)),
        max: round(sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number)),
      },
    };
  }
}
