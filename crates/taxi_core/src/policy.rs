//! The decisions a load makes, as plain functions of what it knows: how it writes, when it
//! switches to the bulk path, which arguments it refuses, when rejected rows fail it, how
//! often it reports progress, which pickups a month holds. The extension gathers the facts
//! (settings, the target's state, the first chunk) and acts on the answers; everything decided
//! is here, with its tests.

use crate::calendar::{days_from_civil, next_month};
use crate::error::LoadError;

/// Above this, one chunk's Arrow buffers, dedup arrays and hashes stop fitting comfortably in a
/// backend's memory.
pub const MAX_CHUNK_SIZE: usize = 1_000_000;

/// Memory for chunks decoded ahead of the writer while the backend reads the stored trips of the
/// file's months (4 chunks of 100,000 rows; 2 once they are read). 512 MB (16 chunks) until 0.9.0:
/// every load filled them while the backend counted the file's months and inspected its
/// partitions, and that backlog was most of a load's working memory whatever the file's size
/// (450 MB of a 3.6M-row month's 485 MB), for a reload no faster.
pub const PIPELINE_MEMORY: usize = 128 << 20;

/// maintenance_work_mem for rebuilding the indexes after a bulk load, whatever the session's:
/// the rebuild's sort is the largest allocation of a load, and a session's 1 GB (what
/// `taxi_tune_session` sets) took a loading backend to 1.34 GB on a 20M-row month. Lower, the sort
/// spills sooner; the partitions of the largest months spill at 1 GB too.
pub const REBUILD_MEMORY_KB: i64 = 512 * 1024;

/// How many times the file's rows of a partition are read from it into memory before probing
/// instead: a month reloaded, or topped up by a second file, is read whole (its keys take
/// ~130 MB per 3.6M stored trips); a month a straggler falls into is probed.
pub const READ_LIMIT_FILES: u64 = 2;

/// `taxi.write_mode`: how the user asked taxi_load to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteSetting {
    Auto,
    Bulk,
    Known,
    Probe,
}

/// How a load wrote, as its result row reports it (`mode`): the route of the partition that holds
/// most of the file's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Straight into the heap, indexes built once at the end.
    Bulk,
    /// Every stored trip of the partition known in memory; new trips inserted through SPI.
    Known,
    /// Stored trips found by an index probe per chunk; new trips inserted through SPI.
    Probe,
    /// On Citus: each worker read the file and wrote its own shards, straight into their heaps.
    Shards,
}

/// What a load found in one partition after locking its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No such partition yet.
    Missing,
    /// This many stored trips, all read into memory.
    Stored(u64),
    /// More than the read limit (or not read: probe asked for).
    TooMany,
}

/// How a load writes the trips of one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A new table, written straight into its heap, indexed once, then attached as the month's
    /// partition.
    New,
    /// Straight into the existing partition's heap (exclusively locked), its indexes rebuilt
    /// once at the end.
    Direct,
    /// Stored trips known; the first chunk with rows of the partition decides between `Direct`
    /// (mostly new: a month topped up, or one that held a few stragglers) and `Insert`.
    Decide,
    /// Through SPI, every stored trip known: only new trips are sent.
    Insert,
    /// Through SPI, after an index probe per chunk (the partition holds far more trips than the
    /// file brings it, e.g. a month a straggler of another file falls into).
    Probe,
}

impl Route {
    pub fn mode(self) -> Mode {
        match self {
            Route::New | Route::Direct => Mode::Bulk,
            Route::Decide | Route::Insert => Mode::Known,
            Route::Probe => Mode::Probe,
        }
    }
}

/// A partition the file brings only a few of its rows to (under 1%: the stragglers of another
/// month, a 2002 pickup): its trips go through SPI, so the load shares the month with others
/// instead of excluding them. Loads of different months that both bring stragglers to the same
/// old months run side by side.
pub fn minor(partition_rows: u64, file_rows: u64) -> bool {
    partition_rows.saturating_mul(100) < file_rows
}

/// Whether a load takes its lock on a month exclusively: it may create the month's partition or
/// write its heap directly (bypassing the primary key), so no other load may write the month
/// meanwhile. Loads that only insert through SQL share the lock: the primary key keeps them
/// apart. `existing`: None if there is no partition, else the planner's estimate of its rows
/// (None inside if never analysed); `partition_rows` of the file's `file_rows` fall into it.
/// `distributed`: the table is a Citus table, whose month, once locked exclusively with its
/// stored trips all known, takes its new trips without ON CONFLICT, which lets Citus copy them
/// straight into the shards; a file's stragglers stay shared as everywhere.
pub fn month_lock_exclusive(
    setting: WriteSetting,
    direct_allowed: bool,
    distributed: bool,
    existing: Option<Option<f64>>,
    partition_rows: u64,
    file_rows: u64,
) -> bool {
    let Some(estimated_rows) = existing else {
        return true;
    };
    if distributed {
        return !minor(partition_rows, file_rows);
    }
    direct_allowed
        && matches!(setting, WriteSetting::Auto | WriteSetting::Bulk)
        && !minor(partition_rows, file_rows)
        && stored_read_limit(setting, estimated_rows, partition_rows).is_some()
}

