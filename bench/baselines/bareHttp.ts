/**
 * The ingest baseline: a bare node:http server answering POST /events the way Triggers does —
 * read the body, parse the JSON, check the three fields, answer 201 with a small JSON body — but
 * storing nothing. Triggers' ingest figure is reported as a ratio of this one.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let event: { type?: unknown; source?: unknown; payload?: unknown };
    try {
      event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_json"}}');
      return;
    }
    if (typeof event.type !== 'string' || typeof event.source !== 'string' || typeof event.payload !== 'object') {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_request"}}');
      return;
    }
    const body = JSON.stringify({
      id: `evt_${randomUUID()}`,
      type: event.type,
      source: event.source,
      created_at: new Date().toISOString(),
      status: 'pending',
    });
    response.writeHead(201, { 'content-type': 'application/json; charset=utf-8' }).end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
