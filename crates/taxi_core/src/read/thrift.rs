//! Just enough of Thrift's compact protocol to walk parquet's footer and page headers without
//! decoding them: the memory checks read each page's declared sizes, and the fault generator
//! finds the footer's row counts and sizes to make them absurd. The parquet crate keeps its
//! Thrift decoder private. pgrx-free; every read is bounds-checked and nesting is limited, so a
//! hostile header gives `None`, never a panic or a deep recursion.

/// Deeper nesting than parquet's metadata ever has (it needs about 6) is treated as malformed.
const MAX_DEPTH: usize = 32;

/// An integer field met while walking: the field ids from the outermost struct down to it (list
/// elements add nothing to the path), where its varint lies, and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntField {
    pub path: Vec<i16>,
    pub bytes: std::ops::Range<usize>,
    pub value: i64,
}

struct Walker<'a, F> {
    buf: &'a [u8],
    at: usize,
    path: Vec<i16>,
    visit: F,
}

impl<F: FnMut(&IntField)> Walker<'_, F> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return None;
            }
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some((v >> 1) as i64 ^ -((v & 1) as i64))
    }

    fn skip(&mut self, n: u64) -> Option<()> {
        let end = self.at.checked_add(usize::try_from(n).ok()?)?;
        (end <= self.buf.len()).then(|| self.at = end)
    }

    /// One value of compact type `ty`; `field` is its id when it is a struct field.
    fn value(&mut self, ty: u8, field: Option<i16>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match ty {
            1 | 2 => Some(()), // booleans: in the field header (in lists, a byte: see list)
            3 => self.skip(1),
            4..=6 => {
                let start = self.at;
                let value = self.zigzag()?;
                if let Some(id) = field {
                    self.path.push(id);
                    (self.visit)(&IntField {
                        path: self.path.clone(),
                        bytes: start..self.at,
                        value,
                    });
                    self.path.pop();
                }
                Some(())
            }
            7 => self.skip(8),
            13 => self.skip(16), // uuid
            8 => {
                let len = self.varint()?;
                self.skip(len)
            }
            9 | 10 => {
                let header = self.byte()?;
                let size = match header >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                let elem = header & 0x0f;
                if let Some(id) = field {
                    self.path.push(id);
                }
                for _ in 0..size {
                    if matches!(elem, 1 | 2) {
                        self.skip(1)?;
                    } else {
                        self.value(elem, None, depth + 1)?;
                    }
                }
                if field.is_some() {
                    self.path.pop();
                }
                Some(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Some(());
                }
                let kinds = self.byte()?;
                for _ in 0..size {
                    for t in [kinds >> 4, kinds & 0x0f] {
                        if matches!(t, 1 | 2) {
                            self.skip(1)?;
                        } else {
                            self.value(t, None, depth + 1)?;
                        }
                    }
                }
                Some(())
            }
            12 => {
                if let Some(id) = field {
                    self.path.push(id);
                }
                self.fields(depth + 1)?;
                if field.is_some() {
                    self.path.pop();
                }
                Some(())
            }
            _ => None,
        }
    }

    /// The fields of a struct, up to and including its stop byte.
    fn fields(&mut self, depth: usize) -> Option<()> {
        let mut last: i16 = 0;
        loop {
            let header = self.byte()?;
            if header == 0 {
                return Some(());
            }
            let ty = header & 0x0f;
            let id = match header >> 4 {
                0 => i16::try_from(self.zigzag()?).ok()?,
                delta => last.checked_add(i16::from(delta))?,
            };
            last = id;
            self.value(ty, Some(id), depth)?;
        }
    }
}

/// Walks the struct that starts at `buf[0]`, calling `visit` for each integer field in it and
/// in the structs and lists it holds. Returns the struct's length in bytes, or None when the
/// bytes are not a complete, well-formed struct.
pub fn walk_struct(buf: &[u8], visit: impl FnMut(&IntField)) -> Option<usize> {
    let mut w = Walker {
        buf,
        at: 0,
        path: Vec::new(),
        visit,
    };
    w.fields(0)?;
    Some(w.at)
}

/// What the memory checks need of a page header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizes {
    /// Bytes of the header itself.
    pub header_len: usize,
    pub page_type: i64,
    pub uncompressed: i64,
    pub compressed: i64,
}

/// Page type of a dictionary page (parquet's PageType enum).
pub const DICTIONARY_PAGE: i64 = 2;

/// The sizes a page header at `buf[0]` declares (parquet's PageHeader: 1 type, 2 uncompressed
/// size, 3 compressed size).
pub fn page_sizes(buf: &[u8]) -> Option<PageSizes> {
    let (mut ty, mut uncompressed, mut compressed) = (None, None, None);
    let header_len = walk_struct(buf, |f| match f.path[..] {
        [1] => ty = Some(f.value),
        [2] => uncompressed = Some(f.value),
        [3] => compressed = Some(f.value),
        _ => {}
    })?;
    Some(PageSizes {
        header_len,
        page_type: ty?,
        uncompressed: uncompressed?,
        compressed: compressed?,
    })
}