/// The route of one partition. `direct_allowed`: the role owns the tables, they and the
/// partition are plain enough for direct heap writes, and so is the star schema if it is filled;
/// `minor`: see [`minor`].
pub fn route(setting: WriteSetting, direct_allowed: bool, found: Found, minor: bool) -> Route {
    use WriteSetting::*;
    let direct = direct_allowed && matches!(setting, Auto | Bulk);
    match found {
        Found::TooMany => Route::Probe,
        _ if setting == Probe => Route::Probe,
        Found::Missing if direct => Route::New,
        // Created empty and attached before the first chunk.
        Found::Missing => Route::Insert,
        Found::Stored(_) if minor => Route::Insert,
        Found::Stored(0) if direct => Route::Direct,
        Found::Stored(_) if direct && setting == Bulk => Route::Direct,
        Found::Stored(_) if direct => Route::Decide,
        Found::Stored(_) => Route::Insert,
    }
}

/// `taxi.progress_every`, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvery {
    /// About every 10% of the file, never after every chunk (setting 0).
    Auto,
    /// No NOTICEs (setting -1).
    Never,
    /// Every this many chunks.
    Chunks(u64),
}

/// The settings a load runs with, read once when it starts, and the dataset its caller named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `dataset => …`; None: each file's columns say.
    pub dataset: Option<&'static crate::dataset::Dataset>,
    pub write: WriteSetting,
    /// Fill the star schema with the trips inserted (`taxi.star`).
    pub star: bool,
    /// Threads of the worker pool (`taxi.workers`, 0 decoded to one per core, at most 8).
    pub workers: usize,
    pub progress_every: ProgressEvery,
    /// Rejected rows a file may have before it fails; None: no limit.
    pub max_rejected_rows: Option<u64>,
}

/// The dataset a function's `dataset` argument names (None: NULL, every dataset or the one a
/// file's columns say). An unknown name is refused (22023).
pub fn dataset_argument(
    name: Option<&str>,
) -> Result<Option<&'static crate::dataset::Dataset>, LoadError> {
    name.map(|n| {
        crate::dataset::Dataset::named(n)
            .ok_or_else(|| LoadError::UnknownDataset { name: n.into() })
    })
    .transpose()
}

/// The chunk size, if it is in range: taxi_load and taxi_load_dir refuse any other before
/// touching anything.
pub fn check_chunk_size(chunk_size: i64) -> Result<usize, LoadError> {
    if chunk_size < 1 || chunk_size > MAX_CHUNK_SIZE as i64 {
        return Err(LoadError::InvalidChunkSize {
            got: chunk_size,
            max: MAX_CHUNK_SIZE,
        });
    }
    Ok(chunk_size as usize)
}

/// Server paths must be absolute: the server's working directory is no business of its users.
pub fn check_path(path: &str) -> Result<(), LoadError> {
    if !std::path::Path::new(path).is_absolute() {
        return Err(LoadError::RelativePath { path: path.into() });
    }
    Ok(())
}

/// Up to how many stored trips of a partition to read into memory before the load, or None to
/// probe per chunk instead (the partition clearly holds more than twice the file's rows of it,
/// or the user asked for probes). `file_rows`: the file's rows that fall into the partition.
pub fn stored_read_limit(
    setting: WriteSetting,
    estimated_rows: Option<f64>,
    file_rows: u64,
) -> Option<u64> {
    let limit = READ_LIMIT_FILES * file_rows;
    match setting {
        WriteSetting::Probe => None,
        WriteSetting::Known => Some(u64::MAX),
        _ if estimated_rows.is_some_and(|n| n > limit as f64) => None,
        _ => Some(limit),
    }
}

/// For a [`Route::Decide`] partition, at the first chunk with rows of it: direct when at least
/// half of the chunk's rows of that partition are new (a month topped up, or one that held
/// a few stragglers of another file). Rebuilding its indexes once then costs far less than
/// maintaining them row by row; a reload with a few corrected trips stays on SPI.
pub fn switch_to_bulk(new_rows: usize, chunk_rows: usize) -> bool {
    new_rows * 2 >= chunk_rows
}

