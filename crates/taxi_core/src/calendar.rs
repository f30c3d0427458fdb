//! Dates and times as PostgreSQL and the trip schema count them, without a time-zone library:
//! timestamps are microseconds (`timestamp without time zone`, so no zone ever applies), dates
//! are proleptic Gregorian (H. Hinnant's algorithms). The one home of the unit constants.

pub const US_PER_SEC: i64 = 1_000_000;
pub const US_PER_MINUTE: i64 = 60 * US_PER_SEC;
pub const US_PER_HOUR: i64 = 60 * US_PER_MINUTE;
pub const US_PER_DAY: i64 = 24 * US_PER_HOUR;

/// PostgreSQL counts timestamps and dates from 2000-01-01, the trip schema (like Arrow) from
/// 1970-01-01.
pub const UNIX_TO_PG_EPOCH_US: i64 = 946_684_800_000_000;
pub const UNIX_TO_PG_EPOCH_DAYS: i64 = UNIX_TO_PG_EPOCH_US / US_PER_DAY;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// The (year, month) after `(y, m)`.
pub fn next_month(y: i32, m: u32) -> (i32, u32) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(
            days_from_civil(2024, 2, 29) + 1,
            days_from_civil(2024, 3, 1)
        );
        assert_eq!(
            days_from_civil(2000, 1, 1) * US_PER_DAY,
            UNIX_TO_PG_EPOCH_US
        );
    }

    #[test]
    fn civil_dates_round_trip() {
        for (y, m, d) in [
            (1970, 1, 1),
            (2000, 2, 29),
            (2024, 12, 31),
            (1999, 12, 31),
            (2100, 1, 1),
            (-4713, 11, 24),
            (294_276, 12, 31),
        ] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
    }

    #[test]
    fn months_roll_over_at_december() {
        assert_eq!(next_month(2024, 1), (2024, 2));
        assert_eq!(next_month(2024, 12), (2025, 1));
    }
}
