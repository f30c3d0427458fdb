//! Loads of many files: a folder (of the server, or an S3 prefix) and a range of months from a
//! URL template. Every file whose content was not loaded before is loaded, in name (or month)
//! order, each as its own recorded run. Identity is the file's SHA-256: a renamed copy is
//! skipped, a re-published file with new content is loaded (replacing its earlier version with
//! `replace`, beside it without). A remote file whose version (ETag) and size are those of its
//! current run is skipped without being downloaded. A failing file is recorded as failed and the
//! others go on. Two concurrent calls serialize per content on an advisory lock held until their
//! transactions end, so no content is loaded twice.

use pgrx::prelude::*;
use taxi_core::error::LoadError;
use taxi_core::files;
use taxi_core::policy::{self, Settings};
use taxi_core::sql::history as sql;

use crate::load::{self, history, Summary};
use crate::postgres::source::{self, Location};
use crate::postgres::subxact::Failure;
use crate::report::OrInternal;

/// What became of one file of the folder.
pub enum Outcome {
    /// Its content was loaded before, by this load (with `replace`: one still current).
    Skipped(i64),
    Succeeded(Option<i64>, Summary),
    Failed(Option<i64>, Failure),
    /// taxi_load_months: the server has no file for the month (yet).
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    NotFound,
}

/// Loads the files of `dir` (a server folder or an s3:// prefix) that match `pattern`. The
/// arguments are checked once, before the folder is listed, as for one file; its files are then
/// below a checked folder (or an allowed prefix) and are not checked again.
pub fn load_dir(
    dir: &str,
    pattern: &str,
    chunk_size: i64,
    settings: Settings,
    replace: bool,
) -> Result<Vec<(String, Outcome)>, LoadError> {
    let chunk = policy::check_chunk_size(chunk_size)?;
    // A single arm without the remote feature.
    #[allow(clippy::infallible_destructuring_match)]
    let dir = match source::resolve(dir)? {
        Location::Local(dir) => dir,
        #[cfg(feature = "remote")]
        Location::Remote(prefix) => {
            return remote::load_prefix(&prefix, pattern, chunk, settings, replace)
        }
    };
    let paths = files::list(&dir, pattern)?;
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        check_for_interrupts!();
        // Opened once: hashed, and loaded if its content is new. A file that cannot be opened
        // or read goes on to fail as a recorded run, with its error.
        let opened = history::Opened::local(&path);
        let sha = opened
            .source
            .as_ref()
            .ok()
            .and_then(|s| s.sha256_hex().ok());
        if let Some(sha) = &sha {
            if let Some(load_id) = loaded_content(sha, replace)? {
                out.push((path, Outcome::Skipped(load_id)));
                continue;
            }
        }
        let (load_id, outcome) = load::run_opened(opened, chunk, sha, settings, replace);
        out.push((path, finished(load_id, outcome)));
    }
    Ok(out)
}

/// Loads every month from `from` to `to` (both included) of `template` not loaded before; a
/// month the server does not have is [`Outcome::NotFound`]. Every URL is checked (privilege,
/// allow-list) before the first request.
pub fn load_months(
    template: &str,
    from: (i32, u32),
    to: (i32, u32),
    chunk_size: i64,
    settings: Settings,
    replace: bool,
) -> Result<Vec<(String, Outcome)>, LoadError> {
    let chunk = policy::check_chunk_size(chunk_size)?;
    #[cfg(feature = "remote")]
    return remote::load_months(template, from, to, chunk, settings, replace);
    #[cfg(not(feature = "remote"))]
    {
        let _ = (from, to, chunk, settings, replace);
        Err(LoadError::no_remote_support(template))
    }
}

#[cfg(feature = "remote")]
mod remote {
    use taxi_core::read::input::Source;
    use taxi_remote::{RemoteError, RemoteUrl};

    use super::*;
    use crate::load::history::Opened;

