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

/// Memory for chunks decoded ahead of the writer (16 chunks of 100,000 rows): enough for
/// decoding to run on while the backend reads the stored trips of a month-sized table.
pub const PIPELINE_MEMORY: usize = 512 << 20;

/// maintenance_work_mem for rebuilding the indexes after a bulk load (if the session's is lower).
pub const REBUILD_MEMORY_KB: i64 = 512 * 1024;

/// How many file-sizes of stored trips are read into memory before probing instead. Up to twice
/// the file, the next month after one or two stored months still goes bulk (its keys take
/// ~250 MB per 7M stored trips).
pub const READ_LIMIT_FILES: u64 = 2;

/// `taxi.write_mode`: how the user asked taxi_load to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteSetting {
    Auto,
    Bulk,
    Known,
    Probe,
}

/// How a load writes, decided after locking the target (`auto` may still switch from known to
/// bulk on seeing the file's first chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The target is empty, or holds at most twice as many trips as the file and the file's
    /// first chunk is mostly new: its indexes are dropped, rows go straight into the heap, the
    /// indexes are rebuilt at the end.
    Bulk,
    /// Every stored trip is known in memory; only new trips are inserted, through SPI.
    Known,
    /// The target is larger than the file: stored trips are found by an index probe per chunk.
    Probe,
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

/// The settings a load runs with, read once when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub write: WriteSetting,
    /// Fill the star schema with the trips inserted (`taxi.star`).
    pub star: bool,
    /// Threads of the worker pool (`taxi.workers`, 0 decoded to one per core, at most 8).
    pub workers: usize,
    pub progress_every: ProgressEvery,
    /// Rejected rows a file may have before it fails; None: no limit.
    pub max_rejected_rows: Option<u64>,
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

/// Up to how many stored trips to read into memory before the load, or None to probe per chunk
/// instead (the target is clearly larger than twice the file, or the user asked for probes).
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

/// The write mode, and whether `auto` should look at the first chunk before settling on it.
/// `existing`: the trips stored, if they were all read (None: too many, or not read);
/// `bulk_allowed`: the role owns the target and it is plain enough for direct heap writes.
/// `facts_direct`: the star schema is off, or its facts can go straight into the heap too.
pub fn choose_mode(
    setting: WriteSetting,
    bulk_allowed: bool,
    facts_direct: bool,
    existing: Option<u64>,
) -> (Mode, bool) {
    let (mode, decide_later) = mode_for(setting, bulk_allowed, existing);
    // Facts that cannot go straight into the heap are inserted from the load's trips at its end;
    // a load that starts on the SPI path (facts with each chunk) stays there.
    (mode, decide_later && facts_direct)
}

fn mode_for(setting: WriteSetting, bulk_allowed: bool, existing: Option<u64>) -> (Mode, bool) {
    let Some(existing) = existing else {
        return (Mode::Probe, false);
    };
    match setting {
        WriteSetting::Auto if bulk_allowed && existing == 0 => (Mode::Bulk, false),
        // Bulk if the first chunk is mostly new trips, known otherwise (a reload).
        WriteSetting::Auto if bulk_allowed => (Mode::Known, true),
        WriteSetting::Bulk if bulk_allowed => (Mode::Bulk, false),
        WriteSetting::Probe => (Mode::Probe, false),
        _ => (Mode::Known, false),
    }
}

/// After the first chunk of an `auto` load that started as known: switch to bulk when at least
/// half of its rows are new trips (a new month for a table that holds a few). Rebuilding the
/// indexes once then costs far less than maintaining them row by row.
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
    fn write_modes() {
        use WriteSetting::*;
        // Nothing read (too many stored, or probe asked for): probe, whatever else holds.
        for s in [Auto, Bulk, Known, Probe] {
            assert_eq!(choose_mode(s, true, true, None), (Mode::Probe, false));
        }
        assert_eq!(choose_mode(Auto, true, true, Some(0)), (Mode::Bulk, false));
        assert_eq!(choose_mode(Auto, true, true, Some(10)), (Mode::Known, true));
        // Facts that must go through SQL: a load that starts on the SPI path stays there.
        assert_eq!(
            choose_mode(Auto, true, false, Some(10)),
            (Mode::Known, false)
        );
        assert_eq!(choose_mode(Auto, true, false, Some(0)), (Mode::Bulk, false));
        assert_eq!(
            choose_mode(Auto, false, true, Some(0)),
            (Mode::Known, false)
        );
        assert_eq!(choose_mode(Bulk, true, true, Some(10)), (Mode::Bulk, false));
        // Bulk where it is not allowed (not the owner, triggers, extra columns): known.
        assert_eq!(
            choose_mode(Bulk, false, true, Some(10)),
            (Mode::Known, false)
        );
        assert_eq!(
            choose_mode(Known, true, true, Some(0)),
            (Mode::Known, false)
        );
        assert_eq!(
            choose_mode(Probe, true, true, Some(0)),
            (Mode::Probe, false)
        );
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
