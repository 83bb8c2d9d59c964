/**
 * `GET /metrics`: Prometheus text from this process's registry, with the queue gauges refreshed
 * from `store.stats()` at most every two seconds (a scrape storm never becomes a query storm).
 * `GET /metrics/summary`: the console's JSON — counts by status, events/s and deliveries/s over
 * the last minute, delivery latency percentiles and error rate over that minute.
 *
 * The per-minute numbers come from snapshots of the process's own counters taken every few
 * seconds: a rate is the difference between now and the snapshot a minute ago, and the latency
 * percentiles come from the difference of the histogram's buckets over the same span.
 */
import type { FastifyInstance } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../observability/metrics.js';
import type { StoreStats } from '../store/store.js';
import type { ApiContext } from './context.js';
import { commonErrors } from './schemas.js';
import { iso, isoOrNull } from './serialize.js';

const GAUGE_REFRESH_MS = 2_000;
const WINDOW_MS = 60_000;
const SAMPLE_EVERY_MS = 5_000;

interface Snapshot {
  at: number;
  events: number;
  succeeded: number;
  failed: number;
  retries: number;
  attempts: number;
  /** Cumulative latency-bucket counts, summed over subscriptions, by upper bound (seconds). */
  buckets: Map<number, number>;
}

async function total(counter: Counter<string>): Promise<number> {
  let sum = 0;
  for (const value of (await counter.get()).values) sum += value.value;
  return sum;
}

async function buckets(histogram: Histogram<string>): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const value of (await histogram.get()).values) {
    const le = value.labels.le;
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + value.value);
  }
  return out;
}

async function snapshot(metrics: Metrics): Promise<Snapshot> {
  const [events, succeeded, failed, retries, attempts, latency] = await Promise.all([
    total(metrics.eventsIngested),
    total(metrics.succeeded),
    total(metrics.failed),
    total(metrics.retries),
    total(metrics.attempts),
    buckets(metrics.latency),
  ]);
  return { at: performance.now(), events, succeeded, failed, retries, attempts, buckets: latency };
}

/** The p-quantile (0..1) in milliseconds from bucket counts, interpolating inside a bucket. */
export function quantileMs(cumulative: Map<number, number>, p: number): number | null {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const count = bounds.length === 0 ? 0 : (cumulative.get(bounds[bounds.length - 1] as number) ?? 0);
  if (count <= 0) return null;
  const rank = p * count;
  let previousBound = 0;
  let previousCount = 0;
  for (const bound of bounds) {
    const c = cumulative.get(bound) ?? 0;
    if (c >= rank) {
      if (!Number.isFinite(bound)) return previousBound * 1000;
      const inBucket = c - previousCount;
      const fraction = inBucket > 0 ? (rank - previousCount) / inBucket : 1;
      return Math.round((previousBound + (bound - previousBound) * fraction) * 1_000_000) / 1000;
    }
    previousBound = bound;
    previousCount = c;
  }
  return previousBound * 1000;
}

const perSecond = (delta: number, ms: number): number => (ms <= 0 ? 0 : Math.round((delta / ms) * 1000 * 1000) / 1000);

