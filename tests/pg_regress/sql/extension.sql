-- Loaded trips never vanish silently with DROP EXTENSION.
-- Its own database, so that it runs alike under `cargo pgrx regress` (every test in one
-- database) and scripts/sqltest (pg_regress per version); the fixtures scripts/sqltest lays out.
\set fixtures '/var/tmp/taxi_loader/sql-fixtures'
\set regress_db :DBNAME
\set VERBOSITY default
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_extension WITH (FORCE);
CREATE DATABASE regress_extension;
\c regress_extension
SET client_min_messages = notice;
SET datestyle = 'ISO, MDY';
SET timezone = 'UTC';
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
\c :regress_db
DROP DATABASE regress_extension WITH (FORCE);
