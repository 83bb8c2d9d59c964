/**
 * purge(db, before, limit, now) → rows removed (events + received requests + idempotency keys)
 *   EVENTS    $1 before, $2 limit — the oldest events created before $1, with their deliveries
 *             (index deliveries_event) and attempts; rows locked by a writer are skipped and
 *             left for the next pass
 *   RECEIVED  $1 before, $2 limit — received requests stored before $1; each receiver's count
 *             and last arrival are recomputed for the names touched
 *   KEYS      $1 expiry (now − IDEMPOTENCY_TTL_MS), $2 limit
 * Each statement is its own short transaction, so appends never wait long behind retention.
 */
import { IDEMPOTENCY_TTL_MS } from '../../../core/types.js';
import type { Queryable } from '../pool.js';

const EVENTS = `WITH old AS (
    SELECT id FROM events WHERE created_at < $1 ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ), deliveries_gone AS (
    DELETE FROM deliveries WHERE event_id IN (SELECT id FROM old) RETURNING id
  ), attempts_gone AS (
    DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries_gone)
  ), events_gone AS (
    DELETE FROM events WHERE id IN (SELECT id FROM old) RETURNING 1
  )
  SELECT count(*)::int AS n FROM events_gone`;
const RECEIVED = `WITH gone AS (
    DELETE FROM received_requests WHERE id IN
      (SELECT id FROM received_requests WHERE received_at < $1 ORDER BY received_at LIMIT $2)
    RETURNING name
  ), names AS (SELECT DISTINCT name FROM gone)
  SELECT (SELECT count(*)::int FROM gone) AS n, array(SELECT name FROM names) AS names`;
const RECOUNT = `UPDATE receivers v SET
    count = (SELECT count(*) FROM received_requests r WHERE r.name = v.name),
    last_received_at = (SELECT max(received_at) FROM received_requests r WHERE r.name = v.name)
  WHERE v.name = ANY($1::text[])`;
const KEYS = `WITH gone AS (
    DELETE FROM idempotency WHERE key IN (SELECT key FROM idempotency WHERE created_at <= $1 ORDER BY created_at LIMIT $2)
    RETURNING 1
  ) SELECT count(*)::int AS n FROM gone`;

export async function purge(db: Queryable, before: number, limit: number, now: number): Promise<number> {
  if (limit <= 0) return 0;
  const events = await db.query<{ n: number }>(EVENTS, [before, limit]);
  const received = await db.query<{ n: number; names: string[] }>(RECEIVED, [before, limit]);
  const names = received.rows[0]?.names ?? [];
  if (names.length > 0) await db.query(RECOUNT, [names]);
  const keys = await db.query<{ n: number }>(KEYS, [now - IDEMPOTENCY_TTL_MS, limit]);
  return (events.rows[0]?.n ?? 0) + (received.rows[0]?.n ?? 0) + (keys.rows[0]?.n ?? 0);
}
