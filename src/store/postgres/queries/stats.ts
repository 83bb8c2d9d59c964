/**
 * stats(db, schema) → the event count and, per subscription, pending / failed counts and the
 * creation time of the oldest pending delivery (the first entry of the inbox index).
 *
 *   FOLD    moves every delta row into `counters`, under a try-lock so one process folds at a
 *           time ($1 schema); the others skip, their reads still exact
 *   TOTALS  counters + the deltas not folded yet, in one statement (one snapshot)
 *
 * Counts come from the counters of migration 003, so a scrape costs the same whatever the
 * backlog. `foldCounters` is also run on a timer by every store, so deltas never pile up when
 * nobody reads stats.
 */
import type { StoreStats } from '../../store.js';
import type { Database } from '../pool.js';

const TRY_LOCK = `SELECT pg_try_advisory_xact_lock(hashtext('triggers.counters:' || $1::text)) AS locked`;
const FOLD = `WITH moved AS (DELETE FROM counter_deltas RETURNING subscription_id, events, pending, failed)
  INSERT INTO counters (subscription_id, events, pending, failed)
  SELECT subscription_id, sum(events), sum(pending), sum(failed) FROM moved GROUP BY subscription_id ORDER BY subscription_id
  ON CONFLICT (subscription_id) DO UPDATE SET events = counters.events + excluded.events,
    pending = counters.pending + excluded.pending, failed = counters.failed + excluded.failed`;
const TOTALS = `WITH totals AS (
    SELECT subscription_id, sum(events) AS events, sum(pending) AS pending, sum(failed) AS failed
      FROM (SELECT subscription_id, events, pending, failed FROM counters
            UNION ALL SELECT subscription_id, events, pending, failed FROM counter_deltas) AS c
     GROUP BY subscription_id
  )
  SELECT coalesce((SELECT events FROM totals WHERE subscription_id = ''), 0) AS events,
    (SELECT coalesce(json_agg(json_build_object(
        'subscription_id', s.id,
        'pending', coalesce(t.pending, 0),
        'failed', coalesce(t.failed, 0),
        'oldest_pending_at', (SELECT d.created_at FROM deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending'
                              ORDER BY d.event_id LIMIT 1)
      ) ORDER BY s.created_at, s.id), '[]')
      FROM subscriptions s LEFT JOIN totals t ON t.subscription_id = s.id) AS subscriptions`;

export async function foldCounters(db: Database): Promise<void> {
  await db.transaction(async (client) => {
    const { rows } = await client.query<{ locked: boolean }>(TRY_LOCK, [db.schema]);
    if (rows[0]?.locked === true) await client.query(FOLD);
  });
}

export async function stats(db: Database): Promise<StoreStats> {
  await foldCounters(db);
  const { rows } = await db.query<{ events: number | string; subscriptions: StoreStats['subscriptions'] }>(TOTALS);
  const row = rows[0];
  // sum(bigint) is numeric, which node-postgres hands over as a string.
  return { events: Number(row?.events ?? 0), subscriptions: row?.subscriptions ?? [] };
}
