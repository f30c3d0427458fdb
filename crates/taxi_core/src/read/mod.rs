//! Opens a parquet file, recognizes its dataset (or checks it is the one the caller named) in any
//! of its vintages, and streams it as [`TripBatch`]es of `chunk_size` rows, decoding only the
//! columns the dataset needs. pgrx-free.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::file::metadata::ParquetMetaDataReader;
use parquet::file::reader::Length;

pub mod input;
pub mod limits;
pub mod pipeline;
pub mod raw;
pub mod rewrite;
pub mod thrift;

use rayon::prelude::*;

use crate::convert;
use crate::dataset::{self, Dataset, Unrecognized};
use crate::error::{LoadError, ValueError};
use crate::partition::Partition;
use crate::threads;
use crate::trip::{Rejected, TripBatch, Values};
use input::{Input, Source};

const MAGIC: &[u8; 4] = b"PAR1";

/// The footer's row counts must agree: the file's with its row groups', each row group's with the
/// value counts of the columns read (a flat column holds one value, or a null, per row). A footer
/// that lies about them makes the decoder stop early or look for rows that are not there: rows
/// would be lost without an error.
fn check_counts(
    path: &str,
    metadata: &parquet::file::metadata::ParquetMetaData,
    leaves: &[(usize, crate::trip::Kind, &'static str)],
) -> Result<(), LoadError> {
    let corrupt = |detail: String| LoadError::Corrupt {
        path: path.into(),
        detail,
    };
    let mut sum: i64 = 0;
    for (g, rg) in metadata.row_groups().iter().enumerate() {
        let rows = rg.num_rows();
        for &(leaf, _, name) in leaves {
            let values = rg.column(leaf).num_values();
            if values != rows {
                return Err(corrupt(format!(
                    "Row group {g} declares {rows} rows, but column {name} {values} values."
                )));
            }
        }
        sum = sum
            .checked_add(rows)
            .filter(|_| rows >= 0)
            .ok_or_else(|| corrupt(format!("Row group {g} declares {rows} rows.")))?;
    }
    let declared = metadata.file_metadata().num_rows();
    if declared != sum {
        return Err(corrupt(format!(
            "The footer declares {declared} rows, its row groups {sum}."
        )));
    }
    Ok(())
}

/// Reads one file. Iterating yields chunks until the file is exhausted or the first error.
pub struct TripReader {
    path: String,
    dataset: &'static Dataset,
    batches: ParquetRecordBatchReader,
    /// For each logical column, its position in the projected record batches (None: absent).
    positions: Vec<Option<usize>>,
    /// Each column's name as the file spells it (its TLC name or an older layout's alias), for
    /// errors.
    names: Vec<&'static str>,
    total_rows: u64,
    next_row: u64,
    /// For a remote source: what failed when the decoder reports an error.
    input: Option<Input>,
    months: Months,
}

/// A file's rows per month, to count: the reader's input and parsed footer.
#[derive(Clone)]
pub struct Months {
    path: String,
    dataset: &'static Dataset,
    input: Input,
    metadata: ArrowReaderMetadata,
}

impl Months {
    pub fn count(self) -> Result<BTreeMap<Partition, u64>, LoadError> {
        let failed = self.input.clone();
        let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(self.input, self.metadata);
        count_months(&self.path, builder, Some(self.dataset))
            .map_err(|e| failed.failure().map_or(e, LoadError::Remote))
    }
}

impl TripReader {
    /// Opens `path`, recognizes its dataset and validates its schema; no row is decoded yet.
    pub fn open(path: &str, chunk_size: usize) -> Result<TripReader, LoadError> {
        Self::open_counted(path, chunk_size, &mut limits::Work::default())
    }

    /// [`TripReader::open`], adding to `work` what the checks before decoding did.
    pub fn open_counted(
        path: &str,
        chunk_size: usize,
        work: &mut limits::Work,
    ) -> Result<TripReader, LoadError> {
        Self::open_source(&Source::local(path)?, None, chunk_size, work)
    }

    /// Opens a server file or a remote object, as a file of `dataset` (None: the dataset its
    /// columns say). A failed remote read is reported as what it was (a timeout, a dropped
    /// connection …), not as the damage the reader saw.
    pub fn open_source(
        source: &Source,
        dataset: Option<&'static Dataset>,
        chunk_size: usize,
        work: &mut limits::Work,
    ) -> Result<TripReader, LoadError> {
        let file = source.open()?;
        let failed = file.clone();
        Self::open_input(&source.name(), file, dataset, chunk_size, work)
            .map_err(|e| failed.failure().map_or(e, LoadError::Remote))
    }

    fn open_input(
        path: &str,
        file: Input,
        dataset: Option<&'static Dataset>,
        chunk_size: usize,
        work: &mut limits::Work,
    ) -> Result<TripReader, LoadError> {
        let file_size = file.len();
        check_magic(path, &file, file_size)?;
        let footer = limits::read_footer(path, &file, file_size, work)?;
        let limits_file = file.clone();
        let remote = matches!(file, Input::Remote(_)).then(|| file.clone());

        let corrupt = |e: parquet::errors::ParquetError| LoadError::Corrupt {
            path: path.into(),
            detail: e.to_string(),
        };
        let metadata = guarded(path, || {
            let metadata = ParquetMetaDataReader::decode_metadata(&footer)?;
            ArrowReaderMetadata::try_new(Arc::new(metadata), ArrowReaderOptions::new())
        })?
        .map_err(corrupt)?;
        let builder =
            ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), metadata.clone());
        let (dataset, matched) = match_columns(path, builder.schema(), dataset)?;
        let months = Months {
            path: path.into(),
            dataset,
            input: file,
            metadata,
        };

        let mut roots: Vec<usize> = matched.iter().flatten().copied().collect();
        roots.sort_unstable();
        // Projected batches hold the selected root columns in file order.
        let fields = builder.schema().fields().clone();
        let names = dataset
            .columns
            .iter()
            .zip(&matched)
            .map(|(c, m)| {
                m.and_then(|root| {
                    std::iter::once(&c.source)
                        .chain(c.aliases)
                        .find(|n| fields[root].name().eq_ignore_ascii_case(n))
                        .copied()
                })
                .unwrap_or(c.source)
            })
            .collect();
        let positions = matched
            .iter()
            .map(|m| m.map(|root| roots.binary_search(&root).expect("selected root")))
            .collect();
        let descr = builder.parquet_schema();
        let leaves: Vec<(usize, crate::trip::Kind, &'static str)> = (0..descr.num_columns())
            .filter_map(|leaf| {
                let root = descr.get_column_root_idx(leaf);
                let column = &dataset.columns[matched.iter().position(|m| *m == Some(root))?];
                Some((leaf, column.kind, column.source))
            })
            .collect();
        check_counts(path, builder.metadata(), &leaves)?;
        guarded(path, || {
            limits::check(
                path,
                &limits_file,
                file_size,
                builder.metadata(),
                &leaves,
                chunk_size,
                work,
            )
        })??;
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let batches = guarded(path, || {
            builder
                .with_batch_size(chunk_size)
                .with_projection(mask)
                .build()
        })?
        .map_err(corrupt)?;

        Ok(TripReader {
            path: path.into(),
            dataset,
            batches,
            positions,
            names,
            total_rows,
            next_row: 0,
            input: remote,
            months,
        })
    }

    /// The month count of this file ([`partitions_of`]) from the footer this reader parsed, over
    /// the same opened input: to run while the reader decodes on its own thread.
    pub fn months(&self) -> Months {
        self.months.clone()
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// The file's dataset.
    pub fn dataset(&self) -> &'static Dataset {
        self.dataset
    }

    /// Rows the file's footer declares.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    /// Converts the columns in parallel on the loader's pool: they are independent, and
    /// conversion is the costliest step of reading. Rows with a value that cannot be stored are
    /// taken out into [`TripBatch::rejected`]; the rest of the chunk goes on.
    fn to_trips(&self, batch: &RecordBatch) -> TripBatch {
        // The reader itself is not Sync: the workers see only what they need.
        let (first_row, positions, dataset) = (self.next_row, &self.positions, self.dataset);
        let names = &self.names;
        let converted = threads::pool().install(|| {
            dataset
                .columns
                .par_iter()
                .zip(positions.par_iter())
                .zip(names.par_iter())
                .map(|((column, pos), name)| match pos {
                    Some(p) => {
                        convert::convert_named(column, name, batch.column(*p).as_ref(), first_row)
                    }
                    None => Ok(Values::nulls(column.kind, batch.num_rows())),
                })
                .collect::<Vec<_>>()
        });
        let mut errors = Vec::new();
        let columns = dataset
            .columns
            .iter()
            .zip(positions)
            .zip(names)
            .zip(converted)
            .map(|(((column, pos), name), result)| match (result, pos) {
                (Ok(values), _) => values,
                // Rare: find every bad row of this column, one row at a time.
                (Err(_), Some(p)) => row_by_row(
                    column,
                    name,
                    batch.column(*p).as_ref(),
                    first_row,
                    &mut errors,
                ),
                (Err(_), None) => unreachable!("an absent column converts to NULLs"),
            })
            .collect();
        let mut trips = TripBatch {
            dataset,
            first_row,
            columns,
            rejected: Vec::new(),
        };
        if dataset.located.is_some() {
            threads::pool().install(|| crate::locate::fill_zones(&mut trips));
        }
        if errors.is_empty() {
            trips
        } else {
            reject_rows(trips, batch, errors)
        }
    }
}

/// How many rows of `path` fall into each partition, from its pickup column alone: a load
/// locks and inspects exactly these partitions before it writes. For a file
/// [`TripReader::open`] accepted; rows whose pickup cannot be stored are not counted (the load
/// rejects them), rows rejected for another column are (their month is merely looked at).
pub fn partitions_of_file(path: &str) -> Result<BTreeMap<Partition, u64>, LoadError> {
    partitions_of(&Source::local(path)?)
}

/// [`partitions_of_file`] of a server file or a remote object, of the dataset its columns say.
pub fn partitions_of(source: &Source) -> Result<BTreeMap<Partition, u64>, LoadError> {
    let file = source.open()?;
    let failed = file.clone();
    partitions_of_input(&source.name(), file)
        .map_err(|e| failed.failure().map_or(e, LoadError::Remote))
}

fn partitions_of_input(path: &str, file: Input) -> Result<BTreeMap<Partition, u64>, LoadError> {
    let builder =
        guarded(path, || ParquetRecordBatchReaderBuilder::try_new(file))?.map_err(|e| {
            LoadError::Corrupt {
                path: path.into(),
                detail: e.to_string(),
            }
        })?;
    count_months(path, builder, None)
}

fn count_months(
    path: &str,
    builder: ParquetRecordBatchReaderBuilder<Input>,
    dataset: Option<&'static Dataset>,
) -> Result<BTreeMap<Partition, u64>, LoadError> {
    let corrupt = |e: parquet::errors::ParquetError| LoadError::Corrupt {
        path: path.into(),
        detail: e.to_string(),
    };
    let (dataset, matched) = match_columns(path, builder.schema(), dataset)?;
    let column = &dataset.columns[dataset.pickup];
    let Some(root) = matched[dataset.pickup] else {
        return Ok(BTreeMap::new());
    };
    let mask = ProjectionMask::roots(builder.parquet_schema(), [root]);
    let batches = guarded(path, || {
        builder
            .with_batch_size(1 << 16)
            .with_projection(mask)
            .build()
    })?
    .map_err(corrupt)?;
    let mut counts = BTreeMap::new();
    let mut first_row = 0u64;
    for batch in batches {
        let batch = guarded(path, || batch)?.map_err(|e| LoadError::Corrupt {
            path: path.into(),
            detail: e.to_string(),
        })?;
        let array = batch.column(0).as_ref();
        let values = convert::convert(column, array, first_row).unwrap_or_else(|_| {
            row_by_row(column, column.source, array, first_row, &mut Vec::new())
        });
        if let Values::Timestamp(pickups) = values {
            for us in pickups.into_iter().flatten() {
                *counts.entry(Partition::of_pickup(us)).or_insert(0u64) += 1;
            }
        }
        first_row += batch.num_rows() as u64;
    }
    Ok(counts)
}

/// Converts `array` row by row: each value that cannot be stored becomes NULL and an error.
fn row_by_row(
    column: &crate::trip::Column,
    name: &'static str,
    array: &dyn arrow::array::Array,
    first_row: u64,
    errors: &mut Vec<ValueError>,
) -> Values {
    let mut out = Values::empty(column.kind, array.len());
    let null = Values::nulls(column.kind, 1);
    for i in 0..array.len() {
        match convert::convert_named(
            column,
            name,
            array.slice(i, 1).as_ref(),
            first_row + i as u64,
        ) {
            Ok(one) => out.push_from(&one, 0),
            Err(e) => {
                out.push_from(&null, 0);
                errors.push(e);
            }
        }
    }
    out
}

/// Moves the rows named by `errors` out of `trips` into its `rejected` list, with the reasons and
/// the row as the file holds it.
fn reject_rows(trips: TripBatch, batch: &RecordBatch, errors: Vec<ValueError>) -> TripBatch {
    let mut by_row: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for e in errors {
        by_row
            .entry(e.row)
            .or_default()
            .push(format!("{}: {} ({})", e.column, e.reason, e.value));
    }
    let first = trips.first_row;
    let mut kept = TripBatch::empty(trips.dataset, trips.len() - by_row.len());
    kept.first_row = first;
    kept.extend_rows(
        &trips,
        (0..trips.len()).filter(|&i| !by_row.contains_key(&(first + i as u64 + 1))),
    );
    kept.rejected = by_row
        .into_iter()
        .map(|(row, reasons)| Rejected {
            row,
            reason: reasons.join("; "),
            raw: raw::row_json(batch, (row - first - 1) as usize),
        })
        .collect();
    kept
}

/// Reads `path` to the end in chunks of `chunk_size`: every trip, or the first error. For tests
/// and `taxi_gen --check`.
pub fn read_to_end(path: &str, chunk_size: usize) -> Result<TripBatch, LoadError> {
    let reader = TripReader::open(path, chunk_size)?;
    let mut all = TripBatch::empty(reader.dataset(), 0);
    for batch in reader {
        let batch = batch?;
        all.extend_rows(&batch, 0..batch.len());
        all.rejected.extend(batch.rejected);
    }
    Ok(all)
}

impl Iterator for TripReader {
    type Item = Result<TripBatch, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.path.clone();
        let remote_failure = || self.input.as_ref().and_then(Input::failure);
        let batch = match guarded(&path, || self.batches.next()) {
            Err(e) => return Some(Err(remote_failure().map_or(e, LoadError::Remote))),
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                return Some(Err(remote_failure().map_or(
                    LoadError::Corrupt {
                        path,
                        detail: e.to_string(),
                    },
                    LoadError::Remote,
                )));
            }
            Ok(Some(Ok(batch))) => batch,
        };
        let trips = self.to_trips(&batch);
        self.next_row += batch.num_rows() as u64;
        Some(Ok(trips))
    }
}

