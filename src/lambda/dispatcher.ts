/**
 * The dispatcher as Lambda handlers, on the engine every other dispatcher uses (claim → signed
 * POST → settle, through a LocalSource on the configured store):
 *
 *   scheduledHandler  dist/lambda/dispatcher.scheduledHandler — an EventBridge schedule: one run
 *                     of at most TRIGGERS_MAX_EVENTS_PER_RUN due deliveries over every push
 *                     subscription (the seed's Lambda); returns the run summary.
 *   streamHandler     dist/lambda/dispatcher.streamHandler — the table's DynamoDB stream: the
 *                     subscriptions named by the inserted deliveries (or events) get a run at
 *                     once; answers a partial batch response naming the records that failed.
 *
 * Both print the seed's five metrics as CloudWatch EMF lines, and a summary log line, per
 * invocation. The store, configuration and engine are set up once per container.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, ScheduledEvent } from 'aws-lambda';
import { type AlertMonitor, createAlertMonitor, Retention } from '../alerts/index.js';
import { createDispatcher, type Dispatcher, LocalSource } from '../dispatcher/index.js';
import { seedMetricLines } from '../observability/emf.js';
import { createLogger } from '../observability/logger.js';
import { traceDispatch } from '../observability/tracing.js';
import { type HandlerOptions, LambdaContainer, type LambdaParts } from './container.js';
import { type InvocationSummary, LambdaSource, runInvocation } from './invocation.js';
import { readRecord } from './streamRecords.js';

export interface DispatcherHandlerOptions extends HandlerOptions {
  /** Where EMF lines go (one call per line, no newline); default stdout. */
  writeMetrics?: (line: string) => void;
}

interface BuiltDispatcher {
  engine: Dispatcher;
  source: LambdaSource;
  /** The seed's failure alarm and endpoint health, checked after each scheduled run. */
  monitor: AlertMonitor;
  /** A retention pass (a fresh Retention each time: one that was stopped stays stopped). */
  retention: () => Retention;
  /** When this container last ran a retention pass. */
  retainedAt: number;
}

/** Retention runs at most this often per container (TTL on the table is its backstop). */
const RETENTION_EVERY_MS = 3_600_000;
/** A retention pass stops after this long, or earlier to leave the function time to return. */
const RETENTION_MAX_MS = 60_000;

export interface ScheduledResult extends InvocationSummary {
  handler: 'scheduled';
}

export interface DispatcherHandlers {
  scheduledHandler(event: ScheduledEvent, context: Context): Promise<ScheduledResult>;
  streamHandler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse>;
  /** Stops the engine and closes the store (tests). */
  close(): Promise<void>;
}

const stdoutLine = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

export function createDispatcherHandlers(options: DispatcherHandlerOptions = {}): DispatcherHandlers {
  const writeMetrics = options.writeMetrics ?? stdoutLine;
  const container = new LambdaContainer<BuiltDispatcher>({
    ...options,
    handler: 'dispatcher',
    requireCredentials: false,
    async build(parts) {
      const source = new LambdaSource(new LocalSource(parts.store, { retrySchedule: parts.config.retrySchedule }));
      const engine = createDispatcher({ source, config: parts.config, metrics: parts.metrics, logger: parts.logger });
      const { config, store, logger } = parts;
      const monitor = createAlertMonitor({ config, store, logger });
      const retentionLog = logger.child({ component: 'retention' });
      const retention = () => new Retention({ store, log: retentionLog, retentionDays: config.retentionDays });
      return { engine, source, monitor, retention, retainedAt: 0 };
    },
    async dispose(built) {
      await built.engine.stop();
    },
  });

  const setup = async (): Promise<{ built: BuiltDispatcher; parts: LambdaParts }> => {
    try {
      return await container.get();
    } catch (error) {
      (container.logger ?? createLogger('info', process.stdout)).error({ err: error }, 'the dispatcher could not start');
      throw error;
    }
  };

  const report = (parts: LambdaParts, handler: string, context: Context, summary: InvocationSummary, latencies: number[]) => {
    const properties = { handler, function: context.functionName, request_id: context.awsRequestId };
    for (const line of seedMetricLines(parts.config.aws.metricsNamespace, { ...summary, latencies }, properties))
      writeMetrics(line);
    parts.logger.info({ handler, ...summary }, 'dispatcher run');
  };

  const invoke = (built: BuiltDispatcher, parts: LambdaParts, context: Context, scope: ReadonlySet<string> | null) =>
    traceDispatch(
      scope === null ? 'scheduled' : 'stream',
      () =>
        runInvocation(built.engine, built.source, {
          budget: parts.config.maxEventsPerRun,
          retryWaitMs: parts.config.aws.lambdaRetryWaitMs,
          attemptMs: parts.config.dispatch.timeoutMs,
          remainingMs:
            typeof context.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined,
          scope,
        }),
      (result) => result.summary,
    );

  async function scheduledHandler(_event: ScheduledEvent, context: Context): Promise<ScheduledResult> {
    const { built, parts } = await setup();
    let result: Awaited<ReturnType<typeof invoke>>;
    try {
      result = await invoke(built, parts, context, null);
    } catch (error) {
      // Nothing was attempted: the metrics still say so, and the schedule's retry tries again.
      report(parts, 'scheduled', context, emptySummary(), []);
      parts.logger.error({ err: error }, 'dispatcher run failed');
      throw error;
    }
    if (result.error) parts.logger.error({ err: result.error }, 'dispatcher run stopped early');
    report(parts, 'scheduled', context, result.summary, result.latencies);
    await housekeeping(built, context);
    return { handler: 'scheduled', ...result.summary };
  }

  async function streamHandler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
    const { built, parts } = await setup();
    return handleStream(event, context, built, parts, invoke, report);
  }

  return {
    scheduledHandler,
    streamHandler,
    close: () => container.close(),
  };
}

