/**
 * 003 — counters for stats(), so gauges cost the same at ten rows or ten million.
 *
 * Counting at scrape time is an index scan as long as the backlog; a single counter row would
 * be one hot row every append in every process had to lock until its commit. Instead each
 * writing statement appends its net change to `counter_deltas` (statement-level triggers over
 * transition tables: one small insert per statement, never per row, and no row shared between
 * writers), and stats() folds the deltas into `counters` now and then (queries/stats.ts).
 * Totals are `counters` + whatever `counter_deltas` still holds, read in one statement.
 *
 * `subscription_id` '' holds the event count (no subscription id is empty).
 *
 * The queue tables churn: vacuum them sooner than the default 20 % of the table, so dead index
 * entries at the head of the due / inbox ranges are cleared while the backlog is large.
 */
export const sql = `
CREATE TABLE counters (
  subscription_id text COLLATE "C" PRIMARY KEY,
  events          bigint NOT NULL DEFAULT 0,
  pending         bigint NOT NULL DEFAULT 0,
  failed          bigint NOT NULL DEFAULT 0
);

CREATE TABLE counter_deltas (
  subscription_id text COLLATE "C" NOT NULL,
  events          bigint NOT NULL DEFAULT 0,
  pending         bigint NOT NULL DEFAULT 0,
  failed          bigint NOT NULL DEFAULT 0
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000);

-- Counts so far, for a database that already holds data.
INSERT INTO counters (subscription_id, events) SELECT '', count(*) FROM events;
INSERT INTO counters (subscription_id, pending, failed)
  SELECT subscription_id, count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
    FROM deliveries GROUP BY subscription_id;

CREATE FUNCTION count_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO counter_deltas (subscription_id, events) SELECT '', count(*) FROM new_rows HAVING count(*) > 0;
  ELSE
    INSERT INTO counter_deltas (subscription_id, events) SELECT '', -count(*) FROM old_rows HAVING count(*) > 0;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER events_count_insert AFTER INSERT ON events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_events();
CREATE TRIGGER events_count_delete AFTER DELETE ON events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_events();

CREATE FUNCTION count_deliveries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counter_deltas (subscription_id, pending, failed)
  SELECT subscription_id, count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed')
    FROM new_rows GROUP BY subscription_id;
  RETURN NULL;
END $$;
CREATE FUNCTION count_deliveries_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counter_deltas (subscription_id, pending, failed)
  SELECT subscription_id, sum(pending), sum(failed) FROM (
      SELECT subscription_id, (status = 'pending')::int AS pending, (status = 'failed')::int AS failed FROM new_rows
      UNION ALL
      SELECT subscription_id, -(status = 'pending')::int, -(status = 'failed')::int FROM old_rows
    ) AS change
   GROUP BY subscription_id HAVING sum(pending) <> 0 OR sum(failed) <> 0;
  RETURN NULL;
END $$;
CREATE FUNCTION count_deliveries_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counter_deltas (subscription_id, pending, failed)
  SELECT subscription_id, -count(*) FILTER (WHERE status = 'pending'), -count(*) FILTER (WHERE status = 'failed')
    FROM old_rows GROUP BY subscription_id;
  RETURN NULL;
END $$;
CREATE TRIGGER deliveries_count_insert AFTER INSERT ON deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_deliveries_inserted();
CREATE TRIGGER deliveries_count_update AFTER UPDATE ON deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION count_deliveries_updated();
CREATE TRIGGER deliveries_count_delete AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION count_deliveries_deleted();

ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02);
`;
