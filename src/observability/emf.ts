/**
 * CloudWatch Embedded Metric Format, by hand: one JSON object per line on stdout, which Lambda's
 * log pipeline turns into metrics (no PutMetricData calls, no SDK). The seed's five dispatcher
 * metrics, without dimensions, in the configured namespace (TRIGGERS_METRICS_NAMESPACE):
 *
 *   EventsProcessed       Count         attempts made
 *   SuccessfulDeliveries  Count         delivered (2xx)
 *   FailedDeliveries      Count         dead-lettered
 *   DeliveryLatency       Milliseconds  event created → delivered, one value per delivery
 *   RetryAttempts         Count         failed attempts rescheduled
 *
 * A metric's value may be an array of at most 100 numbers (each one a sample, so CloudWatch's
 * percentiles are exact); longer series are split over several lines, the counts on the first.
 * Format reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

export type EmfUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'None';

export interface EmfMetric {
  name: string;
  unit: EmfUnit;
  value: number | number[];
}

/** Most values one metric may carry in one EMF object. */
export const EMF_MAX_VALUES = 100;

export const SEED_METRICS = {
  EventsProcessed: 'Count',
  SuccessfulDeliveries: 'Count',
  FailedDeliveries: 'Count',
  DeliveryLatency: 'Milliseconds',
  RetryAttempts: 'Count',
} as const satisfies Record<string, EmfUnit>;

export type SeedMetricName = keyof typeof SEED_METRICS;

/** One EMF object (a line, without its newline). `properties` are searchable log fields, not metrics. */
export function emfLine(
  namespace: string,
  metrics: EmfMetric[],
  properties: Record<string, unknown> = {},
  timestamp = Date.now(),
): string {
  const root: Record<string, unknown> = { ...properties };
  for (const metric of metrics) root[metric.name] = metric.value;
  root._aws = {
    Timestamp: timestamp,
    CloudWatchMetrics: [
      {
        Namespace: namespace,
        // One empty dimension set: the metrics are published under their names alone.
        Dimensions: [[]],
        Metrics: metrics.map((metric) => ({ Name: metric.name, Unit: metric.unit })),
      },
    ],
  };
  return JSON.stringify(root);
}

export interface DispatchNumbers {
  processed: number;
  succeeded: number;
  failed: number;
  retries: number;
  /** Milliseconds, one per successful delivery. */
  latencies: readonly number[];
}

/**
 * The seed's five metrics for one dispatcher invocation, as EMF lines: the counts (and the
 * first 100 latencies) on the first line, further latencies 100 to a line. An invocation that
 * delivered nothing still reports its zero counts, so alarms see a steady series.
 */
export function seedMetricLines(
  namespace: string,
  numbers: DispatchNumbers,
  properties: Record<string, unknown> = {},
  timestamp = Date.now(),
): string[] {
  const latencies = numbers.latencies.map((ms) => Math.round(ms * 100) / 100);
  const first: EmfMetric[] = [
    { name: 'EventsProcessed', unit: SEED_METRICS.EventsProcessed, value: numbers.processed },
    { name: 'SuccessfulDeliveries', unit: SEED_METRICS.SuccessfulDeliveries, value: numbers.succeeded },
    { name: 'FailedDeliveries', unit: SEED_METRICS.FailedDeliveries, value: numbers.failed },
    { name: 'RetryAttempts', unit: SEED_METRICS.RetryAttempts, value: numbers.retries },
  ];
  if (latencies.length > 0) {
    first.push({ name: 'DeliveryLatency', unit: SEED_METRICS.DeliveryLatency, value: latencies.slice(0, EMF_MAX_VALUES) });
  }
  const lines = [emfLine(namespace, first, properties, timestamp)];
  for (let at = EMF_MAX_VALUES; at < latencies.length; at += EMF_MAX_VALUES) {
    const chunk = latencies.slice(at, at + EMF_MAX_VALUES);
    lines.push(
      emfLine(namespace, [{ name: 'DeliveryLatency', unit: SEED_METRICS.DeliveryLatency, value: chunk }], properties, timestamp),
    );
  }
  return lines;
}
