//! A row of a record batch as the file holds it, as a JSON object: what `taxi.rejected_rows.raw`
//! keeps of a row that cannot be stored. pgrx-free.

use arrow::array::Array;
use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use serde_json::{Map, Number, Value};

/// Row `row` of `batch`: `{"column": value, …}` (jsonb orders the keys its own way), numbers as JSON numbers (exact:
/// decimals keep their digits), other values as the text Arrow prints for them, missing values
/// as null. jsonb cannot hold NUL, so a NUL in text is kept as the six characters `\u0000`.
pub fn row_json(batch: &RecordBatch, row: usize) -> String {
    let options = FormatOptions::default().with_null("");
    let mut object = Map::new();
    for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
        let value = if array.is_null(row) {
            Value::Null
        } else {
            let text = ArrayFormatter::try_new(array.as_ref(), &options)
                .map(|f| f.value(row).to_string())
                .unwrap_or_else(|e| format!("<{e}>"));
            json_value(array.data_type(), text)
        };
        object.insert(field.name().clone(), value);
    }
    Value::Object(object).to_string()
}

fn json_value(data_type: &DataType, text: String) -> Value {
    let numeric =
        data_type.is_numeric() || matches!(data_type, DataType::Dictionary(_, v) if v.is_numeric());
    if numeric {
        // Through serde_json's arbitrary-precision-free parser: integers stay integers, finite
        // decimals and floats become numbers; NaN and infinities stay text.
        if let Ok(Value::Number(n)) = serde_json::from_str::<Value>(&text) {
            return Value::Number(n);
        }
        if let Ok(i) = text.parse::<i64>() {
            return Value::Number(Number::from(i));
        }
    }
    Value::String(text.replace('\0', "\\u0000"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema, TimeUnit};
    use std::sync::Arc;

    #[test]
    fn values_keep_their_file_form() {
        let schema = Schema::new(vec![
            Field::new("VendorID", DataType::Int64, true),
            Field::new(
                "tpep_pickup_datetime",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("fare_amount", DataType::Float64, true),
            Field::new("store_and_fwd_flag", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![Some(2), None])),
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(1_704_067_200_000_000),
                    None,
                ])),
                Arc::new(Float64Array::from(vec![12.5, f64::NAN])),
                Arc::new(StringArray::from(vec![Some("N"), Some("a\0b\"")])),
            ],
        )
        .unwrap();
        assert_eq!(
            row_json(&batch, 0),
            r#"{"VendorID":2,"fare_amount":12.5,"store_and_fwd_flag":"N","tpep_pickup_datetime":"2024-01-01T00:00:00"}"#
        );
        assert_eq!(
            row_json(&batch, 1),
            r#"{"VendorID":null,"fare_amount":"NaN","store_and_fwd_flag":"a\\u0000b\"","tpep_pickup_datetime":null}"#
        );
    }
}
