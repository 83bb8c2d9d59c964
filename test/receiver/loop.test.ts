/**
 * The whole loop the quick start shows, in one real Triggers (API + dispatcher + receiver, as
 * `serve` wires it, on a real port and a real SQLite file): a push subscription to the server's
 * own `/receiver/demo`, created through the API with no private-target override; an event
 * POSTed; the dispatcher delivers it signed; the receiver stores it `verified` with the
 * subscription's secret. Then `triggers receive` as a real process, printing what arrives.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTriggers, type Triggers } from '../../src/app.js';
import { silentLogger } from '../../src/observability/logger.js';
import { TEST_API_KEY, testConfig } from '../api/helpers.js';
import { legacyHeader, post, SECRET, signedHeaders } from './helpers.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function eventually<T>(poll: () => Promise<T | undefined>, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await poll();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('subscription → dispatcher → built-in receiver', () => {
  let triggers: Triggers;
  let url: string;
  const api = (method: string, path: string, body?: unknown) =>
    fetch(url + path, {
      method,
      headers: { 'x-api-key': TEST_API_KEY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  before(async () => {
    const port = await freePort();
    // TRIGGERS_PORT fixes the API URL, so the receiver is this server's own origin: allowed
    // as a target out of the box (no TRIGGERS_ALLOW_PRIVATE_TARGETS).
    triggers = await startTriggers(testConfig({ TRIGGERS_PORT: String(port) }), { logger: silentLogger() });
    url = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await triggers.stop();
    rmSync(triggers.config.dataDir, { recursive: true, force: true });
  });

  it('an event reaches /receiver/demo signed by Triggers and is stored verified', async () => {
    const created = await api('POST', '/subscriptions', { url: `${url}/receiver/demo`, event_types: ['demo.*'] });
    assert.equal(created.status, 201, await created.clone().text());
    const subscription = (await created.json()) as { id: string; secret: string };
    assert.equal((await api('PUT', '/receivers/demo/secret', { secret: subscription.secret })).status, 204);

    const sent = await api('POST', '/events', { type: 'demo.hello', source: 'loop-test', payload: { hello: 'world' } });
    assert.equal(sent.status, 201);
    const event = (await sent.json()) as { id: string };

    const request = await eventually(async () => {
      const page = (await (await api('GET', '/receivers/demo/requests')).json()) as { data: Record<string, unknown>[] };
      return page.data[0];
    }, 'the delivery to arrive at the receiver');
    assert.equal(request.verdict, 'verified');
    assert.equal(request.duplicate, false);
    assert.equal(request.webhook_id, event.id);
    assert.equal((request.headers as Record<string, string>)['webhook-id'], event.id);
    assert.deepEqual((JSON.parse(request.body as string) as { payload: unknown }).payload, { hello: 'world' });

    // The delivery is settled as delivered (the `default` inbox subscription keeps its own pending).
    const delivered = await eventually(async () => {
      const detail = (await (await api('GET', `/events/${event.id}`)).json()) as {
        deliveries: { subscription_id: string; status: string; last_status_code: number | null }[];
      };
      const delivery = detail.deliveries.find((d) => d.subscription_id === subscription.id);
      return delivery?.status === 'delivered' ? delivery : undefined;
    }, 'the delivery to be settled');
    assert.equal(delivered.last_status_code, 200);
    const receivers = (await (await api('GET', '/receivers')).json()) as {
      data: { name: string; count: number; has_secret: boolean }[];
    };
    assert.deepEqual(
      receivers.data.find((r) => r.name === 'demo'),
      { name: 'demo', count: 1, last_received_at: request.received_at, has_secret: true, verifies_with: 'own_secret' },
    );
  });
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('triggers receive (a real process)', () => {
  let child: ChildProcess;
  let port = 0;
  let stdout = '';
  let stderr = '';

  before(async () => {
    port = await freePort();
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('TRIGGERS_')));
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'receive', '--port', String(port), '--secret', SECRET],
      {
        cwd: ROOT,
        env: { ...clean, TRIGGERS_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`receive exited with ${child.exitCode}: ${stderr}`);
        try {
          return (await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      'triggers receive to listen',
      20_000,
    );
  });
  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('verifies, answers, and prints one JSON line per request with its verdict', async () => {
    const base = `http://127.0.0.1:${port}`;
    const body = '{"from":"someone else"}';
    const headers = signedHeaders(SECRET, body);
    assert.deepEqual((await post(base, 'theirs', body, headers)).json.verdict, 'verified');
    assert.equal((await post(base, 'theirs', body, headers)).json.duplicate, true);
    assert.equal((await post(base, 'theirs', `${body}!`, headers)).status, 401);
    assert.equal((await post(base, 'theirs', body, { 'x-webhook-signature': legacyHeader(SECRET, body) })).status, 200);
    assert.equal((await post(base, 'theirs', body)).json.error.code, 'missing_signature');
    assert.equal((await fetch(`${base}/receivers`)).status, 404, 'no management API without an API key');

    const lines = await eventually(async () => {
      const parsed = stdout.split('\n').filter(Boolean);
      return parsed.length >= 5 ? parsed.map((line) => JSON.parse(line) as Record<string, unknown>) : undefined;
    }, 'five lines on stdout');
    assert.deepEqual(
      lines.map((line) => [line.name, line.verdict, line.duplicate, line.legacy]),
      [
        ['theirs', 'verified', false, false],
        ['theirs', 'verified', true, false],
        ['theirs', 'invalid_signature', false, false],
        ['theirs', 'verified', false, true],
        ['theirs', 'missing_signature', false, false],
      ],
    );
    assert.equal(lines[0]?.body, body);
    assert.equal(lines[0]?.webhook_id, headers['webhook-id']);
    assert.match(stderr, /listening on http:\/\/127\.0\.0\.1:\d+\/receiver\/\{name\}/);
  });

  it('stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
