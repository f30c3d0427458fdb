//! The logical columns a dataset's file vintages are mapped onto ([`crate::dataset`] lists
//! them), and a chunk of trips in them. pgrx-free: shared by the reader, the hasher, the
//! generator and the SQL text.

use std::sync::Arc;

use crate::dataset::Dataset;
pub use crate::dataset::{Column, Kind};

/// The values of one logical column for the rows of a chunk.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i16>>),
    BigInt(Vec<Option<i64>>),
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
            Kind::BigInt => Values::BigInt(Vec::with_capacity(capacity)),
            Kind::Timestamp => Values::Timestamp(Vec::with_capacity(capacity)),
            Kind::Float => Values::Float(Vec::with_capacity(capacity)),
            Kind::Money => Values::Money(Vec::with_capacity(capacity)),
            Kind::Text => Values::Text(Vec::with_capacity(capacity)),
        }
    }

    pub fn nulls(kind: Kind, len: usize) -> Values {
        match kind {
            Kind::Int => Values::Int(vec![None; len]),
            Kind::BigInt => Values::BigInt(vec![None; len]),
            Kind::Timestamp => Values::Timestamp(vec![None; len]),
            Kind::Float => Values::Float(vec![None; len]),
            Kind::Money => Values::Money(vec![None; len]),
            Kind::Text => Values::Text(vec![None; len]),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::BigInt(v) => v.len(),
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
            Values::BigInt(v) => v[row].is_none(),
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
            (Values::BigInt(a), Values::BigInt(b)) => a.push(b[row]),
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

/// A chunk of trips of one dataset, column by column, in the order of its columns.
#[derive(Debug, Clone, PartialEq)]
pub struct TripBatch {
    pub dataset: &'static Dataset,
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
        let Some(at) = self.dataset.column("store_and_fwd_flag") else {
            return;
        };
        if let Values::Text(flags) = &mut self.columns[at] {
            flags.iter_mut().for_each(|f| *f = Some(value.clone()));
        }
    }

    pub fn empty(dataset: &'static Dataset, capacity: usize) -> TripBatch {
        TripBatch {
            dataset,
            first_row: 0,
            columns: dataset
                .columns
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
        let mut one = TripBatch::empty(self.dataset, 1);
        one.push_row(self, row);
        one
    }

    /// Empties every column, keeping allocations.
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            match c {
                Values::Int(v) => v.clear(),
                Values::BigInt(v) | Values::Timestamp(v) | Values::Money(v) => v.clear(),
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
