/**
 * Shared pieces of the fault-injection suite (`npm run test:faults`): a bounded load generator
 * against a running server, the delivery tally at a sink, and the one-line JSON report each fault
 * prints. Everything is loopback-only.
 *
 * The suite is long-running and timing-heavy, so `npm test` (which walks every *.test.ts) skips
 * it; `npm run test:faults` sets TRIGGERS_FAULTS=1 and runs the files one at a time.
 */
import type { SinkRequest } from '../support/sink.js';

export const FAULTS_ENABLED = process.env.TRIGGERS_FAULTS === '1';
export const SKIP = FAULTS_ENABLED ? false : 'fault-injection suite: run with npm run test:faults';

export const API_KEY = 'faults-key-0123456789';
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const event = (n: number, extra: Record<string, unknown> = {}) => ({ type: 'fault.probe', source: 'faults', payload: { n, ...extra } });

export async function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

export interface Load {
  /** Requests started. */
  sent(): number;
  /** Ids answered 201. */
  accepted: string[];
  /** Stops sending, waits for the requests in flight to settle. */
  stop(): Promise<void>;
}

/**
 * `workers` loops POSTing one event each to `${url}/events` until stopped; an id counts as
 * accepted only when its 201 arrived. Errors (the server killed under it) are counted as sent,
 * not accepted. Bounded by `maxRequests`.
 */
export function startLoad(url: string, workers: number, maxRequests = 50_000, onAccepted?: (id: string) => void): Load {
  let running = true;
  let sent = 0;
  const accepted: string[] = [];
  const controller = new AbortController();
  const loop = async () => {
    while (running && sent < maxRequests) {
      sent++;
      try {
        const response = await post(`${url}/events`, event(sent), controller.signal);
        const text = await response.text();
        if (response.status === 201) {
          const id = (JSON.parse(text) as { id: string }).id;
          accepted.push(id);
          onAccepted?.(id);
        } else if (response.status >= 500) {
          await sleep(20);
        }
      } catch {
        // connection refused / reset: the server is gone; not accepted
        await sleep(20);
      }
    }
  };
  const loops = Array.from({ length: workers }, loop);
  return {
    sent: () => sent,
    accepted,
    async stop() {
      running = false;
      const settled = Promise.all(loops);
      // Anything still in flight after a moment belongs to a dead server: abort it (not accepted).
      const timer = setTimeout(() => controller.abort(), 2_000);
      await settled;
      clearTimeout(timer);
    },
  };
}

export interface Tally {
  /** Distinct webhook-ids that arrived. */
  delivered: Set<string>;
  /** Requests beyond the first for a webhook-id. */
  duplicates: number;
}

export function tally(requests: readonly SinkRequest[]): Tally {
  const delivered = new Set<string>();
  let duplicates = 0;
  for (const request of requests) {
    const id = request.headers['webhook-id'] as string;
    if (delivered.has(id)) duplicates++;
    else delivered.add(id);
  }
  return { delivered, duplicates };
}

/** Waits until every id in `ids` has arrived (in `requests()`), or the deadline; returns the missing ones. */
export async function waitForAll(ids: readonly string[], requests: () => readonly SinkRequest[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = tally(requests()).delivered;
    const missing = ids.filter((id) => !seen.has(id));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await sleep(200);
  }
}

/** The one JSON line each fault prints: docs/reliability.md quotes these. */
export function report(fault: string, figures: Record<string, unknown>): void {
  console.log(JSON.stringify({ fault, ...figures }));
}
