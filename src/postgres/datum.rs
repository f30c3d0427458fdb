//! Datums built from the core's Rust values without text formatting or parsing, in the current
//! memory context: the direct write paths' half of what the input functions would do.

use pgrx::datum::{Date, Timestamp};
use pgrx::{pg_sys, IntoDatum};
use taxi_core::calendar::{UNIX_TO_PG_EPOCH_DAYS, UNIX_TO_PG_EPOCH_US, US_PER_DAY};
use taxi_core::convert::numeric::numeric_from_cents;
use taxi_core::partition::Partition;
use taxi_core::trip::Values;

/// The Datum of row `row` of a trip column, None for NULL. `numeric` is scratch space.
pub fn trip_value(values: &Values, row: usize, numeric: &mut Vec<u8>) -> Option<pg_sys::Datum> {
    match values {
        Values::Int(v) => v[row].into_datum(),
        Values::BigInt(v) => v[row].into_datum(),
        Values::Timestamp(v) => v[row].map(|us| pg_sys::Datum::from(us - UNIX_TO_PG_EPOCH_US)),
        Values::Float(v) => v[row].into_datum(),
        Values::Money(v) => v[row].map(|cents| numeric_value(cents, numeric)),
        Values::Text(v) => v[row].as_deref().map(|s| varlena(s.as_bytes())),
    }
}

/// A numeric(12,2) (or any scale-2 numeric) of `cents` hundredths.
pub fn numeric_value(cents: i64, numeric: &mut Vec<u8>) -> pg_sys::Datum {
    numeric.clear();
    numeric_from_cents(cents, numeric);
    varlena(numeric)
}

/// A palloc'd varlena (4-byte header) holding `bytes`, in the current memory context.
pub fn varlena(bytes: &[u8]) -> pg_sys::Datum {
    unsafe {
        let size = pg_sys::VARHDRSZ + bytes.len();
        let ptr = pg_sys::palloc(size) as *mut pg_sys::varlena;
        pgrx::set_varsize_4b(ptr, size as i32);
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (ptr as *mut u8).add(pg_sys::VARHDRSZ),
            bytes.len(),
        );
        pg_sys::Datum::from(ptr)
    }
}

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
