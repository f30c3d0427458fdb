//! PostgreSQL heap tuples built as bytes, exactly as `heap_form_tuple` lays them out, so the
//! direct write path can build them on the pool's threads: the backend's main thread then only
//! copies each into a slot and inserts it. pgrx-free; a pg_test checks the bytes against
//! `heap_form_tuple`'s for every kind of attribute.
//!
//! A value is given as a [`Cell`]: `Word` holds what the value's Datum would hold for a by-value
//! attribute (its low `attlen` bytes are stored, as `store_att_byval` stores them), `Bytes` a
//! varlena's payload, `Numeric` a scale-2 numeric by its hundredths.

use std::sync::Arc;

use crate::calendar::UNIX_TO_PG_EPOCH_US;
use crate::convert::numeric::numeric_from_cents;
use crate::trip::Values;

/// `offsetof(HeapTupleHeaderData, t_bits)`.
pub(crate) const HEADER: usize = 23;
pub(crate) const MAXALIGN: usize = 8;
const HEAP_HASNULL: u16 = 0x0001;
const HEAP_HASVARWIDTH: u16 = 0x0002;
const HEAP_NATTS_MASK: u16 = 0x07FF;
/// The longest varlena (header byte included) a 1-byte header can describe.
const VARATT_SHORT_MAX: usize = 0x7F;

/// How a table stores one attribute (from its `pg_attribute` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// attlen: 1, 2, 4 or 8 for the by-value types the loader writes, -1 for a varlena.
    pub len: i16,
    pub by_value: bool,
    /// attalign in bytes: 1, 2, 4 or 8.
    pub align: usize,
    /// attstorage is not 'p' (plain): a short value takes a 1-byte header.
    pub packable: bool,
    pub dropped: bool,
}

/// A table's attributes, checked to be of kinds [`Tuples::push`] can store.
#[derive(Debug, Clone)]
pub struct Layout {
    attributes: Vec<Attribute>,
    /// The row type's OID and typmod, as `heap_form_tuple` stamps them (insertion overwrites them).
    type_id: u32,
    typmod: i32,
}

/// An attribute (by position) the loader never writes values of: neither a by-value type of 1,
/// 2, 4 or 8 bytes nor a varlena.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsupported(pub usize);

impl Layout {
    pub fn new(
        attributes: Vec<Attribute>,
        type_id: u32,
        typmod: i32,
    ) -> Result<Layout, Unsupported> {
        if let Some(i) = attributes.iter().position(|a| {
            !a.dropped && !matches!((a.len, a.by_value), (1 | 2 | 4 | 8, true) | (-1, false))
        }) {
            return Err(Unsupported(i));
        }
        Ok(Layout {
            attributes,
            type_id,
            typmod,
        })
    }

    pub fn len(&self) -> usize {
        self.attributes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }
}

/// One attribute's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Word(u64),
    Bytes(&'a [u8]),
    Numeric(i64),
}

impl<'a> Cell<'a> {
    /// Row `row` of a trip column, as its column stores it.
    pub fn of_trip(values: &'a Values, row: usize) -> Cell<'a> {
        match values {
            Values::Int(v) => v[row].map_or(Cell::Null, |x| Cell::Word(x as i64 as u64)),
            Values::BigInt(v) => v[row].map_or(Cell::Null, |x| Cell::Word(x as u64)),
            Values::Timestamp(v) => v[row].map_or(Cell::Null, |us| {
                Cell::Word((us - UNIX_TO_PG_EPOCH_US) as u64)
            }),
            Values::Float(v) => v[row].map_or(Cell::Null, |x| Cell::Word(x.to_bits())),
            Values::Money(v) => v[row].map_or(Cell::Null, Cell::Numeric),
            Values::Text(v) => v[row]
                .as_ref()
                .map_or(Cell::Null, |s: &Arc<str>| Cell::Bytes(s.as_bytes())),
        }
    }

    pub fn int(x: i64) -> Cell<'a> {
        Cell::Word(x as u64)
    }

