-- The objects CREATE EXTENSION makes: the functions, the trips table, the lookups and the star schema.
\set test_db regress_schema
\i include/begin.psql
CREATE EXTENSION taxi_loader;
-- (\dx shows another column from psql 18 on: the same facts as a query, alike on every version.)
SELECT extname AS name, extversion AS version, extnamespace::regnamespace AS schema,
       obj_description(oid, 'pg_extension') AS description
FROM pg_extension WHERE extname = 'taxi_loader';
-- Callable unqualified, with exactly these arguments and result columns.
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS returns,
       p.prosecdef AS security_definer, p.proconfig,
       coalesce(array_to_string(p.proacl, ' '), 'default (PUBLIC may execute)') AS privileges
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'taxi_loader')
  AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
ORDER BY p.oid::regprocedure::text;
SELECT column_name, data_type, numeric_precision, numeric_scale, is_nullable
FROM information_schema.columns
WHERE table_schema = 'taxi' AND table_name = 'yellow_taxi_trips'
ORDER BY ordinal_position;
SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'taxi' ORDER BY indexname;
-- Lookups from the TLC data dictionary and zone file.
SELECT * FROM taxi.vendor ORDER BY vendorid;
SELECT * FROM taxi.rate_code ORDER BY ratecodeid;
SELECT * FROM taxi.payment_type ORDER BY payment_type;
SELECT count(*) AS zones, count(DISTINCT borough) AS boroughs FROM taxi.taxi_zone;
SELECT * FROM taxi.taxi_zone WHERE locationid IN (1, 132, 138, 161, 264, 265) ORDER BY locationid;
-- Dumped by pg_dump: the trips, the load-id sequence and indexes saved by taxi_bulk_begin.
SELECT c.relname, x.extcondition
FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS x(oid, extcondition)
JOIN pg_class c ON c.oid = x.oid
WHERE e.extname = 'taxi_loader' ORDER BY 1;
-- The star schema's tables and columns.
SELECT table_name, string_agg(column_name || ' ' || data_type || CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END, ', ' ORDER BY ordinal_position) AS columns
FROM information_schema.columns
WHERE table_schema = 'taxi' AND (table_name LIKE 'dim\_%' OR table_name = 'fact_trips')
GROUP BY table_name ORDER BY table_name;
SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid) AS partition_key
FROM pg_class c WHERE c.oid = 'taxi.fact_trips'::regclass;
\i include/end.psql
