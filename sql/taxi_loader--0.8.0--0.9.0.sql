-- taxi_loader 0.8.0 -> 0.9.0: taxi_check_consistency compares month by month, and takes the month
-- to check; taxi_distribute() and taxi.distributed() for a Citus cluster (sql/distributed.sql,
-- copied at the end of this file). taxi_check_consistency's arguments change (month first, so
-- `taxi_check_consistency('yellow')` must become `taxi_check_consistency(dataset => 'yellow')`):
-- dropped here, created again below. Nothing stored changes. scripts/sqltest checks that an updated installation has exactly the objects of
-- a fresh one and every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.9.0'" to load this file. \quit

DROP FUNCTION taxi_check_consistency(text);

CREATE FUNCTION "taxi_check_consistency"(
	"month" date DEFAULT NULL,
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
AS 'MODULE_PATHNAME', 'check_consistency_by_month_wrapper';

COMMENT ON VIEW taxi.load_progress IS
    'Running taxi_load calls (and taxi_check_consistency calls, target taxi.fact_trips): chunk, rows and bytes done of the total, rows/s';

-- sql/distributed.sql, as a fresh install runs it.
-- A distributed database (0.9.0): the same tables spread over a Citus cluster (docs/distributed.md).
--
-- Every dataset's trips and taxi.fact_trips are distributed tables on row_hash, all co-located:
-- a trip and its fact live in the same shard group on the same worker, so a load's
-- ON CONFLICT (row_hash), the consistency check's trip-to-fact join and a replacement's removal
-- run shard by shard on the workers; every month spreads over every worker. The dimensions, the
-- lookup tables and taxi.dataset are reference tables (a copy on every node: joins with facts
-- stay on the workers). The load history, rejected rows, month drops and saved indexes stay
-- local to the coordinator, where loads run. The month partitions stay: a new month's partition,
-- attached to a distributed table, is distributed by Citus with it.
--
-- Nothing here needs Citus to be installed: taxi.distributed() answers false without it, and
-- taxi_distribute() refuses with a hint.

-- Whether rel is a Citus table (distributed, reference or added to Citus' metadata): its rows are
-- then in shards, not in its own heap, which loads and checks must not read or write directly.
CREATE FUNCTION taxi.distributed(rel regclass) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    found boolean;
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition WHERE logicalrelid = $1)'
        INTO found USING rel;
    RETURN found;
END $$;
COMMENT ON FUNCTION taxi.distributed(regclass) IS
    'Whether a table is a Citus table (its rows live in shards): taxi_load then writes through SQL';

-- One row hash in each shard of the trips' co-location group, once distributed (taxi_distribute
-- fills it): a query over it reaches every worker, in the load's transaction. A load on the
-- coordinator runs taxi.shard_can_read and taxi.shard_write through it, so that each worker
-- reads the file and writes its own shards of the load's new months (docs/distributed.md).
CREATE TABLE taxi.shard_keys (
    row_hash bytea PRIMARY KEY CHECK (octet_length(row_hash) = 32)
);
COMMENT ON TABLE taxi.shard_keys IS
    'One row_hash per shard of the distributed trips: how a load reaches every worker (internal)';

CREATE FUNCTION taxi.shard_can_read(key bytea, path text, size bigint) RETURNS boolean
VOLATILE PARALLEL UNSAFE LANGUAGE c AS 'MODULE_PATHNAME', 'shard_can_read_wrapper';
COMMENT ON FUNCTION taxi.shard_can_read(bytea, text, bigint) IS
    'On a worker: whether it reads a load''s file as the coordinator does (internal)';

CREATE FUNCTION taxi.shard_write(key bytea, path text, dataset text, load_id bigint,
    chunk_size integer, star boolean, months integer[], trip_shards text[], fact_shards text[],
    mins integer[], maxs integer[]) RETURNS bigint[]
VOLATILE PARALLEL UNSAFE LANGUAGE c AS 'MODULE_PATHNAME', 'shard_write_wrapper';
COMMENT ON FUNCTION taxi.shard_write(bytea, text, text, bigint, integer, boolean, integer[],
    text[], text[], integer[], integer[]) IS
    'On a worker: writes its shards of a load''s new months straight into their heaps (internal)';
REVOKE EXECUTE ON FUNCTION taxi.shard_can_read(bytea, text, bigint),
    taxi.shard_write(bytea, text, text, bigint, integer, boolean, integer[], text[], text[],
                     integer[], integer[]) FROM PUBLIC;

