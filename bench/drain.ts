/**
 * Delivery: drain a backlog of N pending deliveries to a loopback sink, against a raw undici
 * loop posting the same number of same-sized requests to the same sink with the same
 * concurrency, in the same run: raw loop, Triggers, Triggers, raw loop, each of the whole
 * backlog. The rate is measured at the sink, first request to last, over both rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { EVENT_BODY } from './lib/load.js';
import { type NginxSink, startNginxSink } from './lib/nginxSink.js';
import { type Child, startScript, startTriggers } from './lib/processes.js';
import { alternate, overRounds } from './lib/rounds.js';
import { round } from './lib/stats.js';

export interface DrainReport {
  events: number;
  concurrency: number;
  triggers: { perSecond: number; seconds: number; delivered: number; duplicates: number; prefillPerSecond: number };
  baseline: { perSecond: number; seconds: number };
  ratio: number;
}

const isNginx = (sink: Child): sink is NginxSink => 'stats' in sink;

/** The sink the drain posts to: bench/sink.ts (Node), or nginx with BENCH_SINK=nginx (lib/nginxSink.ts). */
export function startSink(): Promise<Child> {
  return process.env.BENCH_SINK === 'nginx' ? startNginxSink() : startScript('sink.ts');
}

export interface SinkStats {
  count: number;
  first_at: number;
  last_at: number;
  duplicates: number;
  latencies: number[];
}

/** What the sink received, and over how long (first request to last). */
export const sinkRound = (stats: SinkStats): { count: number; seconds: number } => ({
  count: stats.count,
  seconds: (stats.last_at - stats.first_at) / 1000,
});

export async function sinkStats(sink: Child): Promise<SinkStats> {
  if (isNginx(sink)) return sink.stats();
  const response = await request(`${sink.url}/stats`);
  return (await response.body.json()) as SinkStats;
}

export async function resetSink(sink: Child): Promise<void> {
  if (isNginx(sink)) return sink.reset();
  await (await request(`${sink.url}/reset`, { method: 'POST' })).body.dump();
}

/** The bare baseline: a raw undici loop posting `total` same-sized requests to `url`; returns seconds. */
export async function rawUndiciLoop(url: string, total: number, concurrency: number): Promise<number> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  const envelope = JSON.stringify({
    id: 'evt_01JBENCH000000000000000000',
    created_at: new Date().toISOString(),
    ...JSON.parse(EVENT_BODY),
  });
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      next++;
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        body: envelope,
        headers: {
          'content-type': 'application/json',
          'webhook-id': `evt_${next}`,
          'webhook-timestamp': '1',
          'webhook-signature': 'v1,x',
        },
      });
      await response.body.dump();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return seconds;
}

/** Fills Triggers (API role only, so nothing is delivered yet) with `total` events. */
export async function prefill(url: string, apiKey: string, total: number): Promise<number> {
  const batch = 1000;
  const event = JSON.parse(EVENT_BODY) as object;
  const body = JSON.stringify({ events: Array.from({ length: batch }, () => event) });
  let sent = 0;
  const started = performance.now();
  const worker = async () => {
    while (sent < total) {
      sent += batch;
      const response = await request(`${url}/events/batch`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      });
      if (response.statusCode !== 201) throw new Error(`prefill answered ${response.statusCode}: ${await response.body.text()}`);
      await response.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return total / ((performance.now() - started) / 1000);
}

/** Stores `total` events with the API role, then delivers them with the whole server; the sink's stats. */
async function drainOnce(
  sink: Child,
  total: number,
  env: Record<string, string>,
): Promise<{ stats: SinkStats; prefillPerSecond: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'triggers-drain-'));
  try {
    const api = await startTriggers({ ...env, TRIGGERS_ROLE: 'api' }, dataDir);
    const prefillPerSecond = await prefill(api.url, api.apiKey, total);
    await api.stop();
    await resetSink(sink);
    const dispatcher = await startTriggers({ ...env, TRIGGERS_ROLE: 'all' }, dataDir);
    const deadline = Date.now() + 300_000;
    let stats = await sinkStats(sink);
    while (stats.count < total && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await sinkStats(sink);
    }
    await dispatcher.stop();
    return { stats, prefillPerSecond };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchDrain(
  options: { events?: number; concurrency?: number; env?: Record<string, string> } = {},
): Promise<DrainReport> {
  const total = options.events ?? 100_000;
  const concurrency = options.concurrency ?? 64;
  const sink = await startSink();
  try {
    const env = {
      TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
      TRIGGERS_SUBSCRIPTION_CONCURRENCY: String(concurrency),
      TRIGGERS_DISPATCH_CONCURRENCY: String(concurrency * 2),
      ...options.env,
    };
    // Four rounds, raw undici · Triggers · Triggers · raw undici, each of the whole backlog; a
    // side's rate is over both its rounds, so the host's drift during the run weighs on both.
    const rounds = await alternate(async (side) => {
      if (side === 0) {
        const seconds = await rawUndiciLoop(`${sink.url}/hook`, total, concurrency);
        await resetSink(sink);
        return { count: total, seconds, duplicates: 0, prefillPerSecond: 0 };
      }
      const { stats, prefillPerSecond } = await drainOnce(sink, total, env);
      return { ...sinkRound(stats), duplicates: stats.duplicates, prefillPerSecond };
    });
    const baseline = overRounds(rounds[0]);
    const triggers = overRounds(rounds[1]);
    return {
      events: total,
      concurrency,
      triggers: {
        perSecond: round(triggers.perSecond, 0),
        seconds: round(triggers.seconds),
        delivered: triggers.count,
        duplicates: rounds[1].reduce((sum, r) => sum + r.duplicates, 0),
        prefillPerSecond: round(rounds[1].reduce((sum, r) => sum + r.prefillPerSecond, 0) / rounds[1].length, 0),
      },
      baseline: { perSecond: round(baseline.perSecond, 0), seconds: round(baseline.seconds) },
      ratio: round(triggers.perSecond / baseline.perSecond, 3),
    };
  } finally {
    await sink.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchDrain(), null, 2));
}
