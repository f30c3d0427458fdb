//! The two older yellow layouts the TLC still serves for 2009 and 2010: text timestamps, vendor
//! names, payment strings, coordinates instead of zones. A pandas rewrite of either has
//! nanosecond timestamps, double counts and `__index_level_0__`.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray, TimestampNanosecondArray};
use taxi_core::calendar::{civil_from_days, US_PER_DAY};
use taxi_core::trip::{TripBatch, Values};

use crate::Vintage;

/// How a logical value is written in an older layout.
#[derive(Clone, Copy)]
enum Form {
    VendorName,
    TextTime,
    Count,
    Float,
    /// A code as a double (2009's `Rate_Code`).
    CodeDouble,
    /// A code as text (2010's `rate_code`).
    CodeText,
    /// `Y`/`N` as 1/0 (2009's `store_and_forward`).
    FlagDouble,
    Text,
    Payment,
    Money,
}

/// (file column, logical column, form), in the order of the TLC's files.
const Y2009: [(&str, &str, Form); 18] = [
    ("vendor_name", "vendorid", Form::VendorName),
    (
        "Trip_Pickup_DateTime",
        "tpep_pickup_datetime",
        Form::TextTime,
    ),
    (
        "Trip_Dropoff_DateTime",
        "tpep_dropoff_datetime",
        Form::TextTime,
    ),
    ("Passenger_Count", "passenger_count", Form::Count),
    ("Trip_Distance", "trip_distance", Form::Float),
    ("Start_Lon", "pickup_longitude", Form::Float),
    ("Start_Lat", "pickup_latitude", Form::Float),
    ("Rate_Code", "ratecodeid", Form::CodeDouble),
    ("store_and_forward", "store_and_fwd_flag", Form::FlagDouble),
    ("End_Lon", "dropoff_longitude", Form::Float),
    ("End_Lat", "dropoff_latitude", Form::Float),
    ("Payment_Type", "payment_type", Form::Payment),
    ("Fare_Amt", "fare_amount", Form::Money),
    ("surcharge", "extra", Form::Money),
    ("mta_tax", "mta_tax", Form::Money),
    ("Tip_Amt", "tip_amount", Form::Money),
    ("Tolls_Amt", "tolls_amount", Form::Money),
    ("Total_Amt", "total_amount", Form::Money),
];

const Y2010: [(&str, &str, Form); 18] = [
    ("vendor_id", "vendorid", Form::VendorName),
    ("pickup_datetime", "tpep_pickup_datetime", Form::TextTime),
    ("dropoff_datetime", "tpep_dropoff_datetime", Form::TextTime),
    ("passenger_count", "passenger_count", Form::Count),
    ("trip_distance", "trip_distance", Form::Float),
    ("pickup_longitude", "pickup_longitude", Form::Float),
    ("pickup_latitude", "pickup_latitude", Form::Float),
    ("rate_code", "ratecodeid", Form::CodeText),
    ("store_and_fwd_flag", "store_and_fwd_flag", Form::Text),
    ("dropoff_longitude", "dropoff_longitude", Form::Float),
    ("dropoff_latitude", "dropoff_latitude", Form::Float),
    ("payment_type", "payment_type", Form::Payment),
    ("fare_amount", "fare_amount", Form::Money),
    ("surcharge", "extra", Form::Money),
    ("mta_tax", "mta_tax", Form::Money),
    ("tip_amount", "tip_amount", Form::Money),
    ("tolls_amount", "tolls_amount", Form::Money),
    ("total_amount", "total_amount", Form::Money),
];

/// The spellings the published files use for each payment code, written in turn.
const PAYMENTS_2009: [&[&str]; 4] = [
    &["Credit", "CREDIT", "CRE", "CRD"],
    &["CASH", "Cash", "CAS"],
    &["No Charge", "NOC"],
    &["Dispute", "DIS"],
];
const PAYMENTS_2010: [&[&str]; 4] = [
    &["CRD", "Cre"],
    &["CAS", "Cas"],
    &["NOC", "No "],
    &["DIS", "Dis"],
];

