/**
 * What the dispatcher tests share: a real SQLite store in a fresh folder, a configuration built
 * by loadConfig (fast retries, private targets allowed for the loopback sink), a dispatcher
 * over a LocalSource, and small helpers to add subscriptions and events and to wait for state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, type Env, loadConfig } from '../../src/config/config.js';
import { newEventId } from '../../src/core/ids.js';
import type { EventWithDeliveries, JsonObject, Subscription } from '../../src/core/types.js';
import { createDispatcher, type Dispatcher, type DispatcherOptions, LocalSource } from '../../src/dispatcher/index.js';
import { silentLogger } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/store.js';

export const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const OTHER_SECRET = 'whsec_c2Vjb25kLXNlY3JldC1mb3ItdGVzdHMtMTIzNA==';

export function testConfig(env: Env = {}, dir = mkdtempSync(join(tmpdir(), 'triggers-dispatch-'))): Config {
  return loadConfig({
    cwd: dir,
    env: {
      TRIGGERS_DATA_DIR: dir,
      TRIGGERS_DATABASE_URL: `sqlite:${join(dir, 'triggers.db')}`,
      TRIGGERS_ALLOW_PRIVATE_TARGETS: 'true',
      TRIGGERS_RETRY_SCHEDULE: '50ms,100ms',
      TRIGGERS_LOG_LEVEL: 'silent',
      TRIGGERS_DELIVERY_TIMEOUT: '2s',
      ...env,
    },
  });
}

export interface Harness {
  config: Config;
  store: Store;
  metrics: Metrics;
  dispatcher: Dispatcher;
  dir: string;
  close(): Promise<void>;
}

export async function harness(
  env: Env = {},
  options: Partial<Omit<DispatcherOptions, 'source' | 'config'>> & { configure?: (config: Config) => void } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-dispatch-'));
  const config = testConfig(env, dir);
  options.configure?.(config);
  const store = await openSqliteStore(join(dir, 'triggers.db'));
  const metrics = new Metrics({ defaultMetrics: false });
  const { configure: _configure, ...rest } = options;
  const dispatcher = createDispatcher({
    source: new LocalSource(store, { retrySchedule: config.retrySchedule }),
    config,
    metrics,
    logger: silentLogger(),
    pollIntervalMs: 200,
    ...rest,
  });
  return {
    config,
    store,
    metrics,
    dispatcher,
    dir,
    async close() {
      await dispatcher.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function addSubscription(
  store: Store,
  id: string,
  url: string | null,
  options: { secrets?: Subscription['secrets']; eventTypes?: string[] } = {},
): Promise<Subscription> {
  return store.createSubscription({
    id,
    url,
    event_types: options.eventTypes ?? ['*'],
    secrets: options.secrets ?? [{ secret: SECRET, expires_at: null }],
    status: 'active',
    description: null,
    disabled_reason: null,
    metadata: {},
  });
}

/** Appends `count` events of `type` (one commit) and returns their ids. */
export async function appendEvents(
  store: Store,
  count = 1,
  type = 'order.created',
  payload: JsonObject = { n: 1 },
): Promise<string[]> {
  const now = Date.now();
  const events = Array.from({ length: count }, (_, i) => ({
    id: newEventId(now),
    type,
    source: 'test',
    payload: { ...payload, i },
    created_at: now,
  }));
  await store.append({ events });
  return events.map((event) => event.id);
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Waits until the event's delivery to `subscriptionId` has `status`, and returns the event. */
export function deliveryStatus(
  store: Store,
  eventId: string,
  subscriptionId: string,
  status: 'pending' | 'delivered' | 'failed',
  timeoutMs = 5_000,
) {
  return eventually<EventWithDeliveries>(
    async () => {
      const event = await store.getEvent(eventId);
      const delivery = event?.deliveries.find((d) => d.subscription_id === subscriptionId);
      return delivery?.status === status ? (event as EventWithDeliveries) : undefined;
    },
    timeoutMs,
    `delivery of ${eventId} to ${subscriptionId} to be ${status}`,
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
