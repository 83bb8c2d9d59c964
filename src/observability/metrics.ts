/**
 * Prometheus series. The seed's five dispatcher metrics map to:
 *   EventsProcessed      → triggers_delivery_attempts_total (every attempt) and
 *                          triggers_events_ingested_total (every accepted event)
 *   SuccessfulDeliveries → triggers_deliveries_succeeded_total
 *   FailedDeliveries     → triggers_deliveries_failed_total (dead-lettered)
 *   DeliveryLatency      → triggers_delivery_latency_seconds (event created → delivered)
 *   RetryAttempts        → triggers_delivery_retries_total
 * plus per-attempt request duration, ingest counters, and queue-depth / dead-letter gauges
 * that are read from the store when scraped, and prom-client's process and Node.js series
 * (triggers_process_cpu_seconds_total, triggers_nodejs_heap_size_used_bytes…).
 *
 * Each process owns one Metrics (its own registry), so tests can run several servers at once.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface QueueSnapshot {
  subscriptions: { subscription_id: string; pending: number; failed: number; oldest_pending_at: number | null }[];
}

export class Metrics {
  readonly registry = new Registry();

  readonly eventsIngested = new Counter({
    name: 'triggers_events_ingested_total',
    help: 'Events accepted and stored.',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });
  readonly ingestRequests = new Counter({
    name: 'triggers_ingest_requests_total',
    help: 'POST /events requests by outcome (stored, replayed, rejected).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly attempts = new Counter({
    name: 'triggers_delivery_attempts_total',
    help: 'Webhook delivery attempts (the seed: EventsProcessed), by result class.',
    labelNames: ['subscription', 'result'] as const,
    registers: [this.registry],
  });
  readonly succeeded = new Counter({
    name: 'triggers_deliveries_succeeded_total',
    help: 'Deliveries that reached a 2xx or were acked (the seed: SuccessfulDeliveries).',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  readonly failed = new Counter({
    name: 'triggers_deliveries_failed_total',
    help: 'Deliveries dead-lettered (the seed: FailedDeliveries).',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'triggers_delivery_retries_total',
    help: 'Attempts that failed and were rescheduled (the seed: RetryAttempts).',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'triggers_delivery_latency_seconds',
    help: 'From event creation to successful delivery (the seed: DeliveryLatency).',
    labelNames: ['subscription'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'triggers_delivery_request_duration_seconds',
    help: 'Duration of one webhook HTTP request.',
    labelNames: ['subscription'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly storeSync = new Histogram({
    name: 'triggers_store_sync_seconds',
    help: 'Duration of each disk sync that makes a group commit durable (SQLite: fdatasync of the WAL); ingest answers wait for it.',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'triggers_queue_depth',
    help: 'Pending deliveries per subscription.',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  readonly deadLetters = new Gauge({
    name: 'triggers_dead_letters',
    help: 'Dead-lettered (failed) deliveries per subscription.',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });
  readonly oldestPending = new Gauge({
    name: 'triggers_oldest_pending_age_seconds',
    help: 'Age of the oldest pending delivery per subscription.',
    labelNames: ['subscription'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // prom-client's names already say what they are about (process_cpu_seconds_total,
    // nodejs_heap_size_used_bytes): one `triggers_` in front, as on every other series.
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'triggers_' });
  }

  /** Sets the gauges from a store snapshot, replacing stale subscriptions. */
  setQueue(snapshot: QueueSnapshot, now: number = Date.now()): void {
    this.queueDepth.reset();
    this.deadLetters.reset();
    this.oldestPending.reset();
    for (const sub of snapshot.subscriptions) {
      this.queueDepth.set({ subscription: sub.subscription_id }, sub.pending);
      this.deadLetters.set({ subscription: sub.subscription_id }, sub.failed);
      this.oldestPending.set(
        { subscription: sub.subscription_id },
        sub.oldest_pending_at === null ? 0 : Math.max(0, (now - sub.oldest_pending_at) / 1000),
      );
    }
  }
}
