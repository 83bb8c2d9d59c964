// @ts-check
/**
 * The dashboard's memory: a ring buffer of the last `capacity` summaries pushed by the live feed
 * (one a second), kept from sign-in on whichever view is open, so the charts have a history
 * when the dashboard is opened. Rates are differences of the server's running totals between
 * two samples, per second.
 */

export const SERIES = /** @type {const} */ (['events', 'succeeded', 'failed', 'retries', 'p50', 'p95', 'p99']);

/** @typedef {{ t: number, events: number | null, succeeded: number | null, failed: number | null, retries: number | null, p50: number | null, p95: number | null, p99: number | null }} Sample */

export class Samples extends EventTarget {
  constructor(capacity = 300) {
    super();
    this.capacity = capacity;
    /** @type {(Sample | undefined)[]} */
    this.ring = new Array(capacity);
    this.start = 0;
    this.length = 0;
    /** @type {{ at: number, totals: Record<string, number> } | null} */
    this.previous = null;
    /** @type {any} */
    this.latest = null;
  }

  /** @param {any} summary the /metrics/summary JSON */
  push(summary) {
    const at = Date.now() / 1000;
    const totals = summary.totals ?? {};
    const prev = this.previous;
    /** @param {string} key */
    const rate = (key) => {
      if (!prev) return null;
      const dt = at - prev.at;
      const delta = (totals[key] ?? 0) - (prev.totals[key] ?? 0);
      return dt > 0 && delta >= 0 ? delta / dt : null;
    };
    const latency = summary.latency_ms ?? {};
    /** @type {Sample} */
    const sample = {
      t: at,
      events: rate('events_ingested'),
      succeeded: rate('deliveries_succeeded'),
      failed: rate('deliveries_failed'),
      retries: rate('delivery_retries'),
      p50: latency.p50 ?? null,
      p95: latency.p95 ?? null,
      p99: latency.p99 ?? null,
    };
    this.previous = { at, totals };
    this.latest = summary;
    const index = (this.start + this.length) % this.capacity;
    this.ring[index] = sample;
    if (this.length < this.capacity) this.length++;
    else this.start = (this.start + 1) % this.capacity;
    this.dispatchEvent(new CustomEvent('sample', { detail: summary }));
  }

  /** Columns for a chart: [times, ...one array per key], oldest first. @param {readonly string[]} keys */
  columns(keys) {
    const t = new Array(this.length);
    const cols = keys.map(() => new Array(this.length));
    for (let i = 0; i < this.length; i++) {
      const s = /** @type {any} */ (this.ring[(this.start + i) % this.capacity]);
      t[i] = s.t;
      keys.forEach((key, k) => {
        cols[k][i] = s[key];
      });
    }
    return [t, ...cols];
  }

  clear() {
    this.start = 0;
    this.length = 0;
    this.previous = null;
    this.latest = null;
  }
}
