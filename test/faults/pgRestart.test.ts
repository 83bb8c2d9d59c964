/**
 * PostgreSQL itself restarted mid-load: a real server, not a proxy. The test makes a private
 * PostgreSQL instance (initdb into a temporary directory, its own port; needs root to run it as
 * the `postgres` OS user, as CI can; otherwise it reports itself skipped), runs `triggers serve`
 * (API and in-process dispatcher) on it under load with deliveries going to a sink, and restarts
 * the server twice while requests, commits and deliveries are in flight: `pg_ctl restart -m fast`
 * (connections terminated, clean shutdown) and `-m immediate` (a crash: no shutdown checkpoint,
 * recovery from the WAL at start). The load keeps sending throughout and retries each event on a
 * 503 or a connection error, as a user would: half the workers with an Idempotency-Key, half
 * without. Every event answered 201 must reach the sink; a repeat must carry a webhook-id already
 * seen; every webhook-id must name an event the database holds.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type PrivatePostgres, privatePostgresUnavailable, startPrivatePostgres } from '../support/postgres.js';
import { freePort, freshDir, type Server, startServe } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';
import { API_KEY, event, report, SKIP, sleep, tally, waitForAll } from './support.js';

const WORKERS = 8;
let database: PrivatePostgres | null = null;
let server: Server | null = null;
let sink: Sink | null = null;

after(async () => {
  await server?.kill('SIGKILL');
  await sink?.close();
  await database?.destroy();
});

interface RetryingLoad {
  /** Requests made (every try counts). */
  sent(): number;
  /** Ids answered 201 (a replayed idempotent answer repeats an id: kept once). */
  accepted: Set<string>;
  /** Answers 503 with Retry-After, and requests that failed without an answer. */
  refused: { unavailable: number; connection: number; other: number };
  /** Events given up on when the load stopped (never answered 201). */
  abandoned(): number;
  stop(): Promise<void>;
}

/**
 * `WORKERS` loops, each posting one event after another and retrying the same event until it is
 * answered 201: after 50 ms on a 503 or a connection error. Even workers send an
 * Idempotency-Key, so their retries can never store an event twice.
 */
function startRetryingLoad(url: string): RetryingLoad {
  let running = true;
  let sent = 0;
  let abandoned = 0;
  const accepted = new Set<string>();
  const refused = { unavailable: 0, connection: 0, other: 0 };
  const loop = async (worker: number) => {
    for (let n = 0; running; n++) {
      const key = worker % 2 === 0 ? `restart-${worker}-${n}` : undefined;
      const body = JSON.stringify(event(n, { worker }));
      for (;;) {
        if (!running) {
          abandoned++;
          break;
        }
        sent++;
        try {
          const response = await fetch(`${url}/events`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': API_KEY, ...(key ? { 'idempotency-key': key } : {}) },
            body,
            signal: AbortSignal.timeout(10_000),
          });
          const text = await response.text();
          if (response.status === 201) {
            accepted.add((JSON.parse(text) as { id: string }).id);
            break;
          }
          if (response.status === 503 && response.headers.get('retry-after') !== null) refused.unavailable++;
          else refused.other++;
        } catch {
          refused.connection++;
        }
        await sleep(50);
      }
    }
  };
  const loops = Array.from({ length: WORKERS }, (_, worker) => loop(worker));
  return {
    sent: () => sent,
    accepted,
    refused,
    abandoned: () => abandoned,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('PostgreSQL restarted mid-load (a private server, really restarted)', { skip: SKIP, timeout: 90_000 }, () => {
  it('loses no accepted event across a fast restart and a crash restart', { timeout: 60_000 }, async (t) => {
    const unavailable = privatePostgresUnavailable();
    if (unavailable !== null) {
      t.skip(`cannot run a private PostgreSQL here (${unavailable}): the restart fault was not run`);
      return;
    }
    const started = Date.now();
    database = await startPrivatePostgres(await freePort());
    sink = await startSink();
    // Some answers are slow, so deliveries are in flight (leased, not settled) when a restart lands.
    sink.respond('/hook', (_request, index) => (index % 10 === 0 ? { status: 200, delayMs: 300 } : { status: 200 }));
    server = await startServe(freshDir(), {
      TRIGGERS_DATABASE_URL: database.url,
      TRIGGERS_API_KEY: API_KEY,
      TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
      TRIGGERS_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms,1s,1s,1s',
      TRIGGERS_LEASE: '3s',
      TRIGGERS_LOG_LEVEL: 'fatal',
    });

    const load = startRetryingLoad(server.url);
    const acceptedBy = () => load.accepted.size;
    await sleep(1_500);
    const beforeFast = acceptedBy();
    const fastAt = Date.now();
    await database.restart('fast');
    const fastMs = Date.now() - fastAt;
    await sleep(1_500);
    const beforeCrash = acceptedBy();
    const crashAt = Date.now();
    await database.restart('immediate');
    const crashMs = Date.now() - crashAt;
    await sleep(1_500);
    const atEnd = acceptedBy();
    await load.stop();
    assert.equal(server.run.child.exitCode, null, 'the server process stayed up through both restarts');

    const accepted = [...load.accepted];
    assert.ok(
      beforeFast > 0 && beforeCrash > beforeFast && atEnd > beforeCrash,
      'events were accepted before, between and after the restarts',
    );
    const missing = await waitForAll(accepted, () => sink!.requestsTo('/hook'), 30_000);
    const requests = sink.requestsTo('/hook');
    const { delivered, duplicates } = tally(requests);
    // Every request's body is the event its webhook-id names, and that event is in the database:
    // a repeat is the same event again, never a different one.
    for (const request of requests) {
      assert.equal(
        request.json<{ id: string }>().id,
        request.headers['webhook-id'],
        'the body is the event the webhook-id names',
      );
    }
    const stored = new Set(
      (await database.sql<{ id: string }>('SELECT id FROM events WHERE id = ANY($1::text[])', [[...delivered]])).map(
        (row) => row.id,
      ),
    );
    const unknown = [...delivered].filter((id) => !stored.has(id));
    const figures = {
      sent: load.sent(),
      accepted: accepted.length,
      delivered: delivered.size,
      duplicates,
      lost: missing.length,
      refused_503: load.refused.unavailable,
      connection_errors: load.refused.connection,
      other_errors: load.refused.other,
      abandoned_at_stop: load.abandoned(),
      fast_restart_ms: fastMs,
      crash_restart_ms: crashMs,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
    report('PostgreSQL restarted mid-load (fast, then immediate)', figures);
    assert.deepEqual(missing, [], `${missing.length} of ${accepted.length} accepted events never reached the sink`);
    assert.deepEqual(unknown, [], 'every webhook-id names an event the database holds');
    assert.equal(load.refused.other, 0, 'during the restarts ingest answered 201 or 503 + Retry-After, nothing else');
    assert.ok(load.refused.unavailable + load.refused.connection > 0, 'the restarts were felt by the clients');
  });
});
