/**
 * stats(db) → the event count and, per subscription, pending / failed counts and the creation
 * time of the oldest pending delivery. Scraped every few seconds, so it never counts rows: the
 * counts are kept by triggers (migration 001) and the oldest pending is the first entry of the
 * inbox index (oldest event first).
 */
import type { StoreStats } from '../../store.js';
import { type Db, prepared } from '../prepared.js';

const EVENTS = "SELECT value FROM counters WHERE name = 'events'";
const SUBSCRIPTIONS = `SELECT s.id AS subscription_id, coalesce(c.pending, 0) AS pending, coalesce(c.failed, 0) AS failed,
    (SELECT d.created_at FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'
      ORDER BY d.event_id LIMIT 1) AS oldest_pending_at
  FROM subscriptions s LEFT JOIN subscription_counts c ON c.subscription_id = s.id
  ORDER BY s.created_at, s.id`;

export function stats(db: Db): StoreStats {
  const events = (prepared(db, EVENTS).pluck().get() as number | undefined) ?? 0;
  const subscriptions = prepared(db, SUBSCRIPTIONS).all() as StoreStats['subscriptions'];
  return { events, subscriptions };
}
