/**
 * releaseLeases(client, leases, now) → { released ids, their subscriptions }
 *   $1 delivery ids, $2 their lease tokens (unnest, in id order), $3 now
 *
 * Gives leases back without an attempt: each delivery still held (pending, same token) is due
 * at once, its lease dropped. The caller wakes the subscriptions' consumers.
 */
import type { Queryable } from '../pool.js';
import { parseDeliveryId } from '../rows.js';

const RELEASE = `UPDATE deliveries d SET next_attempt_at = $3, lease_token = NULL, updated_at = $3
  FROM unnest($1::bigint[], $2::text[]) AS u(id, token)
  WHERE d.id = u.id AND d.status = 'pending' AND d.lease_token = u.token
  RETURNING d.id, d.subscription_id`;

export async function releaseLeases(
  client: Queryable,
  leases: readonly { delivery_id: string; lease_token: string }[],
  now: number,
): Promise<{ released: string[]; subscriptions: Set<string> }> {
  const parsed = leases
    .map((lease) => ({ id: parseDeliveryId(lease.delivery_id), token: lease.lease_token }))
    .filter((lease): lease is { id: number; token: string } => lease.id !== null)
    // Rows locked in id order, like every multi-row writer here, so writers cannot deadlock.
    .sort((a, b) => a.id - b.id);
  if (parsed.length === 0) return { released: [], subscriptions: new Set() };
  const { rows } = await client.query<{ id: string | number; subscription_id: string }>(RELEASE, [
    parsed.map((l) => l.id),
    parsed.map((l) => l.token),
    now,
  ]);
  const held = new Set(rows.map((row) => Number(row.id)));
  return {
    released: leases.filter((lease) => held.has(parseDeliveryId(lease.delivery_id) ?? -1)).map((lease) => lease.delivery_id),
    subscriptions: new Set(rows.map((row) => row.subscription_id)),
  };
}
