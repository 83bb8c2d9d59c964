/**
 * An event's overall status, derived from its deliveries (DESIGN): `failed` once any delivery
 * is dead-lettered, else `pending` while any is pending, else `delivered` (an event with no
 * deliveries counts as delivered). Each probe is one lookup per subscription in the
 * (subscription_id, event_id) index.
 */
import type { DeliveryStatus, EventStatus } from '../../../core/types.js';

export const EVENT_STATUS_SQL = (eventId: string): string => `CASE
  WHEN EXISTS (SELECT 1 FROM deliveries s WHERE s.subscription_id IN (SELECT id FROM subscriptions)
    AND s.event_id = ${eventId} AND s.status = 'failed') THEN 'failed'
  WHEN EXISTS (SELECT 1 FROM deliveries s WHERE s.subscription_id IN (SELECT id FROM subscriptions)
    AND s.event_id = ${eventId} AND s.status = 'pending') THEN 'pending'
  ELSE 'delivered' END`;

export function eventStatus(deliveries: readonly { status: DeliveryStatus }[]): EventStatus {
  if (deliveries.some((delivery) => delivery.status === 'failed')) return 'failed';
  if (deliveries.some((delivery) => delivery.status === 'pending')) return 'pending';
  return 'delivered';
}
