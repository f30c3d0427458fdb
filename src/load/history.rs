//! Every load is a recorded run: a row in `taxi.load_runs` that says `running` while it loads
//! (written by a background worker, so other sessions see it), `succeeded` with its counts (in
//! the loading transaction, with the trips) or `failed` with its error (by a background worker,
//! after the load's work was rolled back in its subtransaction, so it survives the ERROR).
//! Rejected rows (rows that cannot be stored) go to `taxi.rejected_rows` with the load. Both
//! tables are written as their owner, with fixed statements: loading roles need no privileges
//! on them and cannot forge them.

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use taxi_core::dataset::Dataset;
use taxi_core::error::LoadError;
use taxi_core::files;
use taxi_core::policy;
use taxi_core::quality::{self, FLAGS};
use taxi_core::read::input::Source;
use taxi_core::sql::history::{self as sql, Statement};
use taxi_core::trip::Rejected;
use taxi_core::versions::{self, Replacement};

use crate::load::replace;
use crate::load::summary::Summary;
use crate::postgres::owner::{as_owner, extension_owner};
use crate::postgres::source::{self, Client};
use crate::postgres::subxact::Failure;
use crate::postgres::worker;
use crate::report::OrInternal;

/// A run in progress: what the load reports back to its record.
pub struct Run {
    pub load_id: i64,
    owner: pg_sys::Oid,
    /// Quality flags over the file's storable rows, in [`FLAGS`] order.
    pub flag_counts: [u64; FLAGS.len()],
    pub rows_rejected: u64,
    path: String,
    /// `taxi.max_rejected_rows` when the run began (None: no limit).
    max_rejected: Option<u64>,
    /// With `replace`, when the file is a new version of its name: what it replaces.
    pub replacing: Option<Replacement>,
    /// The file's dataset, once the reader recognized it.
    recognized: Option<&'static Dataset>,
}

impl Run {
    /// Records a chunk's rejected rows with the load; fails the load once there are more than
    /// `taxi.max_rejected_rows`.
    pub fn reject(&mut self, rows: &[Rejected]) -> Result<(), LoadError> {
        if rows.is_empty() {
            return Ok(());
        }
        if policy::too_many_rejected(self.max_rejected, self.rows_rejected, rows.len()) {
            let first = &rows[0];
            return Err(LoadError::TooManyRejected {
                path: self.path.clone(),
                limit: self.max_rejected.unwrap_or(u64::MAX),
                first: format!("row {}: {}", first.row, first.reason),
            });
        }
        let numbers: Vec<i64> = rows.iter().map(|r| r.row as i64).collect();
        let reasons: Vec<&str> = rows.iter().map(|r| r.reason.as_str()).collect();
        let raws: Vec<&str> = rows.iter().map(|r| r.raw.as_str()).collect();
        let args: Vec<DatumWithOid> = vec![
            self.load_id.into(),
            numbers.into(),
            reasons.into(),
            raws.into(),
        ];
        as_owner(self.owner, || {
            Spi::connect_mut(|c| c.update(sql::INSERT_REJECTED, None, &args).map(|_| ()))
        })
        .or_internal("recording rejected rows")?;
        self.rows_rejected += rows.len() as u64;
        Ok(())
    }

    /// The reader recognized the file as `dataset`'s.
    pub fn recognized(&mut self, dataset: &'static Dataset) {
        self.recognized = Some(dataset);
    }

    /// Counts the quality flags of rows `rows` of a chunk.
    pub fn count_flags(&mut self, flags: &[i16], rows: impl Iterator<Item = usize>) {
        quality::count(&mut self.flag_counts, flags, rows);
    }
}

/// What a run reads: its name in the history (the path, or the URL without its query), the
/// source or why it could not be opened (recorded as the run's failure), and for a remote
/// source the client, whose retries the history counts.
pub struct Opened {
    pub name: String,
    pub source: Result<Source, LoadError>,
    pub client: Option<Client>,
}

impl Opened {
    /// A server file, opened here once for the whole load (its failure to open is the run's).
    pub fn local(path: &str) -> Opened {
        Opened {
            name: path.to_string(),
            source: Source::local(path),
            client: None,
        }
    }
}

/// A run whose start is recorded; the load reports to it ([`Recording::run`]) and then says how
/// it ended ([`Recording::succeeded`] inside the load's subtransaction, [`Recording::finish`]
/// after it). It records a load; it does not run one: `crate::load` does.
pub struct Recording {
    pub run: Run,
    owner: pg_sys::Oid,
    read_committed: bool,
    /// The start was recorded by the background worker, visible to other sessions at once.
    autonomous: bool,
    begin: Vec<Option<String>>,
    sha256: Option<String>,
    checksum: Option<files::Background>,
    client: Option<Client>,
    replace: bool,
}

