/**
 * Triggers beside the pipeline a Node user would otherwise build (bench/peers/bullmq: node:http →
 * BullMQ on Redis → a Worker POSTing with undici), on the same workload, in the same run:
 *
 *   - ingest: POST /events at full speed (autocannon, 64 connections), nothing delivered meanwhile;
 *   - drain: a backlog of N events delivered to the loopback sink, rate measured at the sink;
 *   - latency: ingest → webhook at a steady 1,000 events/s, measured by the sink (sent_at in payload).
 *
 * Both sides sign each webhook and deliver with up to 64 requests in flight. The peer runs as two
 * processes (API and worker), as it would be deployed; Triggers as one. What each side guarantees
 * about an accepted event is printed with the table: the figures mean nothing without it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { request } from 'undici';
import { resetSink, sinkStats } from './drain.js';
import { EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { type Child, startScript, startTriggers } from './lib/processes.js';
import { round, summarize } from './lib/stats.js';
import { quietDisk, steadyLoad } from './lib/steady.js';

const REDIS_URL = process.env.PEER_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redisConnection = () => {
  const url = new URL(REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
};

export interface PeerSide {
  ingest: LoadResult;
  drain: { events: number; perSecond: number; seconds: number; delivered: number; duplicates: number };
  latency: { sent: number; delivered: number; p50: number; p90: number; p99: number; max: number };
}

export interface PeerReport {
  drainEvents: number;
  rate: number;
  seconds: number;
  redis: { save: string; appendonly: string };
  triggers: PeerSide;
  peer: PeerSide;
  guarantees: { triggers: string; peer: string };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForSink(sink: Child, count: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let stats = await sinkStats(sink);
  while (stats.count < count && Date.now() < deadline) {
    await sleep(100);
    stats = await sinkStats(sink);
  }
  return stats;
}

function drainFigures(stats: Awaited<ReturnType<typeof sinkStats>>, events: number): PeerSide['drain'] {
  const seconds = (stats.last_at - stats.first_at) / 1000;
  return {
    events,
    perSecond: round(stats.count / seconds, 0),
    seconds: round(seconds),
    delivered: stats.count,
    duplicates: stats.duplicates,
  };
}

function latencyFigures(stats: Awaited<ReturnType<typeof sinkStats>>, sent: number): PeerSide['latency'] {
  const s = summarize(stats.latencies);
  return { sent, delivered: stats.count, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) };
}

async function redisPersistence(): Promise<{ save: string; appendonly: string }> {
  const queue = new Queue('peer-probe', { connection: redisConnection() });
  const client = (await queue.client) as unknown as { config(op: 'GET', key: string): Promise<string[]> };
  const save = (await client.config('GET', 'save'))[1] ?? '?';
  const appendonly = (await client.config('GET', 'appendonly'))[1] ?? '?';
  await queue.close();
  return { save, appendonly };
}

async function obliterate(name: string): Promise<void> {
  const queue = new Queue(name, { connection: redisConnection() });
  await queue.obliterate({ force: true });
  await queue.close();
}

async function triggersSide(sink: Child, events: number, rate: number, seconds: number): Promise<PeerSide> {
  // ingest: no webhook URL, so nothing is delivered while measuring (the default inbox fills).
  const ingestServer = await startTriggers();
  const headers = { 'x-api-key': ingestServer.apiKey };
  await hammer(`${ingestServer.url}/events`, { seconds: 1, connections: 64, headers });
  const ingest = await hammer(`${ingestServer.url}/events`, { seconds, connections: 64, headers });
  await ingestServer.stop();

  // drain: fill with the API role (nothing delivered), then start the whole server on that file.
  await resetSink(sink);
  const env = {
    TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
    TRIGGERS_SUBSCRIPTION_CONCURRENCY: '64',
    TRIGGERS_DISPATCH_CONCURRENCY: '128',
  };
  const dataDir = mkdtempSync(join(tmpdir(), 'triggers-peer-'));
  const api = await startTriggers({ ...env, TRIGGERS_ROLE: 'api' }, dataDir);
  const batch = JSON.stringify({ events: Array.from({ length: 1000 }, () => JSON.parse(EVENT_BODY) as object) });
  for (let sent = 0; sent < events; sent += 1000) {
    const response = await request(`${api.url}/events/batch`, {
      method: 'POST',
      body: batch,
      headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
    });
    if (response.statusCode !== 201) throw new Error(`prefill answered ${response.statusCode}`);
    await response.body.dump();
  }
  await api.stop();
  const dispatcher = await startTriggers({ ...env, TRIGGERS_ROLE: 'all' }, dataDir);
  const drain = drainFigures(await waitForSink(sink, events, 300_000), events);
  await dispatcher.stop();
  rmSync(dataDir, { recursive: true, force: true });

  // latency
  await quietDisk();
  await resetSink(sink);
  const server = await startTriggers({ TRIGGERS_WEBHOOK_URL: `${sink.url}/hook` });
  const warm = await steadyLoad(`${server.url}/events`, rate, 3, { 'x-api-key': server.apiKey });
  await waitForSink(sink, warm, 5_000);
  await resetSink(sink);
  const sent = await steadyLoad(`${server.url}/events`, rate, seconds, { 'x-api-key': server.apiKey });
  const latency = latencyFigures(await waitForSink(sink, sent, 30_000), sent);
  await server.stop();
  return { ingest, drain, latency };
}

async function peerSide(sink: Child, events: number, rate: number, seconds: number): Promise<PeerSide> {
  const run = `peer-bench-${process.pid}-${Date.now()}`;
  const target = `${sink.url}/hook`;

  // ingest: API only, no worker running.
  const ingestQueue = `${run}-ingest`;
  const ingestServer = await startScript('peers/bullmq/api.ts', [], { PEER_QUEUE: ingestQueue, PEER_REDIS_URL: REDIS_URL });
  await hammer(`${ingestServer.url}/events`, { seconds: 1, connections: 64 });
  const ingest = await hammer(`${ingestServer.url}/events`, { seconds, connections: 64 });
  await ingestServer.stop();
  await obliterate(ingestQueue);

  // drain: fill the queue directly (addBulk), then start the worker.
  await resetSink(sink);
  const drainQueue = `${run}-drain`;
  const queue = new Queue(drainQueue, { connection: redisConnection() });
  const event = JSON.parse(EVENT_BODY) as { type: string; source: string; payload: object };
  for (let added = 0; added < events; added += 1000) {
    await queue.addBulk(
      Array.from({ length: 1000 }, (_, i) => ({
        name: event.type,
        data: { id: `evt_peer_${added + i}`, created_at: new Date().toISOString(), ...event },
        opts: { attempts: 12, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 10_000 },
      })),
    );
  }
  await queue.close();
  const drainWorker = await startScript('peers/bullmq/worker.ts', [], {
    PEER_QUEUE: drainQueue,
    PEER_REDIS_URL: REDIS_URL,
    PEER_TARGET: target,
  });
  const drain = drainFigures(await waitForSink(sink, events, 300_000), events);
  await drainWorker.stop();
  await obliterate(drainQueue);

  // latency: API and worker together.
  await quietDisk();
  await resetSink(sink);
  const latencyQueue = `${run}-latency`;
  const env = { PEER_QUEUE: latencyQueue, PEER_REDIS_URL: REDIS_URL, PEER_TARGET: target };
  const api = await startScript('peers/bullmq/api.ts', [], env);
  const worker = await startScript('peers/bullmq/worker.ts', [], env);
  const warm = await steadyLoad(`${api.url}/events`, rate, 3, {});
  await waitForSink(sink, warm, 5_000);
  await resetSink(sink);
  const sent = await steadyLoad(`${api.url}/events`, rate, seconds, {});
  const latency = latencyFigures(await waitForSink(sink, sent, 30_000), sent);
  await api.stop();
  await worker.stop();
  await obliterate(latencyQueue);
  return { ingest, drain, latency };
}

export async function benchPeer(options: { events?: number; rate?: number; seconds?: number } = {}): Promise<PeerReport> {
  const events = options.events ?? 50_000;
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? 10;
  const redis = await redisPersistence();
  const sink = await startScript('sink.ts');
  try {
    const triggers = await triggersSide(sink, events, rate, seconds);
    const peer = await peerSide(sink, events, rate, seconds);
    const onDisk =
      redis.appendonly === 'yes'
        ? 'appendonly yes (fsync per the appendfsync policy)'
        : redis.save === ''
          ? 'nothing on disk'
          : `RDB snapshots only (save "${redis.save}")`;
    return {
      drainEvents: events,
      rate,
      seconds,
      redis,
      triggers,
      peer,
      guarantees: {
        triggers:
          'every 201 is fsync’d to the SQLite WAL before the answer (group commit); an accepted event survives kill -9 of the process and a power cut',
        peer: `a 201 means Redis holds the job in memory; this machine’s Redis runs with save "${redis.save}", appendonly ${redis.appendonly} — ${onDisk}: a Redis restart or crash loses every queued job`,
      },
    };
  } finally {
    await sink.stop();
  }
}

/** The table bench/run.ts and this file print. */
export function peerTable(report: PeerReport): string {
  const t = report.triggers;
  const p = report.peer;
  const ratio = (a: number, b: number) => `${round(a / b, 2)}×`;
  const lines = [
    '| workload | Triggers (SQLite) | BullMQ + Redis peer | Triggers ÷ peer (rates: higher is better; latency: lower) |',
    '| --- | --- | --- | --- |',
    `| ingest, 64 connections, ${report.seconds} s | ${Math.round(t.ingest.requestsPerSecond)} events/s (p99 ${t.ingest.latencyP99} ms) | ${Math.round(p.ingest.requestsPerSecond)} events/s (p99 ${p.ingest.latencyP99} ms) | ${ratio(t.ingest.requestsPerSecond, p.ingest.requestsPerSecond)} |`,
    `| drain ${report.drainEvents} backlog → sink | ${t.drain.perSecond} deliveries/s (${t.drain.delivered} delivered) | ${p.drain.perSecond} deliveries/s (${p.drain.delivered} delivered) | ${ratio(t.drain.perSecond, p.drain.perSecond)} |`,
    `| ingest → webhook at ${report.rate}/s, p50 | ${t.latency.p50} ms | ${p.latency.p50} ms | ${ratio(t.latency.p50, p.latency.p50)} |`,
    `| ingest → webhook at ${report.rate}/s, p99 | ${t.latency.p99} ms (${t.latency.delivered}/${t.latency.sent}) | ${p.latency.p99} ms (${p.latency.delivered}/${p.latency.sent}) | ${ratio(t.latency.p99, p.latency.p99)} |`,
    `| an accepted event is | ${report.guarantees.triggers} | ${report.guarantees.peer} | |`,
  ];
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = await benchPeer();
  console.log(JSON.stringify(report, null, 2));
  console.log(peerTable(report));
}
