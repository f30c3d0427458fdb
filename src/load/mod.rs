//! A load, orchestrated: read → convert → hash (on the pipeline's threads) → dedup → write,
//! chunk by chunk, in a subtransaction of the caller's transaction, recorded as a run
//! (`history`). What to do is decided by `taxi_core::policy`; this module gathers what the
//! policy needs and carries its answers out with the writers below it.

pub mod dir;
pub mod fact_writer;
pub mod history;
pub mod indexes;
pub mod replace;
pub mod shard_writer;
pub mod shards;
pub mod star;
mod summary;
pub mod trip_parts;
pub mod trip_writer;
pub mod trips;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use pgrx::prelude::*;
use taxi_core::dataset::Dataset;
use taxi_core::dedup::{self, KeyTable, Seen};
use taxi_core::error::LoadError;
use taxi_core::facts;
use taxi_core::partition::Partition;
use taxi_core::policy::{self, Route, Settings};
use taxi_core::read::input::{AbortOnDrop, Source};
use taxi_core::read::limits::Work;
use taxi_core::read::pipeline::{self, Decoded, Pipeline};
use taxi_core::read::TripReader;
use taxi_core::sql;
use taxi_core::threads;

use crate::load::fact_writer::{FactTables, FactWriter};
use crate::load::history::Run;
use crate::load::replace::Replacing;
use crate::load::shards::ShardWrite;
use crate::load::star::Star;
pub use crate::load::summary::Summary;
use crate::load::trip_parts::{TripParts, Writing};
use crate::postgres::progress::Progress;
use crate::postgres::source::{self, Location};
use crate::postgres::subxact::{in_subtransaction, Failure};

/// Loads `path` (a server path or a remote URL) as a recorded run, after its checks: the chunk
/// size, then the source ([`source::resolve`]); the first that fails is the error. The load_id
/// is None when the arguments were refused before a run began (nothing is recorded for them: a
/// refused remote source is refused before any connection).
pub fn run_file(
    path: &str,
    chunk_size: i64,
    settings: Settings,
    replace: bool,
) -> (Option<i64>, Result<Summary, Failure>) {
    let checked = policy::check_chunk_size(chunk_size)
        .and_then(|n| source::resolve(path).map(|location| (n, location)));
    match checked {
        Ok((n, location)) => run_location(location, n, None, settings, replace),
        Err(e) => (None, Err(Failure::Load(e))),
    }
}

/// Loads a checked source as a recorded run (a remote one opened first: its failure to open is
/// recorded too). `sha256`: the file's checksum if the caller has it.
pub fn run_location(
    location: Location,
    chunk_size: usize,
    sha256: Option<String>,
    settings: Settings,
    replace: bool,
) -> (Option<i64>, Result<Summary, Failure>) {
    let opened = match location {
        Location::Local(path) => history::Opened::local(&path),
        #[cfg(feature = "remote")]
        Location::Remote(url) => match source::client() {
            Ok(client) => history::Opened {
                name: url.shown(),
                source: source::open(&client, &url),
                client: Some(client),
            },
            Err(e) => return (None, Err(Failure::Load(e))),
        },
    };
    run_opened(opened, chunk_size, sha256, settings, replace)
}

/// Loads an opened source as a recorded run (its failure to open, too, is recorded): the start
/// recorded, then the load in a subtransaction of its own, then its end recorded.
pub fn run_opened(
    opened: history::Opened,
    chunk_size: usize,
    sha256: Option<String>,
    settings: Settings,
    replace: bool,
) -> (Option<i64>, Result<Summary, Failure>) {
    let begun = history::begin(
        opened,
        settings.dataset,
        chunk_size as i64,
        sha256,
        settings.max_rejected_rows,
        replace,
    );
    let (mut recording, source) = match begun {
        Ok(b) => b,
        Err((load_id, failure)) => return (load_id, Err(failure)),
    };
    let outcome = match source {
        // Nothing was begun: the failure is recorded by finish.
        Err(e) => Err(Failure::Load(e)),
        Ok(source) => in_subtransaction(|| {
            recording.started()?;
            let summary = load_into(&mut recording.run, &source, chunk_size, settings)
                .inspect_err(source::raise_if_canceled)?;
            recording.succeeded(summary)
        })
        .map_err(Failure::node_failure),
    };
    recording.finish(outcome)
}

