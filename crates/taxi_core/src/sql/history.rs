//! SQL text of the load history and the rejected rows. pgrx-free: executed by `load::history` (in the
//! loading transaction) and by its background worker (autonomously), always with bound
//! parameters. Every parameter travels as text and is cast here, so the worker, which receives
//! them through shared memory, runs exactly the statements the loading backend would.

/// The statements the background worker may run, by number (all it receives is the number and
/// the parameters: never SQL text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statement {
    Begin = 1,
    Fail = 2,
}

impl Statement {
    pub fn from_number(n: u8) -> Option<Statement> {
        match n {
            1 => Some(Statement::Begin),
            2 => Some(Statement::Fail),
            _ => None,
        }
    }

    pub fn sql(self) -> &'static str {
        match self {
            Statement::Begin => BEGIN,
            Statement::Fail => FAIL,
        }
    }
}

/// The parameters of [`BEGIN`] (and the first ones of [`FAIL`]), in order.
pub const BEGIN_PARAMS: usize = 11;

/// A load starts: $1 load_id, $2 path, $3 size, $4 sha256 (hex), $5 file month, $6 role,
/// $7 backend pid, $8 transaction id, $9 chunk_size, $10 the remote source's version (ETag),
/// $11 the dataset (NULL until the file's columns say it, unless the caller named it).
pub const BEGIN: &str = "\
INSERT INTO taxi.load_runs (load_id, file_path, file_size, file_sha256, file_month, loaded_by,
                            backend_pid, transaction_id, started_at, status, chunk_size,
                            source_version, dataset)
VALUES ($1::pg_catalog.int8, $2, $3::pg_catalog.int8,
        pg_catalog.decode($4, 'hex'), $5::pg_catalog.date, $6::pg_catalog.name,
        $7::pg_catalog.int4, $8::pg_catalog.xid8, pg_catalog.clock_timestamp(), 'running',
        $9::pg_catalog.int4, $10, $11)";

/// A load failed: the [`BEGIN`] parameters, then $12 SQLSTATE, $13 message, $14 detail, $15
/// retries of remote requests (NULL: a server file). Inserts
/// the row if the start was not recorded autonomously (it was rolled back with the load).
pub const FAIL: &str = "\
INSERT INTO taxi.load_runs AS r (load_id, file_path, file_size, file_sha256, file_month, loaded_by,
                                 backend_pid, transaction_id, started_at, status, chunk_size,
                                 source_version, dataset, finished_at, error_sqlstate,
                                 error_message, error_detail, remote_retries)
VALUES ($1::pg_catalog.int8, $2, $3::pg_catalog.int8,
        pg_catalog.decode($4, 'hex'), $5::pg_catalog.date, $6::pg_catalog.name,
        $7::pg_catalog.int4, $8::pg_catalog.xid8, pg_catalog.clock_timestamp(), 'failed',
        $9::pg_catalog.int4, $10, $11, pg_catalog.clock_timestamp(), $12, $13, $14,
        $15::pg_catalog.int4)
ON CONFLICT (load_id) DO UPDATE
   SET status = 'failed', finished_at = excluded.finished_at,
       file_sha256 = coalesce(excluded.file_sha256, r.file_sha256),
       dataset = coalesce(excluded.dataset, r.dataset),
       error_sqlstate = excluded.error_sqlstate, error_message = excluded.error_message,
       error_detail = excluded.error_detail, remote_retries = excluded.remote_retries";

/// A load succeeded, in its own transaction: $1 load_id, $2 sha256 (hex), $3 read, $4 inserted,
/// $5 duplicate, $6 rejected, $7 flag counts (json), $8 removed (earlier versions' trips),
/// $9 the months it inserted trips into (a date[] literal), $10 retries of remote requests,
/// $11 the dataset.
pub const SUCCEED: &str = "\
UPDATE taxi.load_runs
   SET status = 'succeeded', finished_at = pg_catalog.clock_timestamp(),
       file_sha256 = pg_catalog.decode($2, 'hex'),
       rows_read = $3::pg_catalog.int8, rows_inserted = $4::pg_catalog.int8,
       rows_duplicate = $5::pg_catalog.int8, rows_rejected = $6::pg_catalog.int8,
       flag_counts = $7::pg_catalog.jsonb, rows_removed = $8::pg_catalog.int8,
       trip_months = $9::pg_catalog.date[], remote_retries = $10::pg_catalog.int4,
       dataset = $11
 WHERE load_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8";

