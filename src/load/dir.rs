//! A folder load: every file of a folder whose content was not loaded before, in name order,
//! each as its own recorded run. Identity is the file's SHA-256: a renamed copy is skipped, a
//! re-published file with new content is loaded (replacing its earlier version with `replace`,
//! beside it without). A failing file is recorded as failed and the
//! others go on. Two concurrent calls serialize per content on an advisory lock held until
//! their transactions end, so no content is loaded twice.

use pgrx::prelude::*;
use taxi_core::error::LoadError;
use taxi_core::files;
use taxi_core::policy::Settings;
use taxi_core::sql::history as sql;

use crate::load::{self, history, Summary};
use crate::postgres::subxact::Failure;
use crate::report::OrInternal;

/// What became of one file of the folder.
pub enum Outcome {
    /// Its content was loaded before, by this load (with `replace`: one still current).
    Skipped(i64),
    Succeeded(Option<i64>, Summary),
    Failed(Option<i64>, Failure),
}

/// Loads the files of `dir` that match `pattern`; refuses the arguments before listing it.
pub fn load_dir(
    dir: &str,
    pattern: &str,
    chunk_size: i64,
    settings: Settings,
    replace: bool,
) -> Result<Vec<(String, Outcome)>, LoadError> {
    // The same checks as for one file, before the folder is even listed.
    load::check_arguments(dir, chunk_size)?;
    let paths = files::list(dir, pattern)?;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        check_for_interrupts!();
        // An unreadable file goes on to fail as a recorded run, with the reader's error.
        let sha = files::sha256_hex(&path).ok();
        if let Some(sha) = &sha {
            Spi::run_with_args(sql::LOCK_CONTENT, &[sha.as_str().into()])
                .or_internal("locking a file's content")?;
            if let Some(load_id) = history::loaded_before(sha, replace) {
                out.push((path, Outcome::Skipped(load_id)));
                continue;
            }
        }
        let (load_id, outcome) = load::run_file(&path, chunk_size, sha, settings, replace);
        let outcome = match outcome {
            Ok(s) => Outcome::Succeeded(load_id, s),
            Err(f) => Outcome::Failed(load_id, f),
        };
        out.push((path, outcome));
    }
    Ok(out)
}
