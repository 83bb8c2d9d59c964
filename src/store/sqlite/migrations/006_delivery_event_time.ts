/**
 * 006 — deliveries carry their event's creation time (`event_created_at`), as the PostgreSQL
 * schema does, so settling a delivery computes its latency from its own row instead of looking
 * the event up: one B-tree probe fewer per delivery on the hottest write there is. Rows stored
 * before this migration have NULL and fall back to the lookup (settleDeliveries.ts).
 */
export const sql = `
ALTER TABLE deliveries ADD COLUMN event_created_at INTEGER;
`;
