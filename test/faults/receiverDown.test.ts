/**
 * A receiver that is down (connection refused: nothing listens on its port) for longer than the
 * fast retries (200 ms, 400 ms, 800 ms), then comes back on the same port. Every accepted event
 * keeps its delivery pending through the outage (persisted retries, no dead-lettering while the
 * schedule lasts) and arrives once the receiver is back.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { after, describe, it } from 'node:test';
import { freePort, freshDir, type Server, startServe } from '../support/process.js';
import { API_KEY, event, post, report, SKIP, sleep } from './support.js';

const EVENTS = 50;
const DOWN_MS = 4_000;
let server: Server | null = null;
let receiver: HttpServer | null = null;

after(async () => {
  await server?.kill('SIGKILL');
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

describe('a receiver down for longer than the fast retries', { skip: SKIP, timeout: 60_000 }, () => {
  it('delivers everything once it is back', async () => {
    const port = await freePort();
    server = await startServe(freshDir(), {
      TRIGGERS_API_KEY: API_KEY,
      TRIGGERS_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      TRIGGERS_RETRY_SCHEDULE: '200ms,400ms,800ms,3s,3s,3s,3s,3s',
      TRIGGERS_LOG_LEVEL: 'fatal',
    });
    const downAt = Date.now();
    const ids: string[] = [];
    let sent = 0;
    for (let n = 0; n < EVENTS; n++) {
      sent++;
      const response = await post(`${server.url}/events`, event(n));
      if (response.status === 201) ids.push(((await response.json()) as { id: string }).id);
    }
    assert.equal(ids.length, EVENTS);
    // Down for at least DOWN_MS and until every event has spent its fast retries (1 + 3 attempts)
    // on refused connections; bounded.
    type Detail = { deliveries: { status: string; attempts: { error: string | null }[] }[] };
    let during: Detail[] = [];
    let attemptsDuring: number[] = [];
    const giveUp = Date.now() + 20_000;
    for (;;) {
      during = await Promise.all(
        ids.map(async (id) => (await (await fetch(`${server!.url}/events/${id}`, { headers: { 'x-api-key': API_KEY } })).json()) as Detail),
      );
      attemptsDuring = during.map((d) => d.deliveries[0]!.attempts.length);
      if (Math.min(...attemptsDuring) >= 4 && Date.now() - downAt >= DOWN_MS) break;
      assert.ok(Date.now() < giveUp, `the fast retries were not spent in 20 s (fewest attempts: ${Math.min(...attemptsDuring)})`);
      await sleep(200);
    }
    assert.ok(during.every((d) => d.deliveries[0]!.status === 'pending'), 'nothing dead-lettered while the schedule lasts');
    assert.ok(during.every((d) => d.deliveries[0]!.attempts.every((a) => a.error !== null)), 'every attempt so far failed to connect');
    const downMs = Date.now() - downAt;

    // Back, on the same port.
    const arrived: IncomingHttpHeaders[] = [];
    receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        arrived.push(request.headers);
        response.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver!.listen(port, '127.0.0.1', resolve));
    const backAt = Date.now();
    const deadline = backAt + 20_000;
    let seen = new Set<string>();
    while (Date.now() < deadline) {
      seen = new Set(arrived.map((headers) => headers['webhook-id'] as string));
      if (ids.every((id) => seen.has(id))) break;
      await sleep(100);
    }
    const missing = ids.filter((id) => !seen.has(id));
    report('receiver down (connection refused) past the fast retries, then back', {
      down_ms: downMs,
      sent,
      accepted: ids.length,
      delivered: ids.length - missing.length,
      duplicates: arrived.length - seen.size,
      attempts_while_down_min: Math.min(...attemptsDuring),
      all_arrived_ms_after_back: Date.now() - backAt,
    });
    assert.deepEqual(missing, [], `${missing.length} events never arrived`);
  });
});
