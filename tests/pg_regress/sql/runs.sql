-- Operating taxi_loader: the load history, quarantined rows, quality flags and folder loads, as
-- an operator sees them from psql.
\set test_db regress_runs
\i include/begin.psql
SET client_min_messages = warning;
DROP ROLE IF EXISTS runs_loader;
SET client_min_messages = notice;
-- Progress NOTICEs carry a rate that varies; tests/sql/progress.sql is where they are tested.
SET taxi.progress_every = -1;
CREATE EXTENSION taxi_loader;
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
\set quarantine :fixtures '/yellow_tripdata_2025-01_quarantine.parquet'
\set VERBOSITY default
\set SHOW_CONTEXT never
-- A folder: a renamed copy of a file is loaded once, a bad file fails and the others go on; a
-- second call loads nothing.
SELECT regexp_replace(file, '.*/', '') AS file, status, load_id, rows_read, rows_inserted,
       rows_duplicate, rows_rejected, error_sqlstate, error_message
FROM taxi_load_dir(:'fixtures' || '/inbox');
SELECT regexp_replace(file, '.*/', '') AS file, status, load_id, error_sqlstate
FROM taxi_load_dir(:'fixtures' || '/inbox', pattern => 'yellow_*');
SELECT * FROM taxi_load_dir(:'fixtures' || '/inbox/yellow_tripdata_2025-02.parquet');
SELECT * FROM taxi_load_dir(NULL);
-- Each content succeeded once.
SELECT count(*) AS succeeded_loads, count(DISTINCT file_sha256) AS contents
FROM taxi.load_runs WHERE status = 'succeeded' AND file_path LIKE '%/inbox/%';
-- A loading role needs no privilege on the history, and cannot read or write it itself.
CREATE ROLE runs_loader;
GRANT pg_read_server_files TO runs_loader;
GRANT USAGE ON SCHEMA taxi TO runs_loader;
GRANT SELECT, INSERT ON taxi.yellow_taxi_trips TO runs_loader;
GRANT INSERT ON taxi.fact_trips TO runs_loader;
GRANT USAGE ON SEQUENCE taxi.load_id_seq TO runs_loader;
SET ROLE runs_loader;
SELECT rows_read, rows_rejected FROM taxi_load(:'quarantine');
SELECT count(*) FROM taxi.load_runs;
-- Partitions are created for the loading role, which cannot create them itself.
SELECT taxi.ensure_fact_partitions(ARRAY['2031-01-01'::date]);
INSERT INTO taxi.load_runs (load_id, file_path, loaded_by, backend_pid, transaction_id, started_at, status, chunk_size)
VALUES (999, 'forged', 'x', 1, '1', now(), 'succeeded', 1);
RESET ROLE;
SELECT loaded_by, status, rows_read, rows_rejected FROM taxi.load_runs ORDER BY load_id DESC LIMIT 1;
SELECT relname FROM pg_class WHERE relname IN ('fact_trips_y2024m12', 'fact_trips_y2025m01', 'fact_trips_y2031m01') ORDER BY 1;
-- A success, a reload, a failure: one row each. The failure's row survives its ERROR.
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load(:'sample5000');
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load(:'sample5000', 700);
SELECT * FROM taxi_load('/nonexistent/yellow_tripdata_2024-01.parquet');
SELECT load_id, regexp_replace(file_path, '.*/', '') AS file, file_size, file_month,
       left(encode(file_sha256, 'hex'), 16) AS sha256, loaded_by, status, chunk_size,
       rows_read, rows_inserted, rows_duplicate, rows_rejected, error_sqlstate, error_message,
       finished_at >= started_at AS timed, backend_pid = pg_backend_pid() AS this_backend
