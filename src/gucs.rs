//! Every setting of taxi_loader, registered in `_PG_init`. The statics are private: the rest of
//! the extension reads them through the typed getters below, which decode sentinel values (0,
//! -1) once. The `taxi` prefix is reserved: a misspelt `taxi.*` setting is reported instead of
//! silently accepted.

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};
use taxi_core::policy::{ProgressEvery, Settings, WriteSetting, MAX_CHUNK_SIZE};

use crate::pg_compat;

/// How `taxi_load` writes rows (`taxi.write_mode`).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
enum WriteMode {
    /// Choose per load (the default): `bulk` when the loading role owns the target and it is
    /// empty, or holds at most twice as many trips as the file and the file's first chunk is
    /// mostly new; `known` for other targets of at most twice the file; `probe` for larger ones.
    #[name = c"auto"]
    Auto,
    /// Drop the target's indexes, write the heap directly, rebuild the indexes. Falls back to
    /// `known` where it is not allowed (role does not own the target, triggers, row security,
    /// extra columns) and to `probe` when the target holds more than twice the file's trips.
    #[name = c"bulk"]
    Bulk,
    /// Read every stored row hash into memory once, insert only new trips through SPI.
    #[name = c"known"]
    Known,
    /// Look up each chunk's row hashes in the target's primary key, insert new trips through SPI.
    #[name = c"probe"]
    Probe,
}

/// `taxi.write_mode` (user-settable): see [`WriteMode`]. For benchmarks, and for anyone who wants
/// one write path for every load.
static WRITE_MODE: GucSetting<WriteMode> = GucSetting::<WriteMode>::new(WriteMode::Auto);

/// `taxi.star` (user-settable, default on): taxi_load writes the fact rows of the trips it
/// inserts. Off only to measure what the star schema costs, or for a backfill followed by
/// `taxi_rebuild_star()`; until then `taxi_check_consistency()` reports the missing facts.
static STAR: GucSetting<bool> = GucSetting::<bool>::new(true);

/// `taxi.chunk_size` (user-settable, default 100000): rows read, hashed and written at a time
/// when `taxi_load` is called without `chunk_size`.
static CHUNK_SIZE: GucSetting<i32> = GucSetting::<i32>::new(100_000);

/// `taxi.workers` (user-settable, default 0 = one per core, at most 8): threads that convert,
/// hash and compare rows. The backend's own thread writes; these only see plain Rust data.
static WORKERS: GucSetting<i32> = GucSetting::<i32>::new(0);

/// `taxi.progress_every` (user-settable, default 0 = about every 10% of the file, never after
/// every chunk): `taxi_load` sends a NOTICE every this many chunks; -1 never.
static PROGRESS_EVERY: GucSetting<i32> = GucSetting::<i32>::new(0);

/// `taxi.max_rejected_rows` (user-settable, default 1000; -1 = no limit): a file with more rows
/// that cannot be stored fails instead of loading. A few rejected rows are data errors to
/// record; thousands mean a file the loader misreads, whose rows should not all end up as
/// jsonb in `taxi.rejected_rows`.
static MAX_REJECTED_ROWS: GucSetting<i32> = GucSetting::<i32>::new(1000);

/// `taxi.allowed_sources` (superuser-only, empty by default): comma-separated URL prefixes the
/// server may read remote sources from. Empty: none.
static ALLOWED_SOURCES: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `taxi.remote_timeout` (user-settable, seconds, default 30): for one request to a remote
/// source, connecting and reading its answer.
static REMOTE_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(30);

/// `taxi.remote_retries` (user-settable, default 3): further attempts after a transient failure
/// (connection refused or dropped, timeout, HTTP 5xx), with doubling backoff from 200 ms.
static REMOTE_RETRIES: GucSetting<i32> = GucSetting::<i32>::new(3);

/// `taxi.s3_endpoint`, `taxi.s3_region` (superuser-only): where s3:// URLs go; unset, the
/// server's AWS_ENDPOINT_URL / AWS_REGION, else AWS itself.
static S3_ENDPOINT: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static S3_REGION: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

/// `taxi.s3_access_key_id`, `taxi.s3_secret_access_key` (superuser-only, and only superusers can
/// read them): S3 credentials; unset, the server's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY;
/// neither, unsigned requests (public buckets).
static S3_ACCESS_KEY_ID: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);
static S3_SECRET_ACCESS_KEY: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

