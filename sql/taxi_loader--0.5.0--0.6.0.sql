-- taxi_loader 0.5.0 -> 0.6.0: remote sources. taxi_load and taxi_load_dir read http(s):// and
-- s3:// URLs (an s3:// prefix for the folder form); taxi_load_months loads a range of months
-- from a URL template. The load history learns each remote run's version (ETag) and retries;
-- the role taxi_remote_reader is created for the roles that may read remote sources.
--
-- Nothing stored changes: the new columns are NULL for the runs recorded before (server files).
-- scripts/sqltest checks that an updated installation has exactly the objects of a fresh one
-- and every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.6.0'" to load this file. \quit

ALTER TABLE taxi.load_runs
    ADD COLUMN source_version text,
    ADD COLUMN remote_retries integer;
COMMENT ON COLUMN taxi.load_runs.source_version IS
    'A remote source''s version (its ETag) when the load opened it: every read of the load asked for it, and taxi_load_dir and taxi_load_months skip a file whose version and size are those of its current run';
COMMENT ON COLUMN taxi.load_runs.remote_retries IS
    'Requests to a remote source retried after a transient failure (taxi.remote_retries at most per request); NULL for a server file';

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'taxi_remote_reader') THEN
        CREATE ROLE taxi_remote_reader NOLOGIN;
    END IF;
END
$$;

CREATE FUNCTION "taxi_load_months"(
	"url_template" TEXT,
	"from_month" date,
	"to_month" date DEFAULT NULL,
	"replace" bool DEFAULT false,
	"chunk_size" INT DEFAULT NULL
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
	"error_message" TEXT
)
VOLATILE PARALLEL UNSAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'load_months_wrapper';
