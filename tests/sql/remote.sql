-- Remote sources, against servers scripts/sqltest starts on localhost: taxi_testserver on port
-- 8931 (serving :fixtures; faults by the URL's first path segment, see
-- crates/taxi_remote/src/testing.rs) and moto's S3 on port 8932 (bucket taxi-test).
\set VERBOSITY verbose
\pset null '(null)'
CREATE EXTENSION taxi_loader;
LOAD 'taxi_loader';
-- How many requests the test server has answered: a refused URL must not add one.
CREATE TABLE counter (n bigint);
CREATE FUNCTION requests() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE counter;
    COPY counter FROM PROGRAM 'curl -s http://127.0.0.1:8931/requests';
    RETURN (SELECT n FROM counter);
END $$;
CREATE VIEW digest AS
  SELECT count(*) AS trips, sum(total_amount) AS total, md5(string_agg(row_hash::text, ',' ORDER BY row_hash)) AS hashes
    FROM taxi.yellow_taxi_trips;

-- Nothing is allowed by default: refused before any connection.
SHOW taxi.allowed_sources;
SELECT requests() AS before_0 \gset
SELECT * FROM taxi_load('http://127.0.0.1:8931/ok/yellow_tripdata_2025-02_sample5000.parquet');
SELECT requests() = :before_0 AS no_request;
-- Not a URL loaders may use.
SELECT * FROM taxi_load('https://user:secret@example.org/x.parquet');
SELECT * FROM taxi_load('ftp://example.org/x.parquet');
ALTER SYSTEM SET taxi.allowed_sources = 'http://127.0.0.1:8931/ok/, http://127.0.0.1:8931/flaky/, http://127.0.0.1:8931/close/, http://127.0.0.1:8931/short/, http://127.0.0.1:8931/hang/, http://127.0.0.1:8931/norange/, http://127.0.0.1:8931/changing/, http://127.0.0.1:8931/down/, http://127.0.0.1:8931/forbidden/, http://127.0.0.1:8931/missing/, https://127.0.0.1:8933/, http://127.0.0.1:8939/, s3://taxi-test/';
ALTER SYSTEM SET taxi.s3_endpoint = 'http://127.0.0.1:8932';
ALTER SYSTEM SET taxi.s3_region = 'us-east-1';
ALTER SYSTEM SET taxi.s3_access_key_id = 'testing';
ALTER SYSTEM SET taxi.s3_secret_access_key = 'testing';
SELECT pg_reload_conf();
SELECT pg_sleep(0.2);
-- A prefix matches at a boundary only.
SELECT requests() AS before_1 \gset
SELECT * FROM taxi_load('http://127.0.0.1:8931/okay/yellow_tripdata_2025-02_sample5000.parquet');
SELECT requests() = :before_1 AS no_request;

-- The same trips, hashes and sums over HTTP, over S3 and from the server's file system.
SELECT rows_read, rows_inserted, rows_duplicate FROM taxi_load('http://127.0.0.1:8931/ok/yellow_tripdata_2025-02_sample5000.parquet');
CREATE TABLE over_http AS SELECT * FROM digest;
TRUNCATE taxi.yellow_taxi_trips, taxi.fact_trips;
SELECT rows_read, rows_inserted FROM taxi_load('s3://taxi-test/yellow_tripdata_2025-02_sample5000.parquet');
CREATE TABLE over_s3 AS SELECT * FROM digest;
TRUNCATE taxi.yellow_taxi_trips, taxi.fact_trips;
SELECT rows_read, rows_inserted FROM taxi_load(:'fixtures' || '/yellow_tripdata_2025-02_sample5000.parquet');
SELECT d.trips, d.total, d = h AS http_same, d = s AS s3_same
  FROM digest d, over_http h, over_s3 s;
SELECT (SELECT count(*) FROM taxi.fact_trips) AS facts, count(*) AS inconsistent FROM taxi_check_consistency();
-- Loaded again from anywhere: every trip is a duplicate.
SELECT rows_inserted, rows_duplicate FROM taxi_load('http://127.0.0.1:8931/ok/yellow_tripdata_2025-02_sample5000.parquet');
SELECT file_path, status, file_size, source_version IS NOT NULL AS versioned, remote_retries, encode(file_sha256, 'hex') = (SELECT encode(file_sha256, 'hex') FROM taxi.load_runs WHERE load_id = 3) AS same_sha
  FROM taxi.load_runs ORDER BY load_id;