/// Records the start of a run of `opened`. `sha256`: the file's checksum if the caller has it
/// (taxi_load_dir), else it is computed beside the load (before it, with `replace`: whether the
/// file is a new version decides what the load does). Returns the recording and the source (or
/// why it could not be opened: the run then fails with it); Err when the run could not even be
/// recorded (with its load_id if it had one).
#[allow(clippy::type_complexity)]
pub fn begin(
    opened: Opened,
    dataset: Option<&'static Dataset>,
    chunk_size: i64,
    sha256: Option<String>,
    max_rejected: Option<u64>,
    replace: bool,
) -> Result<(Recording, Result<Source, LoadError>), (Option<i64>, Failure)> {
    let Opened {
        name: path,
        source: opened_source,
        client,
    } = opened;
    let path = path.as_str();
    // An unreadable file fails in the load, with the reader's error.
    let sha256 = match (sha256, &opened_source) {
        (None, Ok(source)) if replace => source
            .sha256_hex()
            .inspect_err(source::raise_if_canceled)
            .ok(),
        (given, _) => given,
    };
    let context = Spi::connect_mut(|c| {
        let row = c.update(sql::CONTEXT, Some(1), &[])?.first();
        Ok::<_, pgrx::spi::Error>((
            row.get::<String>(1)?.unwrap_or_default(),
            row.get::<String>(2)?.unwrap_or_default(),
            row.get::<bool>(3)?.unwrap_or(false),
            row.get::<pg_sys::Oid>(4)?,
            row.get::<i64>(5)?,
        ))
    })
    .or_internal("starting the load's record");
    let (user, xid, read_committed, owner, load_id) =
        context.map_err(|e| (None, Failure::Load(e)))?;
    let (Some(owner), Some(load_id)) = (owner, load_id) else {
        return Err((
            None,
            Failure::Load(LoadError::NotUpdated {
                missing: "taxi.load_runs",
            }),
        ));
    };
    as_owner(owner, || Spi::run(sql::SWEEP))
        .or_internal("sweeping stale runs")
        .map_err(|e| (None, Failure::Load(e)))?;

    let size = opened_source.as_ref().ok().map(|s| s.size().to_string());
    let version = opened_source.as_ref().ok().and_then(Source::version);
    let month = quality::file_month(path).map(|(y, m)| format!("{y:04}-{m:02}-01"));
    let begin: Vec<Option<String>> = vec![
        Some(load_id.to_string()),
        Some(path.to_string()),
        size,
        sha256.clone(),
        month,
        Some(user),
        Some(unsafe { pg_sys::MyProcPid }.to_string()),
        Some(xid),
        Some(chunk_size.to_string()),
        version,
        dataset.map(|d| d.name.to_string()),
    ];
    debug_assert_eq!(begin.len(), sql::BEGIN_PARAMS);
    // Under REPEATABLE READ or SERIALIZABLE the loading transaction could not see (and so not
    // update) a row committed after its snapshot: the start is then recorded in the transaction.
    let autonomous = read_committed
        && worker::run(owner, Statement::Begin, &begin)
        && as_owner(owner, || {
            Spi::get_one_with_args::<i64>(sql::BEGUN, &[load_id.to_string().as_str().into()])
        })
        .ok()
        .flatten()
            == Some(1);

    // On a thread of its own, over the load's own descriptor or remote object (a server file is
    // then in the page cache; a remote one's checksum comes from its one download).
    let checksum = match (&sha256, &opened_source) {
        (None, Ok(source)) => {
            let source = source.clone();
            Some(files::Background::start_with(move || {
                source.sha256_hex().ok()
            }))
        }
        _ => None,
    };
    let run = Run {
        load_id,
        owner,
        flag_counts: [0; FLAGS.len()],
        rows_rejected: 0,
        path: path.to_string(),
        max_rejected,
        replacing: None,
        recognized: None,
    };
    Ok((
        Recording {
            run,
            owner,
            read_committed,
            autonomous,
            begin,
            sha256,
            checksum,
            client,
            replace,
        },
        opened_source,
    ))
}

impl Recording {
    /// In the load's subtransaction, before it reads: the start, if the background worker could
    /// not record it, and with `replace` the replacement's plan.
    pub fn started(&mut self) -> Result<(), LoadError> {
        if !self.autonomous {
            statement_as_owner(self.owner, sql::BEGIN, &self.begin)?;
        }
        if self.replace {
            let name = versions::file_name(&self.run.path);
            self.run.replacing = replace::plan(
                self.owner,
                name,
                self.run.load_id,
                self.sha256.as_deref(),
                self.read_committed,
            )?;
        }
        Ok(())
    }

