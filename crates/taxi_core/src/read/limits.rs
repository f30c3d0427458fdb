//! Memory limits, checked against the file's footer and dictionaries before anything is decoded,
//! so that a hostile or absurd file fails with a clear error instead of driving the backend into
//! the out-of-memory killer. pgrx-free.
//!
//! Two ways a small file can decode to a huge chunk: values that are simply large (the footer
//! declares each column chunk's uncompressed size), and a dictionary bomb — a dictionary page
//! holding one large string that every row references (its uncompressed size is small; decoding
//! repeats the string for every row). The first is bounded by the declared sizes, the second by
//! the longest dictionary value times the rows of a chunk. A third: pages. The decoder holds one
//! decompressed page of every column (and its dictionary) at once, and a page may be as large as
//! its header says — an honest writer can put a whole row group of long strings into one page of
//! hundreds of megabytes that compresses to almost nothing. Every page header is read (not the
//! pages) and the pages held at once are bounded too.

use std::sync::Arc;

use bytes::Bytes;
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::reader::{ChunkReader, Length};
use parquet::file::serialized_reader::SerializedPageReader;

use super::input::Input;

use crate::error::LoadError;
use crate::trip::Kind;

/// Decoded bytes one chunk may need, estimated (a month at chunk_size 100,000 needs about 10 MB).
pub const MAX_CHUNK_BYTES: u64 = 512 << 20;

/// Decompressed page bytes held at once while a row group is read: for every column its dictionary
/// page and its largest data page (a month's pages are about 1 MB each).
pub const MAX_PAGE_BYTES: u64 = 256 << 20;

/// Bytes first tried for a page header: a header is a few dozen bytes, one with large statistics
/// a few kilobytes. A header that is not complete within that is tried with four times the bytes,
/// up to [`MAX_HEADER_BYTES`]; past that, or past its column chunk, it is refused as damaged.
const HEADER_WINDOW: u64 = 4096;
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Bytes read from the file at once while walking page headers: sixteen times a header's first
/// window, so that a window past what is held is read again at most once in sixteen (the bytes
/// read stay near the chunk's size, however small or large its pages).
const READ_AHEAD: u64 = 64 << 10;

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

/// What the checks did, so that tests can bound it: the work must stay proportional to the file
/// whatever its bytes say.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Bytes read from the file by the checks (footer, page headers, text dictionaries).
    pub bytes_read: u64,
    /// Bytes of Thrift walked (a header tried again with more bytes counts again).
    pub thrift_walked: u64,
    /// Page headers found well formed.
    pub headers: u64,
}

/// A column chunk's bytes, read from the file a window at a time.
struct ChunkBytes<'f> {
    file: &'f Input,
    end: u64,
    held_from: u64,
    held: Vec<u8>,
}

impl ChunkBytes<'_> {
    /// The bytes from `at` on, at least `want` of them unless the chunk ends first.
    fn from(&mut self, at: u64, want: u64, work: &mut Work) -> std::io::Result<&[u8]> {
        let n = want.min(self.end - at);
        let held_to = self.held_from + self.held.len() as u64;
        if at < self.held_from || at + n > held_to {
            let len = n.max(READ_AHEAD).min(self.end - at);
            self.held.resize(len as usize, 0);
            self.file.read_exact_at(&mut self.held, at)?;
            self.held_from = at;
            work.bytes_read += len;
        }
        let from = (at - self.held_from) as usize;
        Ok(&self.held[from..from + n as usize])
    }
}

/// The decompressed sizes of a column chunk's dictionary page and of its largest data page, from
/// its page headers (`start`, `len`: the chunk's bytes). Every header the decoder will read is
/// walked here first, and one that is not well-formed Thrift is refused (XX001): the parquet
/// crate's decoder, given a damaged header, can spend seconds skipping a list of billions of
/// empty elements (a 175 KB fuzz finding took 2 s to reject in a release build). The walk takes
/// at least one byte per element, so its work is bounded by the chunk's size.
fn page_sizes(
    file: &Input,
    start: u64,
    len: u64,
    work: &mut Work,
) -> Result<(u64, u64), PageError> {
    let end = start.saturating_add(len);
    let (mut dictionary, mut largest) = (0u64, 0u64);
    let mut chunk = ChunkBytes {
        file,
        end,
        held_from: start,
        held: Vec::new(),
    };
    let mut at = start;
    while at < end {
        let mut want = HEADER_WINDOW;
        let parsed = loop {
            let bytes = chunk.from(at, want, work).map_err(PageError::Io)?;
            work.thrift_walked += bytes.len() as u64;
            let parsed = super::thrift::page_sizes(bytes);
            if parsed.is_some() || (bytes.len() as u64) < want || want >= MAX_HEADER_BYTES {
                break parsed;
            }
            want *= 4;
        };
        let Some(page) = parsed.filter(|p| p.uncompressed >= 0 && p.compressed >= 0) else {
            return Err(PageError::Malformed { offset: at });
        };
        work.headers += 1;
        let size = page.uncompressed as u64;
        if page.page_type == super::thrift::DICTIONARY_PAGE {
            dictionary = dictionary.max(size);
        } else {
            largest = largest.max(size);
        }
        at = at
            .saturating_add(page.header_len as u64)
            .saturating_add(page.compressed as u64);
    }
    Ok((dictionary, largest))
}

