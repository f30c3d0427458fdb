//! A load, orchestrated: read → convert → hash (on the pipeline's threads) → dedup → write,
//! chunk by chunk, in a subtransaction of the caller's transaction, recorded as a run
//! (`history`). What to do is decided by `taxi_core::policy`; this module gathers what the
//! policy needs and carries its answers out with the writers below it.

pub mod dir;
pub mod fact_writer;
pub mod history;
pub mod indexes;
pub mod star;
mod summary;
pub mod trip_writer;
pub mod trips;

use std::time::Instant;

use pgrx::prelude::*;
use taxi_core::dedup::{self, key_set, Seen};
use taxi_core::error::LoadError;
use taxi_core::facts;
use taxi_core::policy::{self, Mode, Settings};
use taxi_core::read::pipeline::{self, Decoded, Pipeline};
use taxi_core::read::TripReader;
use taxi_core::sql;
use taxi_core::threads;

use crate::load::fact_writer::FactWriter;
use crate::load::history::Run;
use crate::load::star::Star;
pub use crate::load::summary::Summary;
use crate::load::trip_writer::TripWriter;
use crate::postgres::progress::Progress;
use crate::postgres::subxact::Failure;
use crate::postgres::{owner, scan};

/// Checks the arguments, then loads `path` as a recorded run. The load_id is None when the
/// arguments were refused before a run began (nothing is recorded for them).
pub fn run_file(
    path: &str,
    chunk_size: i64,
    sha256: Option<String>,
    settings: Settings,
) -> (Option<i64>, Result<Summary, Failure>) {
    let chunk_size = match check_arguments(path, chunk_size) {
        Ok(n) => n,
        Err(e) => return (None, Err(Failure::Load(e))),
    };
    history::run(
        path,
        chunk_size as i64,
        sha256,
        settings.max_rejected_rows,
        |run| load_into(run, path, chunk_size, settings),
    )
}

/// The chunk size, the caller's privilege to read server files, the path: in this order, the
/// first that fails is the error.
pub fn check_arguments(path: &str, chunk_size: i64) -> Result<usize, LoadError> {
    let chunk_size = policy::check_chunk_size(chunk_size)?;
    if !owner::may_read_server_files() {
        return Err(LoadError::NoPrivilege { path: path.into() });
    }
    policy::check_path(path)?;
    Ok(chunk_size)
}