    /// In the load's subtransaction, after it wrote: the earlier versions superseded (or the
    /// NOTICE that another version is current), then the success with its counts.
    pub fn succeeded(&mut self, summary: Summary) -> Result<Summary, LoadError> {
        let (owner, load_id) = (self.owner, self.run.load_id);
        let name = versions::file_name(&self.run.path);
        let sha = self
            .sha256
            .clone()
            .or_else(|| self.checksum.as_mut().and_then(|c| c.finish()));
        match &self.run.replacing {
            Some(r) => replace::supersede(owner, load_id, &r.supersedes)?,
            None if !self.replace && summary.rows_inserted > 0 => {
                if let Some(sha) = &sha {
                    replace::notice_other_versions(
                        owner,
                        name,
                        load_id,
                        sha,
                        summary.rows_inserted,
                    )?;
                }
            }
            None => {}
        }
        let months: Vec<String> = summary
            .months
            .iter()
            .map(|p| {
                let (y, m) = p.month();
                format!("{y:04}-{m:02}-01")
            })
            .collect();
        let params = [
            Some(load_id.to_string()),
            sha,
            Some(summary.rows_read.to_string()),
            Some(summary.rows_inserted.to_string()),
            Some(summary.rows_duplicate.to_string()),
            Some(summary.rows_rejected.to_string()),
            Some(quality::counts_json(summary.dataset, &self.run.flag_counts)),
            Some(summary.rows_removed.to_string()),
            Some(format!("{{{}}}", months.join(","))),
            self.retries(),
            Some(summary.dataset.name.to_string()),
        ];
        statement_as_owner(owner, sql::SUCCEED, &params)?;
        Ok(summary)
    }

    fn retries(&self) -> Option<String> {
        self.client.as_ref().map(|c| c.retries().to_string())
    }

    /// After the load's subtransaction: a failure is recorded by the background worker (the
    /// load's own writes were rolled back). Returns the load_id and the outcome.
    pub fn finish(
        mut self,
        outcome: Result<Summary, Failure>,
    ) -> (Option<i64>, Result<Summary, Failure>) {
        let load_id = self.run.load_id;
        if let Err(failure) = &outcome {
            // A checksum thread still reading the remote source gives up now, not after its
            // timeouts.
            if let Some(c) = &self.client {
                c.abort();
            }
            let (sqlstate, message, detail) = failure.report();
            let retries = self.retries();
            let mut begin = std::mem::take(&mut self.begin);
            begin[3] = begin[3]
                .take()
                .or_else(|| self.checksum.as_mut().and_then(|c| c.finish()));
            if let Some(d) = self.run.recognized {
                begin[10] = Some(d.name.to_string());
            }
            begin.extend([Some(sqlstate), Some(message), detail, retries]);
            if !worker::run(self.owner, Statement::Fail, &begin) {
                warning!(
                    "taxi_load: could not record the failure of load {load_id} in taxi.load_runs: no background worker could run (see max_worker_processes)"
                );
            }
        }
        (Some(load_id), outcome)
    }
}

/// The current succeeded run of `name` at `version` and `size` (a remote file unchanged since).
#[cfg(feature = "remote")]
pub fn loaded_version(name: &str, version: &str, size: u64) -> Option<i64> {
    let owner = extension_owner()?;
    let size = size as i64;
    as_owner(owner, || {
        Spi::get_one_with_args::<i64>(
            sql::LOADED_VERSION,
            &[name.into(), version.into(), size.into()],
        )
        .ok()
        .flatten()
    })
}

/// The load that already loaded content with checksum `sha256` (hex), if any; with `replace`,
/// only one whose version is still current.
pub fn loaded_before(sha256: &str, replace: bool) -> Option<i64> {
    let owner = extension_owner()?;
    as_owner(owner, || {
        Spi::get_one_with_args::<i64>(sql::LOADED_BEFORE, &[sha256.into(), replace.into()])
            .ok()
            .flatten()
    })
}

fn statement_as_owner(
    owner: pg_sys::Oid,
    statement: &str,
    params: &[Option<String>],
) -> Result<(), LoadError> {
    let args: Vec<DatumWithOid> = params.iter().map(|p| p.as_deref().into()).collect();
    as_owner(owner, || Spi::run_with_args(statement, &args)).or_internal("recording the load")
}