export async function metricsRoutes(app: FastifyInstance, ctx: ApiContext): Promise<void> {
  const { metrics, store, clock, logger } = ctx;

  // ── gauges from the store, at most every GAUGE_REFRESH_MS ──────────────────────────────
  let gaugesAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<void> | null = null;
  function refreshGauges(): Promise<void> {
    if (performance.now() - gaugesAt < GAUGE_REFRESH_MS) return Promise.resolve();
    refreshing ??= store
      .stats()
      .then((stats) => {
        metrics.setQueue(stats, clock());
        gaugesAt = performance.now();
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not read queue stats for metrics'))
      .finally(() => {
        refreshing = null;
      });
    return refreshing;
  }

  // ── snapshots for the per-minute numbers ────────────────────────────────────────────────
  const snapshots: Snapshot[] = [];
  const takeSnapshot = async () => {
    snapshots.push(await snapshot(metrics));
    const cutoff = performance.now() - WINDOW_MS - 2 * SAMPLE_EVERY_MS;
    while (snapshots.length > 1 && (snapshots[0] as Snapshot).at < cutoff) snapshots.shift();
  };
  await takeSnapshot();
  const sampler = setInterval(() => void takeSnapshot().catch(() => undefined), SAMPLE_EVERY_MS);
  sampler.unref();
  app.addHook('onClose', (_instance, done) => {
    clearInterval(sampler);
    done();
  });

  /** The oldest snapshot no older than the window (the window is shorter right after start). */
  function baseline(now: number): Snapshot {
    for (const s of snapshots) if (now - s.at <= WINDOW_MS + SAMPLE_EVERY_MS / 2) return s;
    return snapshots[snapshots.length - 1] as Snapshot;
  }

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description: 'Open unless `TRIGGERS_METRICS_AUTH` is set.',
        ...(ctx.config.metricsAuth ? {} : { security: [] }),
        produces: ['text/plain'],
        response: { 200: { type: 'string', description: 'Prometheus text exposition format.' } },
      },
    },
    async (_request, reply) => {
      await refreshGauges();
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(text);
    },
  );

  const latencySchema = { type: ['number', 'null'], description: 'Milliseconds; null without deliveries in the window.' };
  app.get(
    '/metrics/summary',
    {
      schema: {
        tags: ['operations'],
        summary: 'JSON summary for the console',
        description:
          'Counts by status from storage; throughput, latency percentiles (event created → delivered) and error rate ' +
          '(share of settled attempts that did not succeed) over the last minute, from this process.',
        response: {
          200: {
            type: 'object',
            properties: {
              generated_at: { type: 'string', format: 'date-time' },
              window_seconds: { type: 'number' },
              counts: {
                type: 'object',
                properties: {
                  events: { type: 'integer' },
                  pending: { type: 'integer' },
                  failed: { type: 'integer' },
                  subscriptions: { type: 'integer' },
                },
              },
              subscriptions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    subscription_id: { type: 'string' },
                    pending: { type: 'integer' },
                    failed: { type: 'integer' },
                    oldest_pending_at: { type: ['string', 'null'], format: 'date-time' },
                  },
                },
              },
              throughput: {
                type: 'object',
                properties: { events_per_second: { type: 'number' }, deliveries_per_second: { type: 'number' } },
              },
              latency_ms: { type: 'object', properties: { p50: latencySchema, p95: latencySchema, p99: latencySchema } },
              error_rate: { type: ['number', 'null'] },
              totals: {
                type: 'object',
                description: 'Since this process started.',
                properties: {
                  events_ingested: { type: 'number' },
                  deliveries_succeeded: { type: 'number' },
                  deliveries_failed: { type: 'number' },
                  delivery_attempts: { type: 'number' },
                  delivery_retries: { type: 'number' },
                },
              },
            },
          },
          ...commonErrors(),
        },
      },
    },
    async () => {
      const [stats, current] = await Promise.all([store.stats(), snapshot(metrics)]);
      metrics.setQueue(stats, clock());
      gaugesAt = performance.now();
      return summarize(stats, current, baseline(current.at), clock());
    },
  );
}

function summarize(stats: StoreStats, now: Snapshot, base: Snapshot, wallNow: number) {
  const span = now.at - base.at;
  const window = new Map<number, number>();
  for (const [bound, count] of now.buckets) window.set(bound, count - (base.buckets.get(bound) ?? 0));
  const ok = now.succeeded - base.succeeded;
  const bad = now.failed - base.failed + (now.retries - base.retries);
  let pending = 0;
  let failed = 0;
  for (const sub of stats.subscriptions) {
    pending += sub.pending;
    failed += sub.failed;
  }
  return {
    generated_at: iso(wallNow),
    window_seconds: Math.round(span / 1000),
    counts: { events: stats.events, pending, failed, subscriptions: stats.subscriptions.length },
    subscriptions: stats.subscriptions.map((sub) => ({
      subscription_id: sub.subscription_id,
      pending: sub.pending,
      failed: sub.failed,
      oldest_pending_at: isoOrNull(sub.oldest_pending_at),
    })),
    throughput: {
      events_per_second: perSecond(now.events - base.events, span),
      deliveries_per_second: perSecond(ok, span),
    },
    latency_ms: { p50: quantileMs(window, 0.5), p95: quantileMs(window, 0.95), p99: quantileMs(window, 0.99) },
    error_rate: ok + bad > 0 ? Math.round((bad / (ok + bad)) * 10_000) / 10_000 : null,
    totals: {
      events_ingested: now.events,
      deliveries_succeeded: now.succeeded,
      deliveries_failed: now.failed,
      delivery_attempts: now.attempts,
      delivery_retries: now.retries,
    },
  };
}
