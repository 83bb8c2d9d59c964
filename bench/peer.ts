/**
 * Triggers beside the pipeline a Node user would otherwise build (bench/peers/bullmq: node:http →
 * BullMQ on Redis → a Worker POSTing with undici), on the same workload, in the same run:
 *
 *   - ingest: POST /events at full speed (autocannon, 64 connections), nothing delivered meanwhile;
 *   - drain: a backlog of N events delivered to the loopback sink, rate measured at the sink;
 *   - latency: ingest → webhook at a steady 1,000 events/s, measured by the sink (sent_at in payload).
 *
 * Each workload runs in four rounds, Triggers · peer · peer · Triggers (half the time or half
 * the backlog each), so both sides are measured minutes apart at most seconds, and a host whose
 * speed drifts during the run weighs on both alike. A side's figure is its two rounds together:
 * drain rates over all deliveries, latency percentiles over every sample, ingest rates and
 * percentiles averaged.
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
import { resetSink, type SinkStats, sinkRound, sinkStats } from './drain.js';
import { averageRounds, EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { type Child, startScript, startTriggers } from './lib/processes.js';
import { alternate, overRounds } from './lib/rounds.js';
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

function drainFigures(rounds: SinkStats[], events: number): PeerSide['drain'] {
  const drained = overRounds(rounds.map(sinkRound));
  return {
    events,
    perSecond: round(drained.perSecond, 0),
    seconds: round(drained.seconds),
    delivered: drained.count,
    duplicates: rounds.reduce((sum, stats) => sum + stats.duplicates, 0),
  };
}

function latencyFigures(rounds: SinkStats[], sent: number): PeerSide['latency'] {
  const s = summarize(rounds.flatMap((stats) => stats.latencies));
  const delivered = rounds.reduce((sum, stats) => sum + stats.count, 0);
  return { sent, delivered, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) };
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

/** A server (or pipeline) under test and how to talk to it. */
interface Running {
  url: string;
  headers: Record<string, string>;
  stop(): Promise<void>;
}

/** How each side is set up for each workload (ingest, one drain round, latency). */
interface Side {
  /** An ingest endpoint that delivers nothing meanwhile. */
  ingest(): Promise<Running>;
  /** Fills a fresh backlog of `events` (not timed), delivers it to the sink, returns the sink's stats. */
  drain(sink: Child, events: number): Promise<SinkStats>;
  /** An ingest endpoint that delivers to the sink. */
  delivering(sink: Child): Promise<Running>;
}

const triggers: Side = {
  // No webhook URL: nothing is delivered while measuring (the default inbox fills).
  async ingest() {
    const server = await startTriggers();
    return { url: server.url, headers: { 'x-api-key': server.apiKey }, stop: server.stop };
  },

  // Fill with the API role (nothing delivered), then start the whole server on that file.
  async drain(sink, events) {
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
    await resetSink(sink);
    const dispatcher = await startTriggers({ ...env, TRIGGERS_ROLE: 'all' }, dataDir);
    const stats = await waitForSink(sink, events, 300_000);
    await dispatcher.stop();
    rmSync(dataDir, { recursive: true, force: true });
    return stats;
  },

  async delivering(sink) {
    const server = await startTriggers({ TRIGGERS_WEBHOOK_URL: `${sink.url}/hook` });
    return { url: server.url, headers: { 'x-api-key': server.apiKey }, stop: server.stop };
  },
};

