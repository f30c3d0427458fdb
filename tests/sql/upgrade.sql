-- ALTER EXTENSION taxi_loader UPDATE from 0.1.0 through 0.2.0 to the current version (install
-- scripts kept in sql/archive): the library refuses to load into older objects, the updates add
-- the star schema and the load history, a rebuild gives the trips loaded before them their facts,
-- and the result has exactly a fresh install's objects.
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE EXTENSION taxi_loader VERSION '0.1.0';
SELECT * FROM taxi_load(:'sample5000');
-- Trips 0.1.0's library loaded (the trips table only), written here by hand.
INSERT INTO taxi.yellow_taxi_trips (row_hash, load_id, tpep_pickup_datetime, tpep_dropoff_datetime,
                                    trip_distance, fare_amount, total_amount)
SELECT sha256(convert_to('a trip loaded by 0.1.0, #' || i, 'UTF8')), 1,
       timestamp '2024-06-01 08:00' + i * interval '1 day',
       timestamp '2024-06-01 08:30' + i * interval '1 day', i, 10 * i, 12 * i
FROM generate_series(1, 3) AS i;
ALTER EXTENSION taxi_loader UPDATE TO '0.2.0';
SELECT * FROM taxi_load(:'sample5000');
ALTER EXTENSION taxi_loader UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'taxi_loader';
SELECT month, item, normalized, star FROM taxi_check_consistency() WHERE item LIKE 'trips%';
SELECT * FROM taxi_rebuild_star();
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
SELECT quality_flags, count(*) FROM taxi.yellow_taxi_trips GROUP BY 1;
SELECT rows_inserted FROM taxi_load(:'sample5');
SELECT count(*) AS discrepancies, (SELECT count(*) FROM taxi.fact_trips) AS facts FROM taxi_check_consistency();
-- The same objects, definitions, privileges and lookup rows as a fresh install.
\set ECHO none
\i :root/tests/upgrade/catalog.sql
\set updated_digest :catalog_digest
\set ECHO all
SELECT current_database() AS db \gset
CREATE DATABASE taxi_loader_fresh;
\c taxi_loader_fresh
CREATE EXTENSION taxi_loader;
\set ECHO none
\i :root/tests/upgrade/catalog.sql
\set fresh_digest :catalog_digest
\set ECHO all
-- The digest sees a change as small as a column comment.
COMMENT ON COLUMN taxi.fact_trips.tip_pct IS 'changed';
\set ECHO none
\i :root/tests/upgrade/catalog.sql
\set changed_digest :catalog_digest
\set ECHO all
\c :db
DROP DATABASE taxi_loader_fresh;
SELECT :'updated_digest' = :'fresh_digest' AS same_as_fresh_install,
       :'changed_digest' <> :'fresh_digest' AS a_change_is_seen;
