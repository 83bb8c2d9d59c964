/**
 * kill -9 under load: five rounds per backend (SQLite, then PostgreSQL on a fresh schema). Each
 * round starts `triggers serve` on the same data, drives it with concurrent POST /events, and
 * SIGKILLs it at a random moment (0.4–1.6 s in) while requests, commits and deliveries are in
 * flight. At the end a last server drains, and every event that was answered 201 in any round
 * must have reached the sink (at-least-once: duplicates are counted, not failed).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestSchema, type TestSchema } from '../support/postgres.js';
import { freshDir, type Server, startServe } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';
import { API_KEY, report, SKIP, sleep, startLoad, tally, waitForAll } from './support.js';

const ROUNDS = 5;
const servers: Server[] = [];
let sink: Sink | null = null;
let schema: TestSchema | null = null;

after(async () => {
  await Promise.all(servers.map((server) => server.kill('SIGKILL')));
  await sink?.close();
  await schema?.drop();
});

async function rounds(backend: string, database: Record<string, string>, signal: AbortSignal): Promise<void> {
  sink = sink ?? (await startSink());
  sink.reset();
  const path = `/hook-${backend}`;
  // Some answers are slow, so deliveries are in flight (leased, not settled) when the kill lands.
  sink.respond(path, (_request, index) => (index % 10 === 0 ? { status: 200, delayMs: 300 } : { status: 200 }));
  const cwd = freshDir();
  const env = {
    ...database,
    TRIGGERS_API_KEY: API_KEY,
    TRIGGERS_WEBHOOK_URL: `${sink.url}${path}`,
    TRIGGERS_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,1s,1s,1s',
    TRIGGERS_LEASE: '2s',
    TRIGGERS_LOG_LEVEL: 'fatal',
  };
  const accepted: string[] = [];
  let sent = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // A timed-out test stops here instead of starting servers in the background.
    signal.throwIfAborted();
    const server = await startServe(cwd, env);
    servers.push(server);
    const load = startLoad(server.url, 8);
    await sleep(400 + Math.floor(Math.random() * 1200));
    await server.kill('SIGKILL');
    await load.stop();
    sent += load.sent();
    accepted.push(...load.accepted);
    assert.ok(load.accepted.length > 0, `round ${round}: the server accepted events before the kill`);
  }
  // The last start: no load, only recovery and delivery of the backlog.
  signal.throwIfAborted();
  const last = await startServe(cwd, env);
  servers.push(last);
  assert.equal(new Set(accepted).size, accepted.length, 'every 201 carried a new id');
  const missing = await waitForAll(accepted, () => sink!.requestsTo(path), 45_000);
  const { delivered, duplicates } = tally(sink.requestsTo(path));
  report(`kill -9 ×${ROUNDS} under load (${backend})`, { sent, accepted: accepted.length, delivered: delivered.size, duplicates, lost: missing.length });
  assert.deepEqual(missing, [], `${missing.length} of ${accepted.length} accepted events never reached the sink`);
  await last.kill('SIGKILL');
}

describe('kill -9 of the server at random moments under load', { skip: SKIP, timeout: 330_000 }, () => {
  it('SQLite: five kills, every accepted event delivered', { timeout: 160_000 }, async (t) => {
    await rounds('sqlite', {}, t.signal);
  });

  it('PostgreSQL: five kills, every accepted event delivered', { timeout: 160_000 }, async (t) => {
    schema = await createTestSchema();
    await rounds('postgres', { TRIGGERS_DATABASE_URL: `${schema.url}?schema=${schema.schema}` }, t.signal);
  });
});
