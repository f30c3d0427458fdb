-- Live progress of running taxi_load calls (and of taxi_check_consistency, target
-- taxi.fact_trips), from PostgreSQL's progress reporting (taxi_load reports in the COPY command's
-- slots, so pg_stat_progress_copy shows it too; see
-- src/postgres/progress.rs for the slots). Rows of other users' loads show only to roles that may
-- see their statistics (pg_read_all_stats), as with pg_stat_progress_copy.
CREATE VIEW taxi.load_progress AS
SELECT s.pid,
       d.datname,
       s.relid::regclass                                      AS target,
       s.param12                                              AS chunk,
       s.param13                                              AS chunks_total,
       s.param3                                               AS rows_done,
       s.param11                                              AS rows_total,
       round(100.0 * s.param3 / nullif(s.param11, 0), 1)      AS percent,
       s.param14                                              AS rows_inserted,
       s.param4                                               AS rows_duplicate,
       s.param1                                               AS bytes_done,
       s.param2                                               AS bytes_total,
       to_timestamp(s.param15 / 1000000.0)                    AS started,
       round(s.param3 / greatest(extract(epoch FROM clock_timestamp() - to_timestamp(s.param15 / 1000000.0)), 0.001))
                                                              AS rows_per_second
FROM pg_catalog.pg_stat_get_progress_info('COPY') s
LEFT JOIN pg_catalog.pg_database d ON d.oid = s.datid
WHERE s.param16 = 1413568585;  -- 'TAXI', src/postgres/progress.rs MARKER
COMMENT ON VIEW taxi.load_progress IS
    'Running taxi_load calls (and taxi_check_consistency calls, target taxi.fact_trips): chunk, rows and bytes done of the total, rows/s';
GRANT SELECT ON taxi.load_progress TO PUBLIC;