    pub fn float(x: Option<f64>) -> Cell<'a> {
        x.map_or(Cell::Null, |x| Cell::Word(x.to_bits()))
    }

    pub fn bool(x: bool) -> Cell<'a> {
        Cell::Word(x as u64)
    }
}

/// Heap tuples (header, null bitmap and data, as `heap_form_tuple` builds them) back to back.
#[derive(Debug, Default)]
pub struct Tuples {
    bytes: Vec<u8>,
    /// Where each tuple ends in `bytes`.
    ends: Vec<usize>,
    /// A numeric's payload, built before it is copied.
    numeric: Vec<u8>,
}

impl Tuples {
    pub fn with_capacity(rows: usize, bytes: usize) -> Tuples {
        Tuples {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
            numeric: Vec::with_capacity(16),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.bytes[s..e])
    }

    /// Appends the tuple of `cells`, one per attribute of `layout` (a dropped attribute's is
    /// ignored: it is stored as NULL).
    ///
    /// Panics if a value does not suit its attribute (a `Word` for a varlena, bytes for a
    /// by-value attribute): the direct write path writes only tables whose columns have the
    /// types its values come in.
    pub fn push(&mut self, layout: &Layout, cells: &[Cell<'_>]) {
        assert_eq!(cells.len(), layout.len(), "one value per attribute");
        let null = |i: usize| layout.attributes[i].dropped || cells[i] == Cell::Null;
        let natts = layout.len();
        let has_null = (0..natts).any(null);
        let start = self.bytes.len();
        let bitmap = if has_null { natts.div_ceil(8) } else { 0 };
        let hoff = (HEADER + bitmap).next_multiple_of(MAXALIGN);
        // The header; its length, infomask and bitmap are filled in below.
        self.bytes.resize(start + hoff, 0);
        let mut infomask = 0u16;
        for (i, (a, cell)) in layout.attributes.iter().zip(cells).enumerate() {
            if null(i) {
                infomask |= HEAP_HASNULL;
                continue;
            }
            if has_null {
                self.bytes[start + HEADER + i / 8] |= 1 << (i % 8);
            }
            match (*cell, a.len) {
                (Cell::Word(w), 1) => self.put(start, a.align, &[w as u8]),
                (Cell::Word(w), 2) => self.put(start, a.align, &(w as u16).to_ne_bytes()),
                (Cell::Word(w), 4) => self.put(start, a.align, &(w as u32).to_ne_bytes()),
                (Cell::Word(w), 8) => self.put(start, a.align, &w.to_ne_bytes()),
                (Cell::Bytes(b), -1) => {
                    infomask |= HEAP_HASVARWIDTH;
                    self.put_varlena(start, a, b);
                }
                (Cell::Numeric(cents), -1) => {
                    infomask |= HEAP_HASVARWIDTH;
                    let mut numeric = std::mem::take(&mut self.numeric);
                    numeric.clear();
                    numeric_from_cents(cents, &mut numeric);
                    self.put_varlena(start, a, &numeric);
                    self.numeric = numeric;
                }
                (cell, len) => panic!("attribute {i} (attlen {len}) cannot store {cell:?}"),
            }
        }
        let len = self.bytes.len() - start;
        let header = &mut self.bytes[start..start + HEADER];
        // t_choice as heap_form_tuple leaves it: datum length, typmod, type.
        header[0..4].copy_from_slice(&(len as i32).to_ne_bytes());
        header[4..8].copy_from_slice(&layout.typmod.to_ne_bytes());
        header[8..12].copy_from_slice(&layout.type_id.to_ne_bytes());
        // t_ctid invalid: block 0xFFFFFFFF (two halves), offset 0.
        header[12..16].copy_from_slice(&[0xFF; 4]);
        header[16..18].copy_from_slice(&0u16.to_ne_bytes());
        header[18..20].copy_from_slice(&((natts as u16) & HEAP_NATTS_MASK).to_ne_bytes());
        header[20..22].copy_from_slice(&infomask.to_ne_bytes());
        header[22] = hoff as u8;
        self.ends.push(self.bytes.len());
    }

    /// Pads the tuple begun at `start` to `align` and appends `value`.
    fn put(&mut self, start: usize, align: usize, value: &[u8]) {
        let offset = (self.bytes.len() - start).next_multiple_of(align);
        self.bytes.resize(start + offset, 0);
        self.bytes.extend_from_slice(value);
    }

    /// A varlena of `payload`: with a 1-byte header and unaligned when it is short enough and the
    /// attribute packable, otherwise aligned with a 4-byte header (`heap_fill_tuple`'s rules for
    /// an in-line, uncompressed value).
    fn put_varlena(&mut self, start: usize, a: &Attribute, payload: &[u8]) {
        if a.packable && payload.len() < VARATT_SHORT_MAX {
            let size = payload.len() as u8 + 1;
            let header = if cfg!(target_endian = "little") {
                (size << 1) | 0x01
            } else {
                size | 0x80
            };
            self.bytes.push(header);
            self.bytes.extend_from_slice(payload);
        } else {
            let size = (payload.len() + 4) as u32;
            let header = if cfg!(target_endian = "little") {
                size << 2
            } else {
                size & 0x3FFF_FFFF
            };
            self.put(start, a.align, &header.to_ne_bytes());
            self.bytes.extend_from_slice(payload);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(len: i16, align: usize) -> Attribute {
        Attribute {
            len,
            by_value: len > 0,
            align,
            packable: true,
            dropped: false,
        }
    }

    #[test]
    fn a_tuple_without_nulls_has_no_bitmap_and_aligned_values() {
        let layout = Layout::new(vec![attr(2, 2), attr(8, 8), attr(-1, 4)], 1234, -1).unwrap();
        let mut t = Tuples::default();
        t.push(&layout, &[Cell::int(-2), Cell::int(7), Cell::Bytes(b"N")]);
        let tuple = t.iter().next().unwrap();
        assert_eq!(tuple[22], 24, "t_hoff: the header alone, maxaligned");
        assert_eq!(u16::from_ne_bytes([tuple[20], tuple[21]]), HEAP_HASVARWIDTH);
        assert_eq!(u16::from_ne_bytes([tuple[18], tuple[19]]), 3);
        assert_eq!(&tuple[24..26], &(-2i16).to_ne_bytes());
        assert_eq!(&tuple[26..32], &[0; 6], "padding before the 8-byte value");
        assert_eq!(&tuple[32..40], &7i64.to_ne_bytes());
        // A short varlena: one header byte, no alignment.
        assert_eq!(tuple.len(), 42);
        assert_eq!(i32::from_ne_bytes(tuple[0..4].try_into().unwrap()), 42);
        assert_eq!(u32::from_ne_bytes(tuple[8..12].try_into().unwrap()), 1234);
        if cfg!(target_endian = "little") {
            assert_eq!(&tuple[40..42], &[(2 << 1) | 1, b'N']);
        }
    }

    #[test]
    fn nulls_and_dropped_attributes_set_the_bitmap() {
        let mut dropped = attr(4, 4);
        dropped.dropped = true;
        let layout = Layout::new(
            vec![attr(4, 4), dropped, attr(1, 1), attr(-1, 4), attr(8, 8)],
            0,
            -1,
        )
        .unwrap();
        let mut t = Tuples::default();
        t.push(
            &layout,
            &[
                Cell::int(5),
                Cell::int(9),
                Cell::Null,
                Cell::Null,
                Cell::float(Some(1.5)),
            ],
        );
        let tuple = t.iter().next().unwrap();
        assert_eq!(tuple[23], 0b10001, "only the first and the last are set");
        assert_eq!(tuple[22], 24);
        assert_eq!(u16::from_ne_bytes([tuple[20], tuple[21]]), HEAP_HASNULL);
        assert_eq!(&tuple[24..28], &5i32.to_ne_bytes());
        assert_eq!(&tuple[32..40], &1.5f64.to_bits().to_ne_bytes());
        assert_eq!(tuple.len(), 40);
    }

    #[test]
    fn a_long_varlena_takes_an_aligned_four_byte_header() {
        let layout = Layout::new(vec![attr(1, 1), attr(-1, 4)], 0, -1).unwrap();
        let long = [7u8; 127];
        let short = [7u8; 126];
        let mut t = Tuples::default();
        t.push(&layout, &[Cell::bool(true), Cell::Bytes(&long)]);
        t.push(&layout, &[Cell::bool(true), Cell::Bytes(&short)]);
        let tuples: Vec<&[u8]> = t.iter().collect();
        assert_eq!(
            tuples[0].len(),
            24 + 4 + 4 + 127,
            "the bool, padding to 4, the header"
        );
        assert_eq!(tuples[0][24], 1);
        assert_eq!(
            tuples[1].len(),
            24 + 1 + 1 + 126,
            "1-byte header up to 127 bytes in all"
        );
        if cfg!(target_endian = "little") {
            assert_eq!(&tuples[0][28..32], &(131u32 << 2).to_ne_bytes());
        }
    }

    #[test]
    fn a_plain_attribute_keeps_the_four_byte_header() {
        let mut plain = attr(-1, 4);
        plain.packable = false;
        let layout = Layout::new(vec![plain], 0, -1).unwrap();
        let mut t = Tuples::default();
        t.push(&layout, &[Cell::Bytes(b"ab")]);
        assert_eq!(t.iter().next().unwrap().len(), 24 + 4 + 2);
    }

    #[test]
    fn numerics_are_stored_as_numeric_from_cents_builds_them() {
        let layout = Layout::new(vec![attr(-1, 4)], 0, -1).unwrap();
        let mut t = Tuples::default();
        t.push(&layout, &[Cell::Numeric(-1234)]);
        let mut payload = Vec::new();
        numeric_from_cents(-1234, &mut payload);
        let tuple = t.iter().next().unwrap();
        assert_eq!(&tuple[25..], &payload[..]);
    }

    #[test]
    fn unsupported_attributes_are_refused_unless_dropped() {
        let name = Attribute {
            len: 64,
            by_value: false,
            align: 1,
            packable: false,
            dropped: false,
        };
        assert_eq!(
            Layout::new(vec![attr(2, 2), name], 0, -1).unwrap_err(),
            Unsupported(1)
        );
        let gone = Attribute {
            dropped: true,
            ..name
        };
        assert!(Layout::new(vec![attr(2, 2), gone], 0, -1).is_ok());
    }

    #[test]
    #[should_panic(expected = "cannot store")]
    fn a_word_for_a_varlena_panics() {
        let layout = Layout::new(vec![attr(-1, 4)], 0, -1).unwrap();
        Tuples::default().push(&layout, &[Cell::int(1)]);
    }

    #[test]
    fn trip_values_become_their_columns_cells() {
        let ts = Values::Timestamp(vec![Some(UNIX_TO_PG_EPOCH_US + 5), None]);
        assert_eq!(Cell::of_trip(&ts, 0), Cell::Word(5));
        assert_eq!(Cell::of_trip(&ts, 1), Cell::Null);
        let int = Values::Int(vec![Some(-1)]);
        assert_eq!(Cell::of_trip(&int, 0), Cell::Word(u64::MAX));
        let money = Values::Money(vec![Some(250)]);
        assert_eq!(Cell::of_trip(&money, 0), Cell::Numeric(250));
        let text = Values::Text(vec![Some(Arc::from("Y"))]);
        assert_eq!(Cell::of_trip(&text, 0), Cell::Bytes(b"Y"));
    }
}
