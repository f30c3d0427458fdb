//! Arrow arrays of whatever physical type a file vintage uses → logical trip values.
//! One file per logical kind. pgrx-free.

mod codes;
mod float;
mod int;
mod money;
pub mod numeric;
mod text;
pub mod timestamp;

use arrow::array::{Array, ArrowPrimitiveType, AsArray};
use arrow::datatypes::DataType;

use crate::error::{Class, ValueError};
use crate::trip::{Column, Kind, Values};

/// Whether a file column of type `dt` can be read as `column`.
pub fn accepts(column: &Column, dt: &DataType) -> bool {
    native(column.kind, dt) || codes::accepts(column.codes, dt)
}

/// Whether `dt` can be read as `kind` without the column's older-layout codes.
fn native(kind: Kind, dt: &DataType) -> bool {
    // A column typed `null` (all values missing) is valid for every kind.
    matches!(dt, DataType::Null)
        || match kind {
            Kind::Int | Kind::BigInt => int::accepts(dt),
            Kind::Timestamp => timestamp::accepts(dt),
            Kind::Float => float::accepts(dt),
            Kind::Money => money::accepts(dt),
            Kind::Text => text::accepts(dt),
        }
}

/// What a column of `kind` must hold, for error hints.
pub fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Int | Kind::BigInt => int::EXPECTED,
        Kind::Timestamp => timestamp::EXPECTED,
        Kind::Float => float::EXPECTED,
        Kind::Money => money::EXPECTED,
        Kind::Text => text::EXPECTED,
    }
}

/// Converts one column of a record batch. `first_row` is the 0-based file position of the
/// batch's first row, so errors can name the 1-based row number in the file.
pub fn convert(column: &Column, array: &dyn Array, first_row: u64) -> Result<Values, ValueError> {
    convert_named(column, column.source, array, first_row)
}

/// [`convert`], its errors naming the column as the file does (`name`: the column's TLC name
/// or the alias the file uses, such as 2010's `pickup_datetime`).
pub fn convert_named(
    column: &Column,
    name: &'static str,
    array: &dyn Array,
    first_row: u64,
) -> Result<Values, ValueError> {
    let values = if matches!(array.data_type(), DataType::Null) {
        Values::nulls(column.kind, array.len())
    } else {
        let cx = Cx {
            column: name,
            first_row,
        };
        if !native(column.kind, array.data_type()) {
            return codes::convert(column.codes, array, cx)
                .and_then(|v| required(column, name, v, first_row));
        }
        match column.kind {
            Kind::Int => Values::Int(int::convert(array, cx)?),
            Kind::BigInt => Values::BigInt(int::convert(array, cx)?),
            Kind::Timestamp => Values::Timestamp(timestamp::convert(array, cx)?),
            Kind::Float => Values::Float(float::convert(array, cx)?),
            Kind::Money => Values::Money(money::convert(array, cx)?),
            Kind::Text => Values::Text(text::convert(array, cx)?),
        }
    };
    required(column, name, values, first_row)
}

fn required(
    column: &Column,
    name: &'static str,
    values: Values,
    first_row: u64,
) -> Result<Values, ValueError> {
    if column.not_null {
        if let Some(row) = (0..values.len()).find(|&r| values.is_null(r)) {
            return Err(ValueError {
                row: first_row + row as u64 + 1,
                column: name,
                value: "NULL".into(),
                reason: "the column requires a value",
                class: Class::NotNullViolation,
            });
        }
    }
    Ok(values)
}

/// Where a converter is working, for its errors.
#[derive(Clone, Copy)]
struct Cx {
    column: &'static str,
    first_row: u64,
}

impl Cx {
    fn error(
        self,
        index: usize,
        value: impl ToString,
        reason: &'static str,
        class: Class,
    ) -> ValueError {
        ValueError {
            row: self.first_row + index as u64 + 1,
            column: self.column,
            value: value.to_string(),
            reason,
            class,
        }
    }
}

/// Maps every non-null value of a primitive array through `f`, keeping nulls.
fn map_primitive<T, O>(
    array: &dyn Array,
    f: impl Fn(T::Native, usize) -> Result<O, ValueError>,
) -> Result<Vec<Option<O>>, ValueError>
where
    T: ArrowPrimitiveType,
{
    // Straight over the value buffer (and the validity bitmap, if any): this loop runs for every
    // value of every column, and the iterator-of-Results form was twice as slow.
    let array = array.as_primitive::<T>();
    let mut out = Vec::with_capacity(array.len());
    match array.nulls() {
        None => {
            for (i, v) in array.values().iter().enumerate() {
                out.push(Some(f(*v, i)?));
            }
        }
        Some(nulls) => {
            for (i, v) in array.values().iter().enumerate() {
                out.push(if nulls.is_valid(i) {
                    Some(f(*v, i)?)
                } else {
                    None
                });
            }
        }
    }
    Ok(out)
}

/// The value a float had in the file's own precision, as the nearest double of its shortest
/// decimal form: an f32 1.1 becomes the double 1.1, not 1.100000023841858, so a trip hashes the
/// same whether a writer chose float or double.
fn f32_as_written(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(v as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::YELLOW;
    use arrow::array::{Float64Array, Int32Array, NullArray, TimestampMicrosecondArray};

    #[test]
    fn null_typed_column_reads_as_nulls() {
        let v = convert(&YELLOW.columns[18], &NullArray::new(3), 0).unwrap();
        assert_eq!(v, Values::Money(vec![None, None, None]));
    }

    #[test]
    fn null_pickup_is_refused_with_its_row_number() {
        let a = TimestampMicrosecondArray::from(vec![Some(1), None]);
        let e = convert(&YELLOW.columns[YELLOW.pickup], &a, 10).unwrap_err();
        assert_eq!((e.row, e.class), (12, Class::NotNullViolation));
    }

    #[test]
    fn accepts_by_kind() {
        let c = |name: &str| &YELLOW.columns[YELLOW.column(name).unwrap()];
        assert!(accepts(c("passenger_count"), &DataType::Float64));
        assert!(accepts(c("fare_amount"), &DataType::Null));
        assert!(!accepts(c("tpep_pickup_datetime"), &DataType::Float64));
        // Text timestamps (yellow 2009–2010) are read; a text count is not.
        assert!(accepts(c("tpep_pickup_datetime"), &DataType::Utf8));
        assert!(!accepts(c("passenger_count"), &DataType::Utf8));
        // Older layouts' codes: vendor names, payment strings, numeric flags.
        assert!(accepts(c("vendorid"), &DataType::Utf8));
        assert!(accepts(c("payment_type"), &DataType::LargeUtf8));
        assert!(accepts(c("store_and_fwd_flag"), &DataType::Float64));
        let _ = (Int32Array::from(vec![1]), Float64Array::from(vec![1.0]));
    }

    #[test]
    fn f32_keeps_its_written_value() {
        assert_eq!(f32_as_written(1.1), 1.1f64);
        assert_eq!(f32_as_written(-0.5), -0.5f64);
    }
}
