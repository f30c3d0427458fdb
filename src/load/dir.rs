//! `taxi_load_dir(dir, pattern)`: every file of a folder whose content was not loaded before,
//! in name order, each as its own recorded run. Identity is the file's SHA-256: a renamed copy
//! is skipped, a re-published file with new content is loaded. A failing file is recorded as
//! failed and the others go on. Two concurrent calls serialize per content on an advisory lock
//! held until their transactions end, so no content is loaded twice.

use pgrx::prelude::*;

use crate::gucs;
use crate::report;
use crate::runs::{self, files, sql};

#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_load_dir(
    dir: Option<&str>,
    pattern: default!(Option<&str>, "'*.parquet'"),
    chunk_size: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(status, String),
        name!(load_id, Option<i64>),
        name!(rows_read, Option<i64>),
        name!(rows_inserted, Option<i64>),
        name!(rows_duplicate, Option<i64>),
        name!(rows_rejected, Option<i64>),
        name!(error_sqlstate, Option<String>),
        name!(error_message, Option<String>),
    ),
> {
    let (Some(dir), Some(pattern)) = (dir, pattern) else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "taxi_load_dir: dir and pattern must not be NULL"
        );
    };
    let chunk_size = chunk_size.unwrap_or_else(|| gucs::CHUNK_SIZE.get()) as i64;
    // The same checks as for one file, before the folder is even listed.
    if let Err(e) = super::check_arguments(dir, chunk_size) {
        report::raise(e, "taxi_load_dir");
    }
    let paths = files::list(dir, pattern).unwrap_or_else(|e| report::raise(e, "taxi_load_dir"));
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        check_for_interrupts!();
        // An unreadable file goes on to fail as a recorded run, with the reader's error.
        let sha = files::sha256_hex(&path).ok();
        if let Some(sha) = &sha {
            Spi::run_with_args(sql::LOCK_CONTENT, &[sha.as_str().into()]).expect("content lock");
            if let Some(load_id) = runs::loaded_before(sha) {
                out.push((
                    path,
                    "skipped".into(),
                    Some(load_id),
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                ));
                continue;
            }
        }
        let (load_id, outcome) = super::run_file(&path, chunk_size, sha);
        out.push(match outcome {
            Ok(s) => (
                path,
                "succeeded".into(),
                load_id,
                Some(s.rows_read),
                Some(s.rows_inserted),
                Some(s.rows_duplicate),
                Some(s.rows_rejected),
                None,
                None,
            ),
            Err(f) => (
                path,
                "failed".into(),
                load_id,
                None,
                None,
                None,
                None,
                Some(f.sqlstate()),
                Some(f.message()),
            ),
        });
    }
    TableIterator::new(out)
}
