/**
 * PostgreSQL (`npm run bench -- postgres`, or one part: `postgres-ingest`, `postgres-drain`,
 * `postgres-dispatchers`, `postgres-growth`), each on fresh schemas of the server at
 * TRIGGERS_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test), dropped after.
 *
 *   ingest        the ingest benchmark (bench/ingest.ts) on PostgreSQL, beside bare node:http
 *   drain         the drain benchmark (bench/drain.ts): one `serve` process, beside raw undici
 *   dispatchers   the same backlog drained as a fleet drains it: the API in its own process,
 *                 then 1, then 2 `serve --role dispatcher` processes, beside one raw undici
 *                 loop to the same sink in the same run
 *   growth        ingest and drain on an empty store beside a store into which 1,000,000 events
 *                 of history were bulk-loaded (BENCH_GROWTH_EVENTS), as a ratio; four rounds of
 *                 half the time and half the backlog, empty · full · full · empty
 *
 * The history is written with INSERT … SELECT from generate_series straight into the real schema
 * (minutes through HTTP, seconds this way), shaped like what a store that has been running holds:
 * `history.old` events with ULID-style ids spread over the past 30 days and the benchmark's
 * payload; each delivered to the default subscription (one attempt recorded, 200) and queued for a
 * pull-only `history` inbox, where 9 in 10 are acked and 1 in 10 still pending. Then VACUUM
 * ANALYZE and a CHECKPOINT, as a database in service would have had, so the measurement does not
 * pay for the load's own aftermath.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { request } from 'undici';
import { openPostgresStore } from '../src/store/postgres/index.js';
import { benchDrain, type DrainReport, rawUndiciLoop, resetSink, sinkStats } from './drain.js';
import { benchIngest, type IngestReport } from './ingest.js';
import { averageRounds, EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { type Child, startScript, startTriggers, type TriggersChild } from './lib/processes.js';
import { alternate, overRounds } from './lib/rounds.js';
import { round } from './lib/stats.js';

const BASE_URL = process.env.TRIGGERS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const schemaUrl = (schema: string) => `${BASE_URL}${BASE_URL.includes('?') ? '&' : '?'}schema=${schema}`;
const freshSchema = (name: string) => `bench_${name}_${Date.now().toString(36)}`;
/** Every process of one fleet shares these (docs/fleet.md). */
const FLEET_SECRETS = {
  TRIGGERS_JWT_SECRET: 'bench-jwt-secret-0123456789abcdef',
  TRIGGERS_WEBHOOK_SECRET: 'whsec_YmVuY2hiZW5jaGJlbmNoYmVuY2hiZW5jaGJlbmNo',
};

export interface FleetDrain {
  dispatchers: number;
  perSecond: number;
  seconds: number;
  delivered: number;
  duplicates: number;
}

export interface DispatchersReport {
  events: number;
  /** Per dispatcher process: TRIGGERS_SUBSCRIPTION_CONCURRENCY (and twice that in all). */
  concurrency: number;
  baseline: { perSecond: number; seconds: number };
  fleets: (FleetDrain & { ratio: number })[];
}

export interface GrowthSide {
  storedEvents: number;
  ingestPerSecond: number;
  ingestP99: number;
  drainPerSecond: number;
  drained: number;
}

export interface PostgresGrowthReport {
  stored: number;
  loadSeconds: number;
  rows: { events: number; deliveries: number; attempts: number };
  empty: GrowthSide;
  full: GrowthSide;
  ingestRatio: number;
  drainRatio: number;
}

export interface PostgresReport {
  ingest?: IngestReport;
  drain?: DrainReport;
  dispatchers?: DispatchersReport;
  growth?: PostgresGrowthReport;
}

async function withClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function dropSchemas(prefixes: string[]): Promise<void> {
  await withClient(async (client) => {
    for (const name of prefixes) await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  });
}

