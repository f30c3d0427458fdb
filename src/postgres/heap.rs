//! Rows straight into a table's heap with `table_multi_insert` and a bulk-insert state, as COPY
//! writes them: one writer for each trip and each fact partition written directly. The caller
//! guarantees that nothing the executor would do is skipped (no triggers, row security or columns
//! it does not fill, indexes rebuilt before anything reads them; see `load::trip_parts`,
//! `sql::trips::INSPECT_TARGET` and `sql::star::INSPECT_FACTS`). The tuples come as bytes
//! (`taxi_core::tuple`), built on the pool's threads from the table's [`Layout`].
//!
//! A table this transaction created and has not written yet gets whole pages instead
//! (`taxi_core::page`): packed as `heap_multi_insert` would pack them, frozen and all-visible,
//! WAL-logged as full pages 32 at a time and appended to the file without the buffer manager,
//! then its visibility map, as PostgreSQL's own index builds and table rewrites write a new
//! relation. Nobody else can see the table before the transaction commits, so no buffer can hold
//! its blocks. Not under `wal_level = logical`: logical decoding needs the insert records. The
//! file is registered for the next checkpoint's sync as each block is written; if a checkpoint
//! began meanwhile, it may have missed blocks whose WAL precedes it, so the writer syncs the file
//! itself at the end.

use pgrx::{pg_sys, PgMemoryContexts, PgTupleDesc};
use taxi_core::page::{self, HeapPage, Inserter, TOAST_TUPLE_THRESHOLD};
use taxi_core::tuple::{Attribute, Layout};

use crate::pg_compat;

/// Rows per `table_multi_insert` call, as COPY buffers them.
pub const BATCH: usize = 1000;

/// Pages per WAL record (`XLR_MAX_BLOCK_ID`).
const PAGES_PER_RECORD: usize = 32;

/// The pages of a table written directly.
struct Pages {
    /// The page being filled.
    page: HeapPage,
    /// Pages full and not written yet, in block order.
    full: Vec<HeapPage>,
    spare: Vec<HeapPage>,
    by: Inserter,
    needs_wal: bool,
    /// The redo pointer when the first block was written: if it moves, a checkpoint began.
    redo: pg_sys::XLogRecPtr,
}

pub struct HeapWriter {
    rel: pg_sys::Relation,
    /// Heap-tuple slots: each takes a copy of its tuple's bytes when the batch is inserted.
    slots: Vec<*mut pg_sys::TupleTableSlot>,
    /// The tuples the slots point to until then.
    tuples: Vec<pg_sys::HeapTupleData>,
    bistate: *mut pg_sys::BulkInsertStateData,
    cid: pg_sys::CommandId,
    options: i32,
    /// Slots filled and not yet written.
    pending: usize,
    /// What `table_multi_insert` allocates (its array of tuples, toasted copies) and leaves to
    /// its caller to free, as COPY runs it in a per-tuple context: reset after every batch, or a
    /// load keeps about 10 bytes a row until its transaction ends.
    batch_memory: PgMemoryContexts,
    /// Writing whole pages, until a tuple too long for them comes (`table_multi_insert` then
    /// writes the rest, and sets the visibility map of its own pages).
    pages: Option<Pages>,
    /// Rows added since PostgreSQL's statistics last counted them.
    uncounted: i64,
}