pub(crate) fn io(path: &str, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: path.into(),
        source,
    }
}

/// Tells "not parquet at all" from "parquet, but cut short" before the parquet crate gives its
/// one generic footer error for both.
fn check_magic(path: &str, file: &Input, size: u64) -> Result<(), LoadError> {
    if size == 0 {
        return Err(LoadError::Empty { path: path.into() });
    }
    let mut head = [0u8; 4];
    let n = if size >= 4 { 4 } else { size as usize };
    file.read_exact_at(&mut head[..n], 0)
        .map_err(|e| io(path, e))?;
    if n < 4 || &head != MAGIC {
        return Err(LoadError::NotParquet {
            path: path.into(),
            detail: "The file does not begin with the parquet magic bytes \"PAR1\".".into(),
        });
    }
    let mut tail = [0u8; 4];
    let tail_ok = size >= 12 && file.read_exact_at(&mut tail, size - 4).is_ok() && &tail == MAGIC;
    if !tail_ok {
        return Err(LoadError::Corrupt {
            path: path.into(),
            detail: format!(
                "The file begins like parquet but does not end with \"PAR1\" ({size} bytes): it was probably cut short."
            ),
        });
    }
    Ok(())
}

/// The parquet crate may panic on hostile input; a panic must become a clean error, not an
/// internal one.
fn guarded<T>(path: &str, f: impl FnOnce() -> T) -> Result<T, LoadError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("decoder panic");
        LoadError::Corrupt {
            path: path.into(),
            detail: format!("The decoder failed: {what}"),
        }
    })
}

