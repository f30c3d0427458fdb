-- taxi_loader 0.3.0 -> 0.4.0: taxi.yellow_taxi_trips partitioned by month of pickup, with the
-- bounds of taxi.fact_trips; taxi_drop_month and its record, taxi.month_drops.
--
-- The trips table is converted in place: a partitioned table takes its name, every stored row
-- (row_hash, load_id, quality_flags, values) is copied into its month's partition, each
-- partition's primary key and two indexes are built once, after the copy (sql/schema.sql says
-- why the keys are the partitions'), and the old table is dropped. Facts, history and rejected
-- rows are untouched. It holds ACCESS EXCLUSIVE on the trips table meanwhile; the time it takes
-- per million stored trips is in docs/performance.md.
--
-- Indexes a user added to the trips table are not carried over (a NOTICE names each with its
-- definition); a view of the user's on the trips table makes the update fail (drop it first).
-- scripts/sqltest checks that an updated installation has exactly the objects of a fresh one and
-- every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.4.0'" to load this file. \quit

CREATE FUNCTION taxi.month_partition(parent regclass, month date,
                                     OUT name text, OUT lower timestamp, OUT upper timestamp)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.relname || CASE WHEN month < '2000-01-01' THEN '_before_2000'
                             WHEN month >= '2100-01-01' THEN '_from_2100'
                             ELSE to_char(month, '"_y"YYYY"m"MM') END,
           CASE WHEN month < '2000-01-01' THEN NULL
                WHEN month >= '2100-01-01' THEN timestamp '2100-01-01'
                ELSE date_trunc('month', month)::timestamp END,
           CASE WHEN month < '2000-01-01' THEN timestamp '2000-01-01'
                WHEN month >= '2100-01-01' THEN NULL
                ELSE date_trunc('month', month)::timestamp + interval '1 month' END
    FROM pg_class c WHERE c.oid = parent
$$;
COMMENT ON FUNCTION taxi.month_partition(regclass, date) IS
    'Name and bounds (NULL: unbounded) of the partition of a taxi_loader table that holds a month';

-- The keys and indexes of a partition of taxi.yellow_taxi_trips (see sql/schema.sql): the
-- primary key on row_hash, pickup time, pickup and dropoff zones. Fact partitions have none.
CREATE FUNCTION taxi.index_partition(parent regclass, part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = part);
BEGIN
    IF parent = 'taxi.yellow_taxi_trips'::regclass THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (row_hash)', part, name || '_pkey');
        EXECUTE format('CREATE INDEX %I ON %s (tpep_pickup_datetime)', name || '_pickup_idx', part);
        EXECUTE format('CREATE INDEX %I ON %s (pulocationid, dolocationid)', name || '_zones_idx', part);
    END IF;
END $$;
COMMENT ON FUNCTION taxi.index_partition(regclass, regclass) IS
    'Creates the primary key and indexes of a partition of taxi.yellow_taxi_trips';

-- A standalone table shaped like parent's partitions (columns, defaults, CHECKs, keys and
-- indexes), not attached yet, named for month's partition.
CREATE FUNCTION taxi.create_partition_table(parent regclass, month date) RETURNS regclass
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text := (SELECT p.name FROM taxi.month_partition(parent, month) p);
BEGIN
    EXECUTE format('CREATE TABLE taxi.%I (LIKE %s INCLUDING ALL)', part, parent);
    PERFORM taxi.index_partition(parent, format('taxi.%I', part)::regclass);
    RETURN format('taxi.%I', part)::regclass;
END $$;
COMMENT ON FUNCTION taxi.create_partition_table(regclass, date) IS
    'Creates a standalone table to become the partition of a month (see taxi.attach_partition)';

-- Attaches part as parent's partition of month. A CHECK matching the bounds is added first, so
-- that ATTACH need not scan the table while it holds its lock on the parent, and dropped after.
-- Every attach first locks taxi.yellow_taxi_trips (SHARE UPDATE EXCLUSIVE), then the parent:
-- loads attach trip partitions before fact partitions, and a common order cannot deadlock.
CREATE FUNCTION taxi.attach_partition(parent regclass, part regclass, month date) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b record := taxi.month_partition(parent, month);
    key name := (SELECT a.attname FROM pg_partitioned_table t
                 JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0]
                 WHERE t.partrelid = parent);
