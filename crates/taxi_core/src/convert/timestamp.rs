//! Timestamps in seconds, ms, µs or ns → wall-clock microseconds since 1970-01-01, the resolution
//! of PostgreSQL's `timestamp`. Nanoseconds are floored to the microsecond. A time-zone-tagged
//! column is read by its stored instant (UTC), without conversion to New York time. Text
//! (yellow 2009–2010: `2009-01-04 02:52:00`) is parsed as wall-clock time: a malformed value is
//! 22007, an impossible date or time 22008, and either rejects its row.

use arrow::array::Array;
use arrow::datatypes::*;

use super::{map_primitive, Cx};
use crate::calendar::{days_from_civil, UNIX_TO_PG_EPOCH_US, US_PER_DAY, US_PER_SEC};
use crate::error::{Class, ValueError};

pub const EXPECTED: &str = "timestamps";

/// PostgreSQL's timestamp range, [4713-11-24 BC, 294277-01-01), in microseconds since 1970.
/// (`MIN_TIMESTAMP` and `END_TIMESTAMP` of timestamp.h, shifted from the 2000 epoch.)
const PG_MIN_US: i128 = -211_813_488_000_000_000 + UNIX_TO_PG_EPOCH_US as i128;
const PG_END_US: i128 = 9_223_371_331_200_000_000 + UNIX_TO_PG_EPOCH_US as i128;

pub fn accepts(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, _)) || super::text::accepts(dt)
}

