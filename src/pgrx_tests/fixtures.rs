//! Helpers shared by the `#[pg_test]`s. The fixtures are copied by the test runner (root) to a
//! directory the server's `postgres` user can read; files a test makes itself are written by the
//! backend into its own scratch directory.

use pgrx::prelude::*;

use taxi_core::trip::TripBatch;

pub use taxi_core::dataset::yellow::idx;
use taxi_gen::{self as generate, write_parquet, Vintage};

pub const FIXTURE_DIR: &str = "/tmp/taxi_loader_fixtures";

/// Runs in the test runner before each test (once per process): copies `tests/fixtures` where
/// the server can read it.
#[cfg(test)]
pub fn install_fixtures() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(copy_fixtures);
}

#[cfg(test)]
fn copy_fixtures() {
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    std::fs::create_dir_all(FIXTURE_DIR).unwrap();
    std::fs::set_permissions(FIXTURE_DIR, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let from = entry.unwrap().path();
        let to = PathBuf::from(FIXTURE_DIR).join(from.file_name().unwrap());
        if !to.exists() {
            let tmp = to.with_extension("tmp");
            std::fs::copy(&from, &tmp).unwrap();
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644)).unwrap();
            std::fs::rename(&tmp, &to).unwrap();
        }
    }
    // A file the server may not read (the runner is root, the server runs as postgres).
    let locked = PathBuf::from(FIXTURE_DIR).join("unreadable.parquet");
    if !locked.exists() {
        std::fs::copy(
            PathBuf::from(src).join("yellow_tripdata_2025-01_sample5.parquet"),
            &locked,
        )
        .unwrap();
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o600)).unwrap();
}

pub fn fixture(name: &str) -> String {
    format!("{FIXTURE_DIR}/{name}")
}

pub const SAMPLE5: &str = "yellow_tripdata_2025-01_sample5.parquet";
pub const SAMPLE5000: &str = "yellow_tripdata_2025-02_sample5000.parquet";
pub const GREEN: &str = "green_tripdata_2024-01.parquet";

/// A directory of this backend's own, for files a test writes.
pub fn scratch(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("taxi_loader_pgtest_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_str().unwrap().to_string()
}

/// Writes `trips` as a file of `vintage` into the scratch directory.
pub fn write_trips(name: &str, trips: &TripBatch, vintage: i32) -> String {
    let path = scratch(name);
    write_parquet(&path, trips, &Vintage::of_year(vintage), 1_000_000).unwrap();
    path
}

pub fn generated(name: &str, opts: &generate::Options, vintage: i32) -> String {
    write_trips(name, &generate::generate(opts), vintage)
}

#[derive(Debug, PartialEq, Eq)]
pub struct Counts {
    pub read: i64,
    pub inserted: i64,
    pub duplicate: i64,
    pub rejected: i64,
}

pub fn load(path: &str, chunk_size: i32) -> Counts {
    Spi::connect_mut(|client| {
        let row = client
            .update(
                "SELECT rows_read, rows_inserted, rows_duplicate, rows_rejected FROM taxi_load($1, $2)",
                None,
                &[path.into(), chunk_size.into()],
            )
            .unwrap()
            .first();
        Counts {
            read: row.get(1).unwrap().unwrap(),
            inserted: row.get(2).unwrap().unwrap(),
            duplicate: row.get(3).unwrap().unwrap(),
            rejected: row.get(4).unwrap().unwrap(),
        }
    })
}

/// Calls taxi_load in a subtransaction and returns "SQLSTATE: message | detail | hint", or
/// "no error".
pub fn load_error(path: &str, chunk_size: i32) -> String {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.load_error(path text, chunk int) RETURNS text
         LANGUAGE plpgsql AS $$
         DECLARE st text; msg text; det text; hint text;
         BEGIN
             PERFORM * FROM taxi_load(path, chunk);
             RETURN 'no error';
         EXCEPTION WHEN OTHERS THEN
             GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                 det = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
             RETURN st || ': ' || msg || ' | ' || coalesce(det, '') || ' | ' || coalesce(hint, '');
         END $$",
    )
    .unwrap();
    Spi::get_one_with_args::<String>(
        "SELECT pg_temp.load_error($1, $2)",
        &[path.into(), chunk_size.into()],
    )
    .unwrap()
    .unwrap()
}

/// Row count and a digest of every stored value: equal fingerprints mean equal tables.
/// Every stored trip of every dataset, and the facts: what a refused load must leave as it was.
pub fn fingerprint() -> String {
    Spi::get_one::<String>(
        "SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY row_hash)), '')
                 FROM taxi.yellow_taxi_trips t)
             || (SELECT ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY row_hash)), '')
                 FROM taxi.green_taxi_trips t)
             || (SELECT ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY row_hash)), '')
                 FROM taxi.fhv_trips t)
             || (SELECT ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY row_hash)), '')
                 FROM taxi.fhvhv_trips t)
             || (SELECT ' ' || count(*) FROM taxi.fact_trips)",
    )
    .unwrap()
    .unwrap()
}

pub fn count(sql: &str) -> i64 {
    Spi::get_one::<i64>(sql).unwrap().unwrap()
}

pub use taxi_core::read::rewrite::replace_column;

/// Runs `statement` in a subtransaction; returns "SQLSTATE: message", or "no error".
pub fn sql_error(statement: &str) -> String {
    Spi::run(
        "CREATE OR REPLACE FUNCTION pg_temp.sql_error(statement text) RETURNS text
         LANGUAGE plpgsql AS $$
         DECLARE st text; msg text;
         BEGIN
             EXECUTE statement;
             RETURN 'no error';
         EXCEPTION WHEN OTHERS THEN
             GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
             RETURN st || ': ' || msg;
         END $$",
    )
    .unwrap();
    Spi::get_one_with_args::<String>("SELECT pg_temp.sql_error($1)", &[statement.into()])
        .unwrap()
        .unwrap()
}

/// Tests run concurrently, each in one transaction. A test that changes privileges updates
/// catalog rows a concurrent load may also update (ATTACH PARTITION): taking the loads' lock
/// first keeps the two from deadlocking.
pub fn wait_for_other_loads() {
    Spi::run("LOCK TABLE taxi.yellow_taxi_trips IN SHARE ROW EXCLUSIVE MODE").unwrap();
}

/// Loads `path` as a recorded run with the session's settings; a PostgreSQL error during the
/// load is raised again. For tests that want the Rust error or the write mode.
pub fn load_file(
    path: &str,
    chunk_size: i64,
) -> Result<crate::load::Summary, taxi_core::error::LoadError> {
    use crate::postgres::subxact::Failure;
    match crate::load::run_file(path, chunk_size, crate::gucs::load_settings(), false).1 {
        Ok(s) => Ok(s),
        Err(Failure::Load(e)) => Err(e),
        Err(Failure::Caught(c)) => c.rethrow(),
    }
}
