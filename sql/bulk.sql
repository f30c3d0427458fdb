-- Bulk-load helpers' SQL side. taxi_bulk_begin/taxi_bulk_end are in src/api/indexes.rs (Rust).
--
-- taxi_bulk_begin(target) records the definitions of target's secondary indexes here and drops
-- them; taxi_bulk_end(target) rebuilds them (CREATE INDEX uses parallel maintenance workers) and
-- forgets the records. Inside one transaction a failure rolls the DROP back; across transactions
-- the records stay until taxi_bulk_end puts the indexes back. Unique indexes and primary keys
-- are kept unless include_unique => true, which only makes sense while nothing else can write
-- the table (taxi_load holds a lock that keeps other writers out).

CREATE TABLE taxi.bulk_saved_index (
    target      oid         NOT NULL,
    index_name  text        NOT NULL,
    constraint_name text,
    definition  text        NOT NULL,
    saved_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target, index_name)
);
COMMENT ON TABLE taxi.bulk_saved_index IS
    'Indexes dropped by taxi_bulk_begin, to be rebuilt by taxi_bulk_end';
SELECT pg_catalog.pg_extension_config_dump('taxi.bulk_saved_index', '');

-- No SET clause on purpose: a function with one would undo these SET LOCALs when it returns;
-- everything is schema-qualified instead.
CREATE FUNCTION taxi_tune_session()
RETURNS TABLE (setting text, old_value text, new_value text)
LANGUAGE plpgsql AS $$
BEGIN
    -- A commit lost in a crash is a load to repeat, not data lost: loads are idempotent.
    IF pg_catalog.current_setting('synchronous_commit') <> 'off' THEN
        setting := 'synchronous_commit';
        old_value := pg_catalog.current_setting(setting);
        new_value := pg_catalog.set_config(setting, 'off', true);
        RETURN NEXT;
    END IF;
    -- Index rebuilds sort in memory instead of on disk. Only ever raised.
    IF (SELECT s.setting::bigint FROM pg_catalog.pg_settings s
        WHERE s.name = 'maintenance_work_mem') < 1048576 THEN
        setting := 'maintenance_work_mem';
        old_value := pg_catalog.current_setting(setting);
        new_value := pg_catalog.set_config(setting, '1GB', true);
        RETURN NEXT;
    END IF;
END $$;
COMMENT ON FUNCTION taxi_tune_session() IS
    'SET LOCAL load-friendly settings (synchronous_commit off, maintenance_work_mem 1GB) and return what changed';