-- Faults: each a clear error, nothing written, the backend alive.
SET taxi.remote_timeout = 2;
SET taxi.remote_retries = 1;
SELECT * FROM taxi_load('http://127.0.0.1:8931/missing/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/forbidden/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/down/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/close/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/short/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/norange/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/changing/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('http://127.0.0.1:8931/hang/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load('s3://taxi-test/nothere/yellow_tripdata_2025-01.parquet');
-- A certificate no authority signed.
SELECT * FROM taxi_load('https://127.0.0.1:8933/yellow_tripdata_2025-01_sample5.parquet');
-- Nobody listens.
SELECT * FROM taxi_load('http://127.0.0.1:8939/yellow_tripdata_2025-01_sample5.parquet');
SELECT 1 AS alive;
SELECT trips FROM digest;
-- 500 then success: retried, counted. (How many requests a failing load made before it gave up
-- depends on its threads' timing: shown is whether it retried.)
SELECT rows_inserted FROM taxi_load('http://127.0.0.1:8931/flaky/yellow_tripdata_2025-01_sample5.parquet');
SELECT load_id, regexp_replace(file_path, '^http://127.0.0.1:8931/', '') AS file, status, error_sqlstate, remote_retries > 0 AS retried
  FROM taxi.load_runs WHERE load_id > 4 ORDER BY load_id;
RESET taxi.remote_timeout;
RESET taxi.remote_retries;

-- Privileges: a role that may load server files may not load remote ones; a member of
-- taxi_remote_reader may, from the allowed prefixes only. Refusals reach no server.
CREATE ROLE remote_plain;
CREATE ROLE remote_member IN ROLE taxi_remote_reader;
GRANT pg_read_server_files TO remote_plain;
GRANT USAGE ON SCHEMA taxi TO remote_plain, remote_member;
GRANT SELECT, INSERT ON taxi.yellow_taxi_trips TO remote_plain, remote_member;
GRANT INSERT ON taxi.fact_trips TO remote_plain, remote_member;
GRANT USAGE ON SEQUENCE taxi.load_id_seq TO remote_plain, remote_member;
SELECT requests() AS before_2 \gset
SET ROLE remote_plain;
SELECT * FROM taxi_load('http://127.0.0.1:8931/ok/yellow_tripdata_2025-01_sample5.parquet');
SELECT * FROM taxi_load_dir('s3://taxi-test/');
SELECT * FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow_tripdata_{yyyy}-{mm}.parquet', '2025-01-01', '2025-03-01');
-- Only superusers set the allow-list or read the credentials (PostgreSQL's own messages for
-- these differ between versions: only the SQLSTATE is shown).
\set VERBOSITY terse
DO $$ BEGIN SET taxi.allowed_sources = 'http://10.0.0.1/';
  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'setting taxi.allowed_sources: %', SQLSTATE; END $$;
DO $$ BEGIN PERFORM current_setting('taxi.s3_secret_access_key');
  EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'reading taxi.s3_secret_access_key: %', SQLSTATE; END $$;
\set VERBOSITY verbose
SET ROLE remote_member;
SELECT * FROM taxi_load('http://127.0.0.1:8932/taxi-test/yellow_tripdata_2025-02_sample5000.parquet');
RESET ROLE;
SELECT requests() = :before_2 AS no_request;
SET ROLE remote_member;
SELECT rows_inserted, rows_duplicate FROM taxi_load('http://127.0.0.1:8931/ok/yellow_tripdata_2025-02_sample5000.parquet');
RESET ROLE;
-- Credentials never reach the history or the server's views.
SELECT count(*) AS leaked FROM taxi.load_runs
 WHERE concat_ws(' ', file_path, error_message, error_detail) LIKE '%testing%' OR concat_ws(' ', file_path, error_message, error_detail) LIKE '%secret%';

-- A folder of S3: every object of the prefix not loaded before.
SELECT regexp_replace(file, '^s3://taxi-test/', '') AS file, status, rows_inserted, error_sqlstate
  FROM taxi_load_dir('s3://taxi-test/inbox/');
SELECT regexp_replace(file, '^s3://taxi-test/', '') AS file, status, rows_inserted
  FROM taxi_load_dir('s3://taxi-test/inbox/');
SELECT * FROM taxi_load_dir('http://127.0.0.1:8931/ok/');

-- A range of months, one not published yet; then it appears.
SELECT regexp_replace(file, '^http://127.0.0.1:8931/', '') AS file, status, rows_inserted, error_sqlstate
  FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow_tripdata_{yyyy}-{mm}.parquet', '2025-01-01', '2025-03-01');
\! cp /var/tmp/taxi_loader/sql-fixtures/remote-months-later/yellow_tripdata_2025-02.parquet /var/tmp/taxi_loader/sql-fixtures/remote-months/
SELECT regexp_replace(file, '^http://127.0.0.1:8931/', '') AS file, status, rows_inserted, error_sqlstate
  FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow_tripdata_{yyyy}-{mm}.parquet', '2025-01-01', '2025-03-15');
SELECT count(*) AS trips, (SELECT count(*) FROM taxi_check_consistency()) AS inconsistent FROM taxi.yellow_taxi_trips;
SELECT * FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow.parquet', '2025-01-01');
SELECT * FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow_tripdata_{yyyy}-{mm}.parquet', NULL);
SELECT * FROM taxi_load_months('http://127.0.0.1:8931/ok/remote-months/yellow_tripdata_{yyyy}-{mm}.parquet', 'infinity');
ALTER SYSTEM RESET taxi.allowed_sources;
ALTER SYSTEM RESET taxi.s3_endpoint;
ALTER SYSTEM RESET taxi.s3_region;
ALTER SYSTEM RESET taxi.s3_access_key_id;
ALTER SYSTEM RESET taxi.s3_secret_access_key;
SELECT pg_reload_conf();
