-- Load history and rejected rows.
--
-- taxi.load_runs: one row per taxi_load call (taxi_load_dir makes one per file it loads). The
-- row is written as 'running' by a short-lived background worker in its own transaction, so other
-- sessions see the load while it runs; 'succeeded' is written in the loading transaction, with
-- the trips; 'failed' again by a background worker, after the load's work was rolled back, so it
-- survives the ERROR that taxi_load raises. Loads are recorded on behalf of the loading role by
-- the owner of these tables: loading roles need no privileges on them.
CREATE TABLE taxi.load_runs (
    load_id         bigint      PRIMARY KEY,
    file_path       text        NOT NULL,
    file_size       bigint,
    file_sha256     bytea       CHECK (octet_length(file_sha256) = 32),
    file_month      date,
    loaded_by       name        NOT NULL,
    backend_pid     integer     NOT NULL,
    transaction_id  xid8        NOT NULL,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    status          text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    chunk_size      integer     NOT NULL,
    rows_read       bigint,
    rows_inserted   bigint,
    rows_duplicate  bigint,
    rows_rejected   bigint,
    flag_counts     jsonb,
    error_sqlstate  text,
    error_message   text,
    error_detail    text,
    rows_removed    bigint,
    superseded_by   bigint,
    trip_months     date[],
    file_name       text GENERATED ALWAYS AS (pg_catalog.regexp_replace(file_path, '^.*/', '')) STORED,
    source_version  text,
    remote_retries  integer,
    CONSTRAINT load_runs_rows_add_up CHECK (status <> 'succeeded'
        OR rows_read = rows_inserted + rows_duplicate + rows_rejected),
    CONSTRAINT load_runs_failure_has_error CHECK (status <> 'failed' OR error_sqlstate IS NOT NULL)
);
CREATE INDEX load_runs_sha256_idx ON taxi.load_runs (file_sha256) WHERE status = 'succeeded';
CREATE INDEX load_runs_file_name_idx ON taxi.load_runs (file_name) WHERE status = 'succeeded';
COMMENT ON TABLE taxi.load_runs IS
    'One row per taxi_load call: file, checksum, who, when, status (running, succeeded, failed), row counts, quality flag counts, error';
COMMENT ON COLUMN taxi.load_runs.file_sha256 IS
    'SHA-256 of the whole file: the identity taxi_load_dir uses (a renamed file is the same file)';
COMMENT ON COLUMN taxi.load_runs.source_version IS
    'A remote source''s version (its ETag) when the load opened it: every read of the load asked for it, and taxi_load_dir and taxi_load_months skip a file whose version and size are those of its current run';
COMMENT ON COLUMN taxi.load_runs.remote_retries IS
    'Requests to a remote source retried after a transient failure (taxi.remote_retries at most per request); NULL for a server file';
COMMENT ON COLUMN taxi.load_runs.file_month IS
    'The month the file name states (…YYYY-MM.parquet), against which outside_file_month is flagged';
COMMENT ON COLUMN taxi.load_runs.transaction_id IS
    'The loading transaction: a row still running whose transaction is no longer in progress is marked failed by the next load';
COMMENT ON COLUMN taxi.load_runs.flag_counts IS
    'Storable rows of the file (inserted or duplicate) carrying each quality flag, by flag name (README, "Quality flags")';
COMMENT ON COLUMN taxi.load_runs.rows_removed IS
    'Trips of the file''s earlier versions this load removed because its version lacks them (replace => true; else 0)';
COMMENT ON COLUMN taxi.load_runs.superseded_by IS
    'The load of a newer version of the same file name that replaced this one (replace => true); NULL while this version is current';
COMMENT ON COLUMN taxi.load_runs.trip_months IS
    'Months of pickup (first days) this load inserted trips into; 1999-12-01 stands for every month before 2000, 2100-01-01 for every month from 2100';
COMMENT ON COLUMN taxi.load_runs.file_name IS
    'The last component of file_path: the name whose versions replace => true replaces';

-- Rows of a file that could not be stored, with why and the row as the file holds it.
CREATE TABLE taxi.rejected_rows (
    load_id     bigint NOT NULL REFERENCES taxi.load_runs ON DELETE CASCADE,
    row_number  bigint NOT NULL,
    reason      text   NOT NULL,
    raw         jsonb  NOT NULL,
    PRIMARY KEY (load_id, row_number)
);
COMMENT ON TABLE taxi.rejected_rows IS
    'Rows taxi_load could not store (NULL pickup or dropoff, a value outside its column''s range, a timestamp PostgreSQL cannot hold, NUL in text)';
COMMENT ON COLUMN taxi.rejected_rows.row_number IS '1-based row number in the file';
COMMENT ON COLUMN taxi.rejected_rows.raw IS
    'The row''s values as the file holds them, keyed by the file''s column names (numbers as numbers, other values as text; NUL as the text \u0000)';

SELECT pg_catalog.pg_extension_config_dump('taxi.load_runs', '');
SELECT pg_catalog.pg_extension_config_dump('taxi.rejected_rows', '');

-- Members of taxi_remote_reader may load http(s):// and s3:// sources (superusers always may);
-- a role of the cluster, so it survives DROP EXTENSION and is shared by every database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'taxi_remote_reader') THEN
        CREATE ROLE taxi_remote_reader NOLOGIN;
    END IF;
END
$$;
