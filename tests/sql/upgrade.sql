-- ALTER EXTENSION taxi_loader UPDATE from 0.1.0 through 0.2.0 and 0.3.0 to the current version
-- (install scripts kept in sql/archive): the library refuses to load into older objects, the
-- updates add the star schema, the load history and the partitioned trips table, every stored row
-- survives the conversion, a rebuild gives the trips loaded before the star schema their facts,
-- 0.7.0 adds the other datasets' tables beside yellow's untouched trips (a green month loads
-- after it), 0.8.0 yellow's coordinates (a 2009 month loads after it, its zones computed), 0.9.0
-- the check by month (0.8.0's objects get the update hint), and the result has exactly a fresh
-- install's objects.
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
\set quarantine :fixtures '/yellow_tripdata_2025-01_quarantine.parquet'
\set green :fixtures '/green_tripdata_2024-01.parquet'
\set y2009 :fixtures '/yellow_tripdata_2009-01_sample.parquet'
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
FROM generate_series(1, 3) AS i
UNION ALL
-- Pickups real files have: a 2002 one, and one before 2000 (the catch-all partition).
SELECT sha256(convert_to('a straggler, #' || i, 'UTF8')), 1, p, p + interval '10 minutes', 1, 5, 6
FROM unnest(ARRAY[timestamp '2002-12-31 23:00', timestamp '1999-06-01 12:00']) WITH ORDINALITY AS s(p, i);
ALTER EXTENSION taxi_loader UPDATE TO '0.2.0';
SELECT * FROM taxi_load(:'sample5000');
ALTER EXTENSION taxi_loader UPDATE TO '0.3.0';
SELECT * FROM taxi_load(:'sample5000');
-- What 0.3.0's library stored (trips with their flags and facts, the history, rejected rows):
-- loaded by this library into a scratch database, copied over.
SELECT current_database() AS db \gset
CREATE DATABASE taxi_loader_source;
\c taxi_loader_source
CREATE EXTENSION taxi_loader;
SELECT rows_inserted, rows_rejected FROM taxi_load(:'sample5000');
SELECT rows_inserted, rows_rejected FROM taxi_load(:'quarantine');
SELECT * FROM taxi_rebuild_star();
-- The trips as 0.3.0 had them (0.8.0 added the coordinates).
\set trip_columns 'row_hash, load_id, vendorid, tpep_pickup_datetime, tpep_dropoff_datetime, passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid, payment_type, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, airport_fee, cbd_congestion_fee, quality_flags'
COPY (SELECT :trip_columns FROM taxi.yellow_taxi_trips) TO '/tmp/taxi_loader_upgrade_trips.copy';
-- The facts as 0.3.0 had them (0.7.0 added service_key).
\set fact_columns 'load_id, pickup_datetime, trip_distance, trip_duration_minutes, avg_speed_mph, date_key, time_key, pickup_location_key, dropoff_location_key, vendor_key, rate_code_key, payment_type_key, passenger_count, is_airport_trip, is_cross_borough, is_cash, is_long_distance, is_short_distance, row_hash, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, airport_fee, cbd_congestion_fee, tip_pct'
COPY (SELECT :fact_columns FROM taxi.fact_trips) TO '/tmp/taxi_loader_upgrade_facts.copy';
-- The history as 0.3.0 had it; what this library recorded of each load's months, to compare.
COPY (SELECT load_id, file_path, file_size, file_sha256, file_month, loaded_by, backend_pid,
             transaction_id, started_at, finished_at, status, chunk_size, rows_read, rows_inserted,
             rows_duplicate, rows_rejected, flag_counts, error_sqlstate, error_message, error_detail
      FROM taxi.load_runs) TO '/tmp/taxi_loader_upgrade_runs.copy';
COPY (SELECT load_id, trip_months FROM taxi.load_runs WHERE status = 'succeeded')
  TO '/tmp/taxi_loader_upgrade_months.copy';
COPY taxi.rejected_rows TO '/tmp/taxi_loader_upgrade_rejected.copy';
\c :db
DROP DATABASE taxi_loader_source;
SELECT taxi.ensure_fact_partitions(ARRAY['2002-12-01', '2024-12-01', '2025-01-01', '2025-02-01', '2025-03-01']::date[]);
COPY taxi.yellow_taxi_trips FROM '/tmp/taxi_loader_upgrade_trips.copy';
COPY taxi.fact_trips FROM '/tmp/taxi_loader_upgrade_facts.copy';
COPY taxi.load_runs FROM '/tmp/taxi_loader_upgrade_runs.copy';
COPY taxi.rejected_rows FROM '/tmp/taxi_loader_upgrade_rejected.copy';
SELECT setval('taxi.load_id_seq', (SELECT max(load_id) FROM taxi.load_runs));
SELECT c.relkind AS trips_relkind FROM pg_class c WHERE c.oid = 'taxi.yellow_taxi_trips'::regclass;
SELECT count(*) AS trips, count(DISTINCT load_id) AS loads, sum(quality_flags) AS flags,
       md5(string_agg(row(:trip_columns)::text, '|' ORDER BY row_hash)) AS trips_digest
FROM taxi.yellow_taxi_trips t \gset before_
SELECT count(*) AS facts, md5(string_agg(f::text, '|' ORDER BY row_hash)) AS facts_digest
FROM taxi.fact_trips f \gset before_
SELECT :before_trips AS trips, :before_loads AS loads, :before_flags AS flags, :before_facts AS facts;
-- 0.8.0's objects with this library: its taxi_check_consistency(dataset) says to update.
ALTER EXTENSION taxi_loader UPDATE TO '0.8.0';
SELECT count(*) FROM taxi_check_consistency('yellow');
ALTER EXTENSION taxi_loader UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'taxi_loader';
-- Every stored row, with its hash, load_id, flags and values, and every fact, kept.
SELECT count(*) = :before_trips AS same_trip_count,
       md5(string_agg(row(:trip_columns)::text, '|' ORDER BY row_hash)) = :'before_trips_digest' AS same_trips,
       count(*) FILTER (WHERE pickup_longitude IS NOT NULL OR dropoff_latitude IS NOT NULL) AS with_coordinates
FROM taxi.yellow_taxi_trips t;
-- Every fact kept, now yellow's (service 1).
SELECT md5(string_agg(row(:fact_columns)::text, '|' ORDER BY row_hash)) = :'before_facts_digest' AS same_facts,
       count(*) FILTER (WHERE service_key = 1) = count(*) AS all_yellow
FROM taxi.fact_trips f;
SELECT c.relname, count(*) AS trips FROM taxi.yellow_taxi_trips t JOIN pg_class c ON c.oid = t.tableoid
GROUP BY 1 ORDER BY 1;
-- The partitions belong to the data, not to the extension: pg_dump dumps their rows.
SELECT count(*) AS member_partitions FROM pg_depend d JOIN pg_inherits i ON i.inhrelid = d.objid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'taxi_loader') AND d.deptype = 'e';
SELECT to_regclass('taxi.drop_guard') IS NOT NULL AS drop_guard_back,
       (SELECT count(*) FROM pg_depend WHERE objid = 'taxi.drop_guard'::regclass AND deptype = 'e') AS guard_is_member;
