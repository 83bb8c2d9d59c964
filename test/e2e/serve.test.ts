/**
 * The product as a user meets it: `triggers serve` started from the command line, driven over
 * real HTTP, delivering to a real sink, killed with SIGKILL and restarted.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freshDir, runCli, type Server, startServe } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';

const servers: Server[] = [];
const sinks: Sink[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.kill('SIGKILL')));
  await Promise.all(sinks.map((sink) => sink.close()));
});

async function serve(cwd: string, env: Record<string, string> = {}, args: string[] = []): Promise<Server> {
  const server = await startServe(cwd, env, args);
  servers.push(server);
  return server;
}

async function sink(): Promise<Sink> {
  const started = await startSink();
  sinks.push(started);
  return started;
}

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

const event = (n: number) => ({ type: 'order.created', source: 'e2e', payload: { n } });

async function post(url: string, apiKey: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'x-api-key': apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('triggers serve', () => {
  it('first start generates and prints an API key; the seed walkthrough works (token, event, inbox, ack)', async () => {
    const cwd = freshDir();
    const server = await serve(cwd);
    const secrets = JSON.parse(readFileSync(join(cwd, 'data', 'secrets.json'), 'utf8')) as Record<string, string>;
    const apiKey = secrets.zapier_api_key as string;
    assert.ok(apiKey);
    for (let i = 0; i < 50 && !server.run.stdout().includes(apiKey); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(server.run.stdout().includes(apiKey), 'the generated key is printed');

    const token = await json(
      await fetch(`${server.url}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `username=api&password=${encodeURIComponent(apiKey)}`,
      }),
    );
    assert.equal(token.token_type, 'bearer');
    const auth = { authorization: `Bearer ${token.access_token as string}` };

    const created = await fetch(`${server.url}/events`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'test.event', source: 'manual', payload: { message: 'Test dispatcher' } }),
    });
    assert.equal(created.status, 201);
    const { id, status } = await json(created);
    assert.equal(status, 'pending');

    const inbox = (await (await fetch(`${server.url}/inbox`, { headers: auth })).json()) as { id: string }[];
    assert.deepEqual(
      inbox.map((item) => item.id),
      [id],
    );
    assert.equal((await fetch(`${server.url}/inbox/${id as string}/ack`, { method: 'POST', headers: auth })).status, 200);
    assert.equal((await fetch(`${server.url}/inbox/${id as string}/ack`, { method: 'POST', headers: auth })).status, 200);
    assert.deepEqual(await (await fetch(`${server.url}/inbox`, { headers: auth })).json(), []);
    const detail = await json(await fetch(`${server.url}/events/${id as string}`, { headers: auth }));
    assert.equal(detail.status, 'delivered');
  });

  it('delivers to TRIGGERS_WEBHOOK_URL within milliseconds, signed so standardwebhooks verifies it', async () => {
    const hook = await sink();
    const cwd = freshDir();
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const server = await serve(cwd, {
      TRIGGERS_API_KEY: 'e2e-key-0123456789',
      TRIGGERS_WEBHOOK_URL: `${hook.url}/hook`,
      TRIGGERS_WEBHOOK_SECRET: secret,
    });
    const sent = Date.now();
    const response = await post(`${server.url}/events`, 'e2e-key-0123456789', event(1));
    assert.equal(response.status, 201);
    const { id } = await json(response);
    const [request] = await hook.waitFor(1, { timeoutMs: 5000 });
    assert.ok(request);
    assert.ok(request.at - sent < 1000, `delivered after ${request.at - sent} ms`);
    const verified = new Webhook(secret).verify(request.body.toString('utf8'), {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    }) as { id: string; payload: unknown };
    assert.equal(verified.id, id);
    assert.deepEqual(verified.payload, { n: 1 });
    assert.equal(request.headers['webhook-id'], id);

    let detail: Record<string, unknown> = {};
    for (let i = 0; i < 50; i++) {
      detail = await json(await fetch(`${server.url}/events/${id as string}`, { headers: { 'x-api-key': 'e2e-key-0123456789' } }));
      if (detail.status === 'delivered') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(detail.status, 'delivered');
    const [delivery] = detail.deliveries as { attempts: { status_code: number }[] }[];
    assert.equal(delivery?.attempts[0]?.status_code, 200);
  });

  it('refuses invalid configuration with a message naming the setting', async () => {
    const run = runCli(['serve'], freshDir(), { TRIGGERS_PORT: 'eighty' });
    assert.equal(await run.exited, 2);
    assert.match(run.stderr(), /TRIGGERS_PORT/);
  });

  it('loses no accepted event when killed with SIGKILL while deliveries are pending and in flight', async () => {
    const hook = await sink();
    // Slow answers keep deliveries in flight; the first answers fail so retries are pending too.
    hook.respond('/hook', (_request, index) => (index < 40 ? { status: 503 } : { status: 200, delayMs: 30 }));
    const cwd = freshDir();
    const env = {
      TRIGGERS_API_KEY: 'e2e-key-0123456789',
      TRIGGERS_WEBHOOK_URL: `${hook.url}/hook`,
      TRIGGERS_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms',
      TRIGGERS_LEASE: '2s',
    };
    let server = await serve(cwd, env);
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const response = await post(`${server.url}/events/batch`, env.TRIGGERS_API_KEY, { events: Array.from({ length: 30 }, (_, i) => event(batch * 30 + i)) });
      assert.equal(response.status, 201);
      ids.push(...((await json(response)).events as { id: string }[]).map((e) => e.id));
    }
    await new Promise((r) => setTimeout(r, 100));
    await server.kill('SIGKILL');

    server = await serve(cwd, env);
    const deadline = Date.now() + 20_000;
    const delivered = () => new Set(hook.requests.filter((r) => r.at > 0).map((r) => r.headers['webhook-id'] as string));
    let statuses: string[] = [];
    while (Date.now() < deadline) {
      const details = await Promise.all(
        ids.map(async (id) => (await json(await fetch(`${server.url}/events/${id}`, { headers: { 'x-api-key': env.TRIGGERS_API_KEY } }))).status as string),
      );
      statuses = details;
      if (details.every((status) => status === 'delivered')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(statuses.filter((status) => status === 'delivered').length, ids.length);
    const seen = delivered();
    for (const id of ids) assert.ok(seen.has(id), `${id} reached the sink`);
  });

  it('runs the seed dispatcher as its own process: triggers dispatch --once against --role api', async () => {
    const hook = await sink();
    const cwd = freshDir();
    const env = { TRIGGERS_API_KEY: 'e2e-key-0123456789', TRIGGERS_WEBHOOK_URL: `${hook.url}/hook` };
    const server = await serve(cwd, env, ['--role', 'api']);
    for (let i = 0; i < 5; i++) assert.equal((await post(`${server.url}/events`, env.TRIGGERS_API_KEY, event(i))).status, 201);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(hook.requests.length, 0, 'the api role dispatches nothing');

    const run = runCli(['dispatch', '--once', '--api', server.url], freshDir(), env);
    assert.equal(await run.exited, 0, run.stderr());
    const summary = JSON.parse(run.stdout().trim().split('\n').pop() as string) as Record<string, unknown>;
    assert.equal(summary.processed, 5);
    assert.equal(summary.succeeded, 5);
    assert.equal(summary.failed, 0);
    assert.equal(hook.requests.length, 5);
    const inbox = (await (await fetch(`${server.url}/inbox`, { headers: { 'x-api-key': env.TRIGGERS_API_KEY } })).json()) as unknown[];
    assert.equal(inbox.length, 0);
  });
});