/// `value` as a compact-protocol zigzag varint.
pub fn encode_zigzag(value: i64) -> Vec<u8> {
    let mut v = ((value << 1) ^ (value >> 63)) as u64;
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use parquet::file::metadata::ParquetMetaDataReader;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    fn sample() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/yellow_tripdata_2025-02_sample5000.parquet"
        ))
        .unwrap()
    }

    fn footer(file: &[u8]) -> &[u8] {
        let n = file.len();
        let len = u32::from_le_bytes(file[n - 8..n - 4].try_into().unwrap()) as usize;
        &file[n - 8 - len..n - 8]
    }

    #[test]
    fn zigzag_round_trips() {
        for v in [0i64, 1, -1, 63, -64, 64, 1 << 40, i64::MAX, i64::MIN] {
            let bytes = encode_zigzag(v);
            let mut seen = None;
            // A struct holding one i64 field (id 1): header 0x16, the value, stop.
            let mut s = vec![0x16];
            s.extend(&bytes);
            s.push(0);
            assert_eq!(walk_struct(&s, |f| seen = Some(f.value)), Some(s.len()));
            assert_eq!(seen, Some(v));
        }
    }

    /// The walk finds what the parquet crate itself reads from the same footer.
    #[test]
    fn the_footer_walk_agrees_with_the_parquet_crate() {
        let file = sample();
        let meta = ParquetMetaDataReader::new()
            .parse_and_finish(&Bytes::from(file.clone()))
            .unwrap();
        let footer = footer(&file);
        let mut fields = Vec::new();
        assert_eq!(
            walk_struct(footer, |f| fields.push(f.clone())),
            Some(footer.len())
        );
        let values = |path: &[i16]| -> Vec<i64> {
            fields
                .iter()
                .filter(|f| f.path == path)
                .map(|f| f.value)
                .collect()
        };
        assert_eq!(values(&[3]), vec![meta.file_metadata().num_rows()]);
        let groups: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(values(&[4, 3]), groups);
        let sizes: Vec<i64> = meta
            .row_groups()
            .iter()
            .flat_map(|g| g.columns().iter().map(|c| c.uncompressed_size()))
            .collect();
        assert_eq!(values(&[4, 1, 3, 6]), sizes);
        for f in &fields {
            assert_eq!(footer[f.bytes.clone()], encode_zigzag(f.value), "{f:?}");
        }
    }

    /// Every page header of the sample, walked, gives the sizes the crate's page reader uses.
    #[test]
    fn page_headers_give_their_sizes() {
        let file = sample();
        let reader = SerializedFileReader::new(Bytes::from(file.clone())).unwrap();
        let mut pages = 0;
        for g in 0..reader.num_row_groups() {
            let rg = reader.metadata().row_group(g);
            for c in rg.columns() {
                let (start, len) = c.byte_range();
                let (mut at, end) = (start as usize, (start + len) as usize);
                let mut dictionary = false;
                while at < end {
                    let p = page_sizes(&file[at..end]).unwrap();
                    assert!(p.uncompressed >= 0 && p.compressed >= 0);
                    dictionary |= p.page_type == DICTIONARY_PAGE;
                    at += p.header_len + p.compressed as usize;
                    pages += 1;
                }
                assert_eq!(at, end);
                assert_eq!(dictionary, c.dictionary_page_offset().is_some());
            }
        }
        assert!(pages >= 19, "{pages}");
    }

    #[test]
    fn malformed_bytes_give_none() {
        assert_eq!(walk_struct(&[], |_| {}), None);
        // An i64 field whose varint never ends.
        assert_eq!(walk_struct(&[0x16, 0xff, 0xff], |_| {}), None);
        // A binary field longer than the buffer.
        assert_eq!(walk_struct(&[0x18, 0x7f, 1, 2], |_| {}), None);
        // Structs nested past the limit.
        let deep = vec![0x1c; 10_000];
        assert_eq!(walk_struct(&deep, |_| {}), None);
        // A list claiming 2^60 elements.
        let mut huge = vec![0x19, 0xf5];
        huge.extend(encode_zigzag(1 << 59));
        assert_eq!(walk_struct(&huge, |_| {}), None);
        // Unknown type nibble.
        assert_eq!(walk_struct(&[0x1d, 0], |_| {}), None);
        // A page header without its sizes.
        assert_eq!(page_sizes(&[0x15, 0x00, 0x00]), None);
        // Every prefix of a real header is incomplete, never a panic.
        let file = sample();
        for cut in 0..40 {
            let _ = page_sizes(&file[4..4 + cut]);
        }
    }
}
