//! Rows straight into a table's heap with `table_multi_insert` and a bulk-insert state, as COPY
//! writes them: one writer for each trip and each fact partition written directly. The caller
//! guarantees that nothing the executor would do is skipped (no triggers, row security or columns
//! it does not fill, indexes rebuilt before anything reads them; see `load::trip_parts`,
//! `sql::trips::INSPECT_TARGET` and `sql::star::INSPECT_FACTS`). The tuples come as bytes
//! (`taxi_core::tuple`), built on the pool's threads from the table's [`Layout`].

use pgrx::{pg_sys, PgMemoryContexts, PgTupleDesc};
use taxi_core::tuple::{Attribute, Layout};

/// Rows per `table_multi_insert` call, as COPY buffers them.
pub const BATCH: usize = 1000;

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

    /// Writes the rows filled so far.
    pub fn flush(&mut self) {
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
        unsafe {
            for &slot in &self.slots {
                pg_sys::ExecDropSingleTupleTableSlot(slot);
            }
            pg_sys::FreeBulkInsertState(self.bistate);
            pg_sys::table_close(self.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
    }
}