/// The bytes the last load's key sets held after its last chunk (the file's trips and the stored
/// ones it read): the structures that grow with a file, which a pg_test bounds.
pub static KEY_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The load itself, inside its run's subtransaction.
fn load_into(
    run: &mut Run,
    source: &Source,
    chunk_size: usize,
    settings: Settings,
) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let load_id = run.load_id;
    threads::configure(settings.workers);
    // Declared before the pipeline, so it drops after it: the pipeline's threads are joined first.
    let _pool = threads::PoolGuard;
    let reader =
        TripReader::open_source(source, settings.dataset, chunk_size, &mut Work::default())?;
    let dataset = reader.dataset();
    run.recognized(dataset);
    let file_rows = reader.total_rows();
    let file_bytes = source.size();
    let months = reader.months();
    // Decoding and hashing start now, in the background, while the months are read and locked.
    let ahead = pipeline::chunks_ahead(chunk_size, policy::PIPELINE_MEMORY);
    let mut chunks = Pipeline::start(reader, ahead);
    // Dropped before the pipeline: on failure its reader thread stops waiting on the network.
    let network = AbortOnDrop::new(source);
    let months = months.count()?;
    let replacement = run.replacing.clone();
    let replacing = replacement
        .as_ref()
        .map(|r| Spi::connect(|client| Replacing::start(client, r, dataset)))
        .transpose()?;
    let no_months = BTreeSet::new();
    let also = replacement.as_ref().map_or(&no_months, |r| &r.months);

    let Plan {
        target,
        mut parts,
        mut star,
        mut shard_write,
    } = Spi::connect_mut(|client| {
        plan(
            client,
            dataset,
            settings,
            &months,
            also,
            replacing.is_none().then_some(source),
            &mut chunks,
            load_id,
        )
    })?;

    let mut progress = Progress::start(
        "taxi_load",
        target.oid,
        file_rows,
        file_bytes,
        chunk_size as u64,
        settings.progress_every,
    );
    // The trips of this file already taken (and those found stored by probes).
    let mut seen = Seen::with_capacity(file_rows as usize);
    let mut facts = star
        .as_ref()
        .is_some_and(|s| s.direct)
        .then(|| unsafe { FactWriter::open(dataset) });
    // On the SPI path, one statement inserts a chunk's trips and, through RETURNING, their facts;
    // on a Citus table the facts follow the last chunk (`Star::facts_of_load`), and trips known
    // to be new go without ON CONFLICT, which Citus copies straight into the shards.
    let insert_sql = match star {
        Some(_) if !target.distributed => {
            sql::star::insert_trips_and_facts(dataset, &sql::trips::insert_rows(dataset))
        }
        _ => sql::trips::insert_rows(dataset),
    };
    let insert_new_sql = sql::trips::insert_new_rows(dataset);
    let probed: Vec<Partition> = parts
        .routes()
        .filter(|(_, r)| *r == Route::Probe)
        .map(|(p, _)| p)
        .collect();
    let mut rows_read = 0u64;
    let mut rows_inserted = 0u64;
    let mut inserted_into: BTreeSet<Partition> = BTreeSet::new();
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
        let candidates = match not_stored {
            Some(rows) => rows,
            // Decoded before the stored trips were published.
            None => match chunks.stored() {
                Some(set) => threads::pool().install(|| dedup::not_stored(set, &hashes)),
                None => (0..hashes.len()).collect(),
            },
        };
        let of_row = facts::row_partitions(&batch);
        if !probed.is_empty() {
            let mut by_part: BTreeMap<Partition, Vec<usize>> = BTreeMap::new();
            for &r in &candidates {
                if probed.contains(&of_row[r]) {
                    by_part.entry(of_row[r]).or_default().push(r);
                }
            }
            Spi::connect_mut(|client| {
                by_part.iter().try_for_each(|(&p, rows)| {
                    trips::probe(client, dataset, p, &hashes, rows, &mut seen)
                })
            })?;
        }
        let rows = seen.new_rows_among(&hashes, &candidates);
        if replacing.is_some() {
            seen.insert_all(&hashes);
        }
        let mut new_by_part: BTreeMap<Partition, Vec<usize>> = BTreeMap::new();
        for &r in &rows {
            new_by_part.entry(of_row[r]).or_default().push(r);
        }
        if parts.undecided() {
            let mut in_chunk: BTreeMap<Partition, usize> = BTreeMap::new();
            for &p in &of_row {
                *in_chunk.entry(p).or_default() += 1;
            }
            for (p, n) in in_chunk {
                parts.decide(p, new_by_part.get(&p).map_or(0, Vec::len), n);
            }
        }
        let mut via_spi = Vec::new();
        let mut known_new = Vec::new();
        inserted_into.extend(new_by_part.keys().copied());
        for (p, rows_p) in new_by_part {
            if let Some(w) = shard_write.as_mut().filter(|w| w.covers(p)) {
                w.count(&hashes, &rows_p);
                rows_inserted += rows_p.len() as u64;
                continue;
            }
            match parts.route(p) {
                Route::New | Route::Direct => {
                    let chunk_facts = match (&facts, &star) {
                        (Some(_), Some(star)) => facts::compute(&star.dims, &batch, &rows_p),
                        _ => Vec::new(),
                    };
                    let with_facts = facts
                        .as_mut()
                        .zip(star.as_ref())
                        .map(|(f, s)| (f, s as &dyn FactTables, chunk_facts.as_slice()));
                    parts
                        .writer(p, rows_p.len())
                        .write(&batch, &hashes, &flags, &rows_p, with_facts);
                    rows_inserted += rows_p.len() as u64;
                }
                _ if parts.known_new(p) => known_new.extend(rows_p),
                _ => via_spi.extend(rows_p),
            }
        }
        for (statement, mut rows) in [(&insert_sql, via_spi), (&insert_new_sql, known_new)] {
            if rows.is_empty() {
                continue;
            }
            rows.sort_unstable();
            rows_inserted += Spi::connect_mut(|client| {
                trips::insert_rows(client, statement, &batch, &hashes, &flags, &rows, load_id)
            })?;
        }
        rows_read += (batch.len() + batch.rejected.len()) as u64;
        progress.chunk_done(rows_read, rows_inserted);
    }
    KEY_BYTES.store(
        seen.bytes() + chunks.stored().map_or(0, KeyTable::bytes),
        std::sync::atomic::Ordering::Relaxed,
    );
    drop(chunks);
    // The file's key set grows with its rows (about 17 bytes a row, dedup::KeyTable); only a replacement needs it
    // after the last chunk. Otherwise freed here, it is not held while the partitions' indexes are
    // rebuilt, which take maintenance_work_mem of their own.
    let replacing = replacing.map(|r| (r, seen));
    threads::release_free_memory();
    let mode = if shard_write.is_some() {
        policy::Mode::Shards
    } else {
        parts.mode()
    };
    if let Some(facts) = facts {
        facts.finish();
    }
    check_for_interrupts!();
    let rows_removed = Spi::connect_mut(|client| {
        let mut by_sql = inserted_into.clone();
        if let Some(w) = shard_write {
            by_sql.retain(|&p| !w.covers(p));
            w.run(client, dataset, load_id, chunk_size, star.is_some())?;
        }
        if let (Some(star), true) = (star.as_ref(), target.distributed) {
            star.facts_of_load(
                client,
                dataset,
                &by_sql,
                |p| parts.only_this_load(p),
                load_id,
            )?;
        }
        let written = parts.finish(client)?;
        if let Some(star) = star.as_mut() {
            star.finish(client, &written)?;
        }
        replacing.map_or(Ok(0), |(r, seen)| {
            r.remove(client, &seen, target.distributed)
        })
    })?;
    progress.resume();
    network.disarm();
    Ok(Summary {
        dataset,
        workers: threads::workers().unwrap_or(0),
        mode,
        load_id,
        rows_read: rows_read as i64,
        rows_inserted: rows_inserted as i64,
        rows_duplicate: (rows_read - rows_inserted - run.rows_rejected) as i64,
        rows_rejected: run.rows_rejected as i64,
        rows_removed: rows_removed as i64,
        months: inserted_into.into_iter().collect(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What a load writes to, decided after locking and inspecting its target.
struct Plan {
    target: trips::Target,
    parts: TripParts,
    star: Option<Star>,
    /// On Citus, the months the workers write themselves.
    shard_write: Option<ShardWrite>,
}

/// Locks and inspects the target (and the star schema), then the partitions of the file's
/// `months`: reads what they store where their routes need it and hands it to the pipeline,
/// creates the tables the first chunk will need. On Citus, with `source` (None: a replacement),
/// leaves the new months to the workers if they read the file too (`shards`).
#[allow(clippy::too_many_arguments)]
fn plan(
    client: &mut pgrx::spi::SpiClient<'_>,
    dataset: &'static Dataset,
    settings: Settings,
    months: &BTreeMap<Partition, u64>,
    also: &BTreeSet<Partition>,
    source: Option<&Source>,
    chunks: &mut Pipeline,
    load_id: i64,
) -> Result<Plan, LoadError> {
    let target = trips::lock_and_inspect(client, dataset)?;
    let mut star = settings.star.then(|| Star::open(client)).transpose()?;
    trips::ensure_drop_guard(client)?;
    let direct_allowed = target.owner && target.plain && star.as_ref().is_none_or(|s| s.direct);
    // Before the load creates any shard: see `shards`.
    let readable = match source {
        Some(source) if target.distributed && target.owner => {
            shards::readable(client, dataset, settings.star, source)?
        }
        _ => None,
    };
    let mut stored = Vec::new();
    let parts = TripParts::plan(
        client,
        Writing {
            dataset,
            load_id,
            local_heaps: !target.distributed,
        },
        settings.write,
        direct_allowed,
        months,
        also,
        &mut stored,
    )?;
    chunks.publish(KeyTable::from_keys(stored));
    if let Some(star) = star.as_mut() {
        // New months written directly get standalone fact tables too; any other route may insert
        // facts through SQL, into attached partitions.
        star.prepare(client, parts.routes().map(|(p, r)| (p, r == Route::New)))?;
    }
    let shard_write = readable.and_then(|file| {
        let months = parts
            .routes()
            .map(|(p, _)| p)
            .filter(|&p| matches!(p, Partition::Month(_)) && parts.created_by_this_load(p))
            .collect();
        ShardWrite::new(file, months)
    });
    Ok(Plan {
        target,
        parts,
        star,
        shard_write,
    })
}
