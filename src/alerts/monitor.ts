/**
 * Watches the store and raises alerts; runs beside the dispatcher in every `serve` process.
 *
 * The seed's alarm: more than `threshold` deliveries dead-lettered within the last `windowMs`
 * (read from the dead letters, so failures reported by any dispatcher count) sends one
 * `deliveries_failed` alert — then none for a window, however many more fail (no storms).
 *
 * Endpoint health: a push subscription whose attempts have failed with no success since
 * `first_failure_at` for `endpointDisableAfterMs` is disabled (its `disabled_reason` says why)
 * and one `endpoint_disabled` alert names it. Its pending deliveries stay, and flow again when
 * it is enabled (enabling restarts the health clock).
 *
 *   healthy ── attempt fails ──► failing (first_failure_at set) ── success ──► healthy
 *                                   │ failing for endpointDisableAfterMs
 *                                   ▼
 *                                disabled + alert ── enable ──► healthy
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/secrets.js';
import { formatDuration } from '../core/duration.js';
import type { EpochMs } from '../core/types.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/store.js';
import { type Alert, AlertNotifier } from './notifier.js';

export interface MonitorOptions {
  store: Store;
  notifier: AlertNotifier;
  log: Logger;
  threshold: number;
  windowMs: number;
  endpointDisableAfterMs: number;
  /** How often to check; default a fifth of the shorter of the two times, between 100 ms and 30 s. */
  intervalMs?: number;
  clock?: () => EpochMs;
  /**
   * Where the time of the last failure alarm is kept, so a process that restarts within the
   * window does not send it again for the same failures (serve: `<data dir>/alerts.json`).
   */
  stateFile?: string;
}

/** Dead letters read per check, at most: enough to count past any sane threshold. */
const MAX_COUNTED = 1000;

export class AlertMonitor {
  readonly #options: MonitorOptions;
  readonly #clock: () => EpochMs;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #lastAlarmAt: EpochMs | null = null;

  constructor(options: MonitorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#lastAlarmAt = options.stateFile ? readLastAlarm(options.stateFile) : null;
    const shorter = Math.min(options.windowMs, options.endpointDisableAfterMs);
    this.#intervalMs = options.intervalMs ?? Math.max(100, Math.min(30_000, Math.floor(shorter / 5)));
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.check(), this.#intervalMs);
    this.#timer.unref();
    void this.check();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  /** One pass of both checks; overlapping calls share one pass. */
  check(): Promise<void> {
    this.#running ??= (async () => {
      try {
        await this.#checkFailures();
        await this.#checkEndpoints();
      } catch (error) {
        this.#options.log.error({ err: error }, 'alert check failed');
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  async #checkFailures(): Promise<void> {
    const { store, threshold, windowMs } = this.#options;
    const now = this.#clock();
    if (this.#lastAlarmAt !== null && now - this.#lastAlarmAt < windowMs) return;
    const page = await store.listDeadLetters({ limit: Math.min(MAX_COUNTED, threshold + 1_000), since: now - windowMs });
    const count = page.items.length;
    if (count <= threshold) return;
    this.#lastAlarmAt = now;
    if (this.#options.stateFile) saveLastAlarm(this.#options.stateFile, now, this.#options.log);
    const ids = [...new Set(page.items.map((item) => item.subscription_id))].sort();
    const window = formatDuration(windowMs);
    await this.#send({
      alert: 'deliveries_failed',
      count,
      window,
      subscription_ids: ids,
      at: new Date(now).toISOString(),
      message: `${count}${page.next_cursor === null ? '' : '+'} deliveries failed (dead-lettered) in the last ${window}`,
    });
  }

  async #checkEndpoints(): Promise<void> {
    const { store, endpointDisableAfterMs } = this.#options;
    const now = this.#clock();
    const disabled: string[] = [];
    for (const subscription of await store.listSubscriptions()) {
      const since = subscription.first_failure_at;
      if (subscription.status !== 'active' || subscription.url === null || since === null) continue;
      if (now - since < endpointDisableAfterMs) continue;
      const reason = `failing with no successful delivery since ${new Date(since).toISOString()} (over ${formatDuration(endpointDisableAfterMs)})`;
      const updated = await store.updateSubscription(subscription.id, { status: 'disabled', disabled_reason: reason });
      if (updated !== null) disabled.push(subscription.id);
    }
    if (disabled.length === 0) return;
    await this.#send({
      alert: 'endpoint_disabled',
      count: disabled.length,
      window: formatDuration(endpointDisableAfterMs),
      subscription_ids: disabled,
      at: new Date(now).toISOString(),
      message: `disabled ${disabled.length} subscription(s) whose endpoint kept failing for ${formatDuration(endpointDisableAfterMs)}: ${disabled.join(', ')}`,
    });
  }

  #send(alert: Alert): Promise<void> {
    return this.#options.notifier.send(alert);
  }
}

function readLastAlarm(file: string): EpochMs | null {
  try {
    const at = (JSON.parse(readFileSync(file, 'utf8')) as { deliveries_failed_at?: unknown }).deliveries_failed_at;
    return typeof at === 'number' && Number.isFinite(at) ? at : null;
  } catch {
    return null;
  }
}

function saveLastAlarm(file: string, at: EpochMs, log: Logger): void {
  try {
    writeFileSync(file, `${JSON.stringify({ deliveries_failed_at: at })}\n`);
  } catch (error) {
    log.warn({ err: error, file }, 'could not save the time of the last alert; a restart within the window may send it again');
  }
}

/** The failure alarm and endpoint health as every role runs them, from the configuration. */
export function createAlertMonitor(parts: { config: ResolvedConfig; store: Store; logger: Logger }): AlertMonitor {
  const { config, store, logger } = parts;
  const log = logger.child({ component: 'alerts' });
  return new AlertMonitor({
    store,
    notifier: new AlertNotifier(config.alerts.webhookUrl, log),
    log,
    threshold: config.alerts.threshold,
    windowMs: config.alerts.windowMs,
    endpointDisableAfterMs: config.alerts.endpointDisableAfterMs,
    stateFile: existsSync(config.dataDir) ? join(config.dataDir, 'alerts.json') : undefined,
  });
}
