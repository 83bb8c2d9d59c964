/**
 * 007 — a delivery id is never handed out twice.
 *
 * `deliveries.id` is a plain INTEGER PRIMARY KEY, for which SQLite picks max(id) + 1: deleting
 * the newest deliveries (DELETE /events/{id}, a deleted subscription, retention) freed their ids
 * for the next event, and a consumer's late ack of a deleted event's delivery then settled a
 * different event's. Ids are now given by the store (queries/deliveryIds.ts) from above the
 * highest id ever used, which this trigger keeps in `counters` as rows are deleted.
 */
export const sql = `
INSERT INTO counters (name, value) VALUES ('deliveries_high_water', COALESCE((SELECT max(id) FROM deliveries), 0));

CREATE TRIGGER deliveries_high_water AFTER DELETE ON deliveries
  WHEN OLD.id > (SELECT value FROM counters WHERE name = 'deliveries_high_water')
BEGIN
  UPDATE counters SET value = OLD.id WHERE name = 'deliveries_high_water';
END;
`;
