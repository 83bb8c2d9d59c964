/** What the peer's API and worker share: the Redis connection, the queue name, the job options. */
import type { ConnectionOptions, JobsOptions } from 'bullmq';

export const QUEUE = process.env.PEER_QUEUE ?? 'peer-events';

export function connection(): ConnectionOptions {
  const url = new URL(process.env.PEER_REDIS_URL ?? 'redis://127.0.0.1:6379');
  // BullMQ requires maxRetriesPerRequest: null on the worker's blocking connection.
  return { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
}

/**
 * Retries as Triggers' fast schedule starts (1 s, 2 s, 4 s, … doubling), twelve attempts; finished
 * jobs are dropped so Redis does not grow without bound, failed ones are kept for inspection.
 */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: 10_000,
};
