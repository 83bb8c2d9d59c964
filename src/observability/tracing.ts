/**
 * OpenTelemetry spans around ingest and each delivery attempt, through the API package only.
 * With no SDK registered (the default) the tracer hands out the API's non-recording span (one
 * small object) and every helper below stops at `isRecording()`: no attribute objects, no strings. Register
 * an SDK (e.g. `--import` a file that starts `@opentelemetry/sdk-node`) and the spans appear
 * under the instrumentation scope `triggers`.
 *
 *   ingest   POST /events, POST /events/batch   triggers.event_id | triggers.event_count, triggers.ingest.outcome
 *   deliver  one HTTP attempt                   triggers.event_id, triggers.subscription_id,
 *                                               triggers.attempt, http.response.status_code,
 *                                               triggers.attempt.outcome, error.type
 *   dispatch one Lambda dispatcher invocation   triggers.handler, triggers.processed / succeeded /
 *            (the attempts' parent)             failed / retries
 */
import { type Span, SpanKind, type SpanOptions, SpanStatusCode, trace } from '@opentelemetry/api';
import { isSuccess } from '../core/outcome.js';

/** A ProxyTracer: it follows a provider registered after this module was loaded. */
const tracer = trace.getTracer('triggers');

const INTERNAL: SpanOptions = { kind: SpanKind.INTERNAL };
const CLIENT: SpanOptions = { kind: SpanKind.CLIENT };

export const INGEST_SPAN = 'triggers.ingest';
export const INGEST_BATCH_SPAN = 'triggers.ingest.batch';
export const DELIVER_SPAN = 'triggers.deliver';
export const DISPATCH_SPAN = 'triggers.dispatch';

/** How an attempt's answer classifies (the delivery's own fate is settled afterwards, see core/outcome.ts). */
export type AttemptOutcome = 'delivered' | 'retryable' | 'permanent';

export const startIngestSpan = (batch: boolean): Span => tracer.startSpan(batch ? INGEST_BATCH_SPAN : INGEST_SPAN, INTERNAL);

/** Ends an ingest span; `ids` is the one event id, or the batch's ids (only their count and first id are kept). */
export function endIngestSpan(span: Span, ids: string | readonly string[], outcome: 'stored' | 'replayed'): void {
  if (span.isRecording()) {
    if (typeof ids === 'string') span.setAttribute('triggers.event_id', ids);
    else {
      span.setAttribute('triggers.event_count', ids.length);
      if (ids[0] !== undefined) span.setAttribute('triggers.event_id', ids[0]);
    }
    span.setAttribute('triggers.ingest.outcome', outcome);
  }
  span.end();
}

/** Marks a span failed (for errors that escape a traced block) and ends it. */
export function failSpan(span: Span, error: unknown): void {
  if (span.isRecording()) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

export const startDeliverSpan = (): Span => tracer.startSpan(DELIVER_SPAN, CLIENT);

export interface AttemptFacts {
  claim: { event: { id: string }; subscription_id: string; attempt: number };
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** The status rules of core/outcome.ts, without the schedule: a retryable failure may still be dead-lettered when it is used up. */
export function attemptOutcome(status: number | null): AttemptOutcome {
  if (isSuccess(status)) return 'delivered';
  if (status !== null && status >= 400 && status < 500 && status !== 408 && status !== 425 && status !== 429) return 'permanent';
  return 'retryable';
}

export function endDeliverSpan(span: Span, report: AttemptFacts): void {
  if (span.isRecording()) {
    const outcome = attemptOutcome(report.status_code);
    span.setAttribute('triggers.event_id', report.claim.event.id);
    span.setAttribute('triggers.subscription_id', report.claim.subscription_id);
    span.setAttribute('triggers.attempt', report.claim.attempt);
    span.setAttribute('triggers.attempt.outcome', outcome);
    span.setAttribute('triggers.attempt.duration_ms', report.duration_ms);
    if (report.status_code !== null) span.setAttribute('http.response.status_code', report.status_code);
    if (report.error !== null) span.setAttribute('error.type', report.error.split(':', 1)[0] as string);
    if (outcome !== 'delivered')
      span.setStatus({ code: SpanStatusCode.ERROR, message: report.error ?? `HTTP ${report.status_code}` });
  }
  span.end();
}

export interface DispatchCounts {
  processed: number;
  succeeded: number;
  failed: number;
  retries: number;
}

/**
 * Runs one dispatcher invocation inside an active span, so that with an SDK (and its context
 * manager) registered the attempts' spans are its children. Once per invocation: cost is moot.
 */
export function traceDispatch<T>(handler: string, run: () => Promise<T>, countsOf: (result: T) => DispatchCounts): Promise<T> {
  return tracer.startActiveSpan(DISPATCH_SPAN, INTERNAL, async (span) => {
    try {
      const result = await run();
      if (span.isRecording()) {
        const counts = countsOf(result);
        span.setAttribute('triggers.handler', handler);
        span.setAttribute('triggers.processed', counts.processed);
        span.setAttribute('triggers.succeeded', counts.succeeded);
        span.setAttribute('triggers.failed', counts.failed);
        span.setAttribute('triggers.retries', counts.retries);
      }
      span.end();
      return result;
    } catch (error) {
      failSpan(span, error);
      throw error;
    }
  });
}
