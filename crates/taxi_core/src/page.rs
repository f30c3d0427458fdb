//! Heap pages and visibility-map pages built as bytes, laid out as `heap_multi_insert` fills a
//! table COPY FREEZE writes: tuples from [`crate::tuple`] packed in order until the next one does
//! not fit, each stamped with its inserting transaction, frozen and with its own TID; the page
//! all-visible, and the visibility map saying all-visible and all-frozen for every page. The
//! direct write path writes such pages to a table its load created, so the backend's main thread
//! no longer goes through the buffer manager and a WAL record per group of tuples. pgrx-free; a
//! pg_test compares such pages with `table_multi_insert`'s through `pageinspect` and
//! `pg_visibility`, and scripts/sqltest rebuilds them from WAL after a crash.

use crate::tuple::{HEADER, MAXALIGN};

/// PostgreSQL's block size (a server built with another gets no pages written this way).
pub const BLCKSZ: usize = 8192;
/// `SizeOfPageHeaderData`, also `MAXALIGN` of it.
const PAGE_HEADER: usize = 24;
/// `sizeof(ItemIdData)`.
const ITEM_ID: usize = 4;
/// `MaxHeapTuplesPerPage` for 8 kB blocks.
const MAX_TUPLES: usize = 291;
/// `TOAST_TUPLE_THRESHOLD` for 8 kB blocks: a longer tuple would be toasted by
/// `heap_multi_insert`, so it cannot go into a page as it is.
pub const TOAST_TUPLE_THRESHOLD: usize = 2032;
const PG_PAGE_LAYOUT_VERSION: u16 = 4;
const PD_ALL_VISIBLE: u16 = 0x0004;
const LP_NORMAL: u32 = 1;
const HEAP_XACT_MASK: u16 = 0xFFF0;
const HEAP2_XACT_MASK: u16 = 0xE000;
/// `HEAP_XMIN_COMMITTED | HEAP_XMIN_INVALID`.
const HEAP_XMIN_FROZEN: u16 = 0x0300;
const HEAP_XMAX_INVALID: u16 = 0x0800;
/// Heap blocks one visibility-map page covers (`HEAPBLOCKS_PER_PAGE`), two bits each.
pub const HEAP_BLOCKS_PER_MAP_PAGE: u32 = ((BLCKSZ - PAGE_HEADER) * 4) as u32;
/// `VISIBILITYMAP_ALL_VISIBLE | VISIBILITYMAP_ALL_FROZEN`.
const MAP_ALL: u8 = 0x03;

/// One block, aligned as PostgreSQL's `PGAlignedBlock`.
#[repr(C, align(8))]
pub struct Block(pub [u8; BLCKSZ]);

impl Block {
    fn zeroed() -> Box<Block> {
        Box::new(Block([0; BLCKSZ]))
    }

    /// An empty page as `PageInit(page, BLCKSZ, 0)` leaves it, with `flags`.
    fn init(&mut self, flags: u16) {
        self.0.fill(0);
        self.set_u16(10, flags);
        self.set_u16(12, PAGE_HEADER as u16);
        self.set_u16(14, BLCKSZ as u16);
        self.set_u16(16, BLCKSZ as u16);
        self.set_u16(18, BLCKSZ as u16 | PG_PAGE_LAYOUT_VERSION);
    }

    fn u16_at(&self, at: usize) -> u16 {
        u16::from_ne_bytes([self.0[at], self.0[at + 1]])
    }

    fn set_u16(&mut self, at: usize, v: u16) {
        self.0[at..at + 2].copy_from_slice(&v.to_ne_bytes());
    }
}

/// The heap page being filled.
pub struct HeapPage {
    block: Box<Block>,
    /// Its block number: the TIDs of its tuples name it.
    number: u32,
    items: usize,
}

/// Who inserts the tuples: the transaction and command, as `heap_prepare_insert` stamps them.
#[derive(Clone, Copy, Debug)]
pub struct Inserter {
    pub xid: u32,
    pub cid: u32,
}

impl HeapPage {
    /// An empty page that will be block `number`.
    pub fn new(number: u32) -> HeapPage {
        let mut block = Block::zeroed();
        block.init(PD_ALL_VISIBLE);
        HeapPage {
            block,
            number,
            items: 0,
        }
    }

