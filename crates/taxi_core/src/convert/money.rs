//! Amounts → whole cents, stored as `numeric(12,2)`. Files hold doubles (or, rewritten, floats,
//! integers or decimals); the cent is the unit of the data dictionary, so a double is rounded to
//! the nearest cent, halves away from zero.

use arrow::array::{Array, AsArray};
use arrow::datatypes::*;

use super::{f32_as_written, map_primitive, Cx};
use crate::error::{Class, ValueError};

pub const EXPECTED: &str = "amounts (a floating-point, integer or decimal type)";

/// numeric(12,2) holds at most 9,999,999,999.99.
const MAX_CENTS: i128 = 999_999_999_999;

pub fn accepts(dt: &DataType) -> bool {
    dt.is_floating() || dt.is_integer() || matches!(dt, DataType::Decimal128(_, _))
}

fn in_range(cents: i128, raw: impl ToString, i: usize, cx: Cx) -> Result<i64, ValueError> {
    if (-MAX_CENTS..=MAX_CENTS).contains(&cents) {
        Ok(cents as i64)
    } else {
        Err(cx.error(
            i,
            raw,
            "outside the range of numeric(12,2)",
            Class::NumericValueOutOfRange,
        ))
    }
}

fn from_float(v: f64, i: usize, cx: Cx) -> Result<i64, ValueError> {
    if !v.is_finite() {
        return Err(cx.error(i, v, "not a finite amount", Class::NumericValueOutOfRange));
    }
    let cents = (v * 100.0).round();
    if cents.abs() > MAX_CENTS as f64 {
        return Err(cx.error(
            i,
            v,
            "outside the range of numeric(12,2)",
            Class::NumericValueOutOfRange,
        ));
    }
    Ok(cents as i64)
}

/// Rounds a decimal of `scale` digits to cents, halves away from zero.
fn decimal_cents(v: i128, scale: i8) -> Option<i128> {
    let shift = 2 - scale as i32;
    if shift >= 0 {
        v.checked_mul(10i128.checked_pow(shift as u32)?)
    } else {
        let div = 10i128.checked_pow((-shift) as u32)?;
        let (q, r) = (v / div, v % div);
        Some(if r.abs() * 2 >= div {
            q + v.signum()
        } else {
            q
        })
    }
}

pub(super) fn convert(array: &dyn Array, cx: Cx) -> Result<Vec<Option<i64>>, ValueError> {
    macro_rules! ints {
        ($t:ty) => {
            map_primitive::<$t, _>(array, |v, i| in_range(v as i128 * 100, v, i, cx))
        };
    }
    match array.data_type() {
        DataType::Float64 => map_primitive::<Float64Type, _>(array, |v, i| from_float(v, i, cx)),
        DataType::Float32 => {
            map_primitive::<Float32Type, _>(array, |v, i| from_float(f32_as_written(v), i, cx))
        }
        DataType::Float16 => map_primitive::<Float16Type, _>(array, |v, i| {
            from_float(f32_as_written(v.to_f32()), i, cx)
        }),
        DataType::Int8 => ints!(Int8Type),
        DataType::Int16 => ints!(Int16Type),
        DataType::Int32 => ints!(Int32Type),
        DataType::Int64 => ints!(Int64Type),
        DataType::UInt8 => ints!(UInt8Type),
        DataType::UInt16 => ints!(UInt16Type),
        DataType::UInt32 => ints!(UInt32Type),
        DataType::UInt64 => ints!(UInt64Type),
        DataType::Decimal128(_, scale) => {
            let scale = *scale;
            let a = array.as_primitive::<Decimal128Type>();
            a.iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|v| {
                        let shown = a.value_as_string(i);
                        match decimal_cents(v, scale) {
                            Some(c) => in_range(c, shown, i, cx),
                            None => in_range(i128::MAX, shown, i, cx),
                        }
                    })
                    .transpose()
                })
                .collect()
        }
        other => unreachable!("money::convert called on {other}, which accepts() refuses"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Decimal128Array, Float32Array, Float64Array, Int32Array};

    const CX: Cx = Cx {
        column: "fare_amount",
        first_row: 0,
    };

    #[test]
    fn doubles_round_to_cents() {
        let v = Float64Array::from(vec![Some(12.1), Some(0.29), Some(-7.5), None, Some(2.675)]);
        // 2.675 is 2.67499999999999982236431605997495353221893310546875 as a double.
        assert_eq!(
            convert(&v, CX).unwrap(),
            vec![Some(1210), Some(29), Some(-750), None, Some(268)]
        );
    }

    #[test]
    fn every_type_gives_the_same_cents() {
        let want = vec![Some(1250)];
        assert_eq!(convert(&Float64Array::from(vec![12.5]), CX).unwrap(), want);
        assert_eq!(
            convert(&Float32Array::from(vec![12.5f32]), CX).unwrap(),
            want
        );
        let d = Decimal128Array::from(vec![125_000])
            .with_precision_and_scale(10, 4)
            .unwrap();
        assert_eq!(convert(&d, CX).unwrap(), want);
        assert_eq!(
            convert(&Int32Array::from(vec![12]), CX).unwrap(),
            vec![Some(1200)]
        );
    }

    #[test]
    fn decimals_round_half_away_from_zero() {
        assert_eq!(decimal_cents(1005, 3), Some(101));
        assert_eq!(decimal_cents(-1005, 3), Some(-101));
        assert_eq!(decimal_cents(1004, 3), Some(100));
        assert_eq!(decimal_cents(7, 0), Some(700));
    }

    #[test]
    fn out_of_range_and_non_finite_are_refused() {
        let e = convert(&Float64Array::from(vec![1e10]), CX).unwrap_err();
        assert_eq!(e.reason, "outside the range of numeric(12,2)");
        let e = convert(&Float64Array::from(vec![0.0, f64::INFINITY]), CX).unwrap_err();
        assert_eq!((e.row, e.reason), (2, "not a finite amount"));
        assert!(convert(&Float64Array::from(vec![9_999_999_999.99]), CX).is_ok());
    }
}