function bullmqPeer(run: string): Side {
  return {
    // API only, no worker running.
    async ingest() {
      const queue = `${run}-ingest`;
      const api = await startScript('peers/bullmq/api.ts', [], { PEER_QUEUE: queue, PEER_REDIS_URL: REDIS_URL });
      return {
        url: api.url,
        headers: {},
        stop: async () => {
          await api.stop();
          await obliterate(queue);
        },
      };
    },

    // Fill the queue directly (addBulk), then start the worker.
    async drain(sink, events) {
      const name = `${run}-drain-${Date.now()}`;
      const queue = new Queue(name, { connection: redisConnection() });
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
      await resetSink(sink);
      const worker = await startScript('peers/bullmq/worker.ts', [], {
        PEER_QUEUE: name,
        PEER_REDIS_URL: REDIS_URL,
        PEER_TARGET: `${sink.url}/hook`,
      });
      const stats = await waitForSink(sink, events, 300_000);
      await worker.stop();
      await obliterate(name);
      return stats;
    },

    // API and worker together.
    async delivering(sink) {
      const queue = `${run}-latency`;
      const env = { PEER_QUEUE: queue, PEER_REDIS_URL: REDIS_URL, PEER_TARGET: `${sink.url}/hook` };
      const api = await startScript('peers/bullmq/api.ts', [], env);
      const worker = await startScript('peers/bullmq/worker.ts', [], env);
      return {
        url: api.url,
        headers: {},
        stop: async () => {
          await api.stop();
          await worker.stop();
          await obliterate(queue);
        },
      };
    },
  };
}

async function measureIngest(sides: [Side, Side], seconds: number): Promise<[LoadResult, LoadResult]> {
  const servers = [await sides[0].ingest(), await sides[1].ingest()] as const;
  try {
    for (const server of servers) await hammer(`${server.url}/events`, { seconds: 1, connections: 64, headers: server.headers });
    const rounds = await alternate((side) =>
      hammer(`${servers[side].url}/events`, { seconds: seconds / 2, connections: 64, headers: servers[side].headers }),
    );
    return [averageRounds(rounds[0]), averageRounds(rounds[1])];
  } finally {
    for (const server of servers) await server.stop();
  }
}

async function measureDrain(sides: [Side, Side], sink: Child, events: number): Promise<[PeerSide['drain'], PeerSide['drain']]> {
  const rounds = await alternate((side) => sides[side].drain(sink, events / 2));
  return [drainFigures(rounds[0], events), drainFigures(rounds[1], events)];
}

async function measureLatency(
  sides: [Side, Side],
  sink: Child,
  rate: number,
  seconds: number,
): Promise<[PeerSide['latency'], PeerSide['latency']]> {
  const servers = [await sides[0].delivering(sink), await sides[1].delivering(sink)] as const;
  const sent: [number, number] = [0, 0];
  try {
    for (const server of servers) {
      await resetSink(sink);
      const warm = await steadyLoad(`${server.url}/events`, rate, 3, server.headers);
      await waitForSink(sink, warm, 5_000);
    }
    await quietDisk();
    const rounds = await alternate(async (side) => {
      await resetSink(sink);
      const count = await steadyLoad(`${servers[side].url}/events`, rate, seconds / 2, servers[side].headers);
      sent[side] += count;
      return waitForSink(sink, count, 30_000);
    });
    return [latencyFigures(rounds[0], sent[0]), latencyFigures(rounds[1], sent[1])];
  } finally {
    for (const server of servers) await server.stop();
  }
}

export async function benchPeer(options: { events?: number; rate?: number; seconds?: number } = {}): Promise<PeerReport> {
  const events = options.events ?? 50_000;
  const rate = options.rate ?? 1000;
  const seconds = options.seconds ?? 10;
  const redis = await redisPersistence();
  const sink = await startScript('sink.ts');
  try {
    const sides: [Side, Side] = [triggers, bullmqPeer(`peer-bench-${process.pid}-${Date.now()}`)];
    const ingest = await measureIngest(sides, seconds);
    const drain = await measureDrain(sides, sink, events);
    const latency = await measureLatency(sides, sink, rate, seconds);
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
      triggers: { ingest: ingest[0], drain: drain[0], latency: latency[0] },
      peer: { ingest: ingest[1], drain: drain[1], latency: latency[1] },
      guarantees: {
        triggers:
          'every 201 is fsync’d to the SQLite WAL before the answer (group commit; the webhook may leave while the fsync runs); an accepted event survives kill -9 of the process and a power cut',
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