    pub fn load_prefix(
        prefix: &RemoteUrl,
        pattern: &str,
        chunk: usize,
        settings: Settings,
        replace: bool,
    ) -> Result<Vec<(String, Outcome)>, LoadError> {
        let listed = source::client()?
            .list(prefix)
            .map_err(LoadError::from)
            .inspect_err(source::raise_if_canceled)?;
        let mut out = Vec::new();
        for (url, _) in listed {
            let name = taxi_core::versions::file_name(url.key().as_str()).to_string();
            if !files::matches(pattern, &name) {
                continue;
            }
            // Listed below an allowed prefix: allowed.
            let outcome = remote_file(&url, chunk, settings, replace, false)?;
            out.push((url.shown(), outcome));
        }
        Ok(out)
    }

    pub fn load_months(
        template: &str,
        from: (i32, u32),
        to: (i32, u32),
        chunk: usize,
        settings: Settings,
        replace: bool,
    ) -> Result<Vec<(String, Outcome)>, LoadError> {
        let months = taxi_remote::months::range(from, to);
        let mut urls = Vec::with_capacity(months.len());
        for (y, m) in months {
            let text = taxi_remote::months::expand(template, y, m).ok_or_else(|| {
                RemoteError::InvalidUrl {
                    text: taxi_remote::location::shown_text(template),
                    why: "the template must name the year as {yyyy} and the month as {mm} (or {m})"
                        .into(),
                }
            })?;
            // Each month's URL differs: each is checked. A template that is no URL is refused
            // as one, not checked as a server path.
            urls.push(source::check(RemoteUrl::parse(&text)?)?);
        }
        let mut out = Vec::with_capacity(urls.len());
        for url in urls {
            let outcome = remote_file(&url, chunk, settings, replace, true)?;
            out.push((url.shown(), outcome));
        }
        Ok(out)
    }

    /// One remote file of a folder or a range of months, with a client of its own (its retries
    /// are the run's).
    fn remote_file(
        url: &RemoteUrl,
        chunk: usize,
        settings: Settings,
        replace: bool,
        missing_is_not_found: bool,
    ) -> Result<Outcome, LoadError> {
        check_for_interrupts!();
        let client = source::client()?;
        let name = url.shown();
        let opened = |source| Opened {
            name: name.clone(),
            source,
            client: Some(client.clone()),
        };
        let source = match source::open(&client, url) {
            Err(e)
                if missing_is_not_found
                    && RemoteError::of(&e).is_some_and(RemoteError::is_not_published) =>
            {
                return Ok(Outcome::NotFound)
            }
            Err(e) => {
                let (id, outcome) =
                    load::run_opened(opened(Err(e)), chunk, None, settings, replace);
                return Ok(finished(id, outcome));
            }
            Ok(s) => s,
        };
        if let (Source::Remote(f), Some(version)) = (&source, source.version()) {
            if let Some(load_id) = history::loaded_version(&name, &version, f.size()) {
                return Ok(Outcome::Skipped(load_id));
            }
        }
        let sha = match source.sha256_hex().inspect_err(source::raise_if_canceled) {
            Ok(sha) => sha,
            Err(e) => {
                let (id, outcome) =
                    load::run_opened(opened(Err(e)), chunk, None, settings, replace);
                return Ok(finished(id, outcome));
            }
        };
        if let Some(load_id) = loaded_content(&sha, replace)? {
            return Ok(Outcome::Skipped(load_id));
        }
        let (id, outcome) =
            load::run_opened(opened(Ok(source)), chunk, Some(sha), settings, replace);
        Ok(finished(id, outcome))
    }
}

/// Locks content `sha` until the transaction ends, then finds its earlier load.
fn loaded_content(sha: &str, replace: bool) -> Result<Option<i64>, LoadError> {
    Spi::run_with_args(sql::LOCK_CONTENT, &[sha.into()]).or_internal("locking a file's content")?;
    Ok(history::loaded_before(sha, replace))
}

fn finished(load_id: Option<i64>, outcome: Result<Summary, Failure>) -> Outcome {
    match outcome {
        Ok(s) => Outcome::Succeeded(load_id, s),
        Err(f) => Outcome::Failed(load_id, f),
    }
}
