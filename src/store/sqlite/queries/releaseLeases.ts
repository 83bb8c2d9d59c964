/**
 * releaseLeases(tx, leases) → ids released
 *   leases[i]   { delivery_id, lease_token } from a claim
 *
 * Gives leases back without an attempt: each delivery still held (pending, same token) is due
 * at once, its lease dropped, and its subscription's consumers are woken at COMMIT.
 */
import type { Tx } from '../groupCommit.js';
import { prepared } from '../prepared.js';
import { parseDeliveryId } from '../rows.js';

const RELEASE = `UPDATE deliveries SET next_attempt_at = ?, lease_token = NULL, updated_at = ?
  WHERE id = ? AND status = 'pending' AND lease_token = ? RETURNING subscription_id`;

export function releaseLeases(tx: Tx, leases: readonly { delivery_id: string; lease_token: string }[]): string[] {
  const release = prepared(tx.db, RELEASE);
  const released: string[] = [];
  const woken = new Set<string>();
  for (const lease of leases) {
    const id = parseDeliveryId(lease.delivery_id);
    if (id === null) continue;
    const row = release.get(tx.now, tx.now, id, lease.lease_token) as { subscription_id: string } | undefined;
    if (row === undefined) continue;
    released.push(lease.delivery_id);
    woken.add(row.subscription_id);
  }
  tx.notify(woken);
  return released;
}
