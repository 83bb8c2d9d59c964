/**
 * stats(db) → the event count and, per subscription, pending / failed counts and the creation
 * time of the oldest pending delivery (the first entry of the inbox index, oldest event first).
 *
 * Exact counts, by index-only scans of the partial indexes (pending and failed rows only, so
 * their cost follows the live backlog, not the history). SQLite keeps counters in triggers
 * instead; here a counter row would be one hot row every concurrent append in every process
 * had to lock until its commit, serialising ingest across the fleet.
 */
import type { StoreStats } from '../../store.js';
import type { Queryable } from '../pool.js';

const EVENTS = 'SELECT count(*) AS n FROM events';
const SUBSCRIPTIONS = `SELECT s.id AS subscription_id,
    (SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending') AS pending,
    (SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'failed') AS failed,
    (SELECT d.created_at FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'
      ORDER BY d.event_id LIMIT 1) AS oldest_pending_at
  FROM subscriptions s ORDER BY s.created_at, s.id`;

export async function stats(db: Queryable): Promise<StoreStats> {
  const events = (await db.query<{ n: number }>(EVENTS)).rows[0]?.n ?? 0;
  const subscriptions = (await db.query<StoreStats['subscriptions'][number]>(SUBSCRIPTIONS)).rows;
  return { events, subscriptions };
}
