/**
 * writeCounts(db, counts) — the counters stats() reads, for the writes of one group commit.
 *   'events'               → counters.value for name 'events'
 *   'pending:<sub id>'     → subscription_counts.pending of that subscription
 *   'failed:<sub id>'      → subscription_counts.failed of that subscription
 *
 * Appends and status changes are the hot path, so they do not count row by row (a trigger
 * would): each job adds to named counters, and the group commit writes the sums once per batch.
 * Deletes are counted by triggers (migration 001).
 */
import type { Tx } from '../groupCommit.js';
import { type Db, prepared } from '../prepared.js';

export const EVENTS_COUNTER = 'events';
const PENDING = 'pending:';
const FAILED = 'failed:';
export const pendingCounter = (subscriptionId: string): string => PENDING + subscriptionId;
export const failedCounter = (subscriptionId: string): string => FAILED + subscriptionId;

/** Counts one delivery's status change (no-op when the status stays). */
export function countStatusChange(tx: Tx, subscriptionId: string, from: string, to: string): void {
  if (from === to) return;
  if (from === 'pending') tx.count(PENDING + subscriptionId, -1);
  else if (from === 'failed') tx.count(FAILED + subscriptionId, -1);
  if (to === 'pending') tx.count(PENDING + subscriptionId, 1);
  else if (to === 'failed') tx.count(FAILED + subscriptionId, 1);
}

const ADD_EVENTS = "UPDATE counters SET value = value + ? WHERE name = 'events'";
const ADD_PENDING = 'UPDATE subscription_counts SET pending = pending + ? WHERE subscription_id = ?';
const ADD_FAILED = 'UPDATE subscription_counts SET failed = failed + ? WHERE subscription_id = ?';

export function writeCounts(db: Db, counts: ReadonlyMap<string, number>): void {
  for (const [name, delta] of counts) {
    if (name === EVENTS_COUNTER) prepared(db, ADD_EVENTS).run(delta);
    else if (delta === 0) continue;
    else if (name.startsWith(PENDING)) prepared(db, ADD_PENDING).run(delta, name.slice(PENDING.length));
    else if (name.startsWith(FAILED)) prepared(db, ADD_FAILED).run(delta, name.slice(FAILED.length));
  }
}
