//! trip_distance → `double precision`, kept exactly as the file's double. Integer-typed
//! distances (seen in all-null or hand-written files) widen losslessly below 2^53.

use arrow::array::Array;
use arrow::datatypes::*;

use super::{f32_as_written, map_primitive, Cx};
use crate::error::ValueError;

pub const EXPECTED: &str = "numbers";

pub fn accepts(dt: &DataType) -> bool {
    dt.is_floating() || dt.is_integer()
}

pub(super) fn convert(array: &dyn Array, _cx: Cx) -> Result<Vec<Option<f64>>, ValueError> {
    macro_rules! widen {
        ($t:ty) => {
            map_primitive::<$t, _>(array, |v, _| Ok(v as f64))
        };
    }
    match array.data_type() {
        DataType::Float64 => widen!(Float64Type),
        DataType::Float32 => map_primitive::<Float32Type, _>(array, |v, _| Ok(f32_as_written(v))),
        DataType::Float16 => {
            map_primitive::<Float16Type, _>(array, |v, _| Ok(f32_as_written(v.to_f32())))
        }
        DataType::Int8 => widen!(Int8Type),
        DataType::Int16 => widen!(Int16Type),
        DataType::Int32 => widen!(Int32Type),
        DataType::Int64 => widen!(Int64Type),
        DataType::UInt8 => widen!(UInt8Type),
        DataType::UInt16 => widen!(UInt16Type),
        DataType::UInt32 => widen!(UInt32Type),
        DataType::UInt64 => widen!(UInt64Type),
        other => unreachable!("float::convert called on {other}, which accepts() refuses"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, Float64Array, Int64Array};

    const CX: Cx = Cx {
        column: "trip_distance",
        first_row: 0,
    };

    #[test]
    fn doubles_pass_through_and_floats_keep_their_decimal_value() {
        let d = convert(&Float64Array::from(vec![Some(1.72), None, Some(-0.0)]), CX).unwrap();
        assert_eq!(d[0], Some(1.72));
        assert_eq!(d[1], None);
        assert_eq!(
            convert(&Float32Array::from(vec![1.72f32]), CX).unwrap(),
            vec![Some(1.72)]
        );
        assert_eq!(
            convert(&Int64Array::from(vec![3]), CX).unwrap(),
            vec![Some(3.0)]
        );
    }
}
