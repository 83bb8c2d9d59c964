/**
 * The ingest baseline: a bare node:http server answering POST /events the way Triggers does —
 * read the body, parse the JSON, check the three fields, answer 201 with a small JSON body — but
 * storing nothing. Triggers' ingest figure is reported as a ratio of this one. POST /events/batch
 * does the same for `{ "events": [...] }`, answering with one entry per event.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let parsed: { type?: unknown; source?: unknown; payload?: unknown; events?: unknown };
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_json"}}');
      return;
    }
    const list =
      request.url === '/events/batch' && Array.isArray(parsed?.events) ? (parsed.events as (typeof parsed)[]) : [parsed];
    const valid = (event: typeof parsed) =>
      event !== null &&
      typeof event === 'object' &&
      typeof event.type === 'string' &&
      typeof event.source === 'string' &&
      typeof event.payload === 'object';
    if (!list.every(valid)) {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_request"}}');
      return;
    }
    const createdAt = new Date().toISOString();
    const answers = list.map((event) => ({
      id: `evt_${randomUUID()}`,
      type: event.type,
      source: event.source,
      created_at: createdAt,
      status: 'pending',
    }));
    const body = JSON.stringify(request.url === '/events/batch' ? { events: answers } : answers[0]);
    response.writeHead(201, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
