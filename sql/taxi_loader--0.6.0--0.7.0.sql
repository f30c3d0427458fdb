-- taxi_loader 0.6.0 -> 0.7.0: every TLC trip dataset. Green taxi, FHV and high-volume FHV trips
-- get their tables (taxi.green_taxi_trips, taxi.fhv_trips, taxi.fhvhv_trips, listed in
-- taxi.dataset), the star schema a service dimension (taxi.dim_service) and fact_trips its
-- service_key; taxi_load, taxi_load_dir and taxi_load_months take a dataset and say which one
-- they loaded; taxi_check_consistency, taxi_rebuild_star and taxi_drop_month work per dataset.
--
-- Yellow's trips are untouched and keep their row hashes; their facts get service_key 1 (yellow)
-- without a rewrite of the table. scripts/sqltest checks that an updated installation has
-- exactly the objects of a fresh one and every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.7.0'" to load this file. \quit

-- Their arguments and results change: dropped here, created again below.
DROP FUNCTION taxi_load(text, integer, boolean);
DROP FUNCTION taxi_load_dir(text, text, integer, boolean);
DROP FUNCTION taxi_load_months(text, date, date, boolean, integer);
DROP FUNCTION taxi_check_consistency();
DROP FUNCTION taxi_rebuild_star(date);
DROP FUNCTION taxi_drop_month(date);

-- The keys and indexes of a partition of a trips table (see sql/schema.sql): the primary key on
-- row_hash, the pickup time (the partition key), and pickup and dropoff zones where the dataset
-- has them. Fact partitions have none.
CREATE OR REPLACE FUNCTION taxi.index_partition(parent regclass, part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = part);
    pickup name := (SELECT a.attname FROM pg_partitioned_table t
                    JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0]
                    WHERE t.partrelid = parent);
BEGIN
    IF EXISTS (SELECT FROM taxi.dataset WHERE trip_table = parent) THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (row_hash)', part, name || '_pkey');
        EXECUTE format('CREATE INDEX %I ON %s (%I)', name || '_pickup_idx', part, pickup);
        IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = parent AND attname = 'pulocationid') THEN
            EXECUTE format('CREATE INDEX %I ON %s (pulocationid, dolocationid)', name || '_zones_idx', part);
        END IF;
    END IF;
END $$;
COMMENT ON FUNCTION taxi.index_partition(regclass, regclass) IS
    'Creates the primary key and indexes of a partition of a trips table';

-- What sql/datasets.sql creates in a fresh install, the same statements.
-- The datasets taxi_load knows, and their tables.
CREATE TABLE taxi.dataset (
    name       text     PRIMARY KEY,
    title      text     NOT NULL,
    trip_table regclass NOT NULL UNIQUE
);
COMMENT ON TABLE taxi.dataset IS
    'The TLC trip datasets taxi_load loads (its dataset argument takes their names) and the table of each';

CREATE TABLE taxi.green_taxi_trips (
    row_hash              bytea    NOT NULL CHECK (octet_length(row_hash) = 32),
    load_id               bigint   NOT NULL,
    vendorid              smallint,
    lpep_pickup_datetime  timestamp NOT NULL,
    lpep_dropoff_datetime timestamp NOT NULL,
    store_and_fwd_flag    text,
    ratecodeid            smallint,
    pulocationid          smallint,
    dolocationid          smallint,
    passenger_count       smallint,
    trip_distance         double precision,
    fare_amount           numeric(12,2),
    extra                 numeric(12,2),
    mta_tax               numeric(12,2),
    tip_amount            numeric(12,2),
    tolls_amount          numeric(12,2),
    ehail_fee             numeric(12,2),
    improvement_surcharge numeric(12,2),
    total_amount          numeric(12,2),
    payment_type          smallint,
    trip_type             smallint,
    congestion_surcharge  numeric(12,2),
    cbd_congestion_fee    numeric(12,2),
    quality_flags         smallint NOT NULL DEFAULT 0
) PARTITION BY RANGE (lpep_pickup_datetime);
COMMENT ON TABLE taxi.green_taxi_trips IS 'NYC TLC green-taxi trips, each distinct trip once (filled by taxi_load), partitioned by month of pickup';

CREATE TABLE taxi.fhv_trips (
    row_hash               bytea    NOT NULL CHECK (octet_length(row_hash) = 32),
    load_id                bigint   NOT NULL,
    dispatching_base_num   text,
    pickup_datetime        timestamp NOT NULL,
    dropoff_datetime       timestamp,
    pulocationid           smallint,
    dolocationid           smallint,
    sr_flag                smallint,
    affiliated_base_number text,
    quality_flags          smallint NOT NULL DEFAULT 0
) PARTITION BY RANGE (pickup_datetime);
COMMENT ON TABLE taxi.fhv_trips IS 'NYC TLC for-hire vehicle trips (bases'' dispatches, without fares), each distinct trip once (filled by taxi_load), partitioned by month of pickup';

