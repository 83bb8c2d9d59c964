/**
 * Growth: ingest and drain rates on a store already holding N events (default 1,000,000) beside
 * the same measurements on an empty store, in the same run: four rounds of half the time and half
 * the backlog each — empty, full, full, empty — so the host's drift weighs on both alike (the
 * "empty" store's second round finds the first round's events in it: a few tens of thousands).
 * The rounds start once the prefill's writes are on disk (`quietDisk`).
 *
 * The history is written through the store itself (`append`, 5,000 events a transaction) before
 * the server starts: events of type `history.old` whose deliveries sit pending in a pull-only
 * `history` inbox, so the store holds N events and N deliveries that the measured traffic must
 * not be slowed by. Both stores carry the same `history` subscription; the measured events
 * (`order.created`) go to the default subscription only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { newEventId } from '../src/core/ids.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import { resetSink, sinkRound, sinkStats } from './drain.js';
import { averageRounds, EVENT_BODY, hammer, type LoadResult } from './lib/load.js';
import { type Child, startScript, startTriggers } from './lib/processes.js';
import { alternate, overRounds } from './lib/rounds.js';
import { round } from './lib/stats.js';
import { quietDisk } from './lib/steady.js';

export interface GrowthSide {
  stored: number;
  ingestPerSecond: number;
  drainPerSecond: number;
  drained: number;
}

export interface GrowthReport {
  stored: number;
  prefillSeconds: number;
  prefillPerSecond: number;
  empty: GrowthSide;
  full: GrowthSide;
  ingestRatio: number;
  drainRatio: number;
}

async function prepare(dataDir: string, stored: number): Promise<number> {
  const store = await openSqliteStore(join(dataDir, 'triggers.db'));
  await store.createSubscription({
    id: 'history',
    url: null,
    event_types: ['history.*'],
    secrets: [{ secret: 'whsec_aGlzdG9yeWhpc3RvcnloaXN0b3J5aGlzdG9yeQ==', expires_at: null }],
    status: 'active',
    description: 'growth benchmark history',
    disabled_reason: null,
    metadata: {},
  });
  const started = performance.now();
  const payload = (JSON.parse(EVENT_BODY) as { payload: Record<string, unknown> }).payload;
  const batch = 5000;
  const base = Date.now() - 30 * 86_400_000;
  for (let done = 0; done < stored; done += batch) {
    const size = Math.min(batch, stored - done);
    const at = base + done;
    await store.append({
      events: Array.from({ length: size }, (_, i) => ({
        id: newEventId(at + i),
        type: 'history.old',
        source: 'growth',
        payload: { ...payload, n: done + i },
        created_at: at + i,
      })),
    });
  }
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return seconds;
}

interface Round {
  ingest: LoadResult;
  drain: { count: number; seconds: number };
}

async function measure(sink: Child, dataDir: string, seconds: number, backlog: number): Promise<Round> {
  const env = {
    TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
    TRIGGERS_SUBSCRIPTION_CONCURRENCY: '64',
    TRIGGERS_DISPATCH_CONCURRENCY: '128',
  };
  // Ingest with the API role (nothing delivered meanwhile); what it accepts becomes part of the backlog.
  const api = await startTriggers({ ...env, TRIGGERS_ROLE: 'api' }, dataDir);
  const headers = { 'x-api-key': api.apiKey };
  await hammer(`${api.url}/events`, { seconds: 1, connections: 64, headers });
  const ingest = await hammer(`${api.url}/events`, { seconds, connections: 64, headers });
  // Top the backlog up to `backlog` events with batches.
  let pending = ingest.total - ingest.non2xx + 0;
  const warm = await request(`${api.url}/health`);
  await warm.body.dump();
  const batch = JSON.stringify({ events: Array.from({ length: 1000 }, () => JSON.parse(EVENT_BODY) as object) });
  while (pending < backlog) {
    const response = await request(`${api.url}/events/batch`, {
      method: 'POST',
      body: batch,
      headers: { 'content-type': 'application/json', ...headers },
    });
    if (response.statusCode !== 201) throw new Error(`batch answered ${response.statusCode}`);
    await response.body.dump();
    pending += 1000;
  }
  await api.stop();
  await resetSink(sink);
  // Everything not yet delivered of the default subscription: the warm-up second too.
  const all = await startTriggers({ ...env, TRIGGERS_ROLE: 'all' }, dataDir);
  const deadline = Date.now() + 300_000;
  let stats = await sinkStats(sink);
  let last = -1;
  // Done when the sink has stopped receiving for a second (the exact total includes the warm-up).
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    stats = await sinkStats(sink);
    if (stats.count >= pending && stats.count === last) break;
    last = stats.count;
  }
  await all.stop();
  return { ingest, drain: sinkRound(stats) };
}

/** A side's two rounds: ingest rates averaged, the drain over all its deliveries. */
function combine(rounds: Round[], stored: number): GrowthSide {
  const drained = overRounds(rounds.map((r) => r.drain));
  return {
    stored,
    ingestPerSecond: round(averageRounds(rounds.map((r) => r.ingest)).requestsPerSecond, 0),
    drainPerSecond: round(drained.perSecond, 0),
    drained: drained.count,
  };
}

export async function benchGrowth(options: { stored?: number; seconds?: number; backlog?: number } = {}): Promise<GrowthReport> {
  const stored = options.stored ?? Number(process.env.BENCH_GROWTH_EVENTS ?? 1_000_000);
  const seconds = options.seconds ?? 10;
  const backlog = options.backlog ?? 50_000;
  const sink = await startScript('sink.ts');
  const emptyDir = mkdtempSync(join(tmpdir(), 'triggers-growth-empty-'));
  const fullDir = mkdtempSync(join(tmpdir(), 'triggers-growth-full-'));
  try {
    await prepare(emptyDir, 0);
    const prefillSeconds = await prepare(fullDir, stored);
    // The prefill leaves about a gigabyte for the kernel to write back: let it land before the
    // first round instead of inside the early rounds, which it would slow unevenly.
    await quietDisk();
    const dirs = [emptyDir, fullDir] as const;
    const rounds = await alternate((side) => measure(sink, dirs[side], seconds / 2, backlog / 2));
    const empty = combine(rounds[0], 0);
    const full = combine(rounds[1], stored);
    return {
      stored,
      prefillSeconds: round(prefillSeconds),
      prefillPerSecond: round(stored / prefillSeconds, 0),
      empty,
      full,
      ingestRatio: round(full.ingestPerSecond / empty.ingestPerSecond, 3),
      drainRatio: round(full.drainPerSecond / empty.drainPerSecond, 3),
    };
  } finally {
    await sink.stop();
    rmSync(emptyDir, { recursive: true, force: true });
    rmSync(fullDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchGrowth(), null, 2));
}
