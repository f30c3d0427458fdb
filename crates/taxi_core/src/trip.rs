//! The logical yellow-trip schema that every file vintage is mapped onto, and a chunk of trips in
//! that schema. pgrx-free: shared by the reader, the hasher, the generator and the SQL text.

use std::sync::Arc;

/// How a logical column's values are represented once read, whatever the file's physical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number, stored as `smallint` (codes, ids, counts).
    Int,
    /// Wall-clock microseconds since 1970-01-01 00:00:00, stored as `timestamp`.
    Timestamp,
    /// A double, stored as `double precision` as the file has it.
    Float,
    /// An amount in whole cents, stored as `numeric(12,2)`.
    Money,
    /// UTF-8 text, stored as `text`.
    Text,
}

/// One column of the logical schema.
#[derive(Debug)]
pub struct Column {
    /// The name as the TLC data dictionary spells it; files are matched case-insensitively.
    pub source: &'static str,
    /// The column name in `taxi.yellow_taxi_trips`.
    pub name: &'static str,
    pub kind: Kind,
    /// A file without this column is not a yellow trip file.
    pub required: bool,
    /// NULL cannot be stored (the table column is NOT NULL).
    pub not_null: bool,
}

const fn col(source: &'static str, name: &'static str, kind: Kind, required: bool) -> Column {
    Column {
        source,
        name,
        kind,
        required,
        not_null: false,
    }
}

/// Position of each logical column in [`COLUMNS`] and in a [`TripBatch`].
pub mod idx {
    pub const VENDOR_ID: usize = 0;
    pub const PICKUP: usize = 1;
    pub const DROPOFF: usize = 2;
    pub const PASSENGER_COUNT: usize = 3;
    pub const TRIP_DISTANCE: usize = 4;
    pub const RATECODE_ID: usize = 5;
    pub const STORE_AND_FWD_FLAG: usize = 6;
    pub const PU_LOCATION_ID: usize = 7;
    pub const DO_LOCATION_ID: usize = 8;
    pub const PAYMENT_TYPE: usize = 9;
    pub const FARE_AMOUNT: usize = 10;
    pub const TIP_AMOUNT: usize = 13;
    pub const TOTAL_AMOUNT: usize = 16;
    pub const CONGESTION_SURCHARGE: usize = 17;
    pub const AIRPORT_FEE: usize = 18;
    pub const CBD_CONGESTION_FEE: usize = 19;
}

/// The 20 columns of a 2025 yellow trip file, in the TLC's order. The order is part of the row
/// hash encoding: never reorder, only append (and bump [`crate::hash::ENCODING_VERSION`]).
pub const COLUMNS: [Column; 20] = [
    col("VendorID", "vendorid", Kind::Int, true),
    Column {
        not_null: true,
        ..col(
            "tpep_pickup_datetime",
            "tpep_pickup_datetime",
            Kind::Timestamp,
            true,
        )
    },
    Column {
        not_null: true,
        ..col(
            "tpep_dropoff_datetime",
            "tpep_dropoff_datetime",
            Kind::Timestamp,
            true,
        )
    },
    col("passenger_count", "passenger_count", Kind::Int, true),
    col("trip_distance", "trip_distance", Kind::Float, true),
    col("RatecodeID", "ratecodeid", Kind::Int, true),
    col("store_and_fwd_flag", "store_and_fwd_flag", Kind::Text, true),
    col("PULocationID", "pulocationid", Kind::Int, true),
    col("DOLocationID", "dolocationid", Kind::Int, true),
    col("payment_type", "payment_type", Kind::Int, true),
    col("fare_amount", "fare_amount", Kind::Money, true),
    col("extra", "extra", Kind::Money, true),
    col("mta_tax", "mta_tax", Kind::Money, true),
    col("tip_amount", "tip_amount", Kind::Money, true),
    col("tolls_amount", "tolls_amount", Kind::Money, true),
    // Absent from some pre-2015 re-publications: optional, NULL when missing.
    col(
        "improvement_surcharge",
        "improvement_surcharge",
        Kind::Money,
        false,
    ),
    col("total_amount", "total_amount", Kind::Money, true),
    col(
        "congestion_surcharge",
        "congestion_surcharge",
        Kind::Money,
        false,
    ),
    // `airport_fee` until 2023-01, `Airport_fee` after: the case-insensitive match covers both.
    col("Airport_fee", "airport_fee", Kind::Money, false),
    col(
        "cbd_congestion_fee",
        "cbd_congestion_fee",
        Kind::Money,
        false,
    ),
];

/// The values of one logical column for the rows of a chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i16>>),
    Timestamp(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Money(Vec<Option<i64>>),
    /// Shared strings: a column holds a handful of distinct values ("N", "Y"), so repeats
    /// share one allocation.
    Text(Vec<Option<Arc<str>>>),
}

impl Values {
    pub fn empty(kind: Kind, capacity: usize) -> Values {
        match kind {
            Kind::Int => Values::Int(Vec::with_capacity(capacity)),
            Kind::Timestamp => Values::Timestamp(Vec::with_capacity(capacity)),
            Kind::Float => Values::Float(Vec::with_capacity(capacity)),
            Kind::Money => Values::Money(Vec::with_capacity(capacity)),
            Kind::Text => Values::Text(Vec::with_capacity(capacity)),
        }
    }

