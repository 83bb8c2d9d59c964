/**
 * The dispatcher's Prometheus series for one subscription, resolved once and cached: label
 * lookups are not free and there is one set of them per delivery.
 */
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../observability/metrics.js';

export interface SubscriptionSeries {
  success: Counter.Internal;
  retry: Counter.Internal;
  dead: Counter.Internal;
  succeeded: Counter.Internal;
  failed: Counter.Internal;
  retries: Counter.Internal;
  latency: Histogram.Internal<'subscription'>;
  requestDuration: Histogram.Internal<'subscription'>;
}

export class SubscriptionMetrics {
  readonly #metrics: Metrics;
  readonly #cache = new Map<string, SubscriptionSeries>();

  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  for(subscription: string): SubscriptionSeries {
    let series = this.#cache.get(subscription);
    if (!series) {
      const m = this.#metrics;
      series = {
        success: m.attempts.labels({ subscription, result: 'success' }),
        retry: m.attempts.labels({ subscription, result: 'retry' }),
        dead: m.attempts.labels({ subscription, result: 'dead' }),
        succeeded: m.succeeded.labels({ subscription }),
        failed: m.failed.labels({ subscription }),
        retries: m.retries.labels({ subscription }),
        latency: m.latency.labels({ subscription }),
        requestDuration: m.requestDuration.labels({ subscription }),
      };
      if (this.#cache.size > 10_000) this.#cache.clear();
      this.#cache.set(subscription, series);
    }
    return series;
  }
}