CREATE TABLE taxi.fhvhv_trips (
    row_hash             bytea    NOT NULL CHECK (octet_length(row_hash) = 32),
    load_id              bigint   NOT NULL,
    hvfhs_license_num    text,
    dispatching_base_num text,
    originating_base_num text,
    request_datetime     timestamp,
    on_scene_datetime    timestamp,
    pickup_datetime      timestamp NOT NULL,
    dropoff_datetime     timestamp NOT NULL,
    pulocationid         smallint,
    dolocationid         smallint,
    trip_miles           double precision,
    trip_time            bigint,
    base_passenger_fare  numeric(12,2),
    tolls                numeric(12,2),
    bcf                  numeric(12,2),
    sales_tax            numeric(12,2),
    congestion_surcharge numeric(12,2),
    airport_fee          numeric(12,2),
    tips                 numeric(12,2),
    driver_pay           numeric(12,2),
    shared_request_flag  text,
    shared_match_flag    text,
    access_a_ride_flag   text,
    wav_request_flag     text,
    wav_match_flag       text,
    cbd_congestion_fee   numeric(12,2),
    quality_flags        smallint NOT NULL DEFAULT 0
) PARTITION BY RANGE (pickup_datetime);
COMMENT ON TABLE taxi.fhvhv_trips IS 'NYC TLC high-volume for-hire vehicle trips (Uber, Lyft, Via, Juno), each distinct trip once (filled by taxi_load), partitioned by month of pickup';
COMMENT ON COLUMN taxi.fhvhv_trips.trip_time IS 'The trip''s duration in seconds, as the company reports it';

INSERT INTO taxi.dataset VALUES
    ('yellow', 'yellow taxi', 'taxi.yellow_taxi_trips'),
    ('green', 'green taxi', 'taxi.green_taxi_trips'),
    ('fhv', 'for-hire vehicle', 'taxi.fhv_trips'),
    ('fhvhv', 'high-volume for-hire vehicle', 'taxi.fhvhv_trips');

DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT trip_table FROM taxi.dataset WHERE name <> 'yellow' LOOP
        EXECUTE format('COMMENT ON COLUMN %s.row_hash IS %L', t,
                       'SHA-256 of the canonical encoding of the trip (docs/row-hash.md); unique on its own, as it covers the pickup time');
        EXECUTE format('COMMENT ON COLUMN %s.load_id IS %L', t, 'The taxi_load call that inserted the row');
        EXECUTE format('COMMENT ON COLUMN %s.quality_flags IS %L', t,
                       'Why the trip looks suspicious, a bitmask: 1 negative amount, 2 dropoff before pickup, 4 pickup outside the file''s month, 8 unknown zone 264/265, 16 zero distance, 32 over 100 mph, 64 trip_time disagrees with the timestamps (README, "Quality flags")');
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END
$$;

-- The services of the star schema: one per dataset, and for high-volume FHV one per company
-- (from hvfhs_license_num; crates/taxi_core/src/dataset/mod.rs names the same keys).
CREATE TABLE taxi.dim_service (
    service_key smallint PRIMARY KEY,
    dataset     text     NOT NULL REFERENCES taxi.dataset,
    service     text     NOT NULL,
    company     text,
    license     text     UNIQUE
);
INSERT INTO taxi.dim_service VALUES
    (1, 'yellow', 'Yellow taxi', NULL, NULL),
    (2, 'green', 'Green taxi', NULL, NULL),
    (3, 'fhv', 'For-hire vehicle', NULL, NULL),
    (4, 'fhvhv', 'High-volume for-hire vehicle', 'Unknown', NULL),
    (5, 'fhvhv', 'High-volume for-hire vehicle', 'Juno', 'HV0002'),
    (6, 'fhvhv', 'High-volume for-hire vehicle', 'Uber', 'HV0003'),
    (7, 'fhvhv', 'High-volume for-hire vehicle', 'Via', 'HV0004'),
    (8, 'fhvhv', 'High-volume for-hire vehicle', 'Lyft', 'HV0005');
COMMENT ON TABLE taxi.dim_service IS
    'Services (key 1 yellow, 2 green, 3 FHV, 4-8 high-volume FHV by company from hvfhs_license_num, 4 an unknown license)';
GRANT SELECT ON taxi.dataset, taxi.dim_service TO PUBLIC;

