//! Opens a parquet file, checks that it is a yellow trip file of any vintage, and streams it as
//! [`TripBatch`]es of `chunk_size` rows, decoding only the columns the trip schema needs.
//! pgrx-free.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use arrow::datatypes::Schema;
use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;

use crate::convert;
use crate::error::LoadError;
use crate::trip::{TripBatch, Values, COLUMNS};

const MAGIC: &[u8; 4] = b"PAR1";

/// Reads one file. Iterating yields chunks until the file is exhausted or the first error.
pub struct TripReader {
    path: String,
    batches: ParquetRecordBatchReader,
    /// For each logical column, its position in the projected record batches (None: absent).
    positions: Vec<Option<usize>>,
    total_rows: u64,
    file_size: u64,
    next_row: u64,
}

impl TripReader {
    /// Opens `path` and validates its schema; no row is decoded yet.
    pub fn open(path: &str, chunk_size: usize) -> Result<TripReader, LoadError> {
        let file = open_regular_file(path)?;
        let file_size = file.metadata().map_err(|e| io(path, e))?.len();
        check_magic(path, &file, file_size)?;

        let builder =
            guarded(path, || ParquetRecordBatchReaderBuilder::try_new(file))?.map_err(|e| {
                LoadError::Corrupt {
                    path: path.into(),
                    detail: e.to_string(),
                }
            })?;
        let matched = match_columns(path, builder.schema())?;

        let mut roots: Vec<usize> = matched.iter().flatten().copied().collect();
        roots.sort_unstable();
        // Projected batches hold the selected root columns in file order.
        let positions = matched
            .iter()
            .map(|m| m.map(|root| roots.binary_search(&root).expect("selected root")))
            .collect();
        let mask = ProjectionMask::roots(builder.parquet_schema(), roots.iter().copied());
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let batches = guarded(path, || {
            builder
                .with_batch_size(chunk_size)
                .with_projection(mask)
                .build()
        })?
        .map_err(|e| LoadError::Corrupt {
            path: path.into(),
            detail: e.to_string(),
        })?;

        Ok(TripReader {
            path: path.into(),
            batches,
            positions,
            total_rows,
            file_size,
            next_row: 0,
        })
    }

    /// Rows the file's footer declares.
    pub fn total_rows(&self) -> u64 {
        self.total_rows
    }

    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    fn to_trips(&self, batch: &RecordBatch) -> Result<TripBatch, LoadError> {
        let columns = COLUMNS
            .iter()
            .zip(&self.positions)
            .map(|(column, pos)| match pos {
                Some(p) => convert::convert(column, batch.column(*p).as_ref(), self.next_row)
                    .map_err(|error| LoadError::Unstorable {
                        path: self.path.clone(),
                        error,
                    }),
                None => Ok(Values::nulls(column.kind, batch.num_rows())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TripBatch {
            first_row: self.next_row,
            columns,
        })
    }
}

impl Iterator for TripReader {
    type Item = Result<TripBatch, LoadError>;

    fn next(&mut self) -> Option<Self::Item> {
        let path = self.path.clone();
        let batch = match guarded(&path, || self.batches.next()) {
            Err(e) => return Some(Err(e)),
            Ok(None) => return None,
            Ok(Some(Err(e))) => {
                return Some(Err(LoadError::Corrupt {
                    path,
                    detail: e.to_string(),
                }));
            }
            Ok(Some(Ok(batch))) => batch,
        };
        let trips = self.to_trips(&batch);
        self.next_row += batch.num_rows() as u64;
        Some(trips)
    }
}

fn io(path: &str, source: std::io::Error) -> LoadError {
    LoadError::Io {
        path: path.into(),
        source,
    }
}

fn open_regular_file(path: &str) -> Result<File, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound { path: path.into() },
        _ => io(path, e),
    })?;
    if meta.is_dir() {
        return Err(LoadError::IsDirectory { path: path.into() });
    }
    if !meta.is_file() {
        return Err(LoadError::NotRegularFile { path: path.into() });
    }
    File::open(Path::new(path)).map_err(|e| io(path, e))
}

/// Tells "not parquet at all" from "parquet, but cut short" before the parquet crate gives its
/// one generic footer error for both.
fn check_magic(path: &str, mut file: &File, size: u64) -> Result<(), LoadError> {
    if size == 0 {
        return Err(LoadError::Empty { path: path.into() });
    }
    let mut head = [0u8; 4];
    let n = file.read(&mut head).map_err(|e| io(path, e))?;
    if n < 4 || &head != MAGIC {
        return Err(LoadError::NotParquet {
            path: path.into(),
            detail: "The file does not begin with the parquet magic bytes \"PAR1\".".into(),
        });
    }
    let mut tail = [0u8; 4];
    let tail_ok = size >= 12
        && file.seek(SeekFrom::End(-4)).is_ok()
        && file.read_exact(&mut tail).is_ok()
        && &tail == MAGIC;
    file.seek(SeekFrom::Start(0)).map_err(|e| io(path, e))?;
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

/// For each logical column, the index of the file's top-level column with that name (ignoring
/// case), after checking that every required column is there with a usable type.
fn match_columns(path: &str, schema: &Schema) -> Result<Vec<Option<usize>>, LoadError> {
    let mut matched = Vec::with_capacity(COLUMNS.len());
    let mut missing = Vec::new();
    for column in &COLUMNS {
        let mut hits = schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| f.name().eq_ignore_ascii_case(column.source));
        let hit = hits.next();
        if hits.next().is_some() {
            return Err(LoadError::AmbiguousColumn {
                path: path.into(),
                column: column.source,
            });
        }
        match hit {
            None if column.required => missing.push(column.source),
            None => matched.push(None),
            Some((i, field)) => {
                if !convert::accepts(column.kind, field.data_type()) {
                    return Err(LoadError::UnsupportedType {
                        path: path.into(),
                        column: column.source,
                        found: field.data_type().to_string(),
                        expected: convert::expected(column.kind),
                    });
                }
                matched.push(Some(i));
            }
        }
    }
    if !missing.is_empty() {
        let has = |name: &str| {
            schema
                .fields()
                .iter()
                .any(|f| f.name().eq_ignore_ascii_case(name))
        };
        let looks_like = if has("lpep_pickup_datetime") {
            Some("green taxi")
        } else if has("pickup_datetime") && has("dispatching_base_num") {
            Some("for-hire vehicle")
        } else {
            None
        };
        return Err(LoadError::WrongDataset {
            path: path.into(),
            missing,
            looks_like,
        });
    }
    Ok(matched)
}