/// Whether `more` rejected rows, after `so_far`, exceed `limit` (`taxi.max_rejected_rows`).
pub fn too_many_rejected(limit: Option<u64>, so_far: u64, more: usize) -> bool {
    limit.is_some_and(|limit| so_far + more as u64 > limit)
}

/// Chunks between progress NOTICEs for a file of `chunks` chunks; None: none at all.
pub fn progress_interval(every: ProgressEvery, chunks: u64) -> Option<u64> {
    match every {
        // About every 10% of the file, but never after every chunk (a file of one chunk: none).
        ProgressEvery::Auto => (chunks >= 2).then(|| chunks.div_ceil(10).max(2)),
        ProgressEvery::Never => None,
        ProgressEvery::Chunks(n) => Some(n),
    }
}

/// The pickups of the month holding day `days` (since 1970-01-01, any day of the month): its
/// first day and the first day of the next month, both as days since 1970-01-01.
pub fn month_of(days: i64) -> (i64, i64) {
    let (y, m, _) = crate::calendar::civil_from_days(days);
    let (ny, nm) = next_month(y, m);
    (days_from_civil(y, m, 1), days_from_civil(ny, nm, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        assert_eq!(check_chunk_size(1).unwrap(), 1);
        assert_eq!(
            check_chunk_size(MAX_CHUNK_SIZE as i64).unwrap(),
            MAX_CHUNK_SIZE
        );
        for bad in [0, -5, MAX_CHUNK_SIZE as i64 + 1] {
            let e = check_chunk_size(bad).unwrap_err();
            assert!(
                matches!(e, LoadError::InvalidChunkSize { got, .. } if got == bad),
                "{e}"
            );
            assert_eq!(e.class().sqlstate(), "22023");
        }
        check_path("/data/a.parquet").unwrap();
        let e = check_path("data/a.parquet").unwrap_err();
        assert!(matches!(e, LoadError::RelativePath { .. }), "{e}");
        assert_eq!(e.class().sqlstate(), "22023");
    }

    #[test]
    fn stored_trips_are_read_up_to_twice_the_file() {
        use WriteSetting::*;
        assert_eq!(stored_read_limit(Auto, None, 1000), Some(2000));
        assert_eq!(stored_read_limit(Auto, Some(2000.0), 1000), Some(2000));
        assert_eq!(stored_read_limit(Auto, Some(2001.0), 1000), None);
        assert_eq!(stored_read_limit(Bulk, Some(1e9), 1000), None);
        assert_eq!(stored_read_limit(Known, Some(1e9), 1000), Some(u64::MAX));
        assert_eq!(stored_read_limit(Probe, None, 1000), None);
    }

    #[test]
    fn routes_per_partition() {
        use WriteSetting::*;
        // Nothing read (too many stored, or probe asked for): probe, whatever else holds.
        for s in [Auto, Bulk, Known, Probe] {
            assert_eq!(route(s, true, Found::TooMany, false), Route::Probe);
        }
        assert_eq!(route(Auto, true, Found::Missing, false), Route::New);
        assert_eq!(route(Bulk, true, Found::Missing, false), Route::New);
        assert_eq!(route(Known, true, Found::Missing, false), Route::Insert);
        // Asked for: probes even where nothing is stored.
        assert_eq!(route(Probe, true, Found::Missing, false), Route::Probe);
        assert_eq!(route(Probe, true, Found::Stored(0), false), Route::Probe);
        assert_eq!(route(Auto, false, Found::Missing, false), Route::Insert);
        assert_eq!(route(Auto, true, Found::Stored(0), false), Route::Direct);
        assert_eq!(route(Auto, true, Found::Stored(10), false), Route::Decide);
        assert_eq!(route(Bulk, true, Found::Stored(10), false), Route::Direct);
        // Direct where it is not allowed (not the owner, triggers, extra columns): SPI.
        assert_eq!(route(Bulk, false, Found::Stored(10), false), Route::Insert);
        assert_eq!(route(Auto, false, Found::Stored(0), false), Route::Insert);
        assert_eq!(route(Known, true, Found::Stored(0), false), Route::Insert);
        // A month the file brings a few stragglers to: SPI, never its heap.
        assert_eq!(route(Auto, true, Found::Stored(0), true), Route::Insert);
        assert_eq!(route(Bulk, true, Found::Stored(10), true), Route::Insert);
        assert_eq!(route(Auto, true, Found::Missing, true), Route::New);
        assert_eq!(Route::New.mode(), Mode::Bulk);
        assert_eq!(Route::Decide.mode(), Mode::Known);
        assert_eq!(Route::Probe.mode(), Mode::Probe);
    }

    #[test]
    fn months_are_locked_exclusively_only_where_heaps_may_be_written() {
        use WriteSetting::*;
        // Creating a partition always excludes others.
        for s in [Auto, Bulk, Known, Probe] {
            assert!(month_lock_exclusive(s, false, false, None, 1, 1000));
        }
        assert!(month_lock_exclusive(
            Auto,
            true,
            false,
            Some(None),
            1000,
            1000
        ));
        assert!(month_lock_exclusive(
            Bulk,
            true,
            false,
            Some(Some(2000.0)),
            1000,
            1000
        ));
        // Too large to read: probed.
        assert!(!month_lock_exclusive(
            Auto,
            true,
            false,
            Some(Some(3.6e6)),
            1000,
            1000
        ));
        // Stragglers of the file: shared.
        assert!(!month_lock_exclusive(
            Auto,
            true,
            false,
            Some(Some(5.0)),
            9,
            1000
        ));
        assert!(month_lock_exclusive(
            Auto,
            true,
            false,
            Some(Some(5.0)),
            10,
            1000
        ));
        assert!(!month_lock_exclusive(
            Auto,
            false,
            false,
            Some(None),
            1000,
            1000
        ));
        assert!(!month_lock_exclusive(
            Known,
            true,
            false,
            Some(None),
            1000,
            1000
        ));
        assert!(!month_lock_exclusive(
            Probe,
            true,
            false,
            Some(None),
            1000,
            1000
        ));
        assert!(minor(35_999, 3_600_000) && !minor(36_000, 3_600_000));
        // A Citus table: the file's months exclusive even when too large to read (probed) or
        // with direct writes impossible; its stragglers shared.
        assert!(month_lock_exclusive(
            Auto,
            false,
            true,
            Some(Some(3.6e6)),
            1000,
            1000
        ));
        assert!(month_lock_exclusive(
            Probe,
            false,
            true,
            Some(None),
            1000,
            1000
        ));
        assert!(!month_lock_exclusive(
            Auto,
            false,
            true,
            Some(Some(5.0)),
            9,
            1000
        ));
        assert!(month_lock_exclusive(Auto, false, true, None, 9, 1000));
    }

    #[test]
    fn bulk_after_a_first_chunk_that_is_mostly_new() {
        assert!(switch_to_bulk(50, 100));
        assert!(switch_to_bulk(100, 100));
        assert!(!switch_to_bulk(49, 100));
        assert!(!switch_to_bulk(0, 100));
        assert!(switch_to_bulk(0, 0));
    }

    #[test]
    fn rejected_row_limit() {
        assert!(!too_many_rejected(None, u64::MAX - 10, 5));
        assert!(!too_many_rejected(Some(0), 0, 0));
        assert!(too_many_rejected(Some(0), 0, 1));
        assert!(!too_many_rejected(Some(1000), 990, 10));
        assert!(too_many_rejected(Some(1000), 990, 11));
    }

    #[test]
    fn progress_every_tenth_never_every_chunk() {
        use ProgressEvery::*;
        assert_eq!(progress_interval(Auto, 1), None);
        assert_eq!(progress_interval(Auto, 2), Some(2));
        assert_eq!(progress_interval(Auto, 20), Some(2));
        assert_eq!(progress_interval(Auto, 36), Some(4));
        assert_eq!(progress_interval(Auto, 5), Some(2));
        assert_eq!(progress_interval(Auto, 100), Some(10));
        assert_eq!(progress_interval(Auto, 101), Some(11));
        assert_eq!(progress_interval(Chunks(7), 3), Some(7));
        assert_eq!(progress_interval(Never, 100), None);
        assert_eq!(progress_interval(Chunks(1), 1), Some(1));
        assert_eq!(progress_interval(Chunks(3), 100), Some(3));
    }

    #[test]
    fn months_from_any_day() {
        let day = |y, m, d| days_from_civil(y, m, d);
        assert_eq!(
            month_of(day(2024, 2, 29)),
            (day(2024, 2, 1), day(2024, 3, 1))
        );
        assert_eq!(
            month_of(day(2024, 12, 1)),
            (day(2024, 12, 1), day(2025, 1, 1))
        );
        assert_eq!(
            month_of(day(1999, 1, 31)),
            (day(1999, 1, 1), day(1999, 2, 1))
        );
        assert_eq!(
            month_of(day(1969, 12, 31)),
            (day(1969, 12, 1), day(1970, 1, 1))
        );
    }
}
