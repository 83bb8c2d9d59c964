/**
 * 005 — status changes are counted by the writes that make them, not by a trigger.
 *
 * The trigger ran one UPDATE of subscription_counts per delivery whose status changed: one per
 * settled delivery, on the hottest path there is. Settle, ack and replay now add to named
 * counters (`pending:<subscription>`, `failed:<subscription>`) and the group commit writes the
 * sums once per batch, as appends already did (queries/counters.ts). Deletes keep their trigger.
 */
export const sql = `
DROP TRIGGER deliveries_count_update;
`;