/// The load itself, inside its run's subtransaction.
fn load_into(
    run: &mut Run,
    path: &str,
    chunk_size: usize,
    settings: Settings,
) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let load_id = run.load_id;
    threads::configure(settings.workers);
    // Declared before the pipeline, so it drops after it: the pipeline's threads are joined first.
    let _pool = threads::PoolGuard;
    let reader = TripReader::open(path, chunk_size)?;
    let file_rows = reader.total_rows();
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    // Decoding and hashing start now, in the background, while the target is inspected.
    let ahead = pipeline::chunks_ahead(chunk_size, policy::PIPELINE_MEMORY);
    let mut chunks = Pipeline::start(reader, ahead);

    let Plan {
        mut mode,
        target,
        frozen,
        mut decide_later,
        mut star,
    } = Spi::connect_mut(|client| plan(client, settings, file_rows, &mut chunks))?;

    let mut progress = Progress::start(
        target.oid,
        file_rows,
        file_bytes,
        chunk_size as u64,
        settings.progress_every,
    );
    // The trips of this file already taken (and, when probing, those found stored).
    let mut seen = Seen::with_capacity(file_rows as usize);
    let mut direct =
        (mode == Mode::Bulk).then(|| unsafe { TripWriter::open(target.oid, load_id, frozen) });
    let direct_facts = star.as_ref().is_some_and(|s| s.direct);
    let mut facts =
        (direct.is_some() && direct_facts).then(|| unsafe { FactWriter::open(load_id) });
    // On the SPI path, one statement inserts a chunk's trips and, through RETURNING, their facts.
    let insert_sql = match star {
        Some(_) => sql::star::insert_trips_and_facts(&sql::trips::insert_rows()),
        None => sql::trips::insert_rows(),
    };
    let mut rows_read = 0u64;
    let mut rows_inserted = 0u64;
    while let Some(chunk) = chunks.next(|| {
        check_for_interrupts!();
    }) {
        check_for_interrupts!();
        let Decoded {
            batch,
            hashes,
            flags,
            not_stored,
        } = chunk?;
        run.reject(&batch.rejected)?;
        run.count_flags(&flags, 0..batch.len());
        let candidates = match (mode, not_stored) {
            (Mode::Probe, _) => {
                Spi::connect_mut(|client| trips::probe(client, &hashes, &mut seen))?;
                (0..hashes.len()).collect()
            }
            (_, Some(rows)) => rows,
            // Decoded before the stored trips were published.
            (_, None) => match chunks.stored() {
                Some(set) => threads::pool().install(|| dedup::not_stored(set, &hashes)),
                None => (0..hashes.len()).collect(),
            },
        };
        let rows = seen.new_rows_among(&hashes, &candidates);
        if std::mem::take(&mut decide_later) && policy::switch_to_bulk(rows.len(), batch.len()) {
            // Every stored trip is known, and the lock keeps other loads out, so the primary key
            // may go too.
            Spi::connect_mut(|client| indexes::drop_indexes(client, target.oid, true))?;
            direct = Some(unsafe { TripWriter::open(target.oid, load_id, false) });
            facts = direct_facts.then(|| unsafe { FactWriter::open(load_id) });
            mode = Mode::Bulk;
        }
        // The facts of the new trips, when they go straight into the heap with them.
        let chunk_facts = match (&facts, &star) {
            (Some(_), Some(star)) => facts::compute(&star.dims, &batch, &rows),
            _ => Vec::new(),
        };
        if let Some(star) = star.as_mut() {
            let ran_sql = if !chunk_facts.is_empty() {
                star.prepare(chunk_facts.iter().map(|f| f.partition))?
            } else {
                !rows.is_empty() && star.prepare(facts::partitions_of(&batch, &rows))?
            };
            if ran_sql {
                progress.resume();
            }
        }
        rows_inserted += match direct.as_mut() {
            Some(writer) => {
                let with_facts = facts
                    .as_mut()
                    .zip(star.as_ref())
                    .map(|(f, s)| (f, s, chunk_facts.as_slice()));
                writer.write(&batch, &hashes, &flags, &rows, with_facts);
                rows.len() as u64
            }
            None => Spi::connect_mut(|client| {
                trips::insert_rows(client, &insert_sql, &batch, &hashes, &flags, &rows, load_id)
            })?,
        };
        rows_read += (batch.len() + batch.rejected.len()) as u64;
        progress.chunk_done(rows_read, rows_inserted);
    }
    drop(chunks);
    if let Some(writer) = direct {
        finish_bulk(writer, facts, star.is_some(), target.oid, load_id)?;
    }
    Ok(Summary {
        workers: threads::workers().unwrap_or(0),
        mode,
        load_id,
        rows_read: rows_read as i64,
        rows_inserted: rows_inserted as i64,
        rows_duplicate: (rows_read - rows_inserted - run.rows_rejected) as i64,
        rows_rejected: run.rows_rejected as i64,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// How a load writes, decided after locking and inspecting its target.
struct Plan {
    mode: Mode,
    target: trips::Target,
    /// The target was emptied in this transaction: rows may be written frozen.
    frozen: bool,
    /// `auto` looks at the first chunk before settling on known or bulk.
    decide_later: bool,
    star: Option<Star>,
}

/// Locks and inspects the target (and the star schema), reads what it stores when the policy
/// says so, and prepares the chosen mode: hands the stored trips to the pipeline, or empties the
/// target and drops its indexes for a bulk load.
fn plan(
    client: &mut pgrx::spi::SpiClient<'_>,
    settings: Settings,
    file_rows: u64,
    chunks: &mut Pipeline,
) -> Result<Plan, LoadError> {
    let target = trips::lock_and_inspect(client)?;
    let star = settings.star.then(|| Star::open(client)).transpose()?;
    trips::ensure_drop_guard(client)?;
    let mut stored = key_set(0);
    let existing = policy::stored_read_limit(settings.write, target.estimated_rows, file_rows)
        .and_then(|limit| scan::read_row_hashes(target.oid, &mut stored, limit));
    let (mode, decide_later) = policy::choose_mode(
        settings.write,
        target.owner && target.plain,
        star.as_ref().is_none_or(|s| s.direct),
        existing,
    );
    if mode == Mode::Probe {
        chunks.steady();
    } else {
        chunks.publish(stored);
    }
    let mut frozen = false;
    if mode == Mode::Bulk {
        if existing == Some(0) {
            trips::truncate(client)?;
            frozen = true;
        }
        // Unique indexes too: with the target locked and every stored trip known, nothing can
        // conflict.
        indexes::drop_indexes(client, target.oid, true)?;
    }
    Ok(Plan {
        mode,
        target,
        frozen,
        decide_later,
        star,
    })
}

/// The end of a bulk load: the heaps closed, the facts written if they could not go with the
/// trips, the indexes rebuilt once.
fn finish_bulk(
    writer: TripWriter,
    facts: Option<FactWriter>,
    star: bool,
    target: pgrx::pg_sys::Oid,
    load_id: i64,
) -> Result<(), LoadError> {
    writer.finish();
    check_for_interrupts!();
    Spi::connect_mut(|client| {
        match facts {
            Some(facts) => facts.finish(),
            None if star => {
                star::insert_facts_of_load(client, load_id)?;
            }
            None => {}
        }
        indexes::rebuild_indexes_with_memory(client, target, policy::REBUILD_MEMORY_KB)?;
        Ok(())
    })
}
