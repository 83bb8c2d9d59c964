/**
 * Memory: the resident size (VmRSS, from /proc) of the Triggers process, sampled every 100 ms,
 * through two runs with every event also delivered to the loopback sink by the in-process
 * dispatcher:
 *   - paced: 10,000 events/s for `seconds` (batches of 100 on 16 connections, paced by the clock);
 *   - saturated: single-event POST /events at the highest rate this machine reaches (autocannon,
 *     64 connections).
 * Reports the maximum of each and the figure at idle before the load.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { sinkStats } from './drain.js';
import { EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { type Child, startScript, startTriggers, type TriggersChild } from './lib/processes.js';
import { round } from './lib/stats.js';

export interface PacedRun {
  targetPerSecond: number;
  acceptedPerSecond: number;
  accepted: number;
  rejected: number;
  delivered: number;
  maxRssMb: number;
}

export interface MemoryReport {
  seconds: number;
  idleRssMb: number;
  paced: PacedRun;
  load: LoadResult;
  delivered: number;
  maxRssMb: number;
  samples: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

/** Samples the process's resident size every 100 ms until stopped; returns the maximum. */
function sampleRss(pid: number): { stop(): { maxRssMb: number; samples: number } } {
  let maxRssMb = rssMb(pid);
  let samples = 0;
  const timer = setInterval(() => {
    try {
      maxRssMb = Math.max(maxRssMb, rssMb(pid));
      samples++;
    } catch {
      // the process is gone: the run fails below
    }
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return { maxRssMb, samples };
    },
  };
}

/** Waits until the sink has `count` requests (or 60 s pass); returns what it has. */
async function deliveredAtLeast(sink: Child, count: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  let seen = (await sinkStats(sink)).count;
  while (seen < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    seen = (await sinkStats(sink)).count;
  }
  return seen;
}

/** `rate` events a second in batches of `batch`, for `seconds`, paced by the clock. */
export async function pacedIngest(
  triggers: TriggersChild,
  rate: number,
  seconds: number,
  batch = 100,
): Promise<{ accepted: number; rejected: number; seconds: number }> {
  const agent = new Agent({ connections: 16, keepAliveTimeout: 60_000 });
  const event = JSON.parse(EVENT_BODY) as object;
  const body = JSON.stringify({ events: Array.from({ length: batch }, () => event) });
  const requests = Math.round((rate * seconds) / batch);
  const started = performance.now();
  let accepted = 0;
  let rejected = 0;
  const inflight = new Set<Promise<void>>();
  for (let sent = 0; sent < requests; sent++) {
    const dueAt = (sent / requests) * seconds * 1000;
    const wait = dueAt - (performance.now() - started);
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const one = request(`${triggers.url}/events/batch`, {
      method: 'POST',
      dispatcher: agent,
      body,
      headers: { 'content-type': 'application/json', 'x-api-key': triggers.apiKey },
    }).then(async (response) => {
      await response.body.dump();
      if (response.statusCode === 201) accepted += batch;
      else rejected += batch;
    });
    inflight.add(one);
    void one.finally(() => inflight.delete(one));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - started) / 1000;
  await agent.close();
  return { accepted, rejected, seconds: elapsed };
}

export async function benchMemory(options: { seconds?: number; rate?: number } = {}): Promise<MemoryReport> {
  const seconds = options.seconds ?? 30;
  const rate = options.rate ?? 10_000;
  const sink = await startScript('sink.ts');
  const triggers = await startTriggers({ TRIGGERS_WEBHOOK_URL: `${sink.url}/hook` });
  try {
    const pid = triggers.process.pid as number;
    const idleRssMb = rssMb(pid);

    const pacedSampler = sampleRss(pid);
    const ingest = await pacedIngest(triggers, rate, seconds);
    const pacedDelivered = await deliveredAtLeast(sink, ingest.accepted);
    const pacedRss = pacedSampler.stop();
    const paced: PacedRun = {
      targetPerSecond: rate,
      acceptedPerSecond: round(ingest.accepted / ingest.seconds, 0),
      accepted: ingest.accepted,
      rejected: ingest.rejected,
      delivered: pacedDelivered,
      maxRssMb: pacedRss.maxRssMb,
    };

    const sampler = sampleRss(pid);
    const load = await hammer(`${triggers.url}/events`, { seconds, connections: 64, headers: { 'x-api-key': triggers.apiKey } });
    const delivered = (await deliveredAtLeast(sink, pacedDelivered + load.total - load.non2xx)) - pacedDelivered;
    const { maxRssMb, samples } = sampler.stop();
    return { seconds, idleRssMb, paced, load, delivered, maxRssMb, samples };
  } finally {
    await triggers.stop();
    await sink.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchMemory(), null, 2));
}