enum PageError {
    Io(std::io::Error),
    Malformed { offset: u64 },
}

/// The footer's bytes, walked before the parquet crate decodes them, for the reason
/// [`page_sizes`] walks page headers: its work must stay proportional to the footer's size. The
/// reader decodes these bytes; the file's footer is read once. `file_len` is at least 12 and the
/// file ends with "PAR1" (checked before).
pub fn read_footer(
    path: &str,
    file: &Input,
    file_len: u64,
    work: &mut Work,
) -> Result<Vec<u8>, LoadError> {
    let io = |e| LoadError::Io {
        path: path.into(),
        source: e,
    };
    let corrupt = |detail| LoadError::Corrupt {
        path: path.into(),
        detail,
    };
    let mut tail = [0u8; 4];
    file.read_exact_at(&mut tail, file_len - 8).map_err(io)?;
    let len = u64::from(u32::from_le_bytes(tail));
    if len + 8 > file_len - 4 {
        return Err(corrupt(format!(
            "The footer declares {len} bytes of metadata, but the file is only {file_len} bytes."
        )));
    }
    let mut footer = vec![0u8; len as usize];
    file.read_exact_at(&mut footer, file_len - 8 - len)
        .map_err(io)?;
    work.bytes_read += len + 4;
    work.thrift_walked += len;
    if super::thrift::walk_struct(&footer, |_| {}).is_none() {
        return Err(corrupt(format!(
            "The footer ({len} bytes) is not well-formed Thrift."
        )));
    }
    Ok(footer)
}

/// Where a column chunk's bytes lie, as its metadata says. `ColumnChunkMetaData::byte_range`
/// panics on negative values, which a damaged footer can hold; here they read as "nothing"
/// (start past any file) and the decoder reports the damage.
fn chunk_range(column: &parquet::file::metadata::ColumnChunkMetaData) -> (u64, u64) {
    let start = column
        .dictionary_page_offset()
        .unwrap_or(column.data_page_offset());
    match (
        u64::try_from(start),
        u64::try_from(column.compressed_size()),
    ) {
        (Ok(start), Ok(len)) => (start, len),
        _ => (u64::MAX, 0),
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
    file: &Input,
    file_len: u64,
    metadata: &ParquetMetaData,
    leaves: &[(usize, Kind, &'static str)],
    chunk_size: usize,
    work: &mut Work,
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
        let mut held = 0u64;
        let mut biggest: Option<(u64, &str)> = None;
        for &(leaf, _, name) in leaves {
            let (start, len) = chunk_range(rg.column(leaf));
            let len = len.min(file_len.saturating_sub(start));
            let (dictionary, data) =
                page_sizes(file, start, len, work).map_err(|e| match e {
                    PageError::Io(source) => LoadError::Io {
                        path: path.into(),
                        source,
                    },
                    PageError::Malformed { offset } => LoadError::Corrupt {
                        path: path.into(),
                        detail: format!(
                            "Column {name} in row group {g}: the page header at byte {offset} is not well-formed Thrift."
                        ),
                    },
                })?;
            held = held.saturating_add(dictionary).saturating_add(data);
            if biggest.is_none_or(|(b, _)| data > b) {
                biggest = Some((data, name));
            }
        }
        if held > MAX_PAGE_BYTES {
            let (data, name) = biggest.unwrap_or_default();
            return Err(too_large(
                path,
                format!(
                    "Row group {g} needs {} MB of decompressed pages at once (at most {} MB); column {name} has a page of {} MB.",
                    held >> 20,
                    MAX_PAGE_BYTES >> 20,
                    data >> 20
                ),
            ));
        }
        for &(leaf, _, name) in leaves {
            // Byte-array dictionaries: text, and also the older layouts' text timestamps, vendor
            // names and payment strings.
            let byte_array =
                rg.column(leaf).column_descr().physical_type() == parquet::basic::Type::BYTE_ARRAY;
            if !byte_array || rg.column(leaf).dictionary_page_offset().is_none() {
                continue;
            }
            let column = rg.column(leaf);
            let (start, len) = chunk_range(column);
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
            work.bytes_read += len;
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
