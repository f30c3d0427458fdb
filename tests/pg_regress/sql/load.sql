-- taxi_load from psql: defaults, named arguments, reloading, and what a user sees on bad input.
\set test_db regress_load
\i include/begin.psql
SET client_min_messages = warning;
DROP ROLE IF EXISTS analyst;
SET client_min_messages = notice;
-- Progress NOTICEs carry a rate that varies; tests/sql/progress.sql is where they are tested.
SET taxi.progress_every = -1;
CREATE EXTENSION taxi_loader;
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
\set VERBOSITY default
\set SHOW_CONTEXT never
-- A failure later in the transaction leaves nothing of an earlier load behind.
BEGIN;
SELECT rows_inserted FROM taxi_load(:'sample5');
SELECT * FROM taxi_load(:'fixtures' || '/taxi_zone_lookup.csv');
ROLLBACK;
SELECT count(*) FROM taxi.yellow_taxi_trips;
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected, seconds >= 0 AS timed
FROM taxi_load(:'sample5');
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected
FROM taxi_load(:'sample5000', chunk_size => 1000);
-- The same files again: nothing new.
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load(:'sample5000');
SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load(:'sample5', 2);
SELECT load_id, count(*) FROM taxi.yellow_taxi_trips GROUP BY load_id ORDER BY load_id;
SELECT vendorid, tpep_pickup_datetime, passenger_count, trip_distance, store_and_fwd_flag,
       fare_amount, total_amount, airport_fee, cbd_congestion_fee
FROM taxi.yellow_taxi_trips WHERE tpep_pickup_datetime < '2025-01-02' ORDER BY tpep_pickup_datetime;
-- Bad input: an ERROR with a hint, and the table as it was.
SELECT * FROM taxi_load('/nonexistent/yellow_tripdata_2024-01.parquet');
SELECT * FROM taxi_load(:'fixtures');
SELECT * FROM taxi_load(:'fixtures' || '/taxi_zone_lookup.csv');
-- A green month named yellow: checked as yellow, refused. A file of no dataset: the closest
-- dataset's missing columns. An unknown dataset name.
SELECT * FROM taxi_load(:'fixtures' || '/green_tripdata_2024-01.parquet', dataset => 'yellow');
SELECT * FROM taxi_load(:'fixtures' || '/green_tripdata_2024-01_no_dropoff.parquet');
SELECT * FROM taxi_load(:'sample5', dataset => 'blue');
SELECT * FROM taxi_load(:'sample5', chunk_size => 0);
SELECT * FROM taxi_load('yellow.parquet');
CREATE ROLE analyst;
SET ROLE analyst;
SELECT * FROM taxi_load(:'sample5');
RESET ROLE;
SELECT count(*) AS trips, sum(total_amount) AS total FROM taxi.yellow_taxi_trips;
\i include/end.psql
DROP ROLE analyst;