/// Whether the start of load $1 is recorded (visible to this transaction).
pub const BEGUN: &str =
    "SELECT pg_catalog.count(*) FROM taxi.load_runs WHERE load_id OPERATOR(pg_catalog.=) $1::pg_catalog.int8";

/// Loads still marked running whose transaction ended without committing (rolled back by the
/// caller after taxi_load returned, or the backend was killed) are failed loads.
pub const SWEEP: &str = "\
UPDATE taxi.load_runs
   SET status = 'failed', finished_at = pg_catalog.clock_timestamp(), error_sqlstate = '40000',
       error_message = 'the load''s transaction ended without committing (rolled back after taxi_load returned, or its server process ended)'
 WHERE load_id OPERATOR(pg_catalog.=) ANY (
       SELECT load_id FROM taxi.load_runs
        WHERE status OPERATOR(pg_catalog.=) 'running'
          AND coalesce(pg_catalog.pg_xact_status(transaction_id), 'aborted')
              OPERATOR(pg_catalog.=) 'aborted'
          FOR UPDATE SKIP LOCKED)";

/// A chunk's rejected rows: $1 load_id, $2 row numbers, $3 reasons, $4 raw rows (json text).
pub const INSERT_REJECTED: &str = "\
INSERT INTO taxi.rejected_rows (load_id, row_number, reason, raw)
SELECT $1::pg_catalog.int8, r.n, r.reason, r.raw::pg_catalog.jsonb
  FROM ROWS FROM (pg_catalog.unnest($2::pg_catalog.int8[]), pg_catalog.unnest($3::pg_catalog.text[]),
                  pg_catalog.unnest($4::pg_catalog.text[])) AS r(n, reason, raw)";

/// What a run records about its caller: the role, the transaction (assigned now), whether it
/// reads committed data per statement, the owner of the history tables (who records loads; NULL
/// before `ALTER EXTENSION … UPDATE`), and the new load_id.
pub const CONTEXT: &str = "\
SELECT CURRENT_USER::pg_catalog.text, pg_catalog.pg_current_xact_id()::pg_catalog.text,
       pg_catalog.current_setting('transaction_isolation')
         OPERATOR(pg_catalog.=) 'read committed',
       (SELECT c.relowner FROM pg_catalog.pg_class c
         WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('taxi.load_runs')),
       pg_catalog.nextval('taxi.load_id_seq')";

/// The owner of the history tables, NULL before `ALTER EXTENSION … UPDATE`.
pub const OWNER: &str = "\
SELECT c.relowner FROM pg_catalog.pg_class c
 WHERE c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('taxi.load_runs')";

/// The load that already loaded a file with checksum $1 (hex), if any; with $2 (replace), only
/// one not superseded since (a month re-published back to an earlier content is loaded again).
pub const LOADED_BEFORE: &str = "\
SELECT load_id FROM taxi.load_runs
 WHERE file_sha256 OPERATOR(pg_catalog.=) pg_catalog.decode($1, 'hex')
   AND status OPERATOR(pg_catalog.=) 'succeeded'
   AND (NOT $2::pg_catalog.bool OR superseded_by IS NULL)
 ORDER BY load_id LIMIT 1";

/// The current succeeded run of source $1 (path or URL) at version $2 (ETag) and size $3: a
/// remote file unchanged since, skipped without downloading it to compute its checksum.
pub const LOADED_VERSION: &str = "\
SELECT load_id FROM taxi.load_runs
 WHERE file_path OPERATOR(pg_catalog.=) $1 AND source_version OPERATOR(pg_catalog.=) $2
   AND file_size OPERATOR(pg_catalog.=) $3::pg_catalog.int8
   AND status OPERATOR(pg_catalog.=) 'succeeded' AND superseded_by IS NULL
 ORDER BY load_id DESC LIMIT 1";

/// Serializes concurrent folder loads of the same content ($1: checksum, hex) until commit.
pub const LOCK_CONTENT: &str = "\
SELECT pg_catalog.pg_advisory_xact_lock(1413568585,
         ('x' || pg_catalog.substr($1, 1, 8))::bit(32)::pg_catalog.int4)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_statements_round_trip_by_number() {
        for s in [Statement::Begin, Statement::Fail] {
            assert_eq!(Statement::from_number(s as u8), Some(s));
        }
        assert_eq!(Statement::from_number(0), None);
        // FAIL takes BEGIN's parameters first, then three of its own.
        assert!(BEGIN.contains("$11") && !BEGIN.contains("$12"));
        assert!(FAIL.contains("$15") && !FAIL.contains("$16"));
    }
}
