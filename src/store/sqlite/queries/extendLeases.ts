/**
 * extendLeases(tx, leases, lease_ms) → ids still held
 *   leases[i]   { delivery_id, lease_token } from a claim
 *   lease_ms    the new lease length, from now
 *
 * A lease is still held while the delivery is pending with the same token (even past its end,
 * as long as no one else claimed it since: a new claim replaces the token).
 */
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';

const EXTEND = `UPDATE deliveries SET next_attempt_at = ?
  WHERE id = ? AND status = 'pending' AND lease_token = ?`;

export function extendLeases(tx: Tx, leases: readonly { delivery_id: string; lease_token: string }[], leaseMs: number): string[] {
  const extend = prepared(tx.db, EXTEND);
  const held: string[] = [];
  for (const lease of leases) {
    const id = parseDeliveryId(lease.delivery_id);
    if (id === null) continue;
    if (extend.run(tx.now + leaseMs, id, lease.lease_token).changes === 1) held.push(lease.delivery_id);
  }
  return held;
}
