//! Every load is a recorded run: a row in `taxi.load_runs` that says `running` while it loads
//! (written by a background worker, so other sessions see it), `succeeded` with its counts (in
//! the loading transaction, with the trips) or `failed` with its error (by a background worker,
//! after the load's work was rolled back in its subtransaction, so it survives the ERROR). Rows
//! that cannot be stored go to `taxi.rejected_rows` with the load. Both tables are written as
//! their owner, with fixed statements: loading roles need no privileges on them and cannot
//! forge them.

pub mod files;
pub mod payload;
pub mod sql;
mod worker;

use std::panic::AssertUnwindSafe;

use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::pg_sys::PgTryBuilder;
use pgrx::prelude::*;

use crate::error::LoadError;
use crate::load::Summary;
use crate::quality::{self, FLAGS};
use crate::trip::Rejected;
use sql::Statement;

/// Why a run failed: one of ours, or an error PostgreSQL raised (cancel, timeout, a failed
/// statement) caught at the run's subtransaction.
pub enum Failure {
    Load(LoadError),
    Caught(Box<CaughtError>),
}

impl Failure {
    fn report(&self) -> (String, String, Option<String>) {
        match self {
            Failure::Load(e) => (e.class().sqlstate().into(), e.to_string(), e.detail()),
            Failure::Caught(c) => match &**c {
                CaughtError::PostgresError(r)
                | CaughtError::ErrorReport(r)
                | CaughtError::RustPanic { ereport: r, .. } => (
                    sqlstate_text(r.sql_error_code() as i32),
                    r.message().to_string(),
                    r.detail().map(str::to_string),
                ),
            },
        }
    }

    pub fn sqlstate(&self) -> String {
        self.report().0
    }

    pub fn message(&self) -> String {
        self.report().1
    }

    /// Raises the failure as the ERROR it was.
    pub fn raise(self, function: &'static str) -> ! {
        match self {
            Failure::Load(e) => crate::report::raise(e, function),
            Failure::Caught(c) => c.rethrow(),
        }
    }
}

/// PostgreSQL's packed SQLSTATE (MAKE_SQLSTATE) as its five characters.
fn sqlstate_text(code: i32) -> String {
    (0..5)
        .map(|i| (((code >> (6 * i)) & 0x3F) as u8 + b'0') as char)
        .collect()
}

/// A run in progress: what the load reports back to its record.
pub struct Run {
    pub load_id: i64,
    owner: pg_sys::Oid,
    /// Quality flags over the file's storable rows, in [`FLAGS`] order.
    pub flag_counts: [u64; FLAGS.len()],
    pub rows_rejected: u64,
    path: String,
    /// `taxi.max_rejected_rows` when the run began (-1: no limit).
    max_rejected: i64,
}

