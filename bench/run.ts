/**
 * `npm run bench`: every benchmark, each beside its bare baseline measured in the same run, as a
 * ratio. Results go to stdout as a table and to bench/results/<date>.json.
 * Pick some with arguments: `npm run bench -- ingest latency`. Without arguments: ingest, drain,
 * latency and memory. Optional (longer): `peer` (Triggers beside a BullMQ + Redis pipeline) and
 * `growth` (rates with 1,000,000 events stored vs an empty store; BENCH_GROWTH_EVENTS to change).
 * BENCH_REPEAT=n repeats the drain n times and reports its median and range.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchDrain } from './drain.js';
import { benchGrowth } from './growth.js';
import { benchIngest } from './ingest.js';
import { benchLatency } from './latency.js';
import { ROOT } from './lib/processes.js';
import { round, spread } from './lib/stats.js';
import { benchMemory } from './memory.js';
import { benchPeer, peerTable } from './peer.js';
import { benchPostgres } from './postgres.js';

const wanted = new Set(process.argv.slice(2));
const all = wanted.size === 0;
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const results: Record<string, unknown> = { machine, date: new Date().toISOString() };
const rows: string[][] = [];

if (all || wanted.has('ingest')) {
  const report = await benchIngest();
  results.ingest = report;
  rows.push([
    'ingest (SQLite, fsync per commit)',
    `${Math.round(report.triggers.requestsPerSecond)} events/s`,
    `bare node:http ${Math.round(report.baseline.requestsPerSecond)} req/s`,
    `${report.ratio}×`,
  ]);
  rows.push([
    `ingest, ${report.many.connections} connections (SQLite, fsync per commit)`,
    `${Math.round(report.many.triggers.requestsPerSecond)} events/s`,
    `bare node:http ${Math.round(report.many.baseline.requestsPerSecond)} req/s`,
    `${report.many.ratio}×`,
  ]);
  rows.push([
    `ingest, batches of ${report.batch.size} (SQLite, fsync per commit)`,
    `${report.batch.triggersEventsPerSecond} events/s`,
    `bare node:http ${report.batch.baselineEventsPerSecond} events/s`,
    `${report.batch.ratio}×`,
  ]);
}
if (all || wanted.has('drain')) {
  // The drain's absolute rate follows the shared host's speed more than any other figure:
  // BENCH_REPEAT=n runs it n times and reports the median and the range.
  const repeat = Math.max(1, Math.floor(Number(process.env.BENCH_REPEAT ?? 1)) || 1);
  const reports = [];
  for (let i = 0; i < repeat; i++) reports.push(await benchDrain());
  const [report] = reports as [Awaited<ReturnType<typeof benchDrain>>];
  if (repeat === 1) {
    results.drain = report;
    rows.push([
      `drain ${report.events} backlog → loopback sink`,
      `${report.triggers.perSecond} deliveries/s`,
      `raw undici ${report.baseline.perSecond} req/s`,
      `${report.ratio}×`,
    ]);
  } else {
    results.drain = reports;
    const rate = spread(reports.map((r) => r.triggers.perSecond));
    const base = spread(reports.map((r) => r.baseline.perSecond));
    const ratio = spread(reports.map((r) => r.ratio));
    rows.push([
      `drain ${report.events} backlog → loopback sink, median of ${repeat} runs (range)`,
      `${Math.round(rate.median)} deliveries/s (${rate.min}–${rate.max})`,
      `raw undici ${Math.round(base.median)} req/s (${base.min}–${base.max})`,
      `${round(ratio.median, 3)}× (${ratio.min}–${ratio.max})`,
    ]);
  }
}
if (all || wanted.has('latency')) {
  const report = await benchLatency();
  results.latency = report;
  rows.push([
    `ingest → webhook at ${report.rate}/s`,
    `p50 ${report.triggers.p50} ms, p99 ${report.triggers.p99} ms`,
    `one direct hop p50 ${report.baseline.p50} ms, p99 ${report.baseline.p99} ms`,
    `${report.triggers.delivered}/${report.triggers.sent} delivered`,
  ]);
}

// PostgreSQL (optional: `npm run bench -- postgres`, or one part of it: postgres-ingest,
// postgres-drain, postgres-dispatchers, postgres-growth; see bench/postgres.ts).
const postgresParts = [...wanted].filter((name) => name === 'postgres' || name.startsWith('postgres-'));
if (postgresParts.length > 0) {
  const { report, rows: postgresRows } = await benchPostgres(postgresParts);
  results.postgres = report;
  rows.push(...postgresRows);
}

if (all || wanted.has('memory')) {
  const report = await benchMemory();
  results.memory = report;
  rows.push([
    `max resident size, ${report.paced.targetPerSecond} events/s paced (batches of 100) ${report.seconds} s + delivery`,
    `${report.paced.maxRssMb} MB (${report.paced.acceptedPerSecond} events/s accepted, ${report.paced.delivered} delivered)`,
    `idle ${report.idleRssMb} MB`,
    `${Math.round((report.paced.maxRssMb / report.idleRssMb) * 100) / 100}× idle`,
  ]);
  rows.push([
    `max resident size, single-event ingest at full speed ${report.seconds} s + delivery`,
    `${report.maxRssMb} MB at ${Math.round(report.load.requestsPerSecond)} events/s (${report.delivered} delivered)`,
    `idle ${report.idleRssMb} MB`,
    `${Math.round((report.maxRssMb / report.idleRssMb) * 100) / 100}× idle`,
  ]);
}
if (wanted.has('growth')) {
  const report = await benchGrowth();
  results.growth = report;
  rows.push([
    `ingest with ${report.stored} events stored`,
    `${report.full.ingestPerSecond} events/s`,
    `empty store ${report.empty.ingestPerSecond} events/s`,
    `${report.ingestRatio}×`,
  ]);
  rows.push([
    `drain with ${report.stored} events stored`,
    `${report.full.drainPerSecond} deliveries/s`,
    `empty store ${report.empty.drainPerSecond} deliveries/s`,
    `${report.drainRatio}×`,
  ]);
}
let peer: Awaited<ReturnType<typeof benchPeer>> | null = null;
if (wanted.has('peer')) {
  peer = await benchPeer();
  results.peer = peer;
}

console.log(`\nmachine: ${machine}\n`);
console.log('| benchmark | Triggers | baseline (same run) | ratio |\n| --- | --- | --- | --- |');
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
if (peer) console.log(`\n${peerTable(peer)}`);
mkdirSync(`${ROOT}/bench/results`, { recursive: true });
writeFileSync(
  `${ROOT}/bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  `${JSON.stringify(results, null, 2)}\n`,
);
