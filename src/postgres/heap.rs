//! Rows straight into a table's heap with `table_multi_insert` and a bulk-insert state, as COPY
//! writes them: one writer for each trip and each fact partition written directly. The caller
//! guarantees that nothing the executor would do is skipped (no triggers, row security or columns
//! it does not fill, indexes rebuilt before anything reads them; see `load::trip_parts`,
//! `sql::trips::INSPECT_TARGET` and `sql::star::INSPECT_FACTS`).

use pgrx::{pg_sys, PgTupleDesc};

/// Rows per `table_multi_insert` call, as COPY buffers them.
pub const BATCH: usize = 1000;

pub struct HeapWriter {
    rel: pg_sys::Relation,
    slots: Vec<*mut pg_sys::TupleTableSlot>,
    bistate: *mut pg_sys::BulkInsertStateData,
    cid: pg_sys::CommandId,
    options: i32,
    /// Attributes of the table's tuples, dropped ones included.
    natts: usize,
    /// Slots filled and not yet written.
    pending: usize,
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
                    .map(|_| pg_sys::table_slot_create(rel, std::ptr::null_mut()))
                    .collect(),
                bistate: pg_sys::GetBulkInsertState(),
                cid: pg_sys::GetCurrentCommandId(true),
                options: if frozen {
                    pg_sys::TABLE_INSERT_FROZEN as i32
                } else {
                    0
                },
                natts: (*(*rel).rd_att).natts as usize,
                pending: 0,
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

    /// Fills the next row: `fill` gets its values and nulls, one per attribute. Writes the
    /// batch when it is full.
    ///
    /// # Safety
    /// The Datums `fill` stores must stay valid until the next [`HeapWriter::flush`].
    pub unsafe fn push(&mut self, fill: impl FnOnce(&mut [pg_sys::Datum], &mut [bool])) {
        unsafe {
            let slot = self.slots[self.pending];
            pg_sys::ExecClearTuple(slot);
            let values = std::slice::from_raw_parts_mut((*slot).tts_values, self.natts);
            let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, self.natts);
            fill(values, nulls);
            pg_sys::ExecStoreVirtualTuple(slot);
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
        unsafe {
            pg_sys::table_multi_insert(
                self.rel,
                self.slots.as_mut_ptr(),
                self.pending as i32,
                self.cid,
                self.options,
                self.bistate,
            );
            for &slot in &self.slots[..self.pending] {
                pg_sys::ExecClearTuple(slot);
            }
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