-- The facts of every dataset share taxi.fact_trips: service_key says whose a fact is, and a
-- measure a dataset lacks is NULL (FHV trips have no fares; early FHV trips no dropoff).
ALTER TABLE taxi.fact_trips ADD COLUMN service_key smallint NOT NULL DEFAULT 1;
ALTER TABLE taxi.fact_trips ALTER COLUMN service_key DROP DEFAULT;
ALTER TABLE taxi.fact_trips ALTER COLUMN trip_duration_minutes DROP NOT NULL;
COMMENT ON COLUMN taxi.fact_trips.service_key IS 'taxi.dim_service: the dataset, and for high-volume FHV the company';
COMMENT ON TABLE taxi.fact_trips IS 'Star schema fact table: one row per trip of every dataset''s table (same row_hash), partitioned by month of pickup';
COMMENT ON COLUMN taxi.fact_trips.row_hash IS 'The trip''s row in its dataset''s table';
COMMENT ON COLUMN taxi.fact_trips.trip_duration_minutes IS 'dropoff - pickup in minutes (negative when the dropoff is earlier, NULL without a dropoff; the dropoff time itself is in the trip''s row)';

ALTER TABLE taxi.load_runs ADD COLUMN dataset text;
COMMENT ON COLUMN taxi.load_runs.dataset IS
    'The dataset of the file (taxi.dataset): the one its columns say, or the one the caller named; NULL when the file was refused before either was known';
ALTER TABLE taxi.month_drops ADD COLUMN dataset text NOT NULL DEFAULT 'yellow';
ALTER TABLE taxi.month_drops ALTER COLUMN dataset DROP DEFAULT;

