/**
 * Memory: the resident size (VmRSS, from /proc) of the Triggers process, sampled every 100 ms
 * through a sustained ingest at the highest rate this machine reaches (autocannon, 64
 * connections), with every event also delivered to the loopback sink by the in-process
 * dispatcher. Reports the maximum and the figure at idle before the load.
 */
import { readFileSync } from 'node:fs';
import { hammer, type LoadResult } from './lib/load.js';
import { startScript, startTriggers } from './lib/processes.js';
import { sinkStats } from './drain.js';

export interface MemoryReport {
  seconds: number;
  load: LoadResult;
  delivered: number;
  idleRssMb: number;
  maxRssMb: number;
  samples: number;
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function benchMemory(options: { seconds?: number } = {}): Promise<MemoryReport> {
  const seconds = options.seconds ?? 30;
  const sink = await startScript('sink.ts');
  const triggers = await startTriggers({ TRIGGERS_WEBHOOK_URL: `${sink.url}/hook` });
  try {
    const pid = triggers.process.pid as number;
    const idleRssMb = rssMb(pid);
    let maxRssMb = idleRssMb;
    let samples = 0;
    const timer = setInterval(() => {
      try {
        maxRssMb = Math.max(maxRssMb, rssMb(pid));
        samples++;
      } catch {
        // the process is gone: the run will fail below
      }
    }, 100);
    const load = await hammer(`${triggers.url}/events`, { seconds, connections: 64, headers: { 'x-api-key': triggers.apiKey } });
    // Keep sampling while the dispatcher catches up with what was ingested.
    const deadline = Date.now() + 30_000;
    while ((await sinkStats(sink)).count < load.total - load.non2xx && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    clearInterval(timer);
    const delivered = (await sinkStats(sink)).count;
    return { seconds, load, delivered, idleRssMb, maxRssMb, samples };
  } finally {
    await triggers.stop();
    await sink.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchMemory(), null, 2));
}