    pub fn number(&self) -> u32 {
        self.number
    }

    pub fn is_empty(&self) -> bool {
        self.items == 0
    }

    /// Whether `tuple` fits, by `heap_multi_insert`'s test (`PageGetHeapFreeSpace`, fillfactor
    /// 100).
    pub fn fits(&self, tuple: &[u8]) -> bool {
        let (lower, upper) = (
            self.block.u16_at(12) as usize,
            self.block.u16_at(14) as usize,
        );
        self.items < MAX_TUPLES
            && upper - lower >= ITEM_ID
            && upper - lower - ITEM_ID >= tuple.len().next_multiple_of(MAXALIGN)
    }

    /// Adds `tuple` (built by [`crate::tuple::Tuples`], at most [`TOAST_TUPLE_THRESHOLD`] bytes)
    /// as inserted by `by`, frozen, as `PageAddItem` places it: the tuple below the previous one,
    /// maxaligned, its line pointer after the previous one's. The caller checked [`Self::fits`].
    pub fn add(&mut self, tuple: &[u8], by: Inserter) {
        debug_assert!(self.fits(tuple) && tuple.len() <= TOAST_TUPLE_THRESHOLD);
        let (lower, upper) = (
            self.block.u16_at(12) as usize,
            self.block.u16_at(14) as usize,
        );
        let at = upper - tuple.len().next_multiple_of(MAXALIGN);
        self.items += 1;
        let page = &mut self.block.0;
        page[at..at + tuple.len()].copy_from_slice(tuple);
        let item = at as u32 | (LP_NORMAL << 15) | ((tuple.len() as u32) << 17);
        page[lower..lower + ITEM_ID].copy_from_slice(&item.to_ne_bytes());
        // The header as heap_prepare_insert and RelationPutHeapTuple leave it.
        let h = &mut page[at..at + HEADER];
        h[0..4].copy_from_slice(&by.xid.to_ne_bytes());
        h[4..8].copy_from_slice(&0u32.to_ne_bytes());
        h[8..12].copy_from_slice(&by.cid.to_ne_bytes());
        h[12..14].copy_from_slice(&((self.number >> 16) as u16).to_ne_bytes());
        h[14..16].copy_from_slice(&(self.number as u16).to_ne_bytes());
        h[16..18].copy_from_slice(&(self.items as u16).to_ne_bytes());
        let infomask2 = u16::from_ne_bytes([h[18], h[19]]) & !HEAP2_XACT_MASK;
        h[18..20].copy_from_slice(&infomask2.to_ne_bytes());
        let infomask = (u16::from_ne_bytes([h[20], h[21]]) & !HEAP_XACT_MASK)
            | HEAP_XMAX_INVALID
            | HEAP_XMIN_FROZEN;
        h[20..22].copy_from_slice(&infomask.to_ne_bytes());
        self.block.set_u16(12, (lower + ITEM_ID) as u16);
        self.block.set_u16(14, at as u16);
    }

    /// The page's bytes, to stamp its LSN and checksum into and write.
    pub fn block_mut(&mut self) -> &mut Block {
        &mut self.block
    }

    /// Empties the page to be block `number`, keeping its memory.
    pub fn reuse(&mut self, number: u32) {
        self.block.init(PD_ALL_VISIBLE);
        self.number = number;
        self.items = 0;
    }
}

