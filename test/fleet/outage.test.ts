/**
 * A PostgreSQL outage, as a fleet sees it, without touching the real server: every Triggers
 * process reaches PostgreSQL through a small TCP proxy in this test, which can
 *
 *   - cut:       destroy every connection and stop listening (the server is gone: refused),
 *   - blackhole: accept connections and never answer (a frozen host or a partition),
 *   - forward:   relay to 127.0.0.1:5432 again, on the same port.
 *
 * While the database is unreachable, ingest answers 503 `{ error: { code: 'unavailable' } }` with
 * `Retry-After`, and `/health` answers 503, promptly and without a crash. When it is back, every
 * process reconnects by itself: new events are accepted and delivered, and none accepted before
 * the outage is lost.
 */
import assert from 'node:assert/strict';
import { createServer, type Server as NetServer, type Socket, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTestSchema, TEST_POSTGRES_URL, type TestSchema } from '../support/postgres.js';
import type { Server } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';
import { Processes } from './processes.js';

const API_KEY = 'outage-key-0123456789';

/** A TCP relay to the real server that the test can cut, blackhole and restore on one port. */
class DatabaseProxy {
  mode: 'forward' | 'blackhole' = 'forward';
  port = 0;
  private server: NetServer | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  async open(mode: 'forward' | 'blackhole' = 'forward'): Promise<void> {
    this.mode = mode;
    if (this.server !== null) return;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening and destroys every connection, both ways. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops existing connections, then accepts new ones but never answers them. */
  async blackhole(): Promise<void> {
    await this.cut();
    await this.open('blackhole');
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => this.sockets.delete(socket));
  }

  private accept(client: Socket): void {
    this.track(client);
    if (this.mode === 'blackhole') return;
    const upstream = connect(this.upstreamPort, this.upstreamHost);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }
}

const processes = new Processes();
let sink: Sink | undefined;
let schema: TestSchema | undefined;
let proxy: DatabaseProxy | undefined;

after(async () => {
  await processes.killAll();
  await sink?.close();
  await proxy?.cut();
  await schema?.drop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(
  server: Server,
  path: string,
  body: unknown,
): Promise<{ status: number; retryAfter: string | null; body: unknown; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // left as text; the assertions say what was expected
  }
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: parsed, ms: Date.now() - started };
}

const events = (count: number, tag: string) => ({
  events: Array.from({ length: count }, (_, n) => ({ type: 'order.created', source: 'outage', payload: { tag, n } })),
});

async function health(server: Server): Promise<{ status: number; retryAfter: string | null; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
  await response.arrayBuffer();
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
}

/** What every request made while the database is unreachable must get: a prompt, clear 503. */
async function assertUnavailable(api: Server, dispatcher: Server, boundMs: number): Promise<void> {
  for (const [path, body] of [
    ['/events', { type: 'order.created', source: 'outage', payload: { during: true } }],
    ['/events/batch', events(5, 'during')],
  ] as const) {
    const answer = await post(api, path, body);
    assert.equal(answer.status, 503, `POST ${path} during the outage: ${answer.status} ${JSON.stringify(answer.body)}`);
    const error = (answer.body as { error?: { code?: unknown; message?: unknown } }).error;
    assert.equal(error?.code, 'unavailable');
    assert.equal(typeof error?.message, 'string');
    assert.match(answer.retryAfter ?? '', /^\d+$/, 'Retry-After is set');
    assert.ok(answer.ms < boundMs, `POST ${path} answered after ${answer.ms} ms`);
  }
  for (const server of [api, dispatcher]) {
    const answer = await health(server);
    assert.equal(answer.status, 503);
    assert.match(answer.retryAfter ?? '', /^\d+$/);
    assert.ok(answer.ms < boundMs, `/health answered after ${answer.ms} ms`);
  }
  for (const server of [api, dispatcher]) assert.equal(server.run.child.exitCode, null, 'no process exited');
}

