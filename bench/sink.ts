/**
 * The webhook sink every delivery benchmark posts to: answers 200 at once, counts requests and,
 * when an event payload carries `sent_at` (ms, with fractions), records send → receive latency.
 * `GET /stats` reports; `POST /reset` clears. Runs in its own process.
 */
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

let count = 0;
let firstAt = 0;
let lastAt = 0;
let latencies: number[] = [];
const ids = new Set<string>();
let duplicates = 0;
const now = (): number => performance.timeOrigin + performance.now();

const server = createServer((request, response) => {
  if (request.method === 'GET' && request.url === '/stats') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ count, first_at: firstAt, last_at: lastAt, duplicates, latencies }));
    return;
  }
  if (request.method === 'POST' && request.url === '/reset') {
    count = 0;
    firstAt = 0;
    lastAt = 0;
    latencies = [];
    duplicates = 0;
    ids.clear();
    response.writeHead(204).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const at = now();
    count++;
    if (firstAt === 0) firstAt = at;
    lastAt = at;
    const id = request.headers['webhook-id'];
    if (typeof id === 'string') {
      if (ids.has(id)) duplicates++;
      else ids.add(id);
    }
    const body = Buffer.concat(chunks);
    if (body.includes('"sent_at"')) {
      try {
        const sentAt = (JSON.parse(body.toString('utf8')) as { payload?: { sent_at?: number } }).payload?.sent_at;
        if (typeof sentAt === 'number') latencies.push(at - sentAt);
      } catch {
        // not JSON: counted, no latency
      }
    }
    response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
