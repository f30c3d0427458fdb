-- Partitions by month of pickup, shared by the trips tables (taxi.dataset) and taxi.fact_trips.
--
-- All these tables have the same partitions: one per month of 2000-2099 (<table>_yYYYYmMM) and two
-- catch-alls (<table>_before_2000, <table>_from_2100). Loads create them when a month first
-- appears, never the extension script, so they are not extension members and pg_dump dumps them
-- (and their rows) like any table. The Rust side names them too (taxi_core::partition); a
-- pg_test compares the two.
--
-- A partition is never created with CREATE TABLE … PARTITION OF, which would take ACCESS
-- EXCLUSIVE on the parent and make every reader of every month wait: a standalone table is
-- created (and, on taxi_load's direct path, filled and indexed), then attached, which takes only
-- SHARE UPDATE EXCLUSIVE on the parent.
--
-- Not for direct use: taxi_load, taxi_rebuild_star and taxi_drop_month call these as the
-- extension's owner; none is executable by PUBLIC.

-- The partition of parent that holds the pickups of month: its name and bounds (NULL: MINVALUE
-- or MAXVALUE).
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
-- loads attach trip partitions before fact partitions, and a common order cannot deadlock (the
-- other datasets' attaches take it too, as the order's first lock).
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
CREATE FUNCTION taxi.ensure_fact_partitions(months date[]) RETURNS integer
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

-- Months retired with taxi_drop_month, one row per dataset and call that dropped something.
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
