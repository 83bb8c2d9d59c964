/**
 * getEvent(db, event_id) → the event, its overall status, and every delivery with its attempts
 *   EVENT $1 id · DELIVERIES (with their attempts) $1 event_id
 * deleteEvent(db, event_id) → whether it existed; erases the event, its payload, deliveries and
 * attempts (a GDPR erasure) in one statement.
 *   DELETE $1 id
 *
 * An event's status (DESIGN): `failed` once any delivery is dead-lettered, else `pending` while
 * any is pending, else `delivered` (an event with no deliveries counts as delivered).
 */
import type { DeliveryStatus, EventStatus, EventWithDeliveries } from '../../../core/types.js';
import type { Queryable } from '../pool.js';
import { type AttemptRow, type DeliveryRow, deliveryColumns, type EventRow, toAttempt, toDelivery, toEvent } from '../rows.js';

const EVENT = 'SELECT id, type, source, payload, created_at FROM events WHERE id = $1';
// One statement, so deliveries and their attempts come from one snapshot.
const DELIVERIES = `SELECT ${deliveryColumns('d')},
    coalesce((SELECT json_agg(json_build_object('n', a.n, 'at', a.at, 'duration_ms', a.duration_ms,
        'status_code', a.status_code, 'error', a.error, 'response', a.response) ORDER BY a.n)
      FROM attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
  FROM deliveries d WHERE d.event_id = $1 ORDER BY d.id`;

export const EVENT_STATUS_SQL = (eventId: string): string => `CASE
  WHEN EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = ${eventId} AND s.status = 'failed') THEN 'failed'
  WHEN EXISTS (SELECT 1 FROM deliveries s WHERE s.event_id = ${eventId} AND s.status = 'pending') THEN 'pending'
  ELSE 'delivered' END`;

export function eventStatus(deliveries: readonly { status: DeliveryStatus }[]): EventStatus {
  if (deliveries.some((delivery) => delivery.status === 'failed')) return 'failed';
  if (deliveries.some((delivery) => delivery.status === 'pending')) return 'pending';
  return 'delivered';
}

export async function getEvent(db: Queryable, id: string): Promise<EventWithDeliveries | null> {
  const event = (await db.query<EventRow>(EVENT, [id])).rows[0];
  if (event === undefined) return null;
  const rows = (await db.query<DeliveryRow & { attempts: AttemptRow[] }>(DELIVERIES, [id])).rows;
  const deliveries = rows.map((row) => ({ ...toDelivery(row), attempts: row.attempts.map(toAttempt) }));
  return { ...toEvent(event), status: eventStatus(deliveries), deliveries };
}

const DELETE = `WITH deliveries_gone AS (DELETE FROM deliveries WHERE event_id = $1 RETURNING id),
    attempts_gone AS (DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries_gone)),
    event_gone AS (DELETE FROM events WHERE id = $1 RETURNING id)
  SELECT count(*) AS n FROM event_gone`;

export async function deleteEvent(db: Queryable, id: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(DELETE, [id]);
  return (rows[0]?.n ?? 0) > 0;
}
