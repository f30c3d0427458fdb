//! Writes trips of any dataset as a parquet file in a vintage's physical layout.

use std::fs::File;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, LargeStringArray, NullArray, StringArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::Vintage;
use taxi_core::dataset::Dataset;
use taxi_core::trip::{Column, Kind, TripBatch, Values};

/// Writes `trips` to `path` as `vintage` would have, `row_group_rows` rows per row group.
/// A column the vintage lacks is still written if it holds a value, so that rewriting a file
/// never changes its trips.
pub fn write_parquet(
    path: &str,
    trips: &TripBatch,
    vintage: &Vintage,
    row_group_rows: usize,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(row_group_rows.max(1)))
        .build();
    write_parquet_with(path, trips, vintage, props)
}

/// [`write_parquet`] with the writer's settings given (page sizes, encodings), for odd files.
fn write_parquet_with(
    path: &str,
    trips: &TripBatch,
    vintage: &Vintage,
    props: WriterProperties,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    let dataset = trips.dataset;
    if dataset.located.is_some() && crate::legacy::applies(vintage) {
        for (name, array) in crate::legacy::columns(trips, vintage) {
            fields.push(Field::new(name, array.data_type().clone(), true));
            arrays.push(array);
        }
    }
    for (i, column) in dataset.columns.iter().enumerate() {
        if dataset.located.is_some() {
            // The older layouts are written above; later ones have no coordinates.
            if crate::legacy::applies(vintage) {
                break;
            }
            if i >= dataset.hashed_columns() {
                continue;
            }
        }
        let values = &trips.columns[i];
        let all_null = (0..values.len()).all(|r| values.is_null(r));
        if column.name == "cbd_congestion_fee" && !vintage.has_cbd_fee && all_null {
            continue;
        }
        let name = if column.source == "Airport_fee" && vintage.airport_fee_lowercase {
            "airport_fee"
        } else {
            column.source
        };
        let optional_amount = matches!(column.name, "congestion_surcharge" | "airport_fee");
        let array = if optional_amount && all_null && vintage.year < 2021 {
            null_column(&vintage.all_null_type, values.len())
        } else if column.name == "ehail_fee" && all_null && (2019..=2023).contains(&vintage.year) {
            // Green files type the empty ehail_fee `null` from 2019-09 to 2023-01.
            null_column(&DataType::Null, values.len())
        } else {
            physical(dataset, column, values, vintage)
        };
        fields.push(Field::new(name, array.data_type().clone(), true));
        arrays.push(array);
    }
    if vintage.pandas_index {
        fields.push(Field::new("__index_level_0__", DataType::Int64, true));
        arrays.push(Arc::new(Int64Array::from_iter_values(
            0..trips.len() as i64,
        )));
    }
    let schema = Arc::new(Schema::new(fields));
    let mut writer = ArrowWriter::try_new(File::create(path)?, schema.clone(), Some(props))?;
    // Write in slices so a multi-million-row month never needs a second full copy in memory.
    let step = 65_536;
    let mut offset = 0;
    while offset < trips.len() || (offset == 0 && trips.is_empty()) {
        let len = step.min(trips.len() - offset);
        let slice: Vec<ArrayRef> = arrays.iter().map(|a| a.slice(offset, len)).collect();
        writer.write(&RecordBatch::try_new(schema.clone(), slice)?)?;
        offset += len;
        if trips.is_empty() {
            break;
        }
    }
    writer.close()?;
    Ok(())
}

/// Writes `trips` as one row group whose columns are each one plain-encoded page, however large:
/// what a writer told to make huge pages produces (the memory checks must refuse it when the
/// pages would not fit).
pub fn write_one_page(
    path: &str,
    trips: &TripBatch,
    vintage: &Vintage,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::None)
        .set_data_page_size_limit(usize::MAX)
        .set_data_page_row_count_limit(usize::MAX)
        .set_write_batch_size(trips.len().max(1))
        .set_max_row_group_row_count(Some(trips.len().max(1)))
        .build();
    write_parquet_with(path, trips, vintage, props)
}

fn null_column(dt: &DataType, len: usize) -> ArrayRef {
    match dt {
        DataType::Int32 => Arc::new(Int32Array::from(vec![None; len])),
        _ => Arc::new(NullArray::new(len)),
    }
}

/// Whole numbers a pandas-era file holds as doubles: yellow's counts, and green's and FHV's
/// codes and zones as well.
fn doubled(dataset: &Dataset, column: &str) -> bool {
    match dataset.name {
        "yellow" => matches!(column, "passenger_count" | "ratecodeid"),
        "green" => matches!(
            column,
            "passenger_count" | "ratecodeid" | "payment_type" | "trip_type"
        ),
        "fhv" => matches!(column, "pulocationid" | "dolocationid" | "sr_flag"),
        _ => false,
    }
}

fn physical(dataset: &Dataset, column: &Column, values: &Values, v: &Vintage) -> ArrayRef {
    let is_id = matches!(column.name, "vendorid" | "pulocationid" | "dolocationid");
    let is_count = doubled(dataset, column.name);
    match (column.kind, values) {
        (Kind::Int, Values::Int(x)) => {
            if is_count && v.counts_double {
                Arc::new(Float64Array::from_iter(x.iter().map(|o| o.map(f64::from))))
            } else if is_id && !v.ids_int64 {
                Arc::new(Int32Array::from_iter(x.iter().map(|o| o.map(i32::from))))
            } else {
                Arc::new(Int64Array::from_iter(x.iter().map(|o| o.map(i64::from))))
            }
        }
        (Kind::BigInt, Values::BigInt(x)) => Arc::new(Int64Array::from_iter(x.iter().copied())),
        (Kind::Timestamp, Values::Timestamp(x)) => match v.timestamp_unit {
            TimeUnit::Millisecond => Arc::new(TimestampMillisecondArray::from_iter(
                x.iter().map(|o| o.map(|us| us.div_euclid(1_000))),
            )),
            TimeUnit::Nanosecond => Arc::new(TimestampNanosecondArray::from_iter(
                x.iter().map(|o| o.map(|us| us.saturating_mul(1_000))),
            )),
            _ => Arc::new(TimestampMicrosecondArray::from_iter(x.iter().copied())),
        },
        (Kind::Float, Values::Float(x)) => Arc::new(Float64Array::from_iter(x.iter().copied())),
        (Kind::Money, Values::Money(x)) => Arc::new(Float64Array::from_iter(
            x.iter().map(|o| o.map(|c| c as f64 / 100.0)),
        )),
        (Kind::Text, Values::Text(x)) => {
            if v.large_strings {
                Arc::new(LargeStringArray::from_iter(x.iter().map(|o| o.as_deref())))
            } else {
                Arc::new(StringArray::from_iter(x.iter().map(|o| o.as_deref())))
            }
        }
        _ => unreachable!("column {} holds values of another kind", column.name),
    }
}
