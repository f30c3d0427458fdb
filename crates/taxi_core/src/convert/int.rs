//! Whole numbers (vendor, rate code, zones, payment type, passenger count) → `smallint`.
//! Files hold them as int32, int64 or — when pandas wrote the file — double.

use arrow::array::Array;
use arrow::datatypes::*;

use super::{f32_as_written, map_primitive, Cx};
use crate::error::{Class, ValueError};

pub const EXPECTED: &str =
    "whole numbers (an integer type, or a floating-point type with whole values)";

pub fn accepts(dt: &DataType) -> bool {
    dt.is_integer() || dt.is_floating()
}

fn narrow(v: i128, i: usize, cx: Cx) -> Result<i16, ValueError> {
    i16::try_from(v).map_err(|_| {
        cx.error(
            i,
            v,
            "outside the range of smallint",
            Class::NumericValueOutOfRange,
        )
    })
}

fn from_float(v: f64, i: usize, cx: Cx) -> Result<i16, ValueError> {
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(cx.error(i, v, "not a whole number", Class::NumericValueOutOfRange));
    }
    if v < i16::MIN as f64 || v > i16::MAX as f64 {
        return Err(cx.error(
            i,
            v,
            "outside the range of smallint",
            Class::NumericValueOutOfRange,
        ));
    }
    Ok(v as i16)
}

pub(super) fn convert(array: &dyn Array, cx: Cx) -> Result<Vec<Option<i16>>, ValueError> {
    macro_rules! ints {
        ($t:ty) => {
            map_primitive::<$t, _>(array, |v, i| narrow(v as i128, i, cx))
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
            map_primitive::<Float16Type, _>(array, |v, i| from_float(v.to_f64(), i, cx))
        }
        DataType::Float32 => {
            map_primitive::<Float32Type, _>(array, |v, i| from_float(f32_as_written(v), i, cx))
        }
        DataType::Float64 => map_primitive::<Float64Type, _>(array, |v, i| from_float(v, i, cx)),
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
        let d = convert(&Float64Array::from(vec![Some(1.0), None, Some(6.0)]), CX).unwrap();
        let i = convert(&Int64Array::from(vec![Some(1), None, Some(6)]), CX).unwrap();
        let j = convert(&Int32Array::from(vec![Some(1), None, Some(6)]), CX).unwrap();
        assert_eq!(d, vec![Some(1), None, Some(6)]);
        assert_eq!(d, i);
        assert_eq!(i, j);
    }

    #[test]
    fn fractions_and_overflow_are_refused() {
        let e = convert(&Float64Array::from(vec![1.0, 1.5]), CX).unwrap_err();
        assert_eq!(
            (e.row, e.value.as_str(), e.reason),
            (2, "1.5", "not a whole number")
        );
        let e = convert(&Int64Array::from(vec![40000]), CX).unwrap_err();
        assert_eq!(e.class, Class::NumericValueOutOfRange);
        let e = convert(&UInt64Array::from(vec![u64::MAX]), CX).unwrap_err();
        assert_eq!(e.value, u64::MAX.to_string());
        assert!(convert(&Float64Array::from(vec![f64::NAN]), CX).is_err());
    }
}