    pub fn nulls(kind: Kind, len: usize) -> Values {
        match kind {
            Kind::Int => Values::Int(vec![None; len]),
            Kind::Timestamp => Values::Timestamp(vec![None; len]),
            Kind::Float => Values::Float(vec![None; len]),
            Kind::Money => Values::Money(vec![None; len]),
            Kind::Text => Values::Text(vec![None; len]),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Timestamp(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Money(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_null(&self, row: usize) -> bool {
        match self {
            Values::Int(v) => v[row].is_none(),
            Values::Timestamp(v) => v[row].is_none(),
            Values::Float(v) => v[row].is_none(),
            Values::Money(v) => v[row].is_none(),
            Values::Text(v) => v[row].is_none(),
        }
    }

    /// Appends row `row` of `other` (same kind) to `self`.
    pub fn push_from(&mut self, other: &Values, row: usize) {
        match (self, other) {
            (Values::Int(a), Values::Int(b)) => a.push(b[row]),
            (Values::Timestamp(a), Values::Timestamp(b)) => a.push(b[row]),
            (Values::Float(a), Values::Float(b)) => a.push(b[row]),
            (Values::Money(a), Values::Money(b)) => a.push(b[row]),
            (Values::Text(a), Values::Text(b)) => a.push(b[row].clone()),
            _ => unreachable!("push_from between values of different kinds"),
        }
    }
}

/// A row of the file that cannot be stored (a NULL pickup, a value outside its column's range, a
/// timestamp PostgreSQL cannot hold, NUL in text): it goes to `taxi.rejected_rows`, not the trips.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// 1-based row number in the file.
    pub row: u64,
    /// Why, column by column: `tpep_pickup_datetime: the column requires a value (NULL)`.
    pub reason: String,
    /// The row's values as the file holds them, as a JSON object keyed by the file's column names.
    pub raw: String,
}

/// A chunk of trips in the logical schema, column by column, in [`COLUMNS`] order.
#[derive(Debug, Clone, PartialEq)]
pub struct TripBatch {
    /// 0-based position of the first row of this chunk in its file.
    pub first_row: u64,
    pub columns: Vec<Values>,
    /// The chunk's rows that cannot be stored, taken out of `columns`.
    pub rejected: Vec<Rejected>,
}

impl TripBatch {
    /// Sets store_and_fwd_flag to `value` on every row (one shared allocation): the memory tests'
    /// long and repeated text values.
    pub fn fill_store_and_fwd_flag(&mut self, value: &str) {
        let value: std::sync::Arc<str> = value.into();
        if let Values::Text(flags) = &mut self.columns[idx::STORE_AND_FWD_FLAG] {
            flags.iter_mut().for_each(|f| *f = Some(value.clone()));
        }
    }

    pub fn empty(capacity: usize) -> TripBatch {
        TripBatch {
            first_row: 0,
            columns: COLUMNS
                .iter()
                .map(|c| Values::empty(c.kind, capacity))
                .collect(),
            rejected: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Values::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A one-row batch holding row `row` of `self`.
    pub fn clone_row(&self, row: usize) -> TripBatch {
        let mut one = TripBatch::empty(1);
        one.push_row(self, row);
        one
    }

    /// Empties every column, keeping allocations.
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            match c {
                Values::Int(v) => v.clear(),
                Values::Timestamp(v) | Values::Money(v) => v.clear(),
                Values::Float(v) => v.clear(),
                Values::Text(v) => v.clear(),
            }
        }
        self.first_row = 0;
        self.rejected.clear();
    }

    /// Appends rows `rows` of `other` to `self`.
    pub fn extend_rows(&mut self, other: &TripBatch, rows: impl IntoIterator<Item = usize>) {
        for row in rows {
            self.push_row(other, row);
        }
    }

    /// Appends row `row` of `other` to `self`.
    pub fn push_row(&mut self, other: &TripBatch, row: usize) {
        for (mine, theirs) in self.columns.iter_mut().zip(&other.columns) {
            mine.push_from(theirs, row);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_have_unique_names_in_both_spellings() {
        let mut names: Vec<String> = COLUMNS.iter().map(|c| c.source.to_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), COLUMNS.len());
        for c in &COLUMNS {
            assert_eq!(
                c.name,
                c.source.to_lowercase(),
                "table column follows the TLC name"
            );
        }
    }

    #[test]
    fn index_constants_point_at_their_columns() {
        assert_eq!(COLUMNS[idx::PICKUP].source, "tpep_pickup_datetime");
        assert_eq!(COLUMNS[idx::AIRPORT_FEE].source, "Airport_fee");
        assert_eq!(
            COLUMNS[idx::CBD_CONGESTION_FEE].source,
            "cbd_congestion_fee"
        );
        assert_eq!(COLUMNS[idx::TOTAL_AMOUNT].source, "total_amount");
        assert_eq!(COLUMNS[idx::PAYMENT_TYPE].source, "payment_type");
    }
}