/// Wall-clock microseconds of `YYYY-MM-DD HH:MM:SS[.ffffff]` (or with a `T`), years 0001–9999.
pub fn parse(s: &str) -> Result<i64, (&'static str, Class)> {
    const MALFORMED: (&str, Class) = (
        "is not a timestamp like 2009-01-04 02:52:00",
        Class::InvalidDatetimeFormat,
    );
    let b = s.trim().as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Result<u32, (&'static str, Class)> {
        let part = b.get(r).ok_or(MALFORMED)?;
        if part.iter().all(u8::is_ascii_digit) {
            Ok(part.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
        } else {
            Err(MALFORMED)
        }
    };
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(MALFORMED);
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (h, mi, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut micros = 0;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 || b.len() > 26 {
            return Err(MALFORMED);
        }
        let fraction = digits(20..b.len())?;
        micros = fraction as i64 * 10i64.pow((26 - b.len()) as u32);
    }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y == 0 || !(1..=12).contains(&mo) || d == 0 || d > month_days[mo as usize - 1] {
        return Err((
            "is not a date (month 1–12, day within the month)",
            Class::DatetimeFieldOverflow,
        ));
    }
    if h > 23 || mi > 59 || sec > 59 {
        return Err(("is not a time of day", Class::DatetimeFieldOverflow));
    }
    let days = days_from_civil(y as i32, mo, d);
    Ok(days * US_PER_DAY + (h as i64 * 3600 + mi as i64 * 60 + sec as i64) * US_PER_SEC + micros)
}

fn convert_text(array: &dyn Array, cx: Cx) -> Result<Vec<Option<i64>>, ValueError> {
    use arrow::array::AsArray;
    let owned;
    let strings = if matches!(array.data_type(), DataType::Utf8) {
        array.as_string::<i32>()
    } else {
        owned = arrow::compute::cast(array, &DataType::Utf8).map_err(|_| {
            cx.error(
                0,
                array.data_type(),
                "cannot be read as text",
                Class::DatatypeMismatch,
            )
        })?;
        owned.as_string::<i32>()
    };
    let mut out = Vec::with_capacity(strings.len());
    for (i, v) in strings.iter().enumerate() {
        out.push(match v {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Some(parse(s).map_err(|(reason, class)| cx.error(i, s, reason, class))?),
        });
    }
    Ok(out)
}

fn checked(us: i128, raw: i64, i: usize, cx: Cx) -> Result<i64, ValueError> {
    if (PG_MIN_US..PG_END_US).contains(&us) {
        // Every in-range value fits i64: PG_END_US - 1 < i64::MAX.
        Ok(us as i64)
    } else {
        Err(cx.error(
            i,
            raw,
            "outside the range of timestamp",
            Class::DatetimeFieldOverflow,
        ))
    }
}

pub(super) fn convert(array: &dyn Array, cx: Cx) -> Result<Vec<Option<i64>>, ValueError> {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            map_primitive::<TimestampSecondType, _>(array, |v, i| {
                checked(v as i128 * 1_000_000, v, i, cx)
            })
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            map_primitive::<TimestampMillisecondType, _>(array, |v, i| {
                checked(v as i128 * 1_000, v, i, cx)
            })
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            map_primitive::<TimestampMicrosecondType, _>(array, |v, i| checked(v as i128, v, i, cx))
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            map_primitive::<TimestampNanosecondType, _>(array, |v, i| {
                checked(v.div_euclid(1_000) as i128, v, i, cx)
            })
        }
        _ => convert_text(array, cx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
        TimestampSecondArray,
    };

    const CX: Cx = Cx {
        column: "tpep_pickup_datetime",
        first_row: 0,
    };
    // 2025-01-01 00:18:38
    const T: i64 = 1_735_690_718;

    #[test]
    fn every_unit_gives_the_same_microseconds() {
        let want = vec![Some(T * 1_000_000)];
        assert_eq!(
            convert(&TimestampSecondArray::from(vec![T]), CX).unwrap(),
            want
        );
        assert_eq!(
            convert(&TimestampMillisecondArray::from(vec![T * 1_000]), CX).unwrap(),
            want
        );
        assert_eq!(
            convert(&TimestampMicrosecondArray::from(vec![T * 1_000_000]), CX).unwrap(),
            want
        );
        let ns = TimestampNanosecondArray::from(vec![T * 1_000_000_000 + 999]);
        assert_eq!(
            convert(&ns, CX).unwrap(),
            want,
            "nanoseconds floor to the microsecond"
        );
    }

    #[test]
    fn text_timestamps() {
        assert_eq!(parse("2025-01-01 00:18:38"), Ok(T * 1_000_000));
        assert_eq!(parse("2025-01-01T00:18:38.5"), Ok(T * 1_000_000 + 500_000));
        assert_eq!(parse(" 2025-01-01 00:18:38.000001 "), Ok(T * 1_000_000 + 1));
        assert_eq!(parse("2009-01-04 02:52:00"), Ok(1_231_037_520_000_000));
        assert!(parse("2008-02-29 00:00:00").is_ok());
        for bad in [
            "",
            "2009-01-04",
            "2009/01/04 02:52:00",
            "2009-01-04 2:52:00",
            "x009-01-04 02:52:00",
            "2009-01-04 02:52:00.",
            "2009-01-04 02:52:00Z",
        ] {
            assert_eq!(
                parse(bad).unwrap_err().1,
                Class::InvalidDatetimeFormat,
                "{bad}"
            );
        }
        for impossible in [
            "2009-13-01 00:00:00",
            "2009-02-29 00:00:00",
            "2009-01-32 00:00:00",
            "2009-01-01 24:00:00",
            "2009-01-01 00:60:00",
            "0000-01-01 00:00:00",
        ] {
            assert_eq!(
                parse(impossible).unwrap_err().1,
                Class::DatetimeFieldOverflow,
                "{impossible}"
            );
        }
        let a = arrow::array::StringArray::from(vec![Some("2025-01-01 00:18:38"), None, Some("")]);
        assert_eq!(
            convert(&a, CX).unwrap(),
            vec![Some(T * 1_000_000), None, None]
        );
        let e = convert(
            &arrow::array::StringArray::from(vec!["2025-01-01 00:18:38", "soon"]),
            CX,
        )
        .unwrap_err();
        assert_eq!((e.row, e.class), (2, Class::InvalidDatetimeFormat));
    }

    #[test]
    fn negative_nanoseconds_floor_too() {
        let ns = TimestampNanosecondArray::from(vec![-1]);
        assert_eq!(convert(&ns, CX).unwrap(), vec![Some(-1)]);
    }

    #[test]
    fn out_of_postgres_range_is_refused() {
        let e = convert(&TimestampSecondArray::from(vec![i64::MAX / 1_000]), CX).unwrap_err();
        assert_eq!(e.class, Class::DatetimeFieldOverflow);
        let e = convert(&TimestampMicrosecondArray::from(vec![i64::MIN]), CX).unwrap_err();
        assert_eq!(e.class, Class::DatetimeFieldOverflow);
        // PostgreSQL's range ends past the largest i64 microsecond; it starts in 4713 BC.
        assert!(convert(&TimestampMicrosecondArray::from(vec![i64::MAX]), CX).is_ok());
        let first = PG_MIN_US as i64;
        assert!(convert(&TimestampMicrosecondArray::from(vec![first]), CX).is_ok());
        assert!(convert(&TimestampMicrosecondArray::from(vec![first - 1]), CX).is_err());
    }
}
