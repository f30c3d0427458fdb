-- taxi_loader 0.8.0 -> 0.9.0: taxi_check_consistency compares month by month, and takes the month
-- to check. Its arguments change (month first, so `taxi_check_consistency('yellow')` must become
-- `taxi_check_consistency(dataset => 'yellow')`): dropped here, created again below. Nothing
-- stored changes. scripts/sqltest checks that an updated installation has exactly the objects of
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