/// The visibility map of a table whose blocks `0..heap_blocks` are all-visible and all-frozen:
/// its pages in order.
pub fn visibility_map(heap_blocks: u32) -> Vec<Box<Block>> {
    let pages = heap_blocks.div_ceil(HEAP_BLOCKS_PER_MAP_PAGE);
    (0..pages)
        .map(|p| {
            let mut block = Block::zeroed();
            block.init(0);
            let first = p * HEAP_BLOCKS_PER_MAP_PAGE;
            let n = (heap_blocks - first).min(HEAP_BLOCKS_PER_MAP_PAGE) as usize;
            let map = &mut block.0[PAGE_HEADER..];
            map[..n / 4].fill(0xFF);
            for b in 0..n % 4 {
                map[n / 4] |= MAP_ALL << (2 * b);
            }
            block
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuple::{Attribute, Cell, Layout, Tuples};

    fn tuples(n: usize, text: usize) -> Tuples {
        let layout = Layout::new(
            vec![
                Attribute {
                    len: 8,
                    by_value: true,
                    align: 8,
                    packable: false,
                    dropped: false,
                },
                Attribute {
                    len: -1,
                    by_value: false,
                    align: 4,
                    packable: true,
                    dropped: false,
                },
            ],
            0,
            -1,
        )
        .unwrap();
        let mut t = Tuples::with_capacity(n, n * 64);
        let payload = vec![b'x'; text];
        for i in 0..n {
            t.push(&layout, &[Cell::int(i as i64), Cell::Bytes(&payload)]);
        }
        t
    }

    const BY: Inserter = Inserter { xid: 777, cid: 3 };

    #[test]
    fn packs_as_page_add_item_and_stamps_headers() {
        let t = tuples(2, 10);
        let mut page = HeapPage::new(0x0001_0002);
        let all: Vec<&[u8]> = t.iter().collect();
        for tuple in &all {
            assert!(page.fits(tuple));
            page.add(tuple, BY);
        }
        let b = &page.block_mut().0;
        let u16_at = |at: usize| u16::from_ne_bytes([b[at], b[at + 1]]);
        // 24 + 8 + 1 + 10 = 43 bytes, 48 maxaligned: at 8144 and 8096.
        assert_eq!(all[0].len(), 43);
        assert_eq!(
            (u16_at(10), u16_at(12), u16_at(14)),
            (PD_ALL_VISIBLE, 32, 8096)
        );
        assert_eq!((u16_at(16), u16_at(18)), (8192, 8192 | 4));
        let item = u32::from_ne_bytes(b[24..28].try_into().unwrap());
        assert_eq!((item & 0x7FFF, (item >> 15) & 3, item >> 17), (8144, 1, 43));
        let h = &b[8144..8144 + 24];
        assert_eq!(u32::from_ne_bytes(h[0..4].try_into().unwrap()), 777);
        assert_eq!(u32::from_ne_bytes(h[4..8].try_into().unwrap()), 0);
        assert_eq!(u32::from_ne_bytes(h[8..12].try_into().unwrap()), 3);
        // t_ctid: block 0x00010002 as (hi, lo), offset 1.
        assert_eq!(
            [u16_at(8144 + 12), u16_at(8144 + 14), u16_at(8144 + 16)],
            [1, 2, 1]
        );
        assert_eq!(u16_at(8096 + 16), 2);
        assert_eq!(
            u16_at(8144 + 20),
            0x0002 | HEAP_XMAX_INVALID | HEAP_XMIN_FROZEN
        );
        // The data is the tuple's own past the header.
        assert_eq!(&b[8144 + 23..8144 + 43], &all[0][23..]);
    }

    #[test]
    fn fills_a_page_like_heap_multi_insert() {
        // 43-byte tuples: 48 bytes and a line pointer each: (8192 - 24) / 52 = 157 fit.
        let t = tuples(400, 10);
        let mut page = HeapPage::new(0);
        let mut n = 0;
        for tuple in t.iter() {
            if !page.fits(tuple) {
                break;
            }
            page.add(tuple, BY);
            n += 1;
        }
        assert_eq!(n, 157);
        // Header-only tuples (24 bytes and a line pointer) stop at MaxHeapTuplesPerPage.
        let tiny = [0u8; 24];
        page.reuse(1);
        assert!(page.is_empty());
        let mut n = 0;
        while page.fits(&tiny) {
            page.add(&tiny, BY);
            n += 1;
        }
        assert_eq!(n, MAX_TUPLES);
    }

    #[test]
    fn visibility_map_marks_exactly_the_blocks() {
        assert!(visibility_map(0).is_empty());
        let one = visibility_map(6);
        assert_eq!(one.len(), 1);
        assert_eq!(&one[0].0[24..27], &[0xFF, 0x0F, 0]);
        assert_eq!(u16::from_ne_bytes([one[0].0[12], one[0].0[13]]), 24);
        let two = visibility_map(HEAP_BLOCKS_PER_MAP_PAGE + 1);
        assert_eq!(two.len(), 2);
        assert!(two[0].0[24..].iter().all(|&b| b == 0xFF));
        assert_eq!(&two[1].0[24..26], &[0x03, 0]);
    }
}
