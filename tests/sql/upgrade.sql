-- ALTER EXTENSION taxi_loader UPDATE from 0.1.0 (install script kept in sql/archive): the
-- library refuses to load into 0.1.0's objects, the update adds the star schema, a rebuild gives
-- the trips loaded before it their facts, and the result has exactly a fresh install's objects.
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
\set VERBOSITY default
\set SHOW_CONTEXT never
CREATE EXTENSION taxi_loader VERSION '0.1.0';
SELECT * FROM taxi_load(:'sample5000');
-- What 0.1.0's library did: trips only.
SET taxi.star = off;
SELECT rows_inserted FROM taxi_load(:'sample5000');
RESET taxi.star;
ALTER EXTENSION taxi_loader UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'taxi_loader';
SELECT month, item, normalized, star FROM taxi_check_consistency() WHERE item LIKE 'trips%';
SELECT * FROM taxi_rebuild_star();
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
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
