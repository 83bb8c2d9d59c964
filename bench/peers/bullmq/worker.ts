/**
 * The peer's delivery side: a BullMQ Worker that POSTs each job to the webhook URL (PEER_TARGET)
 * with undici, signed like a Standard Webhooks sender (webhook-id / -timestamp / -signature over
 * "id.timestamp.body"); a non-2xx answer or a network error throws, and BullMQ retries the job with
 * the attempts/backoff in common.ts. Concurrency: PEER_CONCURRENCY (default 64).
 */
import { createHmac } from 'node:crypto';
import { Worker } from 'bullmq';
import { Agent, request } from 'undici';
import { connection, QUEUE } from './common.js';

const target = process.env.PEER_TARGET;
if (!target) throw new Error('PEER_TARGET (the webhook URL) is required');
const concurrency = Number(process.env.PEER_CONCURRENCY ?? 64);
const secret = Buffer.from('peer-bench-signing-secret');
const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });

interface Envelope {
  id: string;
  type: string;
  source: string;
  created_at: string;
  payload: unknown;
}

const worker = new Worker<Envelope>(
  QUEUE,
  async (job) => {
    const body = JSON.stringify(job.data);
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = createHmac('sha256', secret).update(`${job.data.id}.${timestamp}.${body}`).digest('base64');
    const response = await request(target, {
      method: 'POST',
      dispatcher: agent,
      body,
      headersTimeout: 15_000,
      bodyTimeout: 15_000,
      headers: {
        'content-type': 'application/json',
        'webhook-id': job.data.id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': `v1,${signature}`,
      },
    });
    await response.body.dump();
    if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`webhook answered ${response.statusCode}`);
  },
  { connection: connection(), concurrency },
);
worker.on('error', () => {});
await worker.waitUntilReady();
process.stdout.write('LISTENING worker\n');
process.on('SIGTERM', () => void worker.close().then(() => agent.close()).then(() => process.exit(0)));
