/**
 * `triggers dispatch` when the API is not there yet: a long-running dispatcher keeps trying with
 * backoff, a warning each time, until it reaches the API or is told to stop; `--once` fails fast
 * with one clear line.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { runDispatchCommand } from '../../src/cli/dispatch.js';
import { TriggersClient } from '../../src/client/index.js';
import { API_KEY, startApi, type TestApi } from '../client/api.js';
import { freePort, freshDir, runCli } from '../support/process.js';
import { type Sink, startSink } from '../support/sink.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what is written to a stream. */
function collect(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

const warnings = (logs: string) =>
  logs
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; retry_in_ms?: number; reason?: string })
    .filter((line) => line.level === 40 && line.msg === 'cannot reach the API yet; trying again');

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(20);
  }
}

/** Opens `port` late: a TCP forwarder to the real API, as if the API had just started there. */
function forward(port: number, to: number): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = connect(to, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('triggers dispatch before its API is up', () => {
  let api: TestApi;
  let sink: Sink;
  before(async () => {
    api = await startApi({ TRIGGERS_LOG_LEVEL: 'warn' });
    sink = await startSink();
  });
  after(async () => {
    await sink.close();
    await api.close();
  });

  it('keeps trying, with a warning and a longer wait each time, and delivers once the API is reachable', async () => {
    const client = new TriggersClient({ baseUrl: api.url, apiKey: API_KEY });
    await client.createSubscription({ id: 'late', url: `${sink.url}/late`, event_types: ['late.*'] });
    const port = await freePort();
    const err = collect();
    const exit = runDispatchCommand(api.config, {
      once: false,
      apiUrl: `http://127.0.0.1:${port}`,
      err: err.stream,
      reconnect: { firstMs: 50, maxMs: 200 },
    });
    await until(() => warnings(err.text()).length >= 4);
    const seen = warnings(err.text());
    assert.deepEqual(
      seen.slice(0, 4).map((line) => line.retry_in_ms),
      [50, 100, 200, 200],
      'doubling waits, capped',
    );
    assert.match(seen[0]?.reason ?? '', /cannot reach the API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    const late = await forward(port, Number(new URL(api.url).port));
    try {
      await client.sendEvent({ type: 'late.event', source: 'test', payload: {} });
      await sink.waitFor(1, { path: '/late', timeoutMs: 5_000 });
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await exit, 0);
    } finally {
      late.close();
      await client.deleteSubscription('late');
      await client.close();
    }
  });

  it('stops at SIGTERM while waiting, exit code 0', async () => {
    const err = collect();
    const exit = runDispatchCommand(api.config, {
      once: false,
      apiUrl: `http://127.0.0.1:${await freePort()}`,
      err: err.stream,
      reconnect: { firstMs: 60_000, maxMs: 60_000 },
    });
    await until(() => warnings(err.text()).length >= 1);
    const stopping = Date.now();
    process.emit('SIGTERM', 'SIGTERM');
    assert.equal(await exit, 0);
    assert.ok(Date.now() - stopping < 2_000, 'does not sit out the wait');
  });

  it('a wrong API key is not worth waiting for: exit code 1 at once', async () => {
    const err = collect();
    const code = await runDispatchCommand(
      { ...api.config, apiKey: 'a-wrong-api-key-123' },
      { once: false, apiUrl: api.url, err: err.stream, reconnect: { firstMs: 50, maxMs: 50 } },
    );
    assert.equal(code, 1);
    assert.match(err.text(), /triggers dispatch: the API at .* refused the API key/);
    assert.equal(warnings(err.text()).length, 0);
  });

  it('a private target the API server allows is refused here unless this process allows it too; it says so once', async () => {
    const client = new TriggersClient({ baseUrl: api.url, apiKey: API_KEY });
    await client.createSubscription({ id: 'private', url: `${sink.url}/private`, event_types: ['private.*'] });
    try {
      const sent = await client.sendEvents([
        { type: 'private.event', source: 'test', payload: { n: 1 } },
        { type: 'private.event', source: 'test', payload: { n: 2 } },
      ]);
      const err = collect();
      const own = { ...api.config, allowPrivateTargets: false, webhookUrl: null };
      const exit = runDispatchCommand(own, { once: false, apiUrl: api.url, err: err.stream });
      const tried = async (id: string) =>
        ((await client.getEvent(id)).deliveries.find((d) => d.subscription_id === 'private')?.attempts.length ?? 0) > 0;
      await until(() => err.text().includes('(Shown once.)'));
      for (const { id } of sent) {
        for (let i = 0; i < 250 && !(await tried(id)); i++) await sleep(20);
        assert.ok(await tried(id), 'each delivery was attempted and refused');
      }
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await exit, 0);
      const notices = err
        .text()
        .split('\n')
        .filter((line) => line.startsWith('triggers dispatch: refused to connect'));
      assert.equal(notices.length, 1, `two refused attempts, one notice:\n${err.text()}`);
      assert.match(
        notices[0] as string,
        /subscription private\)\. .*TRIGGERS_WEBHOOK_URL set to that URL, or TRIGGERS_ALLOW_PRIVATE_TARGETS=true/,
      );
      assert.equal(sink.requestsTo('/private').length, 0);

      // The same URL as this process's own TRIGGERS_WEBHOOK_URL is trusted: the retries get through.
      const trusting = runDispatchCommand(
        { ...own, webhookUrl: `${sink.url}/private` },
        { once: false, apiUrl: api.url, err: collect().stream },
      );
      await sink.waitFor(1, { path: '/private', timeoutMs: 5_000 });
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await trusting, 0);
    } finally {
      await client.deleteSubscription('private');
      await client.close();
    }
  });

  it('as a process: warns on stderr while the API is away and exits 0 on SIGTERM; --once fails fast in one line', async () => {
    const env = { TRIGGERS_API_KEY: API_KEY };
    const absent = `http://127.0.0.1:${await freePort()}`;
    const [daemon, once] = [
      runCli(['dispatch', '--api', absent], freshDir(), env),
      runCli(['dispatch', '--once', '--api', absent], freshDir(), env),
    ];
    assert.equal(await once.exited, 1);
    assert.equal(once.stderr(), `triggers dispatch: cannot reach the API at ${absent}: ECONNREFUSED\n`);
    await until(() => warnings(daemon.stderr()).length >= 2, 20_000);
    assert.equal(daemon.child.exitCode, null, 'still running');
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.doesNotMatch(daemon.stderr(), /^\s+at /m);
  });
});
