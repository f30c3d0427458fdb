//! `taxi_load(path, chunk_size)`: read → convert → hash → stage → merge, chunk by chunk, in a
//! subtransaction of the caller's transaction, recorded as a run (`crate::runs`). Thin glue over
//! the pgrx-free core.

mod dir;
mod progress;

use std::time::Instant;

use pgrx::prelude::*;

use crate::error::LoadError;
use crate::gucs::{self, WriteMode};
use crate::merge::direct::DirectWriter;
use crate::read::pipeline::{self, Decoded, Pipeline};
use crate::read::TripReader;
use crate::runs::{self, Failure, Run};
use crate::stage::{self, key_set, Seen};
use crate::star::direct::FactWriter;
use crate::{bulk, merge, star, threads};

/// Above this, one chunk's Arrow buffers, staging arrays and hashes stop fitting comfortably in
/// a backend's memory.
pub const MAX_CHUNK_SIZE: usize = 1_000_000;

pub struct Summary {
    /// How the rows were written; for tests and the DEBUG1 message.
    pub mode: Mode,
    /// Threads of the worker pool during the load; for tests and the DEBUG1 message.
    pub workers: usize,
    pub load_id: i64,
    pub rows_read: i64,
    pub rows_inserted: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    pub seconds: f64,
}

/// Loads a NYC TLC yellow-taxi parquet file into `taxi.yellow_taxi_trips`. A trip already in the
/// table (same row_hash) is counted as a duplicate, not inserted again. `chunk_size` NULL:
/// `taxi.chunk_size`.
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_load(
    path: Option<&str>,
    chunk_size: default!(Option<i32>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(load_id, i64),
        name!(rows_read, i64),
        name!(rows_inserted, i64),
        name!(rows_duplicate, i64),
        name!(rows_rejected, i64),
        name!(seconds, f64),
    ),
> {
    let Some(path) = path else {
        ereport!(
            ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "taxi_load: path must not be NULL"
        );
    };
    let chunk_size = chunk_size.unwrap_or_else(|| gucs::CHUNK_SIZE.get());
    let s = run_file(path, chunk_size as i64, None)
        .1
        .unwrap_or_else(|f| f.raise("taxi_load"));
    debug1!(
        "taxi_load {path}: {:?} mode, {} worker threads, {} rows read, {} inserted",
        s.mode,
        s.workers,
        s.rows_read,
        s.rows_inserted
    );
    TableIterator::once((
        s.load_id,
        s.rows_read,
        s.rows_inserted,
        s.rows_duplicate,
        s.rows_rejected,
        s.seconds,
    ))
}

/// Like COPY FROM a file: superusers and roles with privileges of pg_read_server_files.
fn may_read_server_files() -> bool {
    unsafe {
        pg_sys::has_privs_of_role(
            pg_sys::GetUserId(),
            pg_sys::Oid::from(pg_sys::ROLE_PG_READ_SERVER_FILES),
        )
    }
}

/// How taxi_load writes, decided after locking the target (`auto` may still switch from known
/// to bulk on seeing the file's first chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The target is empty, or holds at most twice as many trips as the file and the file's first
    /// chunk is mostly new: its indexes are dropped, rows go straight into the heap, the indexes
    /// are rebuilt at the end.
    Bulk,
    /// Every stored trip is known in memory; only new trips are inserted, through SPI.
    Known,
    /// The target is larger than the file: stored trips are found by an index probe per chunk.
    Probe,
}

/// Loads `path` as a recorded run (`taxi.load_runs`); a PostgreSQL error during the load is
/// raised again. For tests, which want the Rust error.
#[cfg(any(test, feature = "pg_test"))]
pub fn load_file(path: &str, chunk_size: i64) -> Result<Summary, LoadError> {
    match run_file(path, chunk_size, None).1 {
        Ok(s) => Ok(s),
        Err(Failure::Load(e)) => Err(e),
        Err(Failure::Caught(c)) => c.rethrow(),
    }
}