/// The file's dataset (`dataset`, or the one its columns say) and, for each of its columns, the
/// index of the file's top-level column with that name (ignoring case), after checking that
/// every required column is there with a type it can be read as.
fn match_columns(
    path: &str,
    schema: &Schema,
    dataset: Option<&'static Dataset>,
) -> Result<(&'static Dataset, Vec<Option<usize>>), LoadError> {
    let refused = |u: Unrecognized| match u {
        Unrecognized::Closest { dataset, missing } => LoadError::WrongDataset {
            path: path.into(),
            dataset,
            missing,
            forced: false,
        },
        Unrecognized::Ambiguous { candidates } => LoadError::AmbiguousDataset {
            path: path.into(),
            candidates,
        },
        Unrecognized::DuplicateColumn { column } => LoadError::AmbiguousColumn {
            path: path.into(),
            column,
        },
    };
    let dataset = match dataset {
        Some(d) => d,
        None => dataset::recognize(schema).map_err(refused)?,
    };
    let found = dataset.find_columns(schema).map_err(refused)?;
    if !found.missing.is_empty() {
        return Err(LoadError::WrongDataset {
            path: path.into(),
            dataset,
            missing: found.missing,
            forced: true,
        });
    }
    for (column, hit) in dataset.columns.iter().zip(&found.matched) {
        if let Some(i) = hit {
            let found = schema.field(*i).data_type();
            if !convert::accepts(column, found) {
                return Err(LoadError::UnsupportedType {
                    path: path.into(),
                    column: column.source,
                    found: found.to_string(),
                    expected: convert::expected(column.kind),
                });
            }
        }
    }
    Ok((dataset, found.matched))
}
