/**
 * Ingest → webhook latency at a steady rate: events are POSTed at `rate`/s, each carrying the
 * time it was sent; the sink (another process on the same clock) records when the signed
 * delivery arrived. The baseline is the same generator posting straight to the sink: the cost
 * of one loopback HTTP hop, which Triggers pays twice (ingest and delivery). Each side gets a
 * short warm-up at the same rate before it is measured.
 */
import { resetSink, sinkStats } from './drain.js';
import { startScript, startTriggers } from './lib/processes.js';
import { round, summarize } from './lib/stats.js';
import { quietDisk, steadyLoad } from './lib/steady.js';

export interface LatencyReport {
  rate: number;
  seconds: number;
  triggers: { sent: number; delivered: number; p50: number; p90: number; p99: number; max: number };
  baseline: { p50: number; p90: number; p99: number; max: number };
}

export async function benchLatency(options: { rate?: number; seconds?: number } = {}): Promise<LatencyReport> {
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? 10;
  await quietDisk();
  const sink = await startScript('sink.ts');
  try {
    // Both sides are warmed up first (JIT, connection pools, page cache), then measured.
    await steadyLoad(`${sink.url}/hook`, rate, 2, {}, true);
    await resetSink(sink);
    await steadyLoad(`${sink.url}/hook`, rate, seconds, {}, true);
    const baseline = summarize((await sinkStats(sink)).latencies);
    await resetSink(sink);

    const triggers = await startTriggers({ TRIGGERS_WEBHOOK_URL: `${sink.url}/hook` });
    const warm = await steadyLoad(`${triggers.url}/events`, rate, 3, { 'x-api-key': triggers.apiKey }, false);
    for (let i = 0; i < 100 && (await sinkStats(sink)).count < warm; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    await resetSink(sink);
    const sent = await steadyLoad(`${triggers.url}/events`, rate, seconds, { 'x-api-key': triggers.apiKey }, false);
    const deadline = Date.now() + 30_000;
    let stats = await sinkStats(sink);
    while (stats.count < sent && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      stats = await sinkStats(sink);
    }
    await triggers.stop();
    const measured = summarize(stats.latencies);
    return {
      rate,
      seconds,
      triggers: {
        sent,
        delivered: stats.count,
        p50: round(measured.p50),
        p90: round(measured.p90),
        p99: round(measured.p99),
        max: round(measured.max),
      },
      baseline: { p50: round(baseline.p50), p90: round(baseline.p90), p99: round(baseline.p99), max: round(baseline.max) },
    };
  } finally {
    await sink.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchLatency(), null, 2));
}