/// Checks the arguments, then loads `path` as a recorded run. The load_id is None when the
/// arguments were refused before a run began (nothing is recorded for them).
pub fn run_file(
    path: &str,
    chunk_size: i64,
    sha256: Option<String>,
) -> (Option<i64>, Result<Summary, Failure>) {
    if let Err(e) = check_arguments(path, chunk_size) {
        return (None, Err(Failure::Load(e)));
    }
    runs::run(path, chunk_size, sha256, |run| {
        load_into(run, path, chunk_size)
    })
}

fn check_arguments(path: &str, chunk_size: i64) -> Result<(), LoadError> {
    if chunk_size < 1 || chunk_size > MAX_CHUNK_SIZE as i64 {
        return Err(LoadError::InvalidChunkSize {
            got: chunk_size,
            max: MAX_CHUNK_SIZE,
        });
    }
    if !may_read_server_files() {
        return Err(LoadError::NoPrivilege { path: path.into() });
    }
    if !std::path::Path::new(path).is_absolute() {
        return Err(LoadError::RelativePath { path: path.into() });
    }
    Ok(())
}

/// The load itself, inside its run's subtransaction.
fn load_into(run: &mut Run, path: &str, chunk_size: i64) -> Result<Summary, LoadError> {
    let started = Instant::now();
    let load_id = run.load_id;
    threads::configure(gucs::WORKERS.get().max(0) as usize);
    // Declared before the pipeline, so it drops after it: the pipeline's threads are joined first.
    let _pool = threads::PoolGuard;
    let reader = TripReader::open(path, chunk_size as usize)?;
    let file_rows = reader.total_rows();
    let file_bytes = std::fs::metadata(path).map_or(0, |m| m.len());
    // Decoding and hashing start now, in the background, while the target is inspected.
    let ahead = pipeline::chunks_ahead(chunk_size as usize, PIPELINE_MEMORY);
    let mut chunks = Pipeline::start(reader, ahead);

    let (mut mode, target, frozen, mut decide_later, mut star) = Spi::connect_mut(|client| {
        let Some(target) = merge::lock_and_inspect(client) else {
            return Err(LoadError::NoTablePrivilege {
                table: merge::sql::TARGET,
            });
        };
        let star = gucs::STAR.get().then(|| star::open(client)).transpose()?;
        merge::ensure_drop_guard(client);
        let setting = gucs::WRITE_MODE.get();
        // Read what is stored unless it is clearly more than the file (then probe per chunk).
        let clearly_larger = target
            .estimated_rows
            .is_some_and(|n| n > (READ_LIMIT_FILES * file_rows) as f64);
        let mut stored = key_set(0);
        let existing = match setting {
            WriteMode::Probe => None,
            WriteMode::Known => merge::read_all(target.oid, &mut stored, u64::MAX),
            _ if clearly_larger => None,
            // Up to twice the file: the next month after one or two stored months still goes bulk
            // (its keys take ~250 MB per 7M stored trips).
            _ => merge::read_all(target.oid, &mut stored, READ_LIMIT_FILES * file_rows),
        };
        let (mode, mut decide_later) = choose_mode(setting, &target, existing);
        if star.as_ref().is_some_and(|s| !s.direct) {
            // Facts that cannot go straight into the heap are inserted from the load's trips at
            // its end; a load that starts on the SPI path (facts with each chunk) stays there.
            decide_later = false;
        }
        if mode == Mode::Probe {
            chunks.steady();
        } else {
            chunks.publish(stored);
        }
        let mut frozen = false;
        if mode == Mode::Bulk {
            if existing == Some(0) {
                merge::truncate(client);
                frozen = true;
            }
            // Unique indexes too: with the target locked and every stored trip known, nothing
            // can conflict.
            bulk::begin(client, target.oid, true);
        }
        Ok((mode, target, frozen, decide_later, star))
    })?;

    let mut progress =
        progress::Progress::start(target.oid, file_rows, file_bytes, chunk_size as u64);
    // The trips of this file already taken (and, when probing, those found stored).
    let mut seen = Seen::with_capacity(file_rows as usize);
    let mut direct =
        (mode == Mode::Bulk).then(|| unsafe { DirectWriter::open(target.oid, load_id, frozen) });
    let direct_facts = star.as_ref().is_some_and(|s| s.direct);
    let mut facts =
        (direct.is_some() && direct_facts).then(|| unsafe { FactWriter::open(load_id) });
    // On the SPI path, one statement inserts a chunk's trips and, through RETURNING, their facts.
    let insert_sql = match star {
        Some(_) => star::sql::insert_trips_and_facts(&merge::sql::insert_rows()),
        None => merge::sql::insert_rows(),
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
                Spi::connect_mut(|client| merge::probe(client, &hashes, &mut seen));
                (0..hashes.len()).collect()
            }
            (_, Some(rows)) => rows,
            // Decoded before the stored trips were published.
            (_, None) => match chunks.stored() {
                Some(set) => threads::pool().install(|| stage::not_stored(set, &hashes)),
                None => (0..hashes.len()).collect(),
            },
        };
        let rows = seen.new_rows_among(&hashes, &candidates);
        if std::mem::take(&mut decide_later) && rows.len() * 2 >= batch.len() {
            // Mostly new trips (a new month for a table that holds a few): rebuilding the indexes
            // once costs far less than maintaining them row by row. Every stored trip is known,
            // and the lock keeps other loads out, so the primary key may go too.
            Spi::connect_mut(|client| bulk::begin(client, target.oid, true));
            direct = Some(unsafe { DirectWriter::open(target.oid, load_id, false) });
            facts = direct_facts.then(|| unsafe { FactWriter::open(load_id) });
            mode = Mode::Bulk;
        }
        // The facts of the new trips, when they go straight into the heap with them.
        let chunk_facts = match (&facts, &star) {
            (Some(_), Some(star)) => FactWriter::compute(star, &batch, &rows),
            _ => Vec::new(),
        };
        if let Some(star) = star.as_mut() {
            let ran_sql = if !chunk_facts.is_empty() {
                star.prepare(chunk_facts.iter().map(|f| f.partition))
            } else {
                !rows.is_empty() && star.prepare(star::partitions_of(&batch, &rows))
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
                merge::insert_rows(client, &insert_sql, &batch, &hashes, &flags, &rows, load_id)
            }),
        };
        rows_read += (batch.len() + batch.rejected.len()) as u64;
        progress.chunk_done(rows_read, rows_inserted);
    }
    drop(chunks);
    if let Some(writer) = direct {
        writer.finish();
        check_for_interrupts!();
        Spi::connect_mut(|client| {
            match facts {
                Some(facts) => facts.finish(),
                None if star.is_some() => {
                    star::insert_facts_of_load(client, load_id);
                }
                None => {}
            }
            bulk::end_with_memory(client, target.oid, REBUILD_MEMORY_KB)
        });
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

/// The write mode, and whether `auto` should look at the first chunk before settling on it.
/// `existing`: the trips stored, if they were all read (None: too many, or not read).
fn choose_mode(setting: WriteMode, target: &merge::Target, existing: Option<u64>) -> (Mode, bool) {
    let Some(existing) = existing else {
        return (Mode::Probe, false);
    };
    let bulk_allowed = target.owner && target.plain;
    match setting {
        WriteMode::Auto if bulk_allowed && existing == 0 => (Mode::Bulk, false),
        // Bulk if the first chunk is mostly new trips, known otherwise (a reload).
        WriteMode::Auto if bulk_allowed => (Mode::Known, true),
        WriteMode::Bulk if bulk_allowed => (Mode::Bulk, false),
        WriteMode::Probe => (Mode::Probe, false),
        _ => (Mode::Known, false),
    }
}

/// How many file-sizes of stored trips are read into memory before probing instead.
const READ_LIMIT_FILES: u64 = 2;

/// Memory for chunks decoded ahead of the writer (16 chunks of 100,000 rows): enough for
/// decoding to run on while the backend reads the stored trips of a month-sized table.
const PIPELINE_MEMORY: usize = 512 << 20;

/// maintenance_work_mem for rebuilding the indexes after a bulk load (if the session's is lower).
const REBUILD_MEMORY_KB: i64 = 512 * 1024;

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::generate::{self, Options};
    use crate::testing::*;
    use crate::trip::TripBatch;

    const COLUMNS_IN_FILE_ORDER: &str = "vendorid, tpep_pickup_datetime, tpep_dropoff_datetime, passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid, payment_type, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, airport_fee, cbd_congestion_fee";

    #[pg_test]
    fn official_sample_loads_every_value() {
        // chunk_size 2: three chunks, so chunking is exercised too.
        let c = load(&fixture(SAMPLE5), 2);
        assert_eq!(
            c,
            Counts {
                read: 5,
                inserted: 5,
                duplicate: 0,
                rejected: 0
            }
        );
        let rows: Vec<String> = Spi::connect(|client| {
            client
                .select(
                    &format!("SELECT ({COLUMNS_IN_FILE_ORDER})::text FROM taxi.yellow_taxi_trips ORDER BY tpep_pickup_datetime"),
                    None,
                    &[],
                )
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect()
        });
        // Values as pyarrow prints them from the file.
        assert_eq!(
            rows,
            [
                r#"(2,"2025-01-01 00:14:27","2025-01-01 00:20:01",3,0.52,1,N,244,244,2,7.20,1.00,0.50,0.00,0.00,1.00,9.70,0.00,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:18:38","2025-01-01 00:26:59",1,1.6,1,N,229,237,1,10.00,3.50,0.50,3.00,0.00,1.00,18.00,2.50,0.00,0.00)"#,
                r#"(2,"2025-01-01 00:21:34","2025-01-01 00:25:06",3,0.66,1,N,244,116,2,5.80,1.00,0.50,0.00,0.00,1.00,8.30,0.00,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:32:40","2025-01-01 00:35:13",1,0.5,1,N,236,237,1,5.10,3.50,0.50,2.02,0.00,1.00,12.12,2.50,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:44:04","2025-01-01 00:46:01",1,0.6,1,N,141,141,1,5.10,3.50,0.50,2.00,0.00,1.00,12.10,2.50,0.00,0.00)"#,
            ]
        );
        assert_eq!(
            count("SELECT count(DISTINCT load_id) FROM taxi.yellow_taxi_trips"),
            1
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE octet_length(row_hash) = 32"),
            5
        );
    }

    #[pg_test]
    fn sample_with_nulls_keeps_nulls_and_cents() {
        let c = load(&fixture(SAMPLE5000), 1000);
        assert_eq!(
            c,
            Counts {
                read: 5000,
                inserted: 5000,
                duplicate: 0,
                rejected: 0
            }
        );
        let nulls = Spi::get_one::<String>(
            "SELECT concat_ws(',', count(*) - count(passenger_count), count(*) - count(ratecodeid),
                    count(*) - count(store_and_fwd_flag), count(*) - count(congestion_surcharge),
                    count(*) - count(airport_fee), count(*) - count(cbd_congestion_fee),
                    count(*) - count(vendorid))
             FROM taxi.yellow_taxi_trips",
        );
        assert_eq!(nulls.unwrap().unwrap(), "1125,1125,1125,1125,1125,0,0");
        // Sums of the file's doubles rounded to cents, as pyarrow computes them.
        let sums = Spi::get_one::<String>(
            "SELECT concat_ws(',', sum(fare_amount), sum(extra), sum(mta_tax), sum(tip_amount),
                    sum(tolls_amount), sum(improvement_surcharge), sum(total_amount),
                    sum(congestion_surcharge), sum(airport_fee), sum(cbd_congestion_fee))
             FROM taxi.yellow_taxi_trips",
        );
        assert_eq!(
            sums.unwrap().unwrap(),
            "83908.85,6166.00,2396.75,13933.10,2046.36,4763.00,125524.09,8567.50,498.75,2667.75"
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE passenger_count = 0"),
            Spi::get_one::<i64>("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE passenger_count IS NOT NULL AND passenger_count < 1").unwrap().unwrap()
        );
    }

    #[pg_test]
    fn loading_twice_inserts_nothing_the_second_time() {
        let first = load(&fixture(SAMPLE5000), 100000);
        let before = fingerprint();
        let second = load(&fixture(SAMPLE5000), 700);
        assert_eq!(first.inserted, 5000);
        assert_eq!(
            second,
            Counts {
                read: 5000,
                inserted: 0,
                duplicate: 5000,
                rejected: 0
            }
        );
        assert_eq!(fingerprint(), before);
    }

    #[pg_test]
    fn in_file_duplicates_are_inserted_once() {
        let unique = unique_trips(1000, 7);
        // Every 10th trip appears again at the end of the file, across chunk boundaries.
        let mut with_copies = unique.clone();
        for row in (0..1000).step_by(10) {
            with_copies.push_row(&unique, row);
        }
        let path = write_trips("dups.parquet", &with_copies, 2024);
        let c = load(&path, 300);
        assert_eq!(
            c,
            Counts {
                read: 1100,
                inserted: 1000,
                duplicate: 100,
                rejected: 0
            }
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 1000);
        assert_eq!(
            count(&format!(
                "SELECT count(DISTINCT ({COLUMNS_IN_FILE_ORDER})) FROM taxi.yellow_taxi_trips"
            )),
            1000
        );
    }

    #[pg_test]
    fn older_vintage_of_the_same_trips_inserts_nothing() {
        load(&fixture(SAMPLE5), 100000);
        load(&fixture(SAMPLE5000), 100000);
        let before = fingerprint();
        for (sample, rows) in [(SAMPLE5, 5), (SAMPLE5000, 5000)] {
            let trips = read_all(&fixture(sample));
            // 2023: double counts, `airport_fee`, int64 ids, ns timestamps, pandas index column.
            for vintage in [2023, 2019, 2012] {
                let path = write_trips(&format!("v{vintage}_{sample}"), &trips, vintage);
                let c = load(&path, 1000);
                assert_eq!(
                    c,
                    Counts {
                        read: rows,
                        inserted: 0,
                        duplicate: rows,
                        rejected: 0
                    },
                    "{vintage} {sample}"
                );
            }
        }
        assert_eq!(fingerprint(), before);
    }

    #[pg_test]
    fn generated_month_of_every_vintage_loads() {
        for (i, year) in [2011, 2015, 2019, 2023, 2024, 2025].into_iter().enumerate() {
            let opts = Options {
                rows: 3000,
                year,
                month: 3,
                seed: i as u64,
                messy_rate: 0.05,
                ..Options::default()
            };
            let path = generated(&format!("gen{year}.parquet"), &opts, year);
            let trips = generate::generate(&opts);
            let mut distinct = crate::hash::hash_batch(&trips);
            distinct.sort();
            distinct.dedup();
            let c = load(&path, 1000);
            assert_eq!(c.read, 3000);
            assert_eq!(c.inserted as usize, distinct.len(), "{year}");
        }
        // Messy rows are stored as they are: refunds, reversed times, zones 264/265.
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE total_amount < 0") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE tpep_dropoff_datetime < tpep_pickup_datetime") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE pulocationid = 264") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE tpep_pickup_datetime < '2010-01-01'") > 0);
    }

    #[pg_test]
    fn each_write_mode_counts_exactly() {
        use crate::load::{load_file, Mode};
        let trips = unique_trips(4000, 11);
        let mut first = TripBatch::empty(3000);
        first.extend_rows(&trips, 0..3000);
        // Empty table: bulk (indexes dropped, heap written directly, indexes rebuilt).
        let s = load_file(&write_trips("m1.parquet", &first, 2024), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 3000, 0)
        );
        // 3000 stored, 4000 in the file: every stored trip known in memory, 1000 new via SPI.
        let s = load_file(&write_trips("m2.parquet", &trips, 2025), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Known, 1000, 3000)
        );
        // A file smaller than the table: index probes per chunk.
        let mut tail = TripBatch::empty(100);
        tail.extend_rows(&trips, 3950..4000);
        let extra = unique_trips(50, 12);
        tail.extend_rows(&extra, 0..50);
        let s = load_file(&write_trips("m3.parquet", &tail, 2019), 30).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Probe, 50, 50)
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 4050);
        assert_eq!(
            count("SELECT count(DISTINCT load_id) FROM taxi.yellow_taxi_trips"),
            3
        );
    }

    #[pg_test]
    fn a_mostly_new_file_switches_to_bulk_after_its_first_chunk() {
        use crate::load::{load_file, Mode};
        let old = unique_trips(1000, 21);
        let s = load_file(&write_trips("b1.parquet", &old, 2024), 500).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Bulk, 1000));
        let mut file = unique_trips(1500, 22);
        file.extend_rows(&old, 0..1000);
        let s = load_file(&write_trips("b2.parquet", &file, 2024), 500).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 1500, 1000)
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 2500);
        assert_eq!(
            count("SELECT count(*) FROM pg_indexes WHERE tablename = 'yellow_taxi_trips'"),
            3
        );
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 0);
        // Reloading it: the first chunk is all stored, so no index is touched.
        let s = load_file(&write_trips("b3.parquet", &file, 2023), 500).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Known, 0));
    }

    #[pg_test]
    fn write_mode_setting_forces_a_path_with_the_same_result() {
        use crate::load::{load_file, Mode};
        let path = fixture(SAMPLE5000);
        let mut prints = Vec::new();
        for (setting, want) in [
            ("probe", Mode::Probe),
            ("known", Mode::Known),
            ("bulk", Mode::Bulk),
            ("auto", Mode::Bulk),
        ] {
            Spi::run("TRUNCATE taxi.yellow_taxi_trips").unwrap();
            Spi::run(&format!("SET LOCAL taxi.write_mode = {setting}")).unwrap();
            let s = load_file(&path, 1000).unwrap();
            assert_eq!((s.mode, s.rows_inserted), (want, 5000), "{setting}");
            let digest = format!(
                "SELECT md5(string_agg((row_hash, {COLUMNS_IN_FILE_ORDER})::text, '|' ORDER BY row_hash)) FROM taxi.yellow_taxi_trips"
            );
            prints.push(Spi::get_one::<String>(&digest).unwrap().unwrap());
        }
        assert!(
            prints.windows(2).all(|w| w[0] == w[1]),
            "every path stores the same values"
        );
        // bulk is only a wish: into a table larger than the file it probes.
        Spi::run("SET LOCAL taxi.write_mode = bulk").unwrap();
        let s = load_file(&fixture(SAMPLE5), 1000).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Probe, 5));
        // The taxi prefix is reserved (PostgreSQL 14 can only warn).
        let e = sql_error("SET taxi.write_mod = bulk");
        let want = if cfg!(feature = "pg14") {
            "no error"
        } else {
            "42602"
        };
        assert!(e.starts_with(want), "{e}");
    }

    /// The backend's threads. A released pool's threads end on their own, so this waits for them
    /// (up to 30 s: a slow machine must not fail the test, a thread that never ends must).
    fn threads_settle_at(want: usize) -> usize {
        let count = || std::fs::read_dir("/proc/self/task").unwrap().count();
        for _ in 0..1500 {
            if count() == want {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        count()
    }

    #[pg_test]
    fn taxi_workers_sizes_the_pool_and_settings_apply() {
        for workers in [1, 3, 2] {
            Spi::run(&format!("SET LOCAL taxi.workers = {workers}")).unwrap();
            Spi::run("TRUNCATE taxi.yellow_taxi_trips, taxi.fact_trips").unwrap();
            // The pool is sized by the setting while the load runs (the file's chunks are
            // converted on it) …
            let s = super::load_file(&fixture(SAMPLE5000), 1000).unwrap();
            assert_eq!(s.workers, workers);
            assert_eq!(s.rows_inserted, 5000);
            // … and gone when it ends.
            assert_eq!(crate::threads::workers(), None);
            assert_eq!(threads_settle_at(1), 1, "{workers} workers");
        }
        // Out-of-range settings are refused by PostgreSQL itself.
        assert!(sql_error("SET taxi.chunk_size = 0").starts_with("22023"));
        assert!(sql_error("SET taxi.workers = -1").starts_with("22023"));
        assert!(sql_error("SET taxi.progress_every = -2").starts_with("22023"));
        // taxi_load(path) takes taxi.chunk_size; an argument overrides it; NULL path is an error.
        let e = sql_error("SELECT * FROM taxi_load(NULL)");
        assert!(
            e.starts_with("22004: taxi_load: path must not be NULL"),
            "{e}"
        );
    }

    /// `rows` generated trips without in-file duplicates.
    fn unique_trips(rows: usize, seed: u64) -> TripBatch {
        generate::generate(&Options {
            rows,
            duplicate_rate: 0.0,
            seed,
            ..Options::default()
        })
    }

    fn read_all(path: &str) -> TripBatch {
        crate::read::read_to_end(path, 1000).unwrap()
    }
}
