/**
 * Ingest: POST /events at full speed against Triggers (SQLite, every 201 fsync'd) and against a
 * bare node:http server answering the same request, alternately, in the same run, with 64
 * connections and again with MANY_CONNECTIONS (many producers: a durable server answers each
 * request only after its commit's fsync, so what it can take depends on how many requests are in
 * flight to share one); then the same with POST /events/batch carrying BATCH events a request
 * (16 connections), reported in events/s. Each workload alternates the two servers in four
 * rounds (bare, Triggers, Triggers, bare); a side's figure averages its two rounds.
 */
import { averageRounds, EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { startScript, startTriggers } from './lib/processes.js';
import { alternate } from './lib/rounds.js';
import { round } from './lib/stats.js';

export const BATCH = 100;
export const MANY_CONNECTIONS = 256;

export interface IngestReport {
  triggers: LoadResult;
  baseline: LoadResult;
  ratio: number;
  many: { connections: number; triggers: LoadResult; baseline: LoadResult; ratio: number };
  batch: {
    size: number;
    triggersEventsPerSecond: number;
    baselineEventsPerSecond: number;
    triggers: LoadResult;
    baseline: LoadResult;
    ratio: number;
  };
}

export async function benchIngest(
  options: { seconds?: number; connections?: number; env?: Record<string, string> } = {},
): Promise<IngestReport> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 64;
  const batchBody = JSON.stringify({ events: Array.from({ length: BATCH }, () => JSON.parse(EVENT_BODY) as object) });

  // Both servers up at once; each workload then runs in four rounds of half the time — bare,
  // Triggers, Triggers, bare — so a host whose speed drifts during the run moves both alike.
  const baselineServer = await startScript('baselines/bareHttp.ts');
  const triggers = await startTriggers(options.env);
  const targets = [
    { url: baselineServer.url, headers: {} },
    { url: triggers.url, headers: { 'x-api-key': triggers.apiKey } },
  ] as const;
  const measure = async (path: string, load: { connections: number; body?: string }): Promise<[LoadResult, LoadResult]> => {
    const rounds = await alternate((side) =>
      hammer(`${targets[side].url}${path}`, { ...load, seconds: seconds / 2, headers: targets[side].headers }),
    );
    return [averageRounds(rounds[0]), averageRounds(rounds[1])];
  };
  try {
    for (const { url, headers } of targets) await hammer(`${url}/events`, { seconds: 1, connections, headers });
    const [baseline, measured] = await measure('/events', { connections });
    const [baselineMany, measuredMany] = await measure('/events', { connections: MANY_CONNECTIONS });
    const [baselineBatch, measuredBatch] = await measure('/events/batch', { connections: 16, body: batchBody });
    return {
      triggers: measured,
      baseline,
      ratio: round(measured.requestsPerSecond / baseline.requestsPerSecond, 3),
      many: {
        connections: MANY_CONNECTIONS,
        triggers: measuredMany,
        baseline: baselineMany,
        ratio: round(measuredMany.requestsPerSecond / baselineMany.requestsPerSecond, 3),
      },
      batch: {
        size: BATCH,
        triggersEventsPerSecond: round(measuredBatch.requestsPerSecond * BATCH, 0),
        baselineEventsPerSecond: round(baselineBatch.requestsPerSecond * BATCH, 0),
        triggers: measuredBatch,
        baseline: baselineBatch,
        ratio: round(measuredBatch.requestsPerSecond / baselineBatch.requestsPerSecond, 3),
      },
    };
  } finally {
    await triggers.stop();
    await baselineServer.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await benchIngest();
  console.log(JSON.stringify(report, null, 2));
}
