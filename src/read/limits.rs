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

use parquet::column::page::Page;
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::FileReader;
use parquet::file::serialized_reader::SerializedFileReader;

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

fn too_large(path: &str, detail: String) -> LoadError {
    LoadError::TooLarge {
        path: path.into(),
        detail,
    }
}

/// Checks every row group: `leaves` are the selected leaf columns with their logical kind and
/// name.
pub fn check(
    path: &str,
    file: &File,
    metadata: &ParquetMetaData,
    leaves: &[(usize, Kind, &'static str)],
    chunk_size: usize,
) -> Result<(), LoadError> {
    let corrupt = |e: parquet::errors::ParquetError| LoadError::Corrupt {
        path: path.into(),
        detail: e.to_string(),
    };
    let mut pages: Option<SerializedFileReader<File>> = None;
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
            if pages.is_none() {
                let clone = file.try_clone().map_err(|e| LoadError::Io {
                    path: path.into(),
                    source: e,
                })?;
                pages = Some(SerializedFileReader::new(clone).map_err(corrupt)?);
            }
            let reader = pages.as_ref().expect("opened above");
            let group = reader.get_row_group(g).map_err(corrupt)?;
            let mut page_reader = group.get_column_page_reader(leaf).map_err(corrupt)?;
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