#[cfg(feature = "remote")]
fn text(setting: &GucSetting<Option<CString>>) -> Option<String> {
    setting
        .get()
        .and_then(|c| c.into_string().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// `taxi.allowed_sources`, split at commas.
#[cfg(feature = "remote")]
pub fn allowed_sources() -> Vec<String> {
    text(&ALLOWED_SOURCES)
        .map(|s| {
            s.split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The remote client's settings, read once when a load starts. The settings exist without the
/// `remote` feature too: the SQL interface does not depend on it.
#[cfg(feature = "remote")]
pub fn remote_settings() -> taxi_remote::Settings {
    use std::time::Duration;
    taxi_remote::Settings {
        timeout: Duration::from_secs(REMOTE_TIMEOUT.get().max(1) as u64),
        retries: REMOTE_RETRIES.get().max(0) as u32,
        backoff: Duration::from_millis(200),
        s3: taxi_remote::S3Settings {
            endpoint: text(&S3_ENDPOINT),
            region: text(&S3_REGION),
            access_key_id: text(&S3_ACCESS_KEY_ID),
            secret_access_key: text(&S3_SECRET_ACCESS_KEY),
            session_token: None,
        },
        spool_dir: None,
    }
}

/// `taxi.chunk_size`.
pub fn chunk_size() -> i64 {
    CHUNK_SIZE.get() as i64
}

/// `taxi.workers`, 0 decoded to one per core, at most 8.
pub fn workers() -> usize {
    match WORKERS.get() {
        n if n > 0 => n as usize,
        _ => taxi_core::threads::default_workers(),
    }
}

/// `taxi.max_rejected_rows`; None for -1 (no limit).
pub fn max_rejected_rows() -> Option<u64> {
    u64::try_from(MAX_REJECTED_ROWS.get()).ok()
}

/// `taxi.progress_every`, decoded.
pub fn progress_every() -> ProgressEvery {
    match PROGRESS_EVERY.get() {
        0 => ProgressEvery::Auto,
        n if n < 0 => ProgressEvery::Never,
        n => ProgressEvery::Chunks(n as u64),
    }
}

/// `taxi.star`.
pub fn star() -> bool {
    STAR.get()
}

/// `taxi.write_mode`.
pub fn write_mode() -> WriteSetting {
    match WRITE_MODE.get() {
        WriteMode::Auto => WriteSetting::Auto,
        WriteMode::Bulk => WriteSetting::Bulk,
        WriteMode::Known => WriteSetting::Known,
        WriteMode::Probe => WriteSetting::Probe,
    }
}

/// Everything a load reads from the settings, read once when it starts.
pub fn load_settings() -> Settings {
    Settings {
        dataset: None,
        write: write_mode(),
        star: star(),
        workers: workers(),
        progress_every: progress_every(),
        max_rejected_rows: max_rejected_rows(),
    }
}

pub fn init() {
    GucRegistry::define_int_guc(
        c"taxi.chunk_size",
        c"Rows taxi_load reads, hashes and writes at a time, unless its chunk_size argument says otherwise.",
        c"Peak memory grows with it (about 460 MB at 100000 for a month of trips, 970 MB at 500000).",
        &CHUNK_SIZE,
        1,
        MAX_CHUNK_SIZE as i32,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"taxi.workers",
        c"Worker threads taxi_load converts, hashes and compares rows with; 0 means one per core (at most 8).",
        c"",
        &WORKERS,
        0,
        64,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"taxi.progress_every",
        c"taxi_load sends a progress NOTICE every this many chunks; 0 means about every 10% of the file (never after every chunk), -1 never.",
        c"Other sessions see a running load in taxi.load_progress and pg_stat_progress_copy.",
        &PROGRESS_EVERY,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"taxi.max_rejected_rows",
        c"A file with more rows that cannot be stored than this fails instead of loading; -1 means no limit.",
        c"Rows that cannot be stored are recorded in taxi.rejected_rows while the load goes on.",
        &MAX_REJECTED_ROWS,
        -1,
        i32::MAX,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"taxi.star",
        c"Whether taxi_load fills the star schema (taxi.fact_trips) with the trips it inserts.",
        c"Off leaves the star schema behind the normalized table until taxi_rebuild_star() runs; taxi_check_consistency() reports the difference.",
        &STAR,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"taxi.write_mode",
        c"How taxi_load writes rows: auto, bulk, known or probe.",
        c"auto picks bulk (indexes dropped and rebuilt, heap written directly) when the role owns the target and it is empty or at most twice the file and the file's first chunk is mostly new, known (stored hashes read into memory) for other targets of at most twice the file, probe (primary-key lookups per chunk) otherwise.",
        &WRITE_MODE,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"taxi.allowed_sources",
        c"Comma-separated URL prefixes taxi_load may read remote sources from (http://, https://, s3://); empty allows none.",
        c"Only superusers can set it: it keeps the loader from being turned into a probe of internal addresses.",
        &ALLOWED_SOURCES,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"taxi.remote_timeout",
        c"Seconds one request to a remote source may take, connecting and reading its answer.",
        c"A request that takes longer fails (57014) or, while retries remain, is retried.",
        &REMOTE_TIMEOUT,
        1,
        3600,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"taxi.remote_retries",
        c"Further attempts after a transient failure of a request to a remote source (connection refused or dropped, timeout, HTTP 5xx).",
        c"The wait doubles from 200 ms; taxi.load_runs.remote_retries counts them.",
        &REMOTE_RETRIES,
        0,
        10,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"taxi.s3_endpoint",
        c"Endpoint of s3:// URLs (an S3-compatible server); unset: the server's AWS_ENDPOINT_URL, else AWS.",
        c"",
        &S3_ENDPOINT,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"taxi.s3_region",
        c"Region of s3:// URLs; unset: the server's AWS_REGION, else us-east-1.",
        c"",
        &S3_REGION,
        GucContext::Suset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"taxi.s3_access_key_id",
        c"Access key id for s3:// URLs; unset: the server's AWS_ACCESS_KEY_ID; neither: unsigned requests.",
        c"",
        &S3_ACCESS_KEY_ID,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    GucRegistry::define_string_guc(
        c"taxi.s3_secret_access_key",
        c"Secret access key for s3:// URLs; unset: the server's AWS_SECRET_ACCESS_KEY.",
        c"Only superusers can read it; it never appears in taxi.load_runs or in errors.",
        &S3_SECRET_ACCESS_KEY,
        GucContext::Suset,
        GucFlags::SUPERUSER_ONLY | GucFlags::NO_SHOW_ALL,
    );
    pg_compat::reserve_guc_prefix(c"taxi");
}