-- Retires a month from both schemas at once: the month's trip partition of each dataset named
-- (every dataset when NULL) is dropped, and their facts with them (the month's fact partition,
-- shared by the datasets, is dropped when no other dataset keeps facts in it; otherwise their
-- facts are deleted from it), so taxi_check_consistency() stays empty; each drop is recorded.
-- Takes ACCESS EXCLUSIVE on the parents (as dropping a partition does), so it waits for running
-- loads and queries and holds them off for as long as it takes to count the month.
CREATE FUNCTION taxi_drop_month(month date, dataset text DEFAULT NULL)
RETURNS TABLE (dropped_dataset text, trip_partition text, trips_dropped bigint, fact_partition text, facts_dropped bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m date;
    d record;
    trips_part regclass;
    facts_part regclass;
    ids bigint[];
    keys smallint[];
    others boolean;
    dropped integer := 0;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'taxi_drop_month: month must not be NULL',
            HINT = 'Pass any day of the month to drop, e.g. taxi_drop_month(''2024-01-01'').';
    END IF;
    IF NOT isfinite($1) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'taxi_drop_month: month must be a finite date',
            DETAIL = format('Got %s.', $1),
            HINT = 'Pickups before 2000 and from 2100 on share two partitions; pass a date in them (e.g. ''1999-12-01'') to drop one.';
    END IF;
    IF $2 IS NOT NULL AND NOT EXISTS (SELECT FROM taxi.dataset x WHERE x.name = lower($2)) THEN
        RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = format('unknown dataset "%s"', $2),
            HINT = 'The datasets are ' || (SELECT string_agg(x.name, ', ' ORDER BY x.trip_table::oid) FROM taxi.dataset x) || '.';
    END IF;
    IF EXISTS (SELECT FROM taxi.dataset x JOIN pg_class c ON c.oid = x.trip_table
               WHERE ($2 IS NULL OR x.name = lower($2)) AND NOT pg_has_role(c.relowner, 'USAGE')) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'taxi_drop_month: permission denied to drop partitions of the trips tables',
            HINT = 'Only the owner of the extension''s tables, or a member of that role, may drop months.';
    END IF;
    m := CASE WHEN $1 < '2000-01-01' THEN '1999-12-01'::date
              WHEN $1 >= '2100-01-01' THEN '2100-01-01'::date
              ELSE date_trunc('month', $1)::date END;
    -- Trips before facts, as loads and taxi.attach_partition lock them.
    LOCK TABLE taxi.yellow_taxi_trips IN ACCESS EXCLUSIVE MODE;
    FOR d IN SELECT x.name, x.trip_table FROM taxi.dataset x
             WHERE ($2 IS NULL OR x.name = lower($2)) ORDER BY x.trip_table::oid LOOP
        EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', d.trip_table);
    END LOOP;
    LOCK TABLE taxi.fact_trips IN ACCESS EXCLUSIVE MODE;
    fact_partition := (taxi.month_partition('taxi.fact_trips', m)).name;
    SELECT i.inhrelid::regclass INTO facts_part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'taxi.fact_trips'::regclass AND c.relname = fact_partition;
    -- Whether a dataset that is not dropped has trips in the month (then its facts stay).
    others := EXISTS (
        SELECT FROM taxi.dataset x JOIN pg_inherits i ON i.inhparent = x.trip_table
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE $2 IS NOT NULL AND x.name <> lower($2)
          AND c.relname = (taxi.month_partition(x.trip_table, m)).name);
    FOR d IN SELECT x.name, x.trip_table FROM taxi.dataset x
             WHERE ($2 IS NULL OR x.name = lower($2)) ORDER BY x.trip_table::oid LOOP
        dropped_dataset := d.name;
        trip_partition := (taxi.month_partition(d.trip_table, m)).name;
        trips_part := NULL;
        SELECT i.inhrelid::regclass INTO trips_part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = d.trip_table AND c.relname = trip_partition;
        trips_dropped := 0;
        facts_dropped := 0;
        ids := '{}';
        CONTINUE WHEN trips_part IS NULL;
        EXECUTE format('SELECT count(*), coalesce(array_agg(DISTINCT load_id ORDER BY load_id), ''{}'') FROM %s', trips_part)
            INTO trips_dropped, ids;
        EXECUTE format('DROP TABLE %s', trips_part);
        dropped := dropped + 1;
        keys := ARRAY(SELECT s.service_key FROM taxi.dim_service s WHERE s.dataset = d.name);
        IF facts_part IS NOT NULL AND others THEN
            EXECUTE format('DELETE FROM %s WHERE service_key = ANY ($1)', facts_part) USING keys;
            GET DIAGNOSTICS facts_dropped = ROW_COUNT;
        ELSIF facts_part IS NOT NULL THEN
            -- The whole fact partition goes below: its facts of this dataset are counted.
            EXECUTE format('SELECT count(*) FROM %s WHERE service_key = ANY ($1)', facts_part)
                INTO facts_dropped USING keys;
        END IF;
        INSERT INTO taxi.month_drops (trip_partition, trips_dropped, facts_dropped, load_ids, dataset)
        VALUES (trip_partition, trips_dropped, facts_dropped, ids, d.name);
        RETURN NEXT;
    END LOOP;
    IF facts_part IS NOT NULL AND NOT others THEN
        EXECUTE format('DROP TABLE %s', facts_part);
    END IF;
    IF dropped = 0 THEN
        RAISE NOTICE 'taxi_drop_month: no trips are stored for % (of %)', to_char(m, 'YYYY-MM'), coalesce(lower($2), 'any dataset');
    END IF;
END $$;
COMMENT ON FUNCTION taxi_drop_month(date, text) IS
    'Drops the trip partitions of the month holding a date (of one dataset, or of every one when NULL) with their facts, and records it in taxi.month_drops';

-- Every load that succeeded before 0.7.0 loaded yellow trips.
UPDATE taxi.load_runs SET dataset = 'yellow' WHERE status = 'succeeded';

-- The functions of the library (as cargo pgrx schema writes them).
CREATE FUNCTION "taxi_load"(
	"path" TEXT,
	"chunk_size" INT DEFAULT NULL,
	"replace" bool DEFAULT false,
	"dataset" TEXT DEFAULT NULL
) RETURNS TABLE (
	"load_id" bigint,
	"rows_read" bigint,
	"rows_inserted" bigint,
	"rows_duplicate" bigint,
	"rows_rejected" bigint,
	"rows_removed" bigint,
	"seconds" double precision,
	"dataset" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_trip_file_wrapper';

CREATE FUNCTION "taxi_load_dir"(
	"dir" TEXT,
	"pattern" TEXT DEFAULT '*.parquet',
	"chunk_size" INT DEFAULT NULL,
	"replace" bool DEFAULT false,
	"dataset" TEXT DEFAULT NULL
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
	"error_message" TEXT,
	"dataset" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_trip_folder_wrapper';

CREATE FUNCTION "taxi_load_months"(
	"url_template" TEXT,
	"from_month" date,
	"to_month" date DEFAULT NULL,
	"replace" bool DEFAULT false,
	"chunk_size" INT DEFAULT NULL,
	"dataset" TEXT DEFAULT NULL
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
	"error_message" TEXT,
	"dataset" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_trip_months_wrapper';

CREATE FUNCTION "taxi_check_consistency"(
	"dataset" TEXT DEFAULT NULL
) RETURNS TABLE (
	"dataset" TEXT,
	"month" date,
	"item" TEXT,
	"normalized" NUMERIC,
	"star" NUMERIC,
	"detail" TEXT
)
STABLE PARALLEL RESTRICTED
LANGUAGE c
AS 'MODULE_PATHNAME', 'check_consistency_wrapper';

CREATE FUNCTION "taxi_rebuild_star"(
	"month" date DEFAULT NULL,
	"dataset" TEXT DEFAULT NULL
) RETURNS TABLE (
	"dataset" TEXT,
	"month" date,
	"facts_deleted" bigint,
	"facts_inserted" bigint
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'rebuild_star_wrapper';
