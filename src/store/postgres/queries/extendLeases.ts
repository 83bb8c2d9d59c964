/**
 * extendLeases(db, leases, lease_ms, now) → ids still held
 *   $1 delivery ids, $2 their lease tokens (unnest, in id order), $3 the new lease end
 *
 * A lease is still held while the delivery is pending with the same token (even past its end,
 * as long as no one else claimed it since: a new claim replaces the token).
 */
import type { Queryable } from '../pool.js';
import { parseDeliveryId } from '../rows.js';

const EXTEND = `UPDATE deliveries d SET next_attempt_at = $3
  FROM unnest($1::bigint[], $2::text[]) AS u(id, token)
  WHERE d.id = u.id AND d.status = 'pending' AND d.lease_token = u.token
  RETURNING d.id`;

export async function extendLeases(
  db: Queryable,
  leases: readonly { delivery_id: string; lease_token: string }[],
  leaseMs: number,
  now: number,
): Promise<string[]> {
  const parsed = leases
    .map((lease) => ({ id: parseDeliveryId(lease.delivery_id), token: lease.lease_token, original: lease.delivery_id }))
    .filter((lease): lease is { id: number; token: string; original: string } => lease.id !== null)
    // Rows locked in id order, like every multi-row writer here, so writers cannot deadlock.
    .sort((a, b) => a.id - b.id);
  if (parsed.length === 0) return [];
  const { rows } = await db.query<{ id: number }>(EXTEND, [parsed.map((l) => l.id), parsed.map((l) => l.token), now + leaseMs]);
  const held = new Set(rows.map((row) => row.id));
  return leases.filter((lease) => held.has(parseDeliveryId(lease.delivery_id) ?? -1)).map((lease) => lease.delivery_id);
}
