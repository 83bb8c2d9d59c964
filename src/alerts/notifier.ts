/**
 * Sends an alert: a warn log line always, and a JSON POST to TRIGGERS_ALERT_WEBHOOK_URL when one
 * is set. The POST is best effort (5 s timeout, no retries): an alert about failing deliveries
 * must not itself queue up behind them. Never rejects.
 *
 *   { "alert": "deliveries_failed" | "endpoint_disabled", "count": 4, "window": "5m",
 *     "subscription_ids": ["sub_…"], "at": "2030-01-01T00:00:00.000Z", "message": "…" }
 */
import type { Logger } from '../observability/logger.js';

export type AlertKind = 'deliveries_failed' | 'endpoint_disabled';

export interface Alert {
  alert: AlertKind;
  count: number;
  /** The alarm's window, as configured (`5m`), or the disable-after time for endpoint_disabled. */
  window: string;
  subscription_ids: string[];
  /** ISO 8601. */
  at: string;
  message: string;
}

export class AlertNotifier {
  constructor(
    private readonly url: string | null,
    private readonly log: Logger,
    private readonly timeoutMs = 5_000,
  ) {}

  async send(alert: Alert): Promise<void> {
    this.log.warn({ alert: alert.alert, count: alert.count, window: alert.window, subscription_ids: alert.subscription_ids }, alert.message);
    if (this.url === null) return;
    try {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
      if (response.status < 200 || response.status >= 300) {
        this.log.error({ alert: alert.alert, status_code: response.status }, 'the alert webhook did not accept the alert');
      }
    } catch (error) {
      this.log.error({ alert: alert.alert, err: error }, 'could not send the alert to the alert webhook');
    }
  }
}
