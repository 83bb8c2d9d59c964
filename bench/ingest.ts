/**
 * Ingest: POST /events at full speed against Triggers (SQLite, every 201 fsync'd) and against a
 * bare node:http server answering the same request, alternately, in the same run, with 64
 * connections and again with MANY_CONNECTIONS (many producers: a durable server answers each
 * request only after its commit's fsync, so what it can take depends on how many requests are in
 * flight to share one); then the same with POST /events/batch carrying BATCH events a request
 * (16 connections), reported in events/s.
 */
import { EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { startScript, startTriggers } from './lib/processes.js';
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
  const batchLoad = { seconds, connections: 16, body: batchBody };

  const baselineServer = await startScript('baselines/bareHttp.ts');
  await hammer(`${baselineServer.url}/events`, { seconds: 1, connections });
  const baseline = await hammer(`${baselineServer.url}/events`, { seconds, connections });
  const baselineMany = await hammer(`${baselineServer.url}/events`, { seconds, connections: MANY_CONNECTIONS });
  const baselineBatch = await hammer(`${baselineServer.url}/events/batch`, batchLoad);
  await baselineServer.stop();

  const triggers = await startTriggers(options.env);
  const headers = { 'x-api-key': triggers.apiKey };
  await hammer(`${triggers.url}/events`, { seconds: 1, connections, headers });
  const measured = await hammer(`${triggers.url}/events`, { seconds, connections, headers });
  const measuredMany = await hammer(`${triggers.url}/events`, { seconds, connections: MANY_CONNECTIONS, headers });
  const measuredBatch = await hammer(`${triggers.url}/events/batch`, { ...batchLoad, headers });
  await triggers.stop();

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
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await benchIngest();
  console.log(JSON.stringify(report, null, 2));
}
