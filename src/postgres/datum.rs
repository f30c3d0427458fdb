//! Dates and timestamps between the core's Unix days and microseconds and PostgreSQL's.

use pgrx::datum::{Date, Timestamp};
use taxi_core::calendar::{UNIX_TO_PG_EPOCH_DAYS, UNIX_TO_PG_EPOCH_US, US_PER_DAY};
use taxi_core::partition::Partition;

/// A timestamp (Unix microseconds) as PostgreSQL's: a trip's, which the converter has kept
/// within PostgreSQL's range, or the midnight of a finite date ([`midnight`]).
pub fn timestamp(unix_us: i64) -> Timestamp {
    Timestamp::try_from(unix_us - UNIX_TO_PG_EPOCH_US)
        .expect("trip timestamps and midnights of finite dates are within PostgreSQL's range")
}

/// Partition `p`'s bounds [lower, upper) as the two timestamp parameters of the month queries
/// (`taxi_core::sql`), NULL where unbounded.
pub fn month_bounds(p: Partition) -> [Option<Timestamp>; 2] {
    let (lower, upper) = p.bounds_us();
    [lower.map(timestamp), upper.map(timestamp)]
}

/// Midnight starting the day `days` after 1970-01-01 (a finite date's day).
pub fn midnight(days: i64) -> Timestamp {
    timestamp(days * US_PER_DAY)
}

/// Days since 1970-01-01 of a finite date.
pub fn unix_days(d: Date) -> i64 {
    d.to_pg_epoch_days() as i64 + UNIX_TO_PG_EPOCH_DAYS
}

/// The date `days` after 1970-01-01; `days` comes from a finite date or a trip's pickup, which
/// PostgreSQL's date range holds.
pub fn date(days: i64) -> Date {
    let pg_days = days - UNIX_TO_PG_EPOCH_DAYS;
    // SAFETY: a date is an i32 day count from 2000-01-01; the value is in range (see above).
    unsafe { Date::from_pg_epoch_days(pg_days as i32) }
}
