/**
 * writeCounts(db, counts) — the counters stats() reads, for the inserts of one group commit.
 *   'events'               → counters.value for name 'events'
 *   'pending:<sub id>'     → subscription_counts.pending of that subscription
 *
 * Inserts are the hot path, so appends do not count row by row (a trigger would): each append
 * job adds to a named counter, and the group commit writes the sums once per batch. Status
 * changes and deletes are counted by triggers (migration 001).
 */
import { type Db, prepared } from '../prepared.js';

export const EVENTS_COUNTER = 'events';
const PENDING = 'pending:';
export const pendingCounter = (subscriptionId: string): string => PENDING + subscriptionId;

const ADD_EVENTS = "UPDATE counters SET value = value + ? WHERE name = 'events'";
const ADD_PENDING = 'UPDATE subscription_counts SET pending = pending + ? WHERE subscription_id = ?';

export function writeCounts(db: Db, counts: ReadonlyMap<string, number>): void {
  for (const [name, delta] of counts) {
    if (name === EVENTS_COUNTER) prepared(db, ADD_EVENTS).run(delta);
    else if (name.startsWith(PENDING)) prepared(db, ADD_PENDING).run(delta, name.slice(PENDING.length));
  }
}
