//! Values of the older layouts (yellow 2009–2010) in a type their column's kind does not take:
//! vendor names, payment strings and whole numbers written as text → codes; store-and-forward
//! flags written as numbers → `Y`/`N`. The tables are `dataset::yellow`'s.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::{float, text, Cx};
use crate::dataset::yellow::{payment_code, vendor_code};
use crate::dataset::Codes;
use crate::error::{Class, ValueError};
use crate::trip::Values;

pub fn accepts(codes: Codes, dt: &DataType) -> bool {
    match codes {
        Codes::None => false,
        Codes::Digits | Codes::VendorNames | Codes::PaymentNames => text::accepts(dt),
        Codes::FlagNumbers => float::accepts(dt),
    }
}

pub(super) fn convert(codes: Codes, array: &dyn Array, cx: Cx) -> Result<Values, ValueError> {
    match codes {
        Codes::None => unreachable!("codes::convert without codes, which accepts() refuses"),
        Codes::FlagNumbers => {
            // One allocation each, shared by every row.
            let (no, yes): (Arc<str>, Arc<str>) = ("N".into(), "Y".into());
            let numbers = float::convert(array, cx)?;
            let mut out = Vec::with_capacity(numbers.len());
            for (i, v) in numbers.into_iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(0.0) => Some(no.clone()),
                    Some(1.0) => Some(yes.clone()),
                    Some(x) => {
                        return Err(cx.error(
                            i,
                            x,
                            "is not a store-and-forward flag (1 or 0)",
                            Class::NumericValueOutOfRange,
                        ))
                    }
                });
            }
            Ok(Values::Text(out))
        }
        Codes::Digits | Codes::VendorNames | Codes::PaymentNames => {
            let owned;
            let strings = if matches!(array.data_type(), DataType::Utf8) {
                array.as_string::<i32>()
            } else {
                owned = cast(array, &DataType::Utf8).map_err(|_| {
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
            // Most rows repeat a handful of strings: remember the last one.
            let mut last: Option<(&str, Option<i16>)> = None;
            for (i, v) in strings.iter().enumerate() {
                let Some(s) = v else {
                    out.push(None);
                    continue;
                };
                if let Some((_, code)) = last.filter(|(p, _)| *p == s) {
                    out.push(code);
                    continue;
                }
                let code = match codes {
                    Codes::VendorNames => vendor_code(s),
                    Codes::PaymentNames => Some(payment_code(s)),
                    _ if s.trim().is_empty() => None,
                    _ => Some(s.trim().parse::<i16>().map_err(|_| {
                        cx.error(
                            i,
                            s,
                            "is not a whole number of at most 4 digits",
                            Class::NumericValueOutOfRange,
                        )
                    })?),
                };
                last = Some((s, code));
                out.push(code);
            }
            Ok(Values::Int(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, StringArray};

    const CX: Cx = Cx {
        column: "x",
        first_row: 0,
    };

    #[test]
    fn names_and_digits_become_codes() {
        let vendors = StringArray::from(vec![
            Some("CMT"),
            Some("VTS"),
            Some("DDS"),
            Some("ABC"),
            None,
        ]);
        assert_eq!(
            convert(Codes::VendorNames, &vendors, CX).unwrap(),
            Values::Int(vec![Some(1), Some(2), Some(3), None, None])
        );
        let payments = StringArray::from(vec!["CASH", "Cre", "No Charge", "DIS", "??"]);
        assert_eq!(
            convert(Codes::PaymentNames, &payments, CX).unwrap(),
            Values::Int(vec![Some(2), Some(1), Some(3), Some(4), Some(5)])
        );
        let digits = StringArray::from(vec![Some("1"), Some(" 5"), Some(""), None]);
        assert_eq!(
            convert(Codes::Digits, &digits, CX).unwrap(),
            Values::Int(vec![Some(1), Some(5), None, None])
        );
        let e = convert(Codes::Digits, &StringArray::from(vec!["1", "JFK"]), CX).unwrap_err();
        assert_eq!((e.row, e.value.as_str()), (2, "JFK"));
    }

    #[test]
    fn numeric_flags_become_y_and_n() {
        let flags = Float64Array::from(vec![Some(1.0), Some(0.0), None]);
        assert_eq!(
            convert(Codes::FlagNumbers, &flags, CX).unwrap(),
            Values::Text(vec![Some("Y".into()), Some("N".into()), None])
        );
        let e = convert(Codes::FlagNumbers, &Float64Array::from(vec![2.0]), CX).unwrap_err();
        assert_eq!(e.class, Class::NumericValueOutOfRange);
    }
}
