/**
 * Steady load for the latency benchmarks: events POSTed at `rate`/s, paced by the clock rather
 * than by replies, each carrying its send time (`payload.sent_at`, ms) for the sink to measure.
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `rate` events a second for `seconds`; returns how many were sent. `envelope`: send what a
 * webhook carries (id, created_at) instead of what an ingest request does.
 */
export async function steadyLoad(
  url: string,
  rate: number,
  seconds: number,
  headers: Record<string, string>,
  envelope = false,
): Promise<number> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  const total = rate * seconds;
  const started = performance.now();
  let sent = 0;
  const inflight = new Set<Promise<void>>();
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      sent++;
      const event = { type: 'latency.probe', source: 'bench', payload: { n: sent, sent_at: now() } };
      const body = JSON.stringify(envelope ? { id: `evt_${sent}`, created_at: new Date().toISOString(), ...event } : event);
      const pending: Promise<void> = request(url, {
        method: 'POST',
        dispatcher: agent,
        body,
        headers: { 'content-type': 'application/json', ...headers },
      })
        .then((response) => response.body.dump())
        .catch(() => undefined)
        .finally(() => inflight.delete(pending));
      inflight.add(pending);
    }
    await sleep(1);
  }
  await Promise.all(inflight);
  await agent.close();
  return sent;
}

/**
 * Before a latency phase: write back what earlier phases left dirty in the page cache (a drained
 * database, deleted folders) and let the machine go quiet, so the kernel's writeback does not
 * land in the latency tail.
 */
export async function quietDisk(): Promise<void> {
  execFileSync('sync');
  await sleep(2_000);
}