FROM taxi.load_runs ORDER BY load_id;
SELECT flag_counts FROM taxi.load_runs WHERE load_id = 1;
-- Rows that cannot be stored are quarantined with why and the row as the file holds it; rows
-- that look wrong are stored with their quality flags. The counts add up.
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load(:'quarantine');
SELECT min(load_id) AS quarantine_load FROM taxi.load_runs WHERE file_path = :'quarantine' \gset
SELECT row_number, reason, raw ->> 'tpep_pickup_datetime' AS pickup, raw -> 'fare_amount' AS fare,
       raw ->> 'store_and_fwd_flag' AS flag, raw -> 'VendorID' AS vendor
FROM taxi.rejected_rows WHERE load_id = :quarantine_load ORDER BY row_number;
SELECT flag_counts FROM taxi.load_runs WHERE load_id = :quarantine_load;
SELECT tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, pulocationid, fare_amount,
       quality_flags
FROM taxi.yellow_taxi_trips WHERE load_id = :quarantine_load AND quality_flags <> 0 ORDER BY tpep_pickup_datetime;
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
-- Under REPEATABLE READ the start is recorded in the loading transaction (a row committed by
-- another transaction later than the snapshot could not be updated).
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT rows_inserted FROM taxi_load(:'sample5');
COMMIT;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM taxi_load(:'fixtures' || '/green_tripdata_2024-01_no_dropoff.parquet');
ROLLBACK;
-- A load whose caller rolls back after it returned stays running until the next load sees that
-- its transaction is over.
BEGIN;
SELECT load_id AS rolled_back FROM taxi_load(:'sample5') \gset
ROLLBACK;
SELECT status FROM taxi.load_runs WHERE load_id = :rolled_back;
SELECT rows_inserted FROM taxi_load(:'sample5');
SELECT load_id, status, error_sqlstate, error_message, rows_inserted
FROM taxi.load_runs WHERE load_id >= :rolled_back - 2 ORDER BY load_id;
-- A re-published month: the inbox's first file (the one that inserted February's trips) again,
-- under its name, with corrected fares, withdrawn trips and late trips (taxi_gen --republish).
-- Without replace its trips go in beside the old version's, and a NOTICE says so.
\set republished :fixtures '/republished/yellow_tripdata_2025-02-copy.parquet'
BEGIN;
SELECT rows_read, rows_inserted, rows_duplicate, rows_removed FROM taxi_load(:'republished');
ROLLBACK;
-- With replace, the trips the new version lacks go (from the trips and the facts), and the
-- earlier load is superseded; its history row stays.
SELECT count(*) AS trips_before FROM taxi.yellow_taxi_trips
WHERE tpep_pickup_datetime >= '2025-02-01' AND tpep_pickup_datetime < '2025-03-01';
SELECT regexp_replace(file, '.*/', '') AS file, status, rows_read, rows_inserted, rows_duplicate,
       rows_removed FROM taxi_load_dir(:'fixtures' || '/republished', replace => true);
SELECT regexp_replace(file_path, '.*/(.*/.*)$', '\1') AS file, file_name, status, rows_inserted,
       rows_removed, superseded_by IS NOT NULL AS superseded, trip_months
FROM taxi.load_runs WHERE file_name = 'yellow_tripdata_2025-02-copy.parquet' AND status = 'succeeded'
ORDER BY load_id;
SELECT count(*) AS trips_after FROM taxi.yellow_taxi_trips
WHERE tpep_pickup_datetime >= '2025-02-01' AND tpep_pickup_datetime < '2025-03-01';
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
-- The same file again: skipped by the folder load, a plain reload for taxi_load.
SELECT status FROM taxi_load_dir(:'fixtures' || '/republished', replace => true);
SELECT rows_inserted, rows_removed FROM taxi_load(:'republished', replace => true);
-- A role that may load but not delete cannot replace (here: back to the first version).
SET ROLE runs_loader;
SELECT rows_inserted, rows_removed
FROM taxi_load(:'fixtures' || '/inbox/yellow_tripdata_2025-02-copy.parquet', replace => true);
RESET ROLE;
SELECT * FROM taxi_load(:'sample5', replace => NULL);
\i include/end.psql
DROP ROLE runs_loader;
