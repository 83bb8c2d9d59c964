/**
 * getEvent(db, event_id) → the event, its overall status, and every delivery with its attempts.
 * deleteEvent(tx, event_id) → whether it existed; erases the event, its payload, deliveries and
 * attempts (a GDPR erasure), in the caller's transaction.
 */
import type { EventWithDeliveries } from '../../../core/types.js';
import type { Tx } from '../groupCommit.js';
import { type Db, prepared } from '../prepared.js';
import { type AttemptRow, type DeliveryRow, deliveryColumns, type EventRow, toAttempt, toDelivery, toEvent } from '../rows.js';
import { eventStatus } from './eventStatus.js';

const EVENT = 'SELECT id, type, source, payload, created_at FROM events WHERE id = ?';
// Deliveries are indexed by (subscription_id, event_id): one probe per subscription.
const DELIVERIES = `SELECT ${deliveryColumns('d')} FROM deliveries d
  WHERE d.subscription_id IN (SELECT id FROM subscriptions) AND d.event_id = ? ORDER BY d.id`;
const ATTEMPTS = 'SELECT n, at, duration_ms, status_code, error, response FROM attempts WHERE delivery_id = ? ORDER BY n';

export function getEvent(db: Db, id: string): EventWithDeliveries | null {
  const row = prepared(db, EVENT).get(id) as EventRow | undefined;
  if (row === undefined) return null;
  const deliveries = (prepared(db, DELIVERIES).all(id) as DeliveryRow[]).map((delivery) => ({
    ...toDelivery(delivery),
    attempts: (prepared(db, ATTEMPTS).all(delivery.id) as AttemptRow[]).map(toAttempt),
  }));
  return { ...toEvent(row), status: eventStatus(deliveries), deliveries };
}

const OF_EVENT = 'subscription_id IN (SELECT id FROM subscriptions) AND event_id = ?';
const DELETE_ATTEMPTS = `DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE ${OF_EVENT})`;
const DELETE_DELIVERIES = `DELETE FROM deliveries WHERE ${OF_EVENT}`;
const DELETE_EVENT = 'DELETE FROM events WHERE id = ?';

export function deleteEvent(tx: Tx, id: string): boolean {
  prepared(tx.db, DELETE_ATTEMPTS).run(id);
  prepared(tx.db, DELETE_DELIVERIES).run(id);
  return prepared(tx.db, DELETE_EVENT).run(id).changes > 0;
}
