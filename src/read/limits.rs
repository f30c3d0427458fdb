//! Memory limits, checked against the file's footer and dictionaries before anything is decoded,
//! so that a hostile or absurd file fails with a clear error instead of driving the backend into
//! the out-of-memory killer. pgrx-free.
//!
//! Two ways a small file can decode to a huge chunk: values that are simply large (the footer
//! declares each column chunk's uncompressed size), and a dictionary bomb — a dictionary page
//! holding one large string that every row references (its uncompressed size is small; decoding
//! repeats the string for every row). The first is bounded by the declared sizes, the second by
//! the longest dictionary value times the rows of a chunk.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use bytes::Bytes;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use crate::error::LoadError;
use crate::trip::Kind;

/// Decoded bytes one chunk may need, estimated (a month at chunk_size 100,000 needs about 10 MB).
pub const MAX_CHUNK_BYTES: u64 = 512 << 20;

/// The longest text value accepted (the one text column, store_and_fwd_flag, holds "Y" or "N").
pub const MAX_TEXT_BYTES: u64 = 4096;

/// Decoded bytes a chunk of `chunk_rows` rows needs, from the row group's declared uncompressed
/// bytes and rows.
pub fn chunk_bytes(uncompressed: u64, rows: u64, chunk_rows: u64) -> u64 {
    if rows == 0 {
        return 0;
    }
    (uncompressed as u128 * chunk_rows.min(rows) as u128 / rows as u128) as u64
}

/// The longest value of a plain-encoded byte-array dictionary page.
pub fn longest_plain_value(page: &[u8]) -> Option<u64> {
    let mut at = 0usize;
    let mut longest = 0u64;
    while at < page.len() {
        let len = u32::from_le_bytes(page.get(at..at + 4)?.try_into().ok()?) as usize;
        at = at.checked_add(4 + len)?;
        if at > page.len() {
            return None;
        }
        longest = longest.max(len as u64);
    }
    Some(longest)
}

/// One column chunk's bytes, read into memory, seen at their file offsets. Page headers are
/// parsed from memory: parsed straight from the file, a damaged header found by the fuzzer made
/// the thrift decoder issue millions of tiny reads (a minute for a 175 KB file).
struct Window {
    start: u64,
    bytes: Bytes,
    file_len: u64,
}

impl Length for Window {
    fn len(&self) -> u64 {
        self.file_len
    }
}

impl ChunkReader for Window {
    type T = bytes::buf::Reader<Bytes>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        use bytes::Buf;
        self.get_bytes(start, 0)?;
        Ok(self.bytes.slice((start - self.start) as usize..).reader())
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let from = start.checked_sub(self.start).map(|f| f as usize);
        match from {
            Some(f)
                if f.checked_add(length)
                    .is_some_and(|end| end <= self.bytes.len()) =>
            {
                Ok(self.bytes.slice(f..f + length))
            }
            _ => Err(parquet::errors::ParquetError::General(format!(
                "page at offset {start} lies outside its column chunk"
            ))),
        }
    }
}

fn too_large(path: &str, detail: String) -> LoadError {
    LoadError::TooLarge {
        path: path.into(),
        detail,
    }
}

/// Checks every row group of `file` (`file_len` bytes): `leaves` are the selected leaf columns
/// with their logical kind and name.
pub fn check(
    path: &str,
    file: &File,
    file_len: u64,
    metadata: &ParquetMetaData,
    leaves: &[(usize, Kind, &'static str)],
    chunk_size: usize,
) -> Result<(), LoadError> {
    let corrupt = |e: parquet::errors::ParquetError| LoadError::Corrupt {
        path: path.into(),
        detail: e.to_string(),
    };
    for (g, rg) in metadata.row_groups().iter().enumerate() {
        let rows = rg.num_rows().max(0) as u64;
        let chunk_rows = (chunk_size as u64).min(rows);
        let declared: u64 = leaves
            .iter()
            .map(|(leaf, _, _)| rg.column(*leaf).uncompressed_size().max(0) as u64)
            .sum();
        let need = chunk_bytes(declared, rows, chunk_size as u64);
        if need > MAX_CHUNK_BYTES {
            return Err(too_large(
                path,
                format!(
                    "Row group {g} declares {declared} bytes for {rows} rows: a chunk of {chunk_rows} rows would need about {} MB (at most {} MB).",
                    need >> 20,
                    MAX_CHUNK_BYTES >> 20
                ),
            ));
        }
        for &(leaf, kind, name) in leaves {
            if kind != Kind::Text || rg.column(leaf).dictionary_page_offset().is_none() {
                continue;
            }
            let column = rg.column(leaf);
            let (start, len) = column.byte_range();
            if start.checked_add(len).is_none_or(|end| end > file_len) {
                return Err(LoadError::Corrupt {
                    path: path.into(),
                    detail: format!(
                        "Column {name} in row group {g} claims bytes {start}..+{len} of a {file_len}-byte file."
                    ),
                });
            }
            let mut buf = vec![0u8; len as usize];
            file.read_exact_at(&mut buf, start)
                .map_err(|e| LoadError::Io {
                    path: path.into(),
                    source: e,
                })?;
            let window = Window {
                start,
                bytes: Bytes::from(buf),
                file_len,
            };
            let mut page_reader =
                SerializedPageReader::new(Arc::new(window), column, rows as usize, None)
                    .map_err(corrupt)?;
            if let Some(Page::DictionaryPage { buf, .. }) =
                page_reader.get_next_page().map_err(corrupt)?
            {
                let longest = longest_plain_value(&buf).ok_or_else(|| LoadError::Corrupt {
                    path: path.into(),
                    detail: format!(
                        "The dictionary of column {name} in row group {g} is malformed."
                    ),
                })?;
                if longest > MAX_TEXT_BYTES || longest * chunk_rows > MAX_CHUNK_BYTES {
                    return Err(too_large(
                        path,
                        format!(
                            "Column {name} in row group {g} has a value of {longest} bytes (at most {MAX_TEXT_BYTES}), which every one of its {rows} rows may repeat."
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_estimates_and_dictionary_values() {
        assert_eq!(chunk_bytes(1000, 100, 10), 100);
        assert_eq!(chunk_bytes(1000, 100, 1000), 1000);
        assert_eq!(chunk_bytes(5, 0, 10), 0);
        assert_eq!(chunk_bytes(u64::MAX, 1, 1), u64::MAX);
        let mut page = Vec::new();
        for v in ["N", "Y", "longer"] {
            page.extend_from_slice(&(v.len() as u32).to_le_bytes());
            page.extend_from_slice(v.as_bytes());
        }
        assert_eq!(longest_plain_value(&page), Some(6));
        assert_eq!(longest_plain_value(&page[..page.len() - 1]), None);
        assert_eq!(longest_plain_value(&[]), Some(0));
        assert_eq!(longest_plain_value(&[0xff, 0xff, 0xff, 0xff]), None);
    }
}
