//! Timestamps in seconds, ms, µs or ns → wall-clock microseconds since 1970-01-01, the resolution
//! of PostgreSQL's `timestamp`. Nanoseconds are floored to the microsecond. A time-zone-tagged
//! column is read by its stored instant (UTC), without conversion to New York time.

use arrow::array::Array;
use arrow::datatypes::*;

use super::{map_primitive, Cx};
use crate::calendar::UNIX_TO_PG_EPOCH_US;
use crate::error::{Class, ValueError};

pub const EXPECTED: &str = "timestamps";

/// PostgreSQL's timestamp range, [4713-11-24 BC, 294277-01-01), in microseconds since 1970.
/// (`MIN_TIMESTAMP` and `END_TIMESTAMP` of timestamp.h, shifted from the 2000 epoch.)
const PG_MIN_US: i128 = -211_813_488_000_000_000 + UNIX_TO_PG_EPOCH_US as i128;
const PG_END_US: i128 = 9_223_371_331_200_000_000 + UNIX_TO_PG_EPOCH_US as i128;

pub fn accepts(dt: &DataType) -> bool {
    matches!(dt, DataType::Timestamp(_, _))
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
        other => unreachable!("timestamp::convert called on {other}, which accepts() refuses"),
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