BEGIN
    LOCK TABLE taxi.yellow_taxi_trips IN SHARE UPDATE EXCLUSIVE MODE;
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT taxi_partition_bounds CHECK (%s AND %s)', part,
                   CASE WHEN b.lower IS NULL THEN 'true' ELSE format('%I >= %L', key, b.lower) END,
                   CASE WHEN b.upper IS NULL THEN 'true' ELSE format('%I < %L', key, b.upper) END);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)', parent, part,
                   coalesce(quote_literal(b.lower), 'MINVALUE'), coalesce(quote_literal(b.upper), 'MAXVALUE'));
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT taxi_partition_bounds', part);
END $$;
COMMENT ON FUNCTION taxi.attach_partition(regclass, regclass, date) IS
    'Attaches a table made by taxi.create_partition_table as the partition of its month';

-- Rebuilds part's indexes from its heap, after taxi_load wrote rows straight into it.
CREATE FUNCTION taxi.reindex_partition(part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('REINDEX TABLE %s', part);
END $$;
COMMENT ON FUNCTION taxi.reindex_partition(regclass) IS
    'Rebuilds the indexes of a partition taxi_load wrote straight into';

-- Drops a table made by taxi.create_partition_table that a load left empty (not attached).
CREATE FUNCTION taxi.drop_partition_table(part regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT FROM pg_class WHERE oid = part AND (relispartition
               OR relnamespace <> 'taxi'::regnamespace)) THEN
        RAISE EXCEPTION '% is not a standalone table of schema taxi', part;
    END IF;
    EXECUTE format('DROP TABLE %s', part);
END $$;
COMMENT ON FUNCTION taxi.drop_partition_table(regclass) IS
    'Drops a standalone table made by taxi.create_partition_table that received no rows';

-- Creates (empty, attached) the partitions of parent for the given months that do not exist yet.
CREATE FUNCTION taxi.ensure_partitions(parent regclass, months date[]) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m date;
    created integer := 0;
BEGIN
    FOR m IN SELECT DISTINCT CASE WHEN x < '2000-01-01' THEN '1999-12-01'::date
                                  WHEN x >= '2100-01-01' THEN '2100-01-01'::date
                                  ELSE date_trunc('month', x)::date END
             FROM unnest(months) AS u(x) WHERE x IS NOT NULL ORDER BY 1
    LOOP
        CONTINUE WHEN to_regclass(format('taxi.%I', (taxi.month_partition(parent, m)).name)) IS NOT NULL;
        PERFORM taxi.attach_partition(parent, taxi.create_partition_table(parent, m), m);
        created := created + 1;
    END LOOP;
    RETURN created;
END $$;
COMMENT ON FUNCTION taxi.ensure_partitions(regclass, date[]) IS
    'Creates the missing partitions of a taxi_loader table for the given months';

-- Kept from 0.2.0 under its name (tests and users' scripts call it).
CREATE OR REPLACE FUNCTION taxi.ensure_fact_partitions(months date[]) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT taxi.ensure_partitions('taxi.fact_trips', months)
$$;
COMMENT ON FUNCTION taxi.ensure_fact_partitions(date[]) IS
    'Creates missing partitions of taxi.fact_trips for the given months; called by taxi_rebuild_star.';

REVOKE EXECUTE ON FUNCTION taxi.month_partition(regclass, date), taxi.index_partition(regclass, regclass),
    taxi.create_partition_table(regclass, date),
    taxi.attach_partition(regclass, regclass, date), taxi.reindex_partition(regclass),
    taxi.drop_partition_table(regclass), taxi.ensure_partitions(regclass, date[]),
    taxi.ensure_fact_partitions(date[]) FROM PUBLIC;

-- Months retired with taxi_drop_month, one row per call that dropped something.
CREATE TABLE taxi.month_drops (
    dropped_at     timestamptz NOT NULL DEFAULT now(),
    dropped_by     name        NOT NULL DEFAULT current_user,
    trip_partition text        NOT NULL,
    trips_dropped  bigint      NOT NULL,
    facts_dropped  bigint      NOT NULL,
    load_ids       bigint[]    NOT NULL
);
COMMENT ON TABLE taxi.month_drops IS
    'Months dropped by taxi_drop_month: the partition, how many trips and facts, the loads whose trips they were';
COMMENT ON COLUMN taxi.month_drops.load_ids IS
    'The taxi.load_runs rows whose trips were dropped (their history rows stay; taxi_load_dir does not load those files again)';
SELECT pg_catalog.pg_extension_config_dump('taxi.month_drops', '');

-- Retires a month from both schemas at once: its trip partition and its fact partition are
-- dropped together, so taxi_check_consistency() stays empty, and the drop is recorded.
-- Takes ACCESS EXCLUSIVE on both parents (as dropping a partition does), so it waits for
-- running loads and queries and holds them off for as long as it takes to count the month.
CREATE FUNCTION taxi_drop_month(month date)
RETURNS TABLE (trip_partition text, trips_dropped bigint, fact_partition text, facts_dropped bigint)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m date;
    trips_part regclass;
    facts_part regclass;
    ids bigint[] := '{}';
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
    IF NOT pg_has_role((SELECT relowner FROM pg_class WHERE oid = 'taxi.yellow_taxi_trips'::regclass), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = 'taxi_drop_month: permission denied to drop partitions of taxi.yellow_taxi_trips',
            HINT = 'Only the owner of the extension''s tables, or a member of that role, may drop months.';
    END IF;
    m := CASE WHEN $1 < '2000-01-01' THEN '1999-12-01'::date
              WHEN $1 >= '2100-01-01' THEN '2100-01-01'::date
              ELSE date_trunc('month', $1)::date END;
    -- Trips before facts, as loads and taxi.attach_partition lock them.
    LOCK TABLE taxi.yellow_taxi_trips IN ACCESS EXCLUSIVE MODE;
    LOCK TABLE taxi.fact_trips IN ACCESS EXCLUSIVE MODE;
    trip_partition := (taxi.month_partition('taxi.yellow_taxi_trips', m)).name;
    fact_partition := (taxi.month_partition('taxi.fact_trips', m)).name;
    SELECT i.inhrelid::regclass INTO trips_part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'taxi.yellow_taxi_trips'::regclass AND c.relname = trip_partition;
    SELECT i.inhrelid::regclass INTO facts_part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'taxi.fact_trips'::regclass AND c.relname = fact_partition;
    trips_dropped := 0;
    facts_dropped := 0;
    IF trips_part IS NOT NULL THEN
        EXECUTE format('SELECT count(*), coalesce(array_agg(DISTINCT load_id ORDER BY load_id), ''{}'') FROM %s', trips_part)
            INTO trips_dropped, ids;
        EXECUTE format('DROP TABLE %s', trips_part);
    END IF;
    IF facts_part IS NOT NULL THEN
        EXECUTE format('SELECT count(*) FROM %s', facts_part) INTO facts_dropped;
        EXECUTE format('DROP TABLE %s', facts_part);
    END IF;
    IF trips_part IS NULL AND facts_part IS NULL THEN
        RAISE NOTICE 'taxi_drop_month: no trips or facts are stored for % (no partition %)', to_char(m, 'YYYY-MM'), trip_partition;
    ELSE
        INSERT INTO taxi.month_drops (trip_partition, trips_dropped, facts_dropped, load_ids)
        VALUES (trip_partition, trips_dropped, facts_dropped, ids);
    END IF;
    RETURN NEXT;
END $$;
COMMENT ON FUNCTION taxi_drop_month(date) IS
    'Drops the trip and fact partitions of the month holding a date (both schemas at once) and records it in taxi.month_drops';

-- Two first loads may now meet in it (loads of different months run side by side).
CREATE OR REPLACE FUNCTION taxi.ensure_drop_guard() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF to_regclass('taxi.drop_guard') IS NULL THEN
        CREATE VIEW taxi.drop_guard AS SELECT count(*) AS trips FROM taxi.yellow_taxi_trips;
        COMMENT ON VIEW taxi.drop_guard IS
            'Keeps DROP EXTENSION taxi_loader from silently dropping loaded trips. DROP EXTENSION taxi_loader CASCADE drops the data too.';
    END IF;
-- A concurrent first load created it: either it committed first (42P07), or this CREATE waited
-- for its catalog row and then collided with it (23505 on pg_type). Loads of different months
-- run side by side, so two first loads can meet here.
EXCEPTION WHEN duplicate_table OR unique_violation THEN
    NULL;
END $$;

-- The trips table, converted.
LOCK TABLE taxi.yellow_taxi_trips IN ACCESS EXCLUSIVE MODE;
DO $$
DECLARE
    i record;
BEGIN
    FOR i IN SELECT c.relname, pg_get_indexdef(x.indexrelid) AS def
             FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
             WHERE x.indrelid = 'taxi.yellow_taxi_trips'::regclass
               AND c.relname NOT IN ('yellow_taxi_trips_pkey', 'yellow_taxi_trips_pickup_idx', 'yellow_taxi_trips_zones_idx')
    LOOP
        RAISE NOTICE 'taxi_loader 0.4.0: index % of taxi.yellow_taxi_trips is not carried over to the partitioned table; recreate it with: %',
            i.relname, i.def;
    END LOOP;
END $$;
-- Not a member of the extension (taxi_load creates it); it depends on the old table.
DROP VIEW IF EXISTS taxi.drop_guard;
ALTER EXTENSION taxi_loader DROP TABLE taxi.yellow_taxi_trips;
ALTER TABLE taxi.yellow_taxi_trips RENAME TO yellow_taxi_trips_0_3_0;
-- Indexes are built after the copy, once per partition. The old table's constraint names
-- (its CHECK, and on PostgreSQL 18 its NOT NULLs) are the new table's: renamed out of the way.
ALTER TABLE taxi.yellow_taxi_trips_0_3_0 DROP CONSTRAINT yellow_taxi_trips_pkey;
DO $$
DECLARE
    c name;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'taxi.yellow_taxi_trips_0_3_0'::regclass
    LOOP
        EXECUTE format('ALTER TABLE taxi.yellow_taxi_trips_0_3_0 RENAME CONSTRAINT %I TO %I', c, 'old_' || c);
    END LOOP;
END $$;
DROP INDEX taxi.yellow_taxi_trips_pickup_idx, taxi.yellow_taxi_trips_zones_idx;

CREATE TABLE taxi.yellow_taxi_trips (
    row_hash              bytea    NOT NULL CHECK (octet_length(row_hash) = 32),
    load_id               bigint   NOT NULL,
    vendorid              smallint,
    tpep_pickup_datetime  timestamp NOT NULL,
    tpep_dropoff_datetime timestamp NOT NULL,
    passenger_count       smallint,
    trip_distance         double precision,
    ratecodeid            smallint,
    store_and_fwd_flag    text,
    pulocationid          smallint,
    dolocationid          smallint,
    payment_type          smallint,
    fare_amount           numeric(12,2),
    extra                 numeric(12,2),
    mta_tax               numeric(12,2),
    tip_amount            numeric(12,2),
    tolls_amount          numeric(12,2),
    improvement_surcharge numeric(12,2),
    total_amount          numeric(12,2),
    congestion_surcharge  numeric(12,2),
    airport_fee           numeric(12,2),
    cbd_congestion_fee    numeric(12,2),
    quality_flags         smallint NOT NULL DEFAULT 0
) PARTITION BY RANGE (tpep_pickup_datetime);
COMMENT ON TABLE taxi.yellow_taxi_trips IS 'NYC TLC yellow-taxi trips, each distinct trip once (filled by taxi_load), partitioned by month of pickup';
COMMENT ON COLUMN taxi.yellow_taxi_trips.row_hash IS 'SHA-256 of the canonical encoding of the trip (docs/row-hash.md); unique on its own, as it covers the pickup time';
COMMENT ON COLUMN taxi.yellow_taxi_trips.load_id IS 'The taxi_load call that inserted the row';
COMMENT ON COLUMN taxi.yellow_taxi_trips.quality_flags IS
    'Why the trip looks suspicious, a bitmask: 1 negative amount, 2 dropoff before pickup, 4 pickup outside the file''s month, 8 unknown zone 264/265, 16 zero distance, 32 over 100 mph (README, "Quality flags")';

DO $$
DECLARE
    m date;
    part regclass;
BEGIN
    FOR m IN SELECT DISTINCT CASE WHEN d < '2000-01-01' THEN '1999-12-01'::date
                                  WHEN d >= '2100-01-01' THEN '2100-01-01'::date
                                  ELSE date_trunc('month', d)::date END
             FROM (SELECT tpep_pickup_datetime AS d FROM taxi.yellow_taxi_trips_0_3_0) s ORDER BY 1
    LOOP
        EXECUTE format('CREATE TABLE taxi.%I (LIKE taxi.yellow_taxi_trips INCLUDING ALL)',
                       (taxi.month_partition('taxi.yellow_taxi_trips', m)).name);
        part := format('taxi.%I', (taxi.month_partition('taxi.yellow_taxi_trips', m)).name)::regclass;
        PERFORM taxi.attach_partition('taxi.yellow_taxi_trips', part, m);
        -- Made by this script, so a member; partitions are the loads' (pg_dump dumps their rows).
        EXECUTE format('ALTER EXTENSION taxi_loader DROP TABLE %s', part);
    END LOOP;
END $$;
INSERT INTO taxi.yellow_taxi_trips SELECT * FROM taxi.yellow_taxi_trips_0_3_0;
DROP TABLE taxi.yellow_taxi_trips_0_3_0;
SET LOCAL maintenance_work_mem = '512MB';
SELECT taxi.index_partition('taxi.yellow_taxi_trips', inhrelid::regclass)
FROM pg_inherits WHERE inhparent = 'taxi.yellow_taxi_trips'::regclass;
SELECT pg_catalog.pg_extension_config_dump('taxi.yellow_taxi_trips', '');
ANALYZE taxi.yellow_taxi_trips;
DO $$
BEGIN
    IF EXISTS (SELECT FROM taxi.yellow_taxi_trips) THEN
        PERFORM taxi.ensure_drop_guard();
        ALTER EXTENSION taxi_loader DROP VIEW taxi.drop_guard;
    END IF;
END $$;