impl Run {
    /// Quarantines a chunk's unstorable rows with the load; fails the load once there are more
    /// than `taxi.max_rejected_rows`.
    pub fn reject(&mut self, rows: &[Rejected]) -> Result<(), LoadError> {
        if rows.is_empty() {
            return Ok(());
        }
        if self.max_rejected >= 0
            && self.rows_rejected + rows.len() as u64 > self.max_rejected as u64
        {
            let first = &rows[0];
            return Err(LoadError::TooManyRejected {
                path: self.path.clone(),
                limit: self.max_rejected,
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
        .expect("quarantine rows");
        self.rows_rejected += rows.len() as u64;
        Ok(())
    }

    /// Counts the quality flags of rows `rows` of a chunk.
    pub fn count_flags(&mut self, flags: &[i16], rows: impl Iterator<Item = usize>) {
        quality::count(&mut self.flag_counts, flags, rows);
    }
}

/// Runs `load` as a recorded run of `path`. `sha256`: the file's checksum if the caller has it
/// (taxi_load_dir), else it is computed beside the load. Returns the load_id (None when the run
/// could not even be recorded) and the outcome; on failure nothing of the load remains.
pub fn run(
    path: &str,
    chunk_size: i64,
    sha256: Option<String>,
    load: impl FnOnce(&mut Run) -> Result<Summary, LoadError>,
) -> (Option<i64>, Result<Summary, Failure>) {
    let (user, xid, read_committed, owner, load_id) = Spi::connect_mut(|c| {
        let row = c.update(sql::CONTEXT, Some(1), &[])?.first();
        Ok::<_, pgrx::spi::Error>((
            row.get::<String>(1)?.unwrap_or_default(),
            row.get::<String>(2)?.unwrap_or_default(),
            row.get::<bool>(3)?.unwrap_or(false),
            row.get::<pg_sys::Oid>(4)?,
            row.get::<i64>(5)?.expect("nextval"),
        ))
    })
    .expect("run context");
    let Some(owner) = owner else {
        return (
            None,
            Err(Failure::Load(LoadError::NotUpdated {
                missing: "taxi.load_runs",
            })),
        );
    };
    as_owner(owner, || Spi::run(sql::SWEEP)).expect("sweep stale runs");

    let size = std::fs::metadata(path).ok().map(|m| m.len().to_string());
    let month = quality::file_month(path).map(|(y, m)| format!("{y:04}-{m:02}-01"));
    let mut begin: Vec<Option<String>> = vec![
        Some(load_id.to_string()),
        Some(path.to_string()),
        size,
        sha256.clone(),
        month,
        Some(user),
        Some(unsafe { pg_sys::MyProcPid }.to_string()),
        Some(xid),
        Some(chunk_size.to_string()),
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

    let mut checksum = sha256.is_none().then(|| files::Background::start(path));
    let mut run = Run {
        load_id,
        owner,
        flag_counts: [0; FLAGS.len()],
        rows_rejected: 0,
        path: path.to_string(),
        max_rejected: crate::gucs::MAX_REJECTED_ROWS.get() as i64,
    };
    let outcome = in_subtransaction(|| {
        if !autonomous {
            statement_as_owner(owner, sql::BEGIN, &begin);
        }
        let summary = load(&mut run)?;
        let sha = sha256
            .clone()
            .or_else(|| checksum.as_mut().and_then(|c| c.finish()));
        let params = [
            Some(load_id.to_string()),
            sha,
            Some(summary.rows_read.to_string()),
            Some(summary.rows_inserted.to_string()),
            Some(summary.rows_duplicate.to_string()),
            Some(summary.rows_rejected.to_string()),
            Some(quality::counts_json(&run.flag_counts)),
        ];
        statement_as_owner(owner, sql::SUCCEED, &params);
        Ok(summary)
    });
    if let Err(failure) = &outcome {
        let (sqlstate, message, detail) = failure.report();
        begin[3] = begin[3]
            .take()
            .or_else(|| checksum.as_mut().and_then(|c| c.finish()));
        begin.extend([Some(sqlstate), Some(message), detail]);
        if !worker::run(owner, Statement::Fail, &begin) {
            warning!(
                "taxi_load: could not record the failure of load {load_id} in taxi.load_runs: no background worker could run (see max_worker_processes)"
            );
        }
    }
    (Some(load_id), outcome)
}

/// The owner of the extension's tables (who records loads and creates fact partitions); None
/// before `ALTER EXTENSION … UPDATE`.
pub fn extension_owner() -> Option<pg_sys::Oid> {
    Spi::get_one::<pg_sys::Oid>(sql::OWNER).ok().flatten()
}

/// The load that already loaded content with checksum `sha256` (hex), if any.
pub fn loaded_before(sha256: &str) -> Option<i64> {
    let owner = extension_owner()?;
    as_owner(owner, || {
        Spi::get_one_with_args::<i64>(sql::LOADED_BEFORE, &[sha256.into()])
            .ok()
            .flatten()
    })
}

/// Runs `f` in a subtransaction, as a PL/pgSQL block with an EXCEPTION clause does: committed
/// into the caller's transaction if it returns Ok, rolled back (every row, lock and index change
/// of it) if it returns Err or raises.
fn in_subtransaction(f: impl FnOnce() -> Result<Summary, LoadError>) -> Result<Summary, Failure> {
    unsafe {
        let memory = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(memory);
        let result = PgTryBuilder::new(AssertUnwindSafe(|| f().map_err(Failure::Load)))
            .catch_others(|e| Err(Failure::Caught(Box::new(e))))
            .catch_rust_panic(|e| Err(Failure::Caught(Box::new(e))))
            .execute();
        if result.is_ok() {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::MemoryContextSwitchTo(memory);
        pg_sys::CurrentResourceOwner = owner;
        result
    }
}

fn statement_as_owner(owner: pg_sys::Oid, statement: &str, params: &[Option<String>]) {
    let args: Vec<DatumWithOid> = params.iter().map(|p| p.as_deref().into()).collect();
    as_owner(owner, || Spi::run_with_args(statement, &args)).expect("record the run");
}

/// Runs `f` with the privileges of `owner`, as a SECURITY DEFINER function would; the caller's
/// role comes back however `f` ends (an error unwinds through the guard, and aborting the
/// transaction restores it too). Only the fixed statements of this module run this way, and
/// their operators are schema-qualified, so a caller's search_path cannot redirect them.
pub(crate) fn as_owner<R>(owner: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    struct Restore(pg_sys::Oid, i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe { pg_sys::SetUserIdAndSecContext(self.0, self.1) };
        }
    }
    let (mut user, mut context) = (pg_sys::Oid::INVALID, 0);
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            context
                | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32
                | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
        );
    }
    let _restore = Restore(user, context);
    f()
}

#[cfg(test)]
mod codes {
    #[test]
    fn sqlstates_unpack() {
        // MAKE_SQLSTATE('5','7','0','1','4')
        let code = [b'5', b'7', b'0', b'1', b'4']
            .iter()
            .enumerate()
            .fold(0i32, |acc, (i, c)| {
                acc | (((c - b'0') as i32 & 0x3F) << (6 * i))
            });
        assert_eq!(super::sqlstate_text(code), "57014");
    }
}

/// Load history, quarantine, quality flags and folder loads, against a real server.
#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::generate::{self, Options};
    use crate::quality::FLAGS;
    use crate::testing::*;
    use crate::trip::{idx, Values};

    fn text(sql: &str) -> String {
        Spi::get_one::<String>(sql).unwrap().unwrap_or_default()
    }

    /// The load_runs row of `load_id` as text.
    fn run_row(load_id: i64) -> String {
        text(&format!(
            "SELECT concat_ws(' ', status, rows_read, rows_inserted, rows_duplicate, rows_rejected,
                              error_sqlstate, chunk_size, loaded_by = current_user,
                              backend_pid = pg_backend_pid(), finished_at >= started_at)
             FROM taxi.load_runs WHERE load_id = {load_id}"
        ))
    }

