-- Loaded trips never vanish silently with DROP EXTENSION.
\set test_db regress_extension
\i include/begin.psql
CREATE EXTENSION taxi_loader;
SELECT rows_inserted FROM taxi_load(:'fixtures' || '/yellow_tripdata_2025-01_sample5.parquet');
\set VERBOSITY default
DROP EXTENSION taxi_loader;
SELECT count(*) FROM taxi.yellow_taxi_trips;
SELECT * FROM taxi.drop_guard;
-- Said explicitly, it goes, and comes back empty.
DROP EXTENSION taxi_loader CASCADE;
SELECT to_regclass('taxi.yellow_taxi_trips') AS trips_table;
CREATE EXTENSION taxi_loader;
SELECT count(*) FROM taxi.yellow_taxi_trips;
-- Before anything is loaded there is no data to lose, and no guard.
DROP EXTENSION taxi_loader;
\i include/end.psql