/** POSTs `total` events in batches of 1,000 through the API (4 requests in flight). */
async function prefill(api: TriggersChild, total: number): Promise<void> {
  const event = JSON.parse(EVENT_BODY) as object;
  const body = JSON.stringify({ events: Array.from({ length: 1000 }, () => event) });
  let sent = 0;
  const worker = async () => {
    while (sent < total) {
      sent += 1000;
      const response = await request(`${api.url}/events/batch`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
      });
      if (response.statusCode !== 201) throw new Error(`prefill answered ${response.statusCode}: ${await response.body.text()}`);
      await response.body.dump();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** The bare baseline: a raw undici loop posting `total` same-sized requests to the sink. */
function rawLoop(sink: Child, total: number, concurrency: number): Promise<number> {
  return rawUndiciLoop(`${sink.url}/hook`, total, concurrency);
}

async function drainedAtSink(sink: Child, expected: number): Promise<Omit<FleetDrain, 'dispatchers'>> {
  const deadline = Date.now() + 300_000;
  let stats = await sinkStats(sink);
  while (stats.count < expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    stats = await sinkStats(sink);
  }
  if (stats.count < expected) throw new Error(`only ${stats.count} of ${expected} deliveries arrived in 300 s`);
  const seconds = (stats.last_at - stats.first_at) / 1000;
  return {
    perSecond: round(stats.count / seconds, 0),
    seconds: round(seconds),
    delivered: stats.count,
    duplicates: stats.duplicates,
  };
}

function fleetEnv(sink: Child, url: string, concurrency: number): Record<string, string> {
  return {
    ...FLEET_SECRETS,
    TRIGGERS_DATABASE_URL: url,
    TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
    TRIGGERS_SUBSCRIPTION_CONCURRENCY: String(concurrency),
    TRIGGERS_DISPATCH_CONCURRENCY: String(concurrency * 2),
  };
}

/** Drains `events` pending deliveries with `processes` dispatcher processes; the API stays up in its own. */
async function fleetDrain(sink: Child, processes: number, events: number, concurrency: number): Promise<FleetDrain> {
  const schema = freshSchema(`fleet${processes}`);
  const env = fleetEnv(sink, schemaUrl(schema), concurrency);
  const dirs: string[] = [];
  const dir = () => {
    const made = mkdtempSync(join(tmpdir(), 'triggers-bench-fleet-'));
    dirs.push(made);
    return made;
  };
  const api = await startTriggers({ ...env, TRIGGERS_ROLE: 'api' }, dir());
  const dispatchers: TriggersChild[] = [];
  try {
    await prefill(api, events);
    await resetSink(sink);
    dispatchers.push(
      ...(await Promise.all(
        Array.from({ length: processes }, () => startTriggers({ ...env, TRIGGERS_ROLE: 'dispatcher' }, dir())),
      )),
    );
    return { dispatchers: processes, ...(await drainedAtSink(sink, events)) };
  } finally {
    await Promise.all(dispatchers.map((child) => child.stop()));
    await api.stop();
    for (const made of dirs) rmSync(made, { recursive: true, force: true });
    await dropSchemas([schema]);
  }
}

export async function benchDispatchers(options: { events?: number; concurrency?: number } = {}): Promise<DispatchersReport> {
  const events = options.events ?? Number(process.env.BENCH_PG_DRAIN_EVENTS ?? 100_000);
  const concurrency = options.concurrency ?? 64;
  const sink = await startScript('sink.ts');
  try {
    const baselineSeconds = await rawLoop(sink, events, concurrency);
    const baselinePerSecond = events / baselineSeconds;
    const fleets: DispatchersReport['fleets'] = [];
    for (const processes of [1, 2]) {
      const drained = await fleetDrain(sink, processes, events, concurrency);
      fleets.push({ ...drained, ratio: round(drained.perSecond / baselinePerSecond, 3) });
    }
    return { events, concurrency, baseline: { perSecond: round(baselinePerSecond, 0), seconds: round(baselineSeconds) }, fleets };
  } finally {
    await sink.stop();
  }
}

// ── growth ──────────────────────────────────────────────────────────────────────────────────

const HISTORY_SECRET = 'whsec_aGlzdG9yeWhpc3RvcnloaXN0b3J5aGlzdG9yeQ==';
const DAY_MS = 86_400_000;

/**
 * Loads `count` events of history, older than anything the benchmark sends, `step` ms apart from
 * `first` on (integers, written into the text: utility statements take no parameters).
 */
const loadHistoryStatements = (count: number, first: number, step: number): string[] => [
  // The 10-character time part of a ULID (Crockford base32 of the ms), as core/ids.ts makes it.
  `CREATE FUNCTION pg_temp.ulid_time(t bigint) RETURNS text LANGUAGE sql IMMUTABLE AS $$
     SELECT string_agg(substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', ((t >> (5 * (9 - i))) & 31)::int + 1, 1), '' ORDER BY i)
       FROM generate_series(0, 9) AS i
   $$`,
  `CREATE TEMP TABLE history AS
     SELECT g, ${first}::bigint + g * ${step} AS at,
            'evt_' || pg_temp.ulid_time(${first}::bigint + g * ${step}) || upper(substr(md5(g::text), 1, 16)) AS id
       FROM generate_series(0::bigint, ${count - 1}) AS g`,
  `INSERT INTO events (id, type, source, payload, created_at)
     SELECT id, 'history.old', 'growth',
            json_build_object('order_id', g, 'amount', 99.5, 'currency', 'EUR',
                              'customer', json_build_object('id', 'cus_42', 'tier', 'gold'),
                              'items', json_build_array(json_build_object('sku', 'A-1', 'qty', 2))),
            at
       FROM history ORDER BY id`,
  // Pushed to the default subscription: delivered at the first attempt, 5 ms after creation.
  `INSERT INTO deliveries (event_id, subscription_id, event_type, event_created_at, status, attempts_count, retry_index,
                           last_status_code, latency_ms, created_at, updated_at, delivered_at)
     SELECT id, 'default', 'history.old', at, 'delivered', 1, 0, 200, 5, at, at + 5, at + 5 FROM history ORDER BY id`,
  `INSERT INTO attempts (delivery_id, n, at, duration_ms, status_code, error, response)
     SELECT id, 1, created_at + 1, 4, 200, NULL, 'ok' FROM deliveries WHERE subscription_id = 'default' AND event_type = 'history.old'`,
  // Pulled from the `history` inbox: 9 in 10 acked a minute later (an ack records no attempt), 1 in 10 pending.
  `INSERT INTO deliveries (event_id, subscription_id, event_type, event_created_at, status, attempts_count, retry_index,
                           next_attempt_at, latency_ms, created_at, updated_at, delivered_at)
     SELECT id, 'history', 'history.old', at,
            CASE WHEN g % 10 = 9 THEN 'pending' ELSE 'delivered' END, 0, 0,
            CASE WHEN g % 10 = 9 THEN at END,
            CASE WHEN g % 10 = 9 THEN NULL ELSE 60000 END,
            at, CASE WHEN g % 10 = 9 THEN at ELSE at + 60000 END, CASE WHEN g % 10 = 9 THEN NULL ELSE at + 60000 END
       FROM history ORDER BY id`,
  'DROP TABLE history',
];

async function loadHistory(schema: string, count: number): Promise<{ seconds: number; rows: PostgresGrowthReport['rows'] }> {
  const started = performance.now();
  const rows = await withClient(async (client) => {
    await client.query(`SET search_path TO "${schema}"`);
    const step = Math.max(1, Math.floor((29 * DAY_MS) / Math.max(1, count)));
    for (const statement of loadHistoryStatements(count, Date.now() - 30 * DAY_MS, step)) await client.query(statement);
    await client.query('VACUUM ANALYZE events, deliveries, attempts');
    await client.query('CHECKPOINT');
    const counted = await client.query<{ events: number; deliveries: number; attempts: number }>(
      'SELECT (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM deliveries)::int AS deliveries, (SELECT count(*) FROM attempts)::int AS attempts',
    );
    return counted.rows[0] as PostgresGrowthReport['rows'];
  });
  return { seconds: round((performance.now() - started) / 1000), rows };
}

interface GrowthRound {
  storedEvents: number;
  ingest: LoadResult;
  drain: { count: number; seconds: number };
}

/** A side's rounds: ingest averaged, the drain over all its deliveries, the history as first found. */
function growthSide(rounds: GrowthRound[]): GrowthSide {
  const ingest = averageRounds(rounds.map((r) => r.ingest));
  const drained = overRounds(rounds.map((r) => r.drain));
  return {
    storedEvents: rounds[0]?.storedEvents ?? 0,
    ingestPerSecond: round(ingest.requestsPerSecond, 0),
    ingestP99: ingest.latencyP99,
    drainPerSecond: round(drained.perSecond, 0),
    drained: drained.count,
  };
}

/** Ingest for `seconds`, top the backlog up to `backlog`, then drain it with one dispatcher process. */
async function measureGrowth(
  sink: Child,
  api: TriggersChild,
  env: Record<string, string>,
  schema: string,
  seconds: number,
  backlog: number,
): Promise<GrowthRound> {
  const storedEvents = await withClient(
    async (client) => (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".events`)).rows[0]?.n ?? 0,
  );
  const headers = { 'x-api-key': api.apiKey };
  await hammer(`${api.url}/events`, { seconds: 1, connections: 64, headers });
  const ingest = await hammer(`${api.url}/events`, { seconds, connections: 64, headers });
  const pendingCount = () =>
    withClient(async (client) => {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM "${schema}".deliveries WHERE subscription_id = 'default' AND status = 'pending'`,
      );
      return rows[0]?.n ?? 0;
    });
  const pending = await pendingCount();
  if (pending < backlog) await prefill(api, Math.ceil((backlog - pending) / 1000) * 1000);
  const expected = await pendingCount();
  // Fresh statistics on both sides alike (autovacuum's job in service; not yet run on a new table).
  await withClient((client) => client.query(`ANALYZE "${schema}".events, "${schema}".deliveries`));
  await resetSink(sink);
  const dir = mkdtempSync(join(tmpdir(), 'triggers-bench-growth-'));
  const dispatcher = await startTriggers({ ...env, TRIGGERS_ROLE: 'dispatcher' }, dir);
  try {
    const drained = await drainedAtSink(sink, expected);
    return { storedEvents, ingest, drain: { count: drained.delivered, seconds: drained.seconds } };
  } finally {
    await dispatcher.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchPostgresGrowth(
  options: { stored?: number; seconds?: number; backlog?: number } = {},
): Promise<PostgresGrowthReport> {
  const stored = options.stored ?? Number(process.env.BENCH_GROWTH_EVENTS ?? 1_000_000);
  const seconds = options.seconds ?? 10;
  const backlog = options.backlog ?? 50_000;
  // Two stores alike but for the history: the `history` pull-only inbox in both, so the measured
  // events (to the default subscription) meet the same subscriptions either way.
  const schemas = [freshSchema('growth_empty'), freshSchema('growth_full')] as const;
  for (const schema of schemas) {
    const store = await openPostgresStore(schemaUrl(schema));
    await store.createSubscription({
      id: 'history',
      url: null,
      event_types: ['history.*'],
      secrets: [{ secret: HISTORY_SECRET, expires_at: null }],
      status: 'active',
      description: 'growth benchmark history',
      disabled_reason: null,
      metadata: {},
    });
    await store.close();
  }
  const sink = await startScript('sink.ts');
  const apiDir = mkdtempSync(join(tmpdir(), 'triggers-bench-growth-api-'));
  const started: TriggersChild[] = [];
  try {
    const loaded = await loadHistory(schemas[1], stored);
    const envs = schemas.map((schema) => fleetEnv(sink, schemaUrl(schema), 64));
    for (const env of envs)
      started.push(await startTriggers({ ...env, TRIGGERS_ROLE: 'api' }, mkdtempSync(join(apiDir, 'api-'))));
    const rounds = await alternate((side) =>
      measureGrowth(
        sink,
        started[side] as TriggersChild,
        envs[side] as Record<string, string>,
        schemas[side],
        seconds / 2,
        backlog / 2,
      ),
    );
    const empty = growthSide(rounds[0]);
    const full = growthSide(rounds[1]);
    return {
      stored,
      loadSeconds: loaded.seconds,
      rows: loaded.rows,
      empty,
      full,
      ingestRatio: round(full.ingestPerSecond / empty.ingestPerSecond, 3),
      drainRatio: round(full.drainPerSecond / empty.drainPerSecond, 3),
    };
  } finally {
    for (const api of started) await api.stop();
    await sink.stop();
    rmSync(apiDir, { recursive: true, force: true });
    await dropSchemas([...schemas]);
  }
}

// ── all of it ───────────────────────────────────────────────────────────────────────────────

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** `parts`: `postgres` (everything) and/or `postgres-<part>`. Returns the report and its table rows. */
export async function benchPostgres(parts: readonly string[]): Promise<{ report: PostgresReport; rows: string[][] }> {
  const all = parts.includes('postgres');
  const wants = (part: string) => all || parts.includes(`postgres-${part}`);
  const report: PostgresReport = {};
  const rows: string[][] = [];
  if (wants('ingest')) {
    const schema = freshSchema('ingest');
    const ingest = await benchIngest({ env: { TRIGGERS_DATABASE_URL: schemaUrl(schema) } });
    await dropSchemas([schema]);
    report.ingest = ingest;
    rows.push([
      'ingest (PostgreSQL, committed before 201)',
      `${fmt(ingest.triggers.requestsPerSecond)} events/s (p99 ${ingest.triggers.latencyP99} ms)`,
      `bare node:http ${fmt(ingest.baseline.requestsPerSecond)} req/s`,
      `${ingest.ratio}×`,
    ]);
    rows.push([
      `ingest, ${ingest.many.connections} connections (PostgreSQL)`,
      `${fmt(ingest.many.triggers.requestsPerSecond)} events/s (p99 ${ingest.many.triggers.latencyP99} ms)`,
      `bare node:http ${fmt(ingest.many.baseline.requestsPerSecond)} req/s`,
      `${ingest.many.ratio}×`,
    ]);
  }
  if (wants('drain')) {
    const schema = freshSchema('drain');
    const drain = await benchDrain({ env: { TRIGGERS_DATABASE_URL: schemaUrl(schema) } });
    await dropSchemas([schema]);
    report.drain = drain;
    rows.push([
      `drain ${fmt(drain.events)} backlog (PostgreSQL, one serve process)`,
      `${fmt(drain.triggers.perSecond)} deliveries/s`,
      `raw undici ${fmt(drain.baseline.perSecond)} req/s`,
      `${drain.ratio}×`,
    ]);
  }
  if (wants('dispatchers')) {
    const dispatchers = await benchDispatchers();
    report.dispatchers = dispatchers;
    for (const fleet of dispatchers.fleets) {
      rows.push([
        `drain ${fmt(dispatchers.events)} backlog (PostgreSQL, API + ${fleet.dispatchers} dispatcher process${fleet.dispatchers > 1 ? 'es' : ''})`,
        `${fmt(fleet.perSecond)} deliveries/s`,
        `raw undici ${fmt(dispatchers.baseline.perSecond)} req/s`,
        `${fleet.ratio}×`,
      ]);
    }
  }
  if (wants('growth')) {
    const growth = await benchPostgresGrowth();
    report.growth = growth;
    rows.push([
      `ingest with ${fmt(growth.full.storedEvents)} events stored (PostgreSQL)`,
      `${fmt(growth.full.ingestPerSecond)} events/s`,
      `empty store ${fmt(growth.empty.ingestPerSecond)} events/s`,
      `${growth.ingestRatio}×`,
    ]);
    rows.push([
      `drain with ${fmt(growth.full.storedEvents)} events stored (PostgreSQL, 1 dispatcher)`,
      `${fmt(growth.full.drainPerSecond)} deliveries/s`,
      `empty store ${fmt(growth.empty.drainPerSecond)} deliveries/s`,
      `${growth.drainRatio}×`,
    ]);
  }
  return { report, rows };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { report, rows } = await benchPostgres(process.argv.length > 2 ? process.argv.slice(2) : ['postgres']);
  console.log(JSON.stringify(report, null, 2));
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}