    fn last_load_id() -> i64 {
        count("SELECT max(load_id) FROM taxi.load_runs WHERE backend_pid = pg_backend_pid()")
    }

    #[pg_test]
    fn load_runs_record_a_success_a_reload_and_a_failure() {
        let path = fixture(SAMPLE5000);
        load(&path, 1000);
        let first = last_load_id();
        assert_eq!(run_row(first), "succeeded 5000 5000 0 0 1000 t t t");
        // The checksum is the file's, the size and the month from its name too.
        let sha = super::files::sha256_hex(&path).unwrap();
        assert_eq!(
            text(&format!(
                "SELECT concat_ws(' ', encode(file_sha256, 'hex'), file_size, file_month, file_path)
                 FROM taxi.load_runs WHERE load_id = {first}"
            )),
            format!(
                "{sha} {} 2025-02-01 {path}",
                std::fs::metadata(&path).unwrap().len()
            )
        );
        load(&path, 700);
        let reload = last_load_id();
        assert!(reload > first);
        assert_eq!(run_row(reload), "succeeded 5000 0 5000 0 700 t t t");

        // A failure: its row survives the ERROR (written by a background worker), its trips do not.
        let before = fingerprint();
        let bad = scratch("not_parquet_2025-03.parquet");
        std::fs::write(&bad, b"this is not parquet at all, not even close").unwrap();
        let e = load_error(&bad, 100);
        assert!(e.starts_with("22P04"), "{e}");
        let failed = last_load_id();
        assert!(failed > reload);
        assert_eq!(run_row(failed), "failed 22P04 100 t t t");
        assert_eq!(
            text(&format!(
                "SELECT error_message FROM taxi.load_runs WHERE load_id = {failed}"
            )),
            format!("file \"{bad}\" is not a parquet file")
        );
        // A missing file and an error PostgreSQL raises (a cancel by statement_timeout is another,
        // tested at SQL level) are recorded the same way.
        assert!(load_error("/nonexistent/yellow.parquet", 100).starts_with("58P01"));
        assert_eq!(run_row(last_load_id()), "failed 58P01 100 t t t");
        assert_eq!(fingerprint(), before);
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id >= {failed}"
            )),
            0
        );
        // A run that did not commit (its caller rolled back after it returned) is marked failed by
        // the next load: simulated with a subtransaction that loads, then fails.
        Spi::run(
            "DO $$ BEGIN
                 BEGIN
                     PERFORM taxi_load($1, 100);
                     RAISE EXCEPTION 'roll it back';
                 EXCEPTION WHEN OTHERS THEN NULL;
                 END;
             END $$"
                .replace("$1", &format!("'{}'", fixture(SAMPLE5)))
                .as_str(),
        )
        .unwrap();
        let rolled_back = last_load_id();
        // Its row, committed as running by the worker, still says running: its transaction (this
        // test's) is in progress, so the sweep must leave it.
        assert_eq!(run_row(rolled_back), "running 100 t t");
        load(&fixture(SAMPLE5), 100);
        assert_eq!(run_row(rolled_back), "running 100 t t");
    }

    /// A file with every kind of unstorable and suspicious row: the counts add up, the rejected rows
    /// keep their raw values, each flag is on exactly the rows its definition (in SQL) selects.
    #[pg_test]
    fn unstorable_rows_are_quarantined_and_every_flag_is_exact() {
        let mut trips = generate::generate(&Options {
            rows: 3000,
            year: 2024,
            month: 3,
            messy_rate: 0.05,
            seed: 77,
            ..Options::default()
        });
        const MARCH: i64 = 1_709_251_200_000_000; // 2024-03-01 00:00, µs since 1970
        const H: i64 = 3_600_000_000;
        let set_ts = |t: &mut crate::trip::TripBatch, col: usize, row: usize, v: Option<i64>| {
            if let Values::Timestamp(c) = &mut t.columns[col] {
                c[row] = v;
            }
        };
        let set_money = |t: &mut crate::trip::TripBatch, col: usize, row: usize, v: Option<i64>| {
            if let Values::Money(c) = &mut t.columns[col] {
                c[row] = v;
            }
        };
        // Unstorable (0-based rows; the file numbers them from 1).
        set_ts(&mut trips, idx::PICKUP, 10, None);
        set_ts(&mut trips, idx::DROPOFF, 20, None);
        set_money(&mut trips, idx::FARE_AMOUNT, 30, Some(5_000_000_000_000));
        set_ts(&mut trips, idx::PICKUP, 40, Some(-300_000_000_000_000_000));
        if let Values::Text(c) = &mut trips.columns[idx::STORE_AND_FWD_FLAG] {
            c[50] = Some("N\0".into());
        }
        set_ts(&mut trips, idx::PICKUP, 60, None);
        set_money(&mut trips, idx::TOTAL_AMOUNT, 60, Some(-5_000_000_000_000));
        // Suspicious, one of each at least.
        set_money(&mut trips, idx::FARE_AMOUNT, 100, Some(-500));
        set_ts(&mut trips, idx::PICKUP, 101, Some(MARCH + 2 * H));
        set_ts(&mut trips, idx::DROPOFF, 101, Some(MARCH + H));
        set_ts(&mut trips, idx::PICKUP, 102, Some(MARCH - H));
        if let Values::Int(c) = &mut trips.columns[idx::PU_LOCATION_ID] {
            c[103] = Some(264);
        }
        if let Values::Float(c) = &mut trips.columns[idx::TRIP_DISTANCE] {
            c[104] = Some(0.0);
            c[105] = Some(50.0);
        }
        set_ts(&mut trips, idx::PICKUP, 105, Some(MARCH + 5 * H));
        set_ts(&mut trips, idx::DROPOFF, 105, Some(MARCH + 5 * H + H / 6));
        let path = write_trips("yellow_tripdata_2024-03.parquet", &trips, 2024);

        let c = load(&path, 1000);
        let load_id = last_load_id();
        assert_eq!(c.read, 3000);
        assert_eq!(c.rejected, 6);
        assert_eq!(c.read, c.inserted + c.duplicate + c.rejected);
        assert_eq!(
            run_row(load_id),
            format!("succeeded 3000 {} {} 6 1000 t t t", c.inserted, c.duplicate)
        );
        // The rejected rows: their numbers in the file, why, and the values as the file has them.
        let rejected = text(&format!(
            "SELECT string_agg(row_number || ': ' || reason, E'\\n' ORDER BY row_number)
             FROM taxi.rejected_rows WHERE load_id = {load_id}"
        ));
        assert_eq!(
            rejected,
            "11: tpep_pickup_datetime: the column requires a value (NULL)\n\
             21: tpep_dropoff_datetime: the column requires a value (NULL)\n\
             31: fare_amount: outside the range of numeric(12,2) (50000000000)\n\
             41: tpep_pickup_datetime: outside the range of timestamp (-300000000000000000)\n\
             51: store_and_fwd_flag: text cannot contain NUL (N\\u{0})\n\
             61: tpep_pickup_datetime: the column requires a value (NULL); total_amount: outside the range of numeric(12,2) (-50000000000)",
        );
        let vendor = |r: usize| match &trips.columns[idx::VENDOR_ID] {
            Values::Int(v) => v[r].map_or("null".to_string(), |x| x.to_string()),
            _ => unreachable!(),
        };
        for (row, column, want) in [
            (11, "tpep_pickup_datetime", "null".to_string()),
            (21, "tpep_dropoff_datetime", "null".to_string()),
            (31, "fare_amount", "50000000000.0".to_string()),
            (51, "store_and_fwd_flag", "\"N\\\\u0000\"".to_string()),
            (61, "total_amount", "-50000000000.0".to_string()),
            (11, "VendorID", vendor(10)),
            (41, "VendorID", vendor(40)),
        ] {
            let got = text(&format!(
                "SELECT (raw -> '{column}')::text FROM taxi.rejected_rows
                 WHERE load_id = {load_id} AND row_number = {row}"
            ));
            assert_eq!(got, want, "row {row} {column}");
        }
        // Every column of the file is in the raw row (a 2024 file has 19: no cbd_congestion_fee).
        assert_eq!(
            count(&format!(
                "SELECT min((SELECT count(*) FROM jsonb_object_keys(raw))) FROM taxi.rejected_rows WHERE load_id = {load_id}"
            )),
            19
        );
        // Each flag: on exactly the rows its SQL definition selects, and counted in load_runs.
        let money = crate::trip::COLUMNS
            .iter()
            .filter(|c| c.kind == crate::trip::Kind::Money)
            .map(|c| format!("{} < 0", c.name))
            .collect::<Vec<_>>()
            .join(" OR ");
        let definitions = [
            money,
            "tpep_dropoff_datetime < tpep_pickup_datetime".to_string(),
            "date_trunc('month', tpep_pickup_datetime) <> '2024-03-01'".to_string(),
            "pulocationid IN (264, 265) OR dolocationid IN (264, 265)".to_string(),
            "trip_distance = 0".to_string(),
            "tpep_dropoff_datetime > tpep_pickup_datetime AND trip_distance <> 'NaN'
             AND trip_distance / (extract(epoch FROM tpep_dropoff_datetime - tpep_pickup_datetime)::float8 / 3600) > 100"
                .to_string(),
        ];
        for (flag, definition) in FLAGS.iter().zip(definitions) {
            let wrong = count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = {load_id}
                   AND (quality_flags & {}::smallint <> 0) IS DISTINCT FROM coalesce({definition}, false)",
                flag.bit
            ));
            assert_eq!(wrong, 0, "{}", flag.name);
            let flagged = count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = {load_id}
                   AND quality_flags & {}::smallint <> 0",
                flag.bit
            ));
            assert!(flagged > 0, "{} never set", flag.name);
            // No duplicates in this file's storable rows? Then the counts are the stored rows'.
            if c.duplicate == 0 {
                let counted = count(&format!(
                    "SELECT (flag_counts ->> '{}')::bigint FROM taxi.load_runs WHERE load_id = {load_id}",
                    flag.name
                ));
                assert_eq!(counted, flagged, "{}", flag.name);
            }
        }
        // The facts of the stored rows are consistent; nothing of the rejected rows reached them.
        assert_eq!(count("SELECT count(*) FROM taxi_check_consistency()"), 0);
        // Reloading: every storable row a duplicate, the same rows rejected again.
        let again = load(&path, 512);
        assert_eq!(
            (again.inserted, again.duplicate, again.rejected),
            (0, 3000 - 6, 6)
        );
        // pandas-written files hold passenger_count as double: 1.5 passengers is not a count.
        let path = scratch("half.parquet");
        let counts = arrow::array::Float64Array::from(vec![1.0, 1.5, 1.0, 3.0, 3.0]);
        replace_column(
            &fixture(SAMPLE5),
            &path,
            "passenger_count",
            std::sync::Arc::new(counts),
        );
        let c = load(&path, 100);
        assert_eq!(c.rejected, 1);
        assert_eq!(
            text(&format!(
                "SELECT row_number || ' ' || reason || ' ' || (raw -> 'passenger_count')::text
                 FROM taxi.rejected_rows WHERE load_id = {}",
                last_load_id()
            )),
            "2 passenger_count: not a whole number (1.5) 1.5"
        );
        // More unstorable rows than taxi.max_rejected_rows: the load fails, nothing of it remains,
        // and the first bad row is named.
        let before = fingerprint();
        Spi::run("SET LOCAL taxi.max_rejected_rows = 5").unwrap();
        let e = load_error(&scratch("yellow_tripdata_2024-03.parquet"), 1000);
        assert!(
            e.starts_with("22000: file")
                && e.contains("has more than 5 rows that cannot be stored")
                && e.contains("The first: row 11: tpep_pickup_datetime"),
            "{e}"
        );
        assert_eq!(run_row(last_load_id()), "failed 22000 1000 t t t");
        Spi::run("SET LOCAL taxi.max_rejected_rows = 6").unwrap();
        assert_eq!(
            load(&scratch("yellow_tripdata_2024-03.parquet"), 1000).rejected,
            6
        );
        assert_eq!(fingerprint(), before);
    }

    #[pg_test]
    fn folder_loads_each_content_once_and_goes_on_after_a_bad_file() {
        let dir = scratch("folder");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            fixture(SAMPLE5000),
            format!("{dir}/yellow_tripdata_2025-02.parquet"),
        )
        .unwrap();
        // A renamed copy: sorts first, so it is the one loaded; the original is then skipped.
        std::fs::copy(
            fixture(SAMPLE5000),
            format!("{dir}/yellow_tripdata_2025-02-copy.parquet"),
        )
        .unwrap();
        std::fs::write(
            format!("{dir}/yellow_tripdata_2025-03.parquet"),
            b"not parquet",
        )
        .unwrap();
        std::fs::write(format!("{dir}/notes.txt"), b"ignored").unwrap();
        let call = |dir: &str| -> String {
            text(&format!(
                "SELECT string_agg(concat_ws(' ', regexp_replace(file, '.*/', ''), status,
                                             rows_inserted, rows_duplicate, error_sqlstate), '; ')
                 FROM taxi_load_dir('{dir}')"
            ))
        };
        assert_eq!(
            call(&dir),
            "yellow_tripdata_2025-02-copy.parquet succeeded 5000 0; \
             yellow_tripdata_2025-02.parquet skipped; \
             yellow_tripdata_2025-03.parquet failed 22P04"
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = (SELECT max(load_id) FROM taxi.load_runs WHERE status = 'succeeded' AND backend_pid = pg_backend_pid())"), 5000);
        // Again: nothing new is loaded; the bad file fails again.
        assert_eq!(
            call(&dir),
            "yellow_tripdata_2025-02-copy.parquet skipped; \
             yellow_tripdata_2025-02.parquet skipped; \
             yellow_tripdata_2025-03.parquet failed 22P04"
        );
        // New content under an old name is loaded.
        std::fs::copy(
            fixture(SAMPLE5),
            format!("{dir}/yellow_tripdata_2025-02.parquet"),
        )
        .unwrap();
        assert!(call(&dir).contains("yellow_tripdata_2025-02.parquet succeeded 5 0"));
        // A pattern selects; a file that is not a folder is refused.
        assert_eq!(
            text(&format!(
                "SELECT string_agg(status, ',') FROM taxi_load_dir('{dir}', '*.txt')"
            )),
            "failed"
        );
        let e = sql_error(&format!("SELECT * FROM taxi_load_dir('{dir}/notes.txt')"));
        assert!(e.starts_with("42809"), "{e}");
        let e = sql_error("SELECT * FROM taxi_load_dir('relative/dir')");
        assert!(e.starts_with("22023"), "{e}");
        let e = sql_error("SELECT * FROM taxi_load_dir('/nonexistent/dir')");
        assert!(e.starts_with("58P01"), "{e}");
    }
}
