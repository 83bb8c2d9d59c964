/**
 * A TracerProvider written against the OpenTelemetry API interfaces only (no SDK is installed):
 * it records each span's name, kind, attributes, status and whether it was ended, so tests can
 * assert what Triggers traces. Register it once per test file (the global provider can be set
 * only once per process; node --test runs each file in its own process).
 */
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

export interface RecordedSpan {
  name: string;
  scope: string;
  kind: SpanKind | undefined;
  attributes: Record<string, AttributeValue>;
  status: SpanStatus | null;
  exceptions: number;
  ended: boolean;
}

let counter = 0;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

class RecordingSpan implements Span {
  readonly #context: SpanContext;
  constructor(readonly record: RecordedSpan) {
    counter++;
    this.#context = { traceId: hex(counter, 32), spanId: hex(counter, 16), traceFlags: TraceFlags.SAMPLED };
  }
  spanContext(): SpanContext {
    return this.#context;
  }
  setAttribute(key: string, value: AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    for (const [key, value] of Object.entries(attributes)) if (value !== undefined) this.record.attributes[key] = value;
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(_endTime?: TimeInput): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {
    this.record.exceptions++;
  }
}

export class RecordingTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(scope: string): Tracer {
    const spans = this.spans;
    const start = (name: string, options?: SpanOptions): RecordingSpan => {
      const record: RecordedSpan = {
        name,
        scope,
        kind: options?.kind,
        attributes: { ...(options?.attributes as Record<string, AttributeValue> | undefined) },
        status: null,
        exceptions: 0,
        ended: false,
      };
      spans.push(record);
      return new RecordingSpan(record);
    };
    return {
      startSpan: (name: string, options?: SpanOptions, _context?: Context) => start(name, options),
      startActiveSpan: ((name: string, ...rest: unknown[]) => {
        const fn = rest[rest.length - 1] as (span: Span) => unknown;
        const options = rest.length > 1 && typeof rest[0] === 'object' ? (rest[0] as SpanOptions) : undefined;
        return fn(start(name, options));
      }) as Tracer['startActiveSpan'],
    };
  }

  named(name: string): RecordedSpan[] {
    return this.spans.filter((span) => span.name === name);
  }
}

/** Registers a fresh recording provider as the global one and returns it. */
export function recordSpans(): RecordingTracerProvider {
  const provider = new RecordingTracerProvider();
  // Not trace.disable() first: that replaces the global proxy provider, and tracers taken
  // before (as src/observability/tracing.ts takes its own at import) would never see this one.
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('could not register the recording tracer provider');
  return provider;
}