/**
 * What `serve` runs on timers, done once per scheduled run here (a frozen container runs no
 * timers): the alert checks (the seed's alarm to TRIGGERS_ALERT_WEBHOOK_URL, disabling endpoints
 * failing past TRIGGERS_ENDPOINT_DISABLE_AFTER) and, hourly, a retention pass. Both log their
 * own failures and never fail the run.
 */
async function housekeeping(built: BuiltDispatcher, context: Context): Promise<void> {
  await built.monitor.check();
  if (Date.now() - built.retainedAt < RETENTION_EVERY_MS) return;
  built.retainedAt = Date.now();
  const left = typeof context.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : RETENTION_MAX_MS;
  const budget = Math.min(RETENTION_MAX_MS, left - 5_000);
  if (budget <= 0) return;
  // A large backlog is purged over several runs: the pass stops in time and the next hour goes on.
  const retention = built.retention();
  const timer = setTimeout(() => void retention.stop(), budget);
  try {
    await retention.run();
  } finally {
    clearTimeout(timer);
  }
}

type Invoke = (
  built: BuiltDispatcher,
  parts: LambdaParts,
  context: Context,
  scope: ReadonlySet<string> | null,
) => ReturnType<typeof runInvocation>;
type Report = (parts: LambdaParts, handler: string, context: Context, summary: InvocationSummary, latencies: number[]) => void;

/**
 * Records → subscriptions → one run over them. A record fails when it is malformed, when its
 * event could not be read, or when the run for its subscriptions failed before attempting
 * anything; a webhook that answers an error is not a record failure (the delivery is retried
 * from the table on its schedule).
 */
async function handleStream(
  event: DynamoDBStreamEvent,
  context: Context,
  built: BuiltDispatcher,
  parts: LambdaParts,
  invoke: Invoke,
  report: Report,
): Promise<DynamoDBBatchResponse> {
  const log = parts.logger;
  const failed = new Set<string>();
  const fail = (sequence: string | undefined, fields: Record<string, unknown>, message: string) => {
    log.warn({ sequence_number: sequence, ...fields }, message);
    // Lambda reads a missing or empty identifier as the whole batch failing: such a record is logged only.
    if (sequence) failed.add(sequence);
  };

  /** Which subscriptions each record needs a run of. */
  const needs = new Map<string, Set<string>>();
  const need = (sequence: string | undefined, subscriptionId: string) => {
    const key = sequence ?? '';
    const set = needs.get(key) ?? new Set<string>();
    needs.set(key, set);
    set.add(subscriptionId);
  };

  const records = event.Records ?? [];
  const eventsWithDeliveries = new Set<string>();
  const work = records.map((record) => readRecord(record));
  for (const item of work) if (item.kind === 'delivery') eventsWithDeliveries.add(item.eventId);

  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const item = work[i];
    if (!record || !item) continue;
    const sequence = record.dynamodb?.SequenceNumber;
    switch (item.kind) {
      case 'skip':
        break;
      case 'malformed':
        fail(sequence, { record_id: record.eventID, reason: item.reason }, 'malformed stream record');
        break;
      case 'delivery':
        need(sequence, item.subscriptionId);
        break;
      case 'event': {
        // Its deliveries' own records in this batch already name their subscriptions.
        if (eventsWithDeliveries.has(item.eventId)) break;
        try {
          const stored = await parts.store.getEvent(item.eventId);
          for (const delivery of stored?.deliveries ?? [])
            if (delivery.status === 'pending') need(sequence, delivery.subscription_id);
        } catch (error) {
          fail(sequence, { event_id: item.eventId, err: error }, 'could not read the event of a stream record');
        }
        break;
      }
    }
  }

  const scope = new Set<string>();
  for (const set of needs.values()) for (const id of set) scope.add(id);
  if (scope.size > 0) {
    try {
      const result = await invoke(built, parts, context, scope);
      if (result.error) log.error({ err: result.error }, 'dispatcher run stopped early');
      report(parts, 'stream', context, result.summary, result.latencies);
    } catch (error) {
      log.error({ err: error, subscriptions: [...scope] }, 'dispatcher run failed');
      report(parts, 'stream', context, emptySummary(), []);
      for (const sequence of needs.keys()) if (sequence !== '') failed.add(sequence);
    }
  }
  log.info({ records: records.length, subscriptions: scope.size, failed: failed.size }, 'stream batch handled');
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

function emptySummary(): InvocationSummary {
  return { processed: 0, succeeded: 0, failed: 0, retries: 0, latency_ms: { avg: 0, p50: 0, p99: 0, max: 0 }, runs: 0 };
}

let shared: DispatcherHandlers | null = null;
const handlers = (): DispatcherHandlers => {
  shared ??= createDispatcherHandlers();
  return shared;
};

/** EventBridge schedule → one dispatcher run (`dist/lambda/dispatcher.scheduledHandler`). */
export const scheduledHandler = (event: ScheduledEvent, context: Context): Promise<ScheduledResult> =>
  handlers().scheduledHandler(event, context);

/** DynamoDB Streams → immediate delivery, partial batch response (`dist/lambda/dispatcher.streamHandler`). */
export const streamHandler = (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> =>
  handlers().streamHandler(event, context);