describe('a PostgreSQL outage', { timeout: 150_000 }, () => {
  let api: Server;
  let dispatcher: Server;

  before(async () => {
    schema = await createTestSchema();
    sink = await startSink();
    const upstream = new URL(TEST_POSTGRES_URL);
    proxy = new DatabaseProxy(upstream.hostname, Number(upstream.port || 5432));
    await proxy.open();
    const url = new URL(TEST_POSTGRES_URL);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    url.searchParams.set('schema', schema.schema);
    url.searchParams.set('pool_size', '4');
    const env = {
      TRIGGERS_DATABASE_URL: url.toString(),
      TRIGGERS_API_KEY: API_KEY,
      TRIGGERS_JWT_SECRET: 'outage-jwt-secret-0123456789abcdef',
      TRIGGERS_WEBHOOK_URL: `${sink.url}/hook`,
      TRIGGERS_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      TRIGGERS_LEASE: '3s',
      TRIGGERS_RETRY_SCHEDULE: '500ms,500ms,500ms,500ms,500ms,500ms,500ms,500ms',
      TRIGGERS_LOG_LEVEL: 'fatal',
    };
    const start = (role: 'api' | 'dispatcher') => processes.serve(env, ['--role', role]);
    [api, dispatcher] = await Promise.all([start('api'), start('dispatcher')]);
  });

  it('answers 503 + Retry-After while PostgreSQL is unreachable, and recovers by itself with nothing accepted lost', async () => {
    // Deliveries answer slowly at first, so some are in flight when the database goes away.
    sink!.respond('/hook', (_request, index) => (index < 100 ? { status: 200, delayMs: 1_500 } : { status: 200 }));
    const accepted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await post(api, '/events/batch', events(100, `before-${i}`));
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      accepted.push(...(answer.body as { events: { id: string }[] }).events.map((event) => event.id));
    }
    await sink!.waitFor(1, { timeoutMs: 10_000 });

    // The server is gone: connections are reset and new ones refused.
    await proxy!.cut();
    await assertUnavailable(api, dispatcher, 6_000);
    await sleep(1_000);
    await assertUnavailable(api, dispatcher, 6_000);

    // The server hangs: connections are accepted and never answered. Still a prompt 503.
    await proxy!.blackhole();
    await assertUnavailable(api, dispatcher, 8_000);

    // Back: every process reconnects on its own.
    await proxy!.cut();
    await proxy!.open('forward');
    const backAt = Date.now();
    for (const server of [api, dispatcher]) {
      for (;;) {
        if ((await health(server)).status === 200) break;
        assert.ok(Date.now() - backAt < 20_000, `${server.url} did not recover within 20 s`);
        await sleep(200);
      }
    }
    let answer = await post(api, '/events', { type: 'order.created', source: 'outage', payload: { after: true } });
    for (let i = 0; answer.status !== 201 && i < 50; i++) {
      await sleep(200);
      answer = await post(api, '/events', { type: 'order.created', source: 'outage', payload: { after: true } });
    }
    assert.equal(answer.status, 201, JSON.stringify(answer.body));
    accepted.push((answer.body as { id: string }).id);
    const batch = await post(api, '/events/batch', events(100, 'after'));
    assert.equal(batch.status, 201, JSON.stringify(batch.body));
    accepted.push(...(batch.body as { events: { id: string }[] }).events.map((event) => event.id));

    // Everything accepted, before and after, is delivered.
    const deadline = Date.now() + 40_000;
    let missing: string[] = accepted;
    for (;;) {
      const seen = new Set(sink!.requests.map((request) => request.headers['webhook-id'] as string));
      missing = accepted.filter((id) => !seen.has(id));
      if (missing.length === 0) break;
      assert.ok(Date.now() < deadline, `${missing.length} of ${accepted.length} accepted events never reached the sink`);
      await sleep(100);
    }
    const stored = await schema!.sql<{ id: string; status: string }>(
      'SELECT e.id, d.status FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.id = ANY($1)',
      [accepted],
    );
    assert.equal(stored.length, accepted.length, 'every accepted event is stored');
    for (const server of [api, dispatcher]) assert.equal(server.run.child.exitCode, null, 'no process exited');
    process.stderr.write(
      `# outage: ${accepted.length} events accepted around the outage, all delivered ${Date.now() - backAt} ms after it came back\n`,
    );
  });
});
