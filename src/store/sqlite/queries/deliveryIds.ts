/**
 * nextDeliveryId(db) → a delivery id never used before in this database
 *
 * Starts above both the highest id stored and the highest id ever deleted (migration 007), then
 * counts up in memory: one process writes a SQLite file, through one writer. An id taken by a
 * transaction that rolled back is simply skipped.
 */
import { type Db, prepared } from '../prepared.js';

const HIGHEST = `SELECT max(
  COALESCE((SELECT max(id) FROM deliveries), 0),
  COALESCE((SELECT value FROM counters WHERE name = 'deliveries_high_water'), 0)) AS highest`;

const next = new WeakMap<Db, { id: number }>();

export function nextDeliveryId(db: Db): number {
  let state = next.get(db);
  if (state === undefined) {
    const { highest } = prepared(db, HIGHEST).get() as { highest: number };
    state = { id: highest + 1 };
    next.set(db, state);
  }
  return state.id++;
}