SELECT month, item, normalized, star FROM taxi_check_consistency() WHERE item LIKE 'trips%';
SELECT * FROM taxi_rebuild_star();
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
SELECT quality_flags, count(*) FROM taxi.yellow_taxi_trips GROUP BY 1 ORDER BY 1;
-- The history learnt each load's months from its trips, as the library records them at a load
-- (recorded): load 1 also owns the trips written by hand above (load_id 1), of 1999 (the
-- catch-all, 1999-12-01), 2002-12 and 2024-06.
CREATE TEMP TABLE recorded (load_id bigint, trip_months date[]);
COPY recorded FROM '/tmp/taxi_loader_upgrade_months.copy';
SELECT r.load_id, r.file_name, r.trip_months, w.trip_months AS recorded, r.rows_removed,
       r.superseded_by
FROM taxi.load_runs r LEFT JOIN recorded w USING (load_id) ORDER BY load_id;
SELECT rows_inserted, rows_duplicate FROM taxi_load(:'sample5000');
SELECT rows_inserted FROM taxi_load(:'sample5');
SELECT rows_inserted, dataset FROM taxi_load(:'green');
SELECT rows_read, rows_inserted, rows_rejected, dataset FROM taxi_load(:'y2009');
SELECT count(*) AS trips_2009, count(pulocationid) AS with_zone, count(*) FILTER (WHERE pulocationid = 264) AS unknown_zone
FROM taxi.yellow_taxi_trips WHERE tpep_pickup_datetime >= '2009-01-01' AND tpep_pickup_datetime < '2009-02-01';
SELECT dataset, count(*) FROM taxi.load_runs GROUP BY 1 ORDER BY 1;
SELECT count(*) AS discrepancies, (SELECT count(*) FROM taxi.fact_trips) AS facts FROM taxi_check_consistency();
SELECT count(*) AS discrepancies_2009_01 FROM taxi_check_consistency('2009-01-15', 'yellow');
-- The same objects, definitions, privileges and lookup rows as a fresh install.
\set ECHO none
\i :root/tests/upgrade/catalog.sql
\set updated_digest :catalog_digest
\set ECHO all
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
