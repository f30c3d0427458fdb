-- A digest of everything taxi_loader's scripts define: member objects with their definitions,
-- columns, defaults, privileges and comments, the indexes and constraints of schema taxi, and the
-- rows of the lookup and dimension tables. scripts/sqltest compares it between a fresh install
-- and one updated from the previous version (tests/sql/upgrade.sql), through the psql
-- variable catalog_digest.
SELECT md5(string_agg(x, E'\n' ORDER BY x)) AS digest FROM (
    SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
           || coalesce(' ' || CASE WHEN d.classid = 'pg_proc'::regclass
                                   THEN pg_get_functiondef(d.objid)
                                        || coalesce(obj_description(d.objid, 'pg_proc'), '')
                                        || coalesce((SELECT proacl::text FROM pg_proc WHERE oid = d.objid), '')
                              END, '')
           || coalesce(' ' || CASE WHEN d.classid = 'pg_class'::regclass THEN
                  (SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod) || ':'
                                     || a.attnotnull || ':' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
                                     || ':' || coalesce(col_description(a.attrelid, a.attnum), ''),
                                     ',' ORDER BY a.attnum)
                   FROM pg_attribute a
                   LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                   WHERE a.attrelid = d.objid AND a.attnum > 0 AND NOT a.attisdropped)
                  || coalesce((SELECT c.relkind::text || coalesce(c.relacl::text, '') || coalesce(pg_get_partkeydef(c.oid), '')
                               FROM pg_class c WHERE c.oid = d.objid), '')
                  || coalesce(obj_description(d.objid, 'pg_class'), '')
              END, '') AS x
    FROM pg_depend d
    WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'taxi_loader') AND d.deptype = 'e'
    -- Not the partitions' indexes either: loads make them.
    UNION ALL SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
              WHERE c.relnamespace = 'taxi'::regnamespace AND NOT c.relispartition
    -- Not the partitions' constraints: the partitions are made by loads, not by the scripts
    -- (PostgreSQL 18 catalogues their NOT NULL constraints too).
    UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
              WHERE connamespace = 'taxi'::regnamespace
                AND conrelid NOT IN (SELECT inhrelid FROM pg_inherits)
    -- The set of dumped tables; their order is that of registration, which differs by route.
    UNION ALL SELECT 'extconfig ' || string_agg(c::regclass::text, ',' ORDER BY c::regclass::text)
              FROM pg_extension, unnest(extconfig) AS c WHERE extname = 'taxi_loader'
    UNION ALL SELECT 'vendor ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.vendor t
    UNION ALL SELECT 'rate_code ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.rate_code t
    UNION ALL SELECT 'payment_type ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.payment_type t
    UNION ALL SELECT 'taxi_zone ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.taxi_zone t
    UNION ALL SELECT 'dim_date ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_date t
    UNION ALL SELECT 'dim_time ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_time t
    UNION ALL SELECT 'dim_location ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_location t
    UNION ALL SELECT 'dim_vendor ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_vendor t
    UNION ALL SELECT 'dim_payment_type ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_payment_type t
    UNION ALL SELECT 'dim_rate_code ' || md5(string_agg(t::text, ',' ORDER BY t::text)) FROM taxi.dim_rate_code t
) s \gset catalog_