-- Makes the database distributed, on a Citus coordinator with its workers added. Idempotent: a
-- table already distributed is reported and left alone. Tables with rows keep them (Citus copies
-- them into the shards; the coordinator's local copies are then truncated).
CREATE FUNCTION taxi_distribute(shard_count integer DEFAULT NULL)
RETURNS TABLE (table_name regclass, distribution text)
-- Citus' NOTICEs about copying each table's rows are said once, by the result.
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET client_min_messages = warning AS $$
DECLARE
    reference regclass[] := ARRAY['taxi.dataset', 'taxi.dim_service', 'taxi.dim_date',
        'taxi.dim_time', 'taxi.dim_location', 'taxi.dim_vendor', 'taxi.dim_payment_type',
        'taxi.dim_rate_code', 'taxi.vendor', 'taxi.rate_code', 'taxi.payment_type',
        'taxi.taxi_zone']::regclass[];
    hashed regclass[];
    rel regclass;
    part regclass;
    had_rows boolean;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') THEN
        RAISE EXCEPTION 'taxi_distribute: Citus is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Install Citus on every node (shared_preload_libraries = ''citus''), CREATE EXTENSION citus, add the workers with citus_add_node(), then call taxi_distribute() on the coordinator (docs/distributed.md).';
    END IF;
    IF NOT citus_is_coordinator() THEN
        RAISE EXCEPTION 'taxi_distribute: this node is not the coordinator of a Citus cluster'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Call it on the coordinator: SELECT citus_set_coordinator_host(...) there and citus_add_node() for each worker first.';
    END IF;
    IF shard_count IS NOT NULL AND (shard_count < 1 OR shard_count > 64000) THEN
        RAISE EXCEPTION 'taxi_distribute: shard_count must be between 1 and 64000, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Leave it NULL for citus.shard_count (32 by default): a few shards per worker core.';
    END IF;
    -- Loads and drops of months wait: a table changes hands under them otherwise.
    LOCK TABLE taxi.dataset IN SHARE ROW EXCLUSIVE MODE;
    hashed := ARRAY(SELECT trip_table FROM taxi.dataset ORDER BY name = 'yellow' DESC, name)
              || 'taxi.fact_trips'::regclass || 'taxi.shard_keys'::regclass;

    -- dim_service references taxi.dataset. Citus cannot make either a reference table while the
    -- other is local (it would add the other to its metadata, and the workers already have it:
    -- CREATE EXTENSION ran there too), so the key is dropped, both are distributed, and the key
    -- is added again between the reference tables. On the workers the extension's own copy of the
    -- key goes first, or Citus' propagated one would collide with it.
    IF NOT taxi.distributed('taxi.dim_service') THEN
        PERFORM run_command_on_workers(
            'SET citus.enable_ddl_propagation TO off; '
            'ALTER TABLE taxi.dim_service DROP CONSTRAINT IF EXISTS dim_service_dataset_fkey');
        ALTER TABLE taxi.dim_service DROP CONSTRAINT IF EXISTS dim_service_dataset_fkey;
    END IF;
    FOREACH rel IN ARRAY reference LOOP
        IF taxi.distributed(rel) THEN
            table_name := rel; distribution := 'reference (already)'; RETURN NEXT;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT FROM %s)', rel) INTO had_rows;
        PERFORM create_reference_table(rel);
        IF had_rows THEN
            PERFORM truncate_local_data_after_distributing_table(rel);
        END IF;
        table_name := rel; distribution := 'reference'; RETURN NEXT;
    END LOOP;
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'taxi.dim_service'::regclass
                   AND conname = 'dim_service_dataset_fkey') THEN
        ALTER TABLE taxi.dim_service ADD CONSTRAINT dim_service_dataset_fkey
            FOREIGN KEY (dataset) REFERENCES taxi.dataset;
    END IF;

    FOREACH rel IN ARRAY hashed LOOP
        IF taxi.distributed(rel) THEN
            table_name := rel; distribution := 'hash on row_hash (already)'; RETURN NEXT;
            CONTINUE;
        END IF;
        EXECUTE format('SELECT EXISTS (SELECT FROM %s)', rel) INTO had_rows;
        IF rel = hashed[1] THEN
            PERFORM create_distributed_table(rel, 'row_hash', colocate_with => 'none',
                                             shard_count => coalesce(shard_count,
                                                 current_setting('citus.shard_count')::integer));
        ELSE
            PERFORM create_distributed_table(rel, 'row_hash', colocate_with => hashed[1]::text);
        END IF;
        IF had_rows THEN
            -- The rows were copied into the shards; the coordinator's copies (the partitions')
            -- would only take disk.
            FOR part IN SELECT relid FROM pg_partition_tree(rel) WHERE isleaf LOOP
                PERFORM truncate_local_data_after_distributing_table(part);
            END LOOP;
        END IF;
        table_name := rel; distribution := 'hash on row_hash'; RETURN NEXT;
    END LOOP;
    -- A key in every shard: the first of sha256(1), sha256(2), … to fall in it. Filled again
    -- when a shard lacks one (after Citus split shards).
    IF (SELECT count(DISTINCT get_shard_id_for_distribution_column('taxi.shard_keys', row_hash))
        FROM taxi.shard_keys)
       < (SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'taxi.shard_keys'::regclass) THEN
        DELETE FROM taxi.shard_keys;
        INSERT INTO taxi.shard_keys
        SELECT DISTINCT ON (s) k
        FROM (SELECT k, get_shard_id_for_distribution_column('taxi.shard_keys', k) AS s
              FROM (SELECT sha256(int8send(g)) AS k
                    FROM generate_series(1, 64 * (SELECT count(*) FROM pg_dist_shard
                         WHERE logicalrelid = 'taxi.shard_keys'::regclass)) AS g) AS g) AS keyed
        ORDER BY s, k;
    END IF;
END $$;
COMMENT ON FUNCTION taxi_distribute(integer) IS
    'Makes this Citus coordinator''s taxi_loader tables distributed: trips and facts by row_hash (co-located), dimensions as reference tables (docs/distributed.md)';
REVOKE EXECUTE ON FUNCTION taxi_distribute(integer) FROM PUBLIC;
