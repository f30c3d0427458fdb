-- taxi_loader 0.4.0 -> 0.5.0: re-published files replace their earlier version
-- (taxi_load(…, replace => true), taxi_load_dir(…, replace => true)). The load history learns
-- what replacing needs: each run's file name, the months it inserted trips into, the trips it
-- removed and the run that superseded it.
--
-- The months of the runs recorded before are read from the trips once (one pass over the trips
-- table: a replacement looks for an earlier version's trips only in its months). Trips, facts and
-- rejected rows are untouched. scripts/sqltest checks that an updated installation has exactly
-- the objects of a fresh one and every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.5.0'" to load this file. \quit

ALTER TABLE taxi.load_runs
    ADD COLUMN rows_removed  bigint,
    ADD COLUMN superseded_by bigint,
    ADD COLUMN trip_months   date[],
    ADD COLUMN file_name     text GENERATED ALWAYS AS (pg_catalog.regexp_replace(file_path, '^.*/', '')) STORED;
CREATE INDEX load_runs_file_name_idx ON taxi.load_runs (file_name) WHERE status = 'succeeded';
COMMENT ON COLUMN taxi.load_runs.rows_removed IS
    'Trips of the file''s earlier versions this load removed because its version lacks them (replace => true; else 0)';
COMMENT ON COLUMN taxi.load_runs.superseded_by IS
    'The load of a newer version of the same file name that replaced this one (replace => true); NULL while this version is current';
COMMENT ON COLUMN taxi.load_runs.trip_months IS
    'Months of pickup (first days) this load inserted trips into; 1999-12-01 stands for every month before 2000, 2100-01-01 for every month from 2100';
COMMENT ON COLUMN taxi.load_runs.file_name IS
    'The last component of file_path: the name whose versions replace => true replaces';

-- Months as the library records them: the catch-all partitions' pickups under one month each.
UPDATE taxi.load_runs r
   SET trip_months = m.months
  FROM (SELECT load_id, array_agg(month ORDER BY month) AS months
          FROM (SELECT DISTINCT load_id,
                       CASE WHEN tpep_pickup_datetime < '2000-01-01' THEN date '1999-12-01'
                            WHEN tpep_pickup_datetime >= '2100-01-01' THEN date '2100-01-01'
                            ELSE date_trunc('month', tpep_pickup_datetime)::date END AS month
                  FROM taxi.yellow_taxi_trips) d
         GROUP BY load_id) m
 WHERE m.load_id = r.load_id AND r.status = 'succeeded';
UPDATE taxi.load_runs SET trip_months = '{}' WHERE status = 'succeeded' AND trip_months IS NULL;
UPDATE taxi.load_runs SET rows_removed = 0 WHERE status = 'succeeded';

-- taxi_load and taxi_load_dir take replace and report rows_removed: new result types, and new
-- C symbols (the old ones answer the old definitions with the update hint).
DROP FUNCTION taxi_load(text, integer);
DROP FUNCTION taxi_load_dir(text, text, integer);

CREATE FUNCTION "taxi_load"(
	"path" TEXT,
	"chunk_size" INT DEFAULT NULL,
	"replace" bool DEFAULT false
) RETURNS TABLE (
	"load_id" bigint,
	"rows_read" bigint,
	"rows_inserted" bigint,
	"rows_duplicate" bigint,
	"rows_rejected" bigint,
	"rows_removed" bigint,
	"seconds" double precision
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_file_wrapper';

CREATE FUNCTION "taxi_load_dir"(
	"dir" TEXT,
	"pattern" TEXT DEFAULT '*.parquet',
	"chunk_size" INT DEFAULT NULL,
	"replace" bool DEFAULT false
) RETURNS TABLE (
	"file" TEXT,
	"status" TEXT,
	"load_id" bigint,
	"rows_read" bigint,
	"rows_inserted" bigint,
	"rows_duplicate" bigint,
	"rows_rejected" bigint,
	"rows_removed" bigint,
	"error_sqlstate" TEXT,
	"error_message" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_folder_wrapper';
