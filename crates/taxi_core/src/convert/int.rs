//! Whole numbers (vendor, rate code, zones, payment type, passenger count) → `smallint`, and
//! wider ones (high-volume FHV's trip_time, in seconds) → `bigint`. Files hold them as int32,
//! int64 or — when pandas wrote the file — double.

use arrow::array::Array;
use arrow::datatypes::*;

use super::{f32_as_written, map_primitive, Cx};
use crate::error::{Class, ValueError};

pub const EXPECTED: &str =
    "whole numbers (an integer type, or a floating-point type with whole values)";

pub fn accepts(dt: &DataType) -> bool {
    dt.is_integer() || dt.is_floating()
}

/// A whole-number column type: smallint or bigint.
pub(super) trait Whole: Copy + TryFrom<i128> {
    const RANGE: &'static str;
    const MIN: f64;
    const MAX: f64;
    fn from_f64(v: f64) -> Self;
}

impl Whole for i16 {
    const RANGE: &'static str = "outside the range of smallint";
    const MIN: f64 = i16::MIN as f64;
    const MAX: f64 = i16::MAX as f64;
    fn from_f64(v: f64) -> i16 {
        v as i16
    }
}

impl Whole for i64 {
    const RANGE: &'static str = "outside the range of bigint";
    const MIN: f64 = i64::MIN as f64;
    // i64::MAX as f64 rounds up to 2^63, which is outside: the largest double below it.
    const MAX: f64 = 9_223_372_036_854_774_784.0;
    fn from_f64(v: f64) -> i64 {
        v as i64
    }
}

fn narrow<T: Whole>(v: i128, i: usize, cx: Cx) -> Result<T, ValueError> {
    T::try_from(v).map_err(|_| cx.error(i, v, T::RANGE, Class::NumericValueOutOfRange))
}

fn from_float<T: Whole>(v: f64, i: usize, cx: Cx) -> Result<T, ValueError> {
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(cx.error(i, v, "not a whole number", Class::NumericValueOutOfRange));
    }
    if v < T::MIN || v > T::MAX {
        return Err(cx.error(i, v, T::RANGE, Class::NumericValueOutOfRange));
    }
    Ok(T::from_f64(v))
}

pub(super) fn convert<T: Whole>(array: &dyn Array, cx: Cx) -> Result<Vec<Option<T>>, ValueError> {
    macro_rules! ints {
        ($t:ty) => {
            map_primitive::<$t, _>(array, |v, i| narrow::<T>(v as i128, i, cx))
        };
    }
    match array.data_type() {
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Float16 => {
            map_primitive::<Float16Type, _>(array, |v, i| from_float::<T>(v.to_f64(), i, cx))
        }
        DataType::Float32 => {
            map_primitive::<Float32Type, _>(array, |v, i| from_float::<T>(f32_as_written(v), i, cx))
        }
        DataType::Float64 => {
            map_primitive::<Float64Type, _>(array, |v, i| from_float::<T>(v, i, cx))
        }
        other => unreachable!("int::convert called on {other}, which accepts() refuses"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, Int64Array, UInt64Array};

    const CX: Cx = Cx {
        column: "passenger_count",
        first_row: 0,
    };

    #[test]
    fn double_and_integer_give_the_same_values() {
        let d = convert::<i16>(&Float64Array::from(vec![Some(1.0), None, Some(6.0)]), CX).unwrap();
        let i = convert::<i16>(&Int64Array::from(vec![Some(1), None, Some(6)]), CX).unwrap();
        let j = convert::<i16>(&Int32Array::from(vec![Some(1), None, Some(6)]), CX).unwrap();
        assert_eq!(d, vec![Some(1), None, Some(6)]);
        assert_eq!(d, i);
        assert_eq!(i, j);
    }

    #[test]
    fn fractions_and_overflow_are_refused() {
        let e = convert::<i16>(&Float64Array::from(vec![1.0, 1.5]), CX).unwrap_err();
        assert_eq!(
            (e.row, e.value.as_str(), e.reason),
            (2, "1.5", "not a whole number")
        );
        let e = convert::<i16>(&Int64Array::from(vec![40000]), CX).unwrap_err();
        assert_eq!(e.class, Class::NumericValueOutOfRange);
        let e = convert::<i16>(&UInt64Array::from(vec![u64::MAX]), CX).unwrap_err();
        assert_eq!(e.value, u64::MAX.to_string());
        assert!(convert::<i16>(&Float64Array::from(vec![f64::NAN]), CX).is_err());
    }

    #[test]
    fn bigint_takes_what_smallint_cannot() {
        let wide = convert::<i64>(&Int64Array::from(vec![40000, -7]), CX).unwrap();
        assert_eq!(wide, vec![Some(40000), Some(-7)]);
        let d = convert::<i64>(&Float64Array::from(vec![86400.0]), CX).unwrap();
        assert_eq!(d, vec![Some(86400)]);
        let e = convert::<i64>(&UInt64Array::from(vec![u64::MAX]), CX).unwrap_err();
        assert_eq!(e.reason, "outside the range of bigint");
        assert!(convert::<i64>(&Float64Array::from(vec![1e19]), CX).is_err());
    }
}
