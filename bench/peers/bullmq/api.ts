/**
 * The peer's ingest side, written the way a Node user would: a bare node:http server that reads
 * POST /events, checks the three fields, enqueues one BullMQ job (Redis) per event and answers
 * 201 once Redis has acknowledged the job. Nothing here touches a disk: what "accepted" means is
 * whatever the Redis server is configured to keep (on the benchmark machine: nothing, see
 * bench/peer.ts). Queue name and Redis address come from PEER_QUEUE / PEER_REDIS_URL.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { connection, JOB_OPTIONS, QUEUE } from './common.js';

const queue = new Queue(QUEUE, { connection: connection(), defaultJobOptions: JOB_OPTIONS });

const server = createServer((request, response) => {
  if (request.method !== 'POST' || request.url !== '/events') {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found"}}');
    return;
  }
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
    if (typeof event.type !== 'string' || typeof event.source !== 'string' || typeof event.payload !== 'object' || event.payload === null) {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"invalid_request"}}');
      return;
    }
    const envelope = { id: `evt_${randomUUID()}`, type: event.type, source: event.source, created_at: new Date().toISOString(), payload: event.payload };
    queue.add(envelope.type, envelope).then(
      () => {
        response
          .writeHead(201, { 'content-type': 'application/json; charset=utf-8' })
          .end(JSON.stringify({ id: envelope.id, type: envelope.type, source: envelope.source, created_at: envelope.created_at, status: 'pending' }));
      },
      () => {
        response.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"unavailable"}}');
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PEER_PORT ?? 0), '127.0.0.1', () => {
  const address = server.address() as { port: number };
  process.stdout.write(`LISTENING http://127.0.0.1:${address.port}\n`);
});
process.on('SIGTERM', () => server.close(() => void queue.close().then(() => process.exit(0))));