impl HeapWriter {
    /// Opens `oid` for writing (ROW EXCLUSIVE, as INSERT takes).
    ///
    /// # Safety
    /// `oid` must be a table locked by this transaction and eligible as the module comment says.
    /// `frozen` only if this transaction created or truncated it (as COPY FREEZE requires): rows
    /// are then written frozen and their pages marked all-visible. The writer's relation and slots
    /// live in the current memory context, which must outlive it.
    pub unsafe fn open(oid: pg_sys::Oid, frozen: bool) -> HeapWriter {
        unsafe {
            let rel = pg_sys::table_open(oid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
            let pages = (frozen && Pages::eligible(rel)).then(|| Pages {
                page: HeapPage::new(0),
                full: Vec::with_capacity(PAGES_PER_RECORD),
                spare: Vec::new(),
                by: Inserter {
                    xid: pg_sys::GetCurrentTransactionId().into_inner(),
                    cid: pg_sys::GetCurrentCommandId(true),
                },
                needs_wal: pg_compat::relation_needs_wal(rel),
                redo: pg_sys::GetRedoRecPtr(),
            });
            HeapWriter {
                rel,
                slots: (0..BATCH)
                    .map(|_| {
                        pg_sys::MakeSingleTupleTableSlot(
                            (*rel).rd_att,
                            &raw const pg_sys::TTSOpsHeapTuple,
                        )
                    })
                    .collect(),
                tuples: vec![std::mem::zeroed(); BATCH],
                bistate: pg_sys::GetBulkInsertState(),
                cid: pg_sys::GetCurrentCommandId(true),
                options: if frozen {
                    pg_sys::TABLE_INSERT_FROZEN as i32
                } else {
                    0
                },
                pending: 0,
                batch_memory: PgMemoryContexts::new("taxi_load batch"),
                pages,
                uncounted: 0,
            }
        }
    }

    /// The table's attributes in order: each name, None for a dropped column.
    pub fn attributes(&self) -> Vec<Option<String>> {
        // SAFETY: rel is open for the writer's lifetime, and so is its tuple descriptor.
        let tupdesc = unsafe { PgTupleDesc::from_pg_unchecked((*self.rel).rd_att) };
        (0..tupdesc.len())
            .map(|i| {
                tupdesc
                    .get(i)
                    .filter(|a| !a.attisdropped)
                    .map(|a| a.name().to_string())
            })
            .collect()
    }

    /// How the table stores its attributes, for [`taxi_core::tuple::Tuples::push`].
    pub fn layout(&self) -> Layout {
        // SAFETY: rel is open for the writer's lifetime, and so is its tuple descriptor.
        let (tupdesc, type_id, typmod) = unsafe {
            let desc = (*self.rel).rd_att;
            (
                PgTupleDesc::from_pg_unchecked(desc),
                (*desc).tdtypeid,
                (*desc).tdtypmod,
            )
        };
        let attributes = (0..tupdesc.len())
            .map(|i| {
                let a = tupdesc.get(i).expect("an attribute of the descriptor");
                Attribute {
                    len: a.attlen,
                    by_value: a.attbyval,
                    align: match a.attalign as u8 {
                        b'c' => 1,
                        b's' => 2,
                        b'i' => 4,
                        _ => 8,
                    },
                    packable: a.attstorage as u8 != b'p',
                    dropped: a.attisdropped,
                }
            })
            .collect();
        Layout::new(attributes, type_id.to_u32(), typmod).unwrap_or_else(|e| {
            panic!(
                "attribute {} of the table cannot be written directly",
                e.0 + 1
            )
        })
    }

    /// Adds a tuple built by `taxi_core::tuple::Tuples` from this writer's [`HeapWriter::layout`].
    /// Writes the batch when it is full.
    ///
    /// # Safety
    /// `tuple` must stay valid until the next [`HeapWriter::flush`].
    pub unsafe fn push(&mut self, tuple: &[u8]) {
        if let Some(pages) = self.pages.as_mut() {
            if tuple.len() <= TOAST_TUPLE_THRESHOLD {
                // SAFETY: rel is open; the writer alone writes it.
                unsafe { pages.add(self.rel, tuple) };
                self.uncounted += 1;
                return;
            }
            // PostgreSQL toasts such a tuple: from here on it inserts them all.
            let mut pages = self.pages.take().expect("writing pages");
            // SAFETY: as above.
            unsafe { pages.write_all(self.rel) };
        }
        unsafe {
            let slot = self.slots[self.pending];
            let t = &mut self.tuples[self.pending];
            t.t_len = tuple.len() as u32;
            pgrx::itemptr::item_pointer_set_all(
                &mut t.t_self,
                pg_sys::InvalidBlockNumber,
                pg_sys::InvalidOffsetNumber,
            );
            t.t_tableOid = pg_sys::InvalidOid;
            t.t_data = tuple.as_ptr() as pg_sys::HeapTupleHeader;
            // Not the slot's: table_multi_insert materializes it, copying it into the slot.
            pg_sys::ExecStoreHeapTuple(t, slot, false);
            self.pending += 1;
            if self.pending == BATCH {
                self.flush();
            }
        }
    }

    /// Writes the rows filled so far (when writing pages, those of full pages: the page being
    /// filled takes the next rows, as `table_multi_insert` fills its current page).
    pub fn flush(&mut self) {
        if self.uncounted > 0 {
            // SAFETY: rel is open.
            unsafe { pg_sys::pgstat_count_heap_insert(self.rel, self.uncounted) };
            self.uncounted = 0;
        }
        if self.pending == 0 {
            return;
        }
        let (rel, slots, pending) = (self.rel, self.slots.as_mut_ptr(), self.pending);
        let (cid, options, bistate) = (self.cid, self.options, self.bistate);
        unsafe {
            self.batch_memory.switch_to(|_| {
                pg_sys::table_multi_insert(rel, slots, pending as i32, cid, options, bistate)
            });
            // The slots' copies of the tuples live in the slots' own context.
            for &slot in &self.slots[..self.pending] {
                pg_sys::ExecClearTuple(slot);
            }
            self.batch_memory.reset();
        }
        self.pending = 0;
    }

    /// Writes what is left and closes the table, keeping its lock until the transaction ends,
    /// as the executor does.
    pub fn finish(mut self) {
        self.flush();
        if let Some(mut pages) = self.pages.take() {
            // SAFETY: rel is open; the writer alone writes it.
            unsafe { pages.finish(self.rel) };
        }
        unsafe {
            for &slot in &self.slots {
                pg_sys::ExecDropSingleTupleTableSlot(slot);
            }
            pg_sys::FreeBulkInsertState(self.bistate);
            pg_sys::table_close(self.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
    }
}

impl Pages {
    /// Whether `rel` may be written as pages: a permanent table with no blocks yet, the default
    /// fill factor (no storage options) and 8 kB blocks; not with `wal_level = logical`, whose
    /// decoding reads inserted rows from their insert records, not from page images.
    unsafe fn eligible(rel: pg_sys::Relation) -> bool {
        unsafe {
            let class = &*(*rel).rd_rel;
            pg_sys::BLCKSZ as usize == page::BLCKSZ
                && pg_sys::wal_level < pg_sys::WalLevel::WAL_LEVEL_LOGICAL as i32
                && class.relkind as u8 == pg_sys::RELKIND_RELATION
                && class.relpersistence as u8 == pg_sys::RELPERSISTENCE_PERMANENT
                && (*rel).rd_options.is_null()
                && pg_sys::smgrnblocks(
                    pg_compat::relation_smgr(rel),
                    pg_sys::ForkNumber::MAIN_FORKNUM,
                ) == 0
        }
    }

    /// Adds a tuple, beginning a new page when it does not fit; writes the full pages when a WAL
    /// record's worth is there.
    unsafe fn add(&mut self, rel: pg_sys::Relation, tuple: &[u8]) {
        if !self.page.fits(tuple) {
            let number = self.page.number() + 1;
            let next = match self.spare.pop() {
                Some(mut page) => {
                    page.reuse(number);
                    page
                }
                None => HeapPage::new(number),
            };
            self.full.push(std::mem::replace(&mut self.page, next));
            if self.full.len() == PAGES_PER_RECORD {
                unsafe { self.write_full(rel) };
            }
        }
        self.page.add(tuple, self.by);
    }

    /// Writes the full pages: WAL first (it stamps their LSNs), then checksums, then the file.
    unsafe fn write_full(&mut self, rel: pg_sys::Relation) {
        if self.full.is_empty() {
            return;
        }
        let mut blocks: Vec<pg_sys::BlockNumber> = self.full.iter().map(HeapPage::number).collect();
        let mut pages: Vec<pg_sys::Page> = self
            .full
            .iter_mut()
            .map(|p| p.block_mut().0.as_mut_ptr() as pg_sys::Page)
            .collect();
        unsafe {
            write_blocks(
                rel,
                pg_sys::ForkNumber::MAIN_FORKNUM,
                &mut blocks,
                &mut pages,
                self.needs_wal,
                true,
            );
        }
        self.spare.append(&mut self.full);
    }

    /// Writes every page, the one being filled too.
    unsafe fn write_all(&mut self, rel: pg_sys::Relation) {
        if !self.page.is_empty() {
            let number = self.page.number() + 1;
            let last = std::mem::replace(&mut self.page, HeapPage::new(number));
            self.full.push(last);
        }
        unsafe { self.write_full(rel) };
    }

    /// Writes what is left and the visibility map of every block; then syncs the files if a
    /// checkpoint began since the first block was written.
    unsafe fn finish(&mut self, rel: pg_sys::Relation) {
        unsafe {
            self.write_all(rel);
            // The page being filled, empty now, is the one after the last written.
            let blocks = self.page.number();
            let vm = pg_sys::ForkNumber::VISIBILITYMAP_FORKNUM;
            if blocks > 0 {
                let smgr = pg_compat::relation_smgr(rel);
                if !pg_sys::smgrexists(smgr, vm) {
                    pg_sys::smgrcreate(smgr, vm, false);
                }
                let mut map_pages = page::visibility_map(blocks);
                let mut numbers: Vec<pg_sys::BlockNumber> = (0..map_pages.len() as u32).collect();
                let mut pointers: Vec<pg_sys::Page> = map_pages
                    .iter_mut()
                    .map(|p| p.0.as_mut_ptr() as pg_sys::Page)
                    .collect();
                for (blocks, pages) in numbers
                    .chunks_mut(PAGES_PER_RECORD)
                    .zip(pointers.chunks_mut(PAGES_PER_RECORD))
                {
                    // Not a standard page: its map lies between pd_lower and pd_upper.
                    write_blocks(rel, vm, blocks, pages, self.needs_wal, false);
                }
            }
            if self.needs_wal && pg_sys::GetRedoRecPtr() != self.redo {
                let smgr = pg_compat::relation_smgr(rel);
                pg_sys::smgrimmedsync(smgr, pg_sys::ForkNumber::MAIN_FORKNUM);
                if pg_sys::smgrexists(smgr, vm) {
                    pg_sys::smgrimmedsync(smgr, vm);
                }
            }
        }
    }
}

/// Appends `pages` (blocks `blocks`, consecutive) to `rel`'s fork: WAL-logged if `wal`,
/// checksummed, written. Fails if the fork does not end where they begin: something else wrote
/// the table.
unsafe fn write_blocks(
    rel: pg_sys::Relation,
    fork: pg_sys::ForkNumber::Type,
    blocks: &mut [pg_sys::BlockNumber],
    pages: &mut [pg_sys::Page],
    wal: bool,
    page_std: bool,
) {
    unsafe {
        let length = pg_sys::smgrnblocks(pg_compat::relation_smgr(rel), fork);
        assert_eq!(
            length, blocks[0],
            "a table written as pages was extended by someone else"
        );
        if wal {
            pg_compat::log_newpages(rel, fork, blocks, pages, page_std);
        }
        let smgr = pg_compat::relation_smgr(rel);
        for (&block, &page) in blocks.iter().zip(pages.iter()) {
            pg_sys::PageSetChecksumInplace(page, block);
            pg_compat::smgr_extend(smgr, fork, block, page);
        }
    }
}
