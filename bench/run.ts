/**
 * `npm run bench`: every benchmark, each beside its bare baseline measured in the same run, as a
 * ratio. Results go to stdout as a table and to bench/results/<date>.json.
 * Pick some with arguments: `npm run bench -- ingest latency`. Without arguments: ingest, drain,
 * latency and memory. Optional (longer): `peer` (Triggers beside a BullMQ + Redis pipeline) and
 * `growth` (rates with 1,000,000 events stored vs an empty store; BENCH_GROWTH_EVENTS to change).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchDrain } from './drain.js';
import { benchGrowth } from './growth.js';
import { benchIngest } from './ingest.js';
import { benchLatency } from './latency.js';
import { ROOT } from './lib/processes.js';
import { benchMemory } from './memory.js';
import { benchPeer, peerTable } from './peer.js';

const wanted = new Set(process.argv.slice(2));
const all = wanted.size === 0;
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const results: Record<string, unknown> = { machine, date: new Date().toISOString() };
const rows: string[][] = [];

if (all || wanted.has('ingest')) {
  const report = await benchIngest();
  results.ingest = report;
  rows.push(['ingest (SQLite, fsync per commit)', `${Math.round(report.triggers.requestsPerSecond)} events/s`, `bare node:http ${Math.round(report.baseline.requestsPerSecond)} req/s`, `${report.ratio}×`]);
}
if (all || wanted.has('drain')) {
  const report = await benchDrain();
  results.drain = report;
  rows.push([`drain ${report.events} backlog → loopback sink`, `${report.triggers.perSecond} deliveries/s`, `raw undici ${report.baseline.perSecond} req/s`, `${report.ratio}×`]);
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

// PostgreSQL (optional: `npm run bench -- postgres`): the same ingest and drain on a fresh schema
// of the local server (TRIGGERS_BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test).
if (wanted.has('postgres')) {
  const base = process.env.TRIGGERS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const url = (name: string) => `${base}${base.includes('?') ? '&' : '?'}schema=${name}_${Date.now().toString(36)}`;
  const ingest = await benchIngest({ env: { TRIGGERS_DATABASE_URL: url('bench_ingest') } });
  const drain = await benchDrain({ env: { TRIGGERS_DATABASE_URL: url('bench_drain') } });
  results.postgres = { ingest, drain };
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  const schemas = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench\\_%'");
  for (const { nspname } of schemas.rows) await client.query(`DROP SCHEMA "${nspname}" CASCADE`);
  await client.end();
  rows.push(['ingest (PostgreSQL, committed before 201)', `${Math.round(ingest.triggers.requestsPerSecond)} events/s`, `bare node:http ${Math.round(ingest.baseline.requestsPerSecond)} req/s`, `${ingest.ratio}×`]);
  rows.push([`drain ${drain.events} backlog (PostgreSQL)`, `${drain.triggers.perSecond} deliveries/s`, `raw undici ${drain.baseline.perSecond} req/s`, `${drain.ratio}×`]);
}

if (all || wanted.has('memory')) {
  const report = await benchMemory();
  results.memory = report;
  rows.push([
    `max resident size, ingest at full speed ${report.seconds} s + delivery`,
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
writeFileSync(`${ROOT}/bench/results/${new Date().toISOString().replace(/[:.]/g, '-')}.json`, `${JSON.stringify(results, null, 2)}\n`);