const VENDORS: [&str; 3] = ["CMT", "VTS", "DDS"];

/// Whether `vintage` is one of the older layouts.
pub fn applies(vintage: &Vintage) -> bool {
    vintage.year <= 2010
}

/// `2009-01-04 02:52:00`
pub fn text_time(us: i64) -> String {
    let days = us.div_euclid(US_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let s = us.rem_euclid(US_PER_DAY) / 1_000_000;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// The file's columns for yellow `trips` in the layout of `vintage` (2009 or 2010).
pub fn columns(trips: &TripBatch, vintage: &Vintage) -> Vec<(String, ArrayRef)> {
    let d = trips.dataset;
    let layout = if vintage.year <= 2009 { &Y2009 } else { &Y2010 };
    let pandas = vintage.pandas_index;
    let mut out: Vec<(String, ArrayRef)> = Vec::new();
    for &(name, logical, form) in layout {
        let values = &trips.columns[d.column(logical).expect("a yellow column")];
        let array: ArrayRef = match (form, values) {
            (Form::VendorName, Values::Int(x)) => {
                Arc::new(StringArray::from_iter(x.iter().map(|o| {
                    o.and_then(|c| VENDORS.get((c as usize).wrapping_sub(1)).copied())
                })))
            }
            (Form::TextTime, Values::Timestamp(x)) if pandas => Arc::new(
                TimestampNanosecondArray::from_iter(x.iter().map(|o| o.map(|us| us * 1_000))),
            ),
            (Form::TextTime, Values::Timestamp(x)) => {
                Arc::new(StringArray::from_iter(x.iter().map(|o| o.map(text_time))))
            }
            (Form::Count, Values::Int(x)) if pandas => {
                Arc::new(Float64Array::from_iter(x.iter().map(|o| o.map(f64::from))))
            }
            (Form::Count, Values::Int(x)) => {
                Arc::new(Int64Array::from_iter(x.iter().map(|o| o.map(i64::from))))
            }
            (Form::Float, Values::Float(x)) => Arc::new(Float64Array::from_iter(x.iter().copied())),
            (Form::CodeDouble, Values::Int(x)) => {
                Arc::new(Float64Array::from_iter(x.iter().map(|o| o.map(f64::from))))
            }
            (Form::CodeText, Values::Int(x)) => Arc::new(StringArray::from_iter(
                x.iter().map(|o| o.map(|c| c.to_string())),
            )),
            (Form::FlagDouble, Values::Text(x)) => Arc::new(Float64Array::from_iter(
                x.iter()
                    .map(|o| o.as_deref().map(|f| if f == "Y" { 1.0 } else { 0.0 })),
            )),
            (Form::Text, Values::Text(x)) => {
                Arc::new(StringArray::from_iter(x.iter().map(|o| o.as_deref())))
            }
            (Form::Payment, Values::Int(x)) => {
                let spellings = if vintage.year <= 2009 {
                    &PAYMENTS_2009
                } else {
                    &PAYMENTS_2010
                };
                Arc::new(StringArray::from_iter(x.iter().enumerate().map(
                    |(i, o)| {
                        o.map(|c| match spellings.get((c as usize).wrapping_sub(1)) {
                            Some(names) => names[i % names.len()].to_string(),
                            None => c.to_string(),
                        })
                    },
                )))
            }
            (Form::Money, Values::Money(x)) => Arc::new(Float64Array::from_iter(
                x.iter().map(|o| o.map(|c| c as f64 / 100.0)),
            )),
            _ => unreachable!("{logical} holds values of another kind"),
        };
        out.push((name.to_string(), array));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_times_are_the_tlc_format() {
        assert_eq!(text_time(1_231_037_520_000_000), "2009-01-04 02:52:00");
        assert_eq!(
            taxi_core::convert::timestamp::parse(&text_time(1_262_303_999_000_000)),
            Ok(1_262_303_999_000_000)
        );
    }
}
