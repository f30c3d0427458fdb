//! Sequential passes over a table's heap: the trips' row hashes, read straight from each tuple;
//! every tuple deformed, for the consistency check.

use pgrx::pg_sys;
use pgrx::prelude::*;
use taxi_core::dedup::{key, Key};

/// The 1-based number of column `name` of `rel`, a trips table or partition (taxi_load checked
/// its columns after locking it).
///
/// # Safety
/// `rel` is an open relation.
unsafe fn attnum(rel: pg_sys::Relation, name: &str) -> i32 {
    let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
    (0..tupdesc.len())
        .find(|&i| {
            tupdesc
                .get(i)
                .is_some_and(|a| !a.attisdropped && a.name() == name)
        })
        .expect("a column of the trips table: taxi_load checked them after locking it") as i32
        + 1
}

/// Appends the key of every stored trip to `stored` and returns how many there are, or None
/// (and a partly filled vector) as soon as there are more than `limit`. One sequential pass over the heap,
/// reading only `row_hash` straight from each tuple (no SPI, no tuple copies); the scan uses
/// PostgreSQL's bulk-read ring, so it does not sweep the table through shared buffers.
pub fn read_row_hashes(target: pg_sys::Oid, stored: &mut Vec<Key>, limit: u64) -> Option<u64> {
    let n = unsafe {
        let rel = pg_sys::table_open(target, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let attnum = attnum(rel, "row_hash");
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot());
        let scan = pg_sys::table_beginscan(rel, snapshot, 0, std::ptr::null_mut());
        let mut n = 0u64;
        // Keys are collected in a vector and sorted after the scan (`KeyTable::from_keys`):
        // interleaving hash-table inserts with the scan thrashed the cache and made the pass
        // three times slower. The reservation is virtual until filled.
        let keys = &mut *stored;
        keys.reserve(limit.min(1 << 26) as usize);
        let mut take = |datum: *const pg_sys::varlena| {
            let len = pgrx::varlena::varsize_any_exhdr(datum);
            let data = pgrx::varlena::vardata_any(datum) as *const u8;
            if len >= 16 {
                keys.push(key(std::slice::from_raw_parts(data, len)));
            }
        };
        // row_hash is the table's first column and NOT NULL: on a heap table it starts right at
        // the tuple's data offset, which is what fastgetattr would compute. Any other layout goes
        // through the generic slot interface.
        let heap = (*rel).rd_tableam == pg_sys::GetHeapamTableAmRoutine() && attnum == 1;
        let slot = if heap {
            std::ptr::null_mut()
        } else {
            pg_sys::table_slot_create(rel, std::ptr::null_mut())
        };
        loop {
            if heap {
                let tuple = pg_sys::heap_getnext(scan, pg_sys::ScanDirection::ForwardScanDirection);
                if tuple.is_null() {
                    break;
                }
                let header = (*tuple).t_data;
                take((header as *const u8).add((*header).t_hoff as usize) as *const pg_sys::varlena);
            } else {
                if !pg_sys::table_scan_getnextslot(
                    scan,
                    pg_sys::ScanDirection::ForwardScanDirection,
                    slot,
                ) {
                    break;
                }
                let mut isnull = false;
                let datum = pg_sys::slot_getattr(slot, attnum, &mut isnull);
                if !isnull {
                    take(datum.cast_mut_ptr::<pg_sys::varlena>());
                }
            }
            n += 1;
            if n > limit {
                break;
            }
            if n.is_multiple_of(65_536) {
                check_for_interrupts!();
            }
        }
        if !slot.is_null() {
            pg_sys::ExecDropSingleTupleTableSlot(slot);
        }
        pg_sys::table_endscan(scan);
        pg_sys::UnregisterSnapshot(snapshot);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        n
    };
    (n <= limit).then_some(n)
}

/// Calls `f` with the row hash of every trip of `table` (a partition) whose `load_id` is one of
/// `owners`. One sequential pass, like [`read_row_hashes`], through the slot interface: it needs
/// the second column too, whose offset depends on the first.
pub fn row_hashes_of_loads(table: pg_sys::Oid, owners: &[i64], mut f: impl FnMut(&[u8])) {
    unsafe {
        let rel = pg_sys::table_open(table, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let (hash_at, load_at) = (attnum(rel, "row_hash"), attnum(rel, "load_id"));
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot());
        let scan = pg_sys::table_beginscan(rel, snapshot, 0, std::ptr::null_mut());
        let slot = pg_sys::table_slot_create(rel, std::ptr::null_mut());
        let mut n = 0u64;
        while pg_sys::table_scan_getnextslot(
            scan,
            pg_sys::ScanDirection::ForwardScanDirection,
            slot,
        ) {
            let mut isnull = false;
            let load_id = pg_sys::slot_getattr(slot, load_at, &mut isnull);
            if !isnull && owners.contains(&(load_id.value() as i64)) {
                let datum = pg_sys::slot_getattr(slot, hash_at, &mut isnull);
                if !isnull {
                    let datum = datum.cast_mut_ptr::<pg_sys::varlena>();
                    let len = pgrx::varlena::varsize_any_exhdr(datum);
                    let data = pgrx::varlena::vardata_any(datum) as *const u8;
                    f(std::slice::from_raw_parts(data, len));
                }
            }
            n += 1;
            if n.is_multiple_of(65_536) {
                check_for_interrupts!();
            }
        }
        pg_sys::ExecDropSingleTupleTableSlot(slot);
        pg_sys::table_endscan(scan);
        pg_sys::UnregisterSnapshot(snapshot);
        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
    }
}

/// A live column of a relation, as its tuples store it.
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub type_oid: pg_sys::Oid,
    pub len: i16,
    pub by_value: bool,
}

/// A value as the consistency check encodes it: a by-value Datum's low `len` bytes, or the bytes
/// a by-reference one points to (a varlena's payload, whatever its header).
pub enum Encoded<'a> {
    Fixed(u64, usize),
    Bytes(&'a [u8]),
}

impl Column {
    /// # Safety
    /// `datum` is a non-NULL value of this column, valid for `'a`. A compressed or out-of-line
    /// value is detoasted into the current memory context.
    pub unsafe fn encode<'a>(&self, datum: pg_sys::Datum) -> Encoded<'a> {
        unsafe {
            if self.by_value {
                Encoded::Fixed(datum.value() as u64, self.len as usize)
            } else if self.len == -1 {
                let v = pg_sys::pg_detoast_datum_packed(datum.cast_mut_ptr());
                Encoded::Bytes(std::slice::from_raw_parts(
                    pgrx::varlena::vardata_any(v) as *const u8,
                    pgrx::varlena::varsize_any_exhdr(v),
                ))
            } else if self.len > 0 {
                Encoded::Bytes(std::slice::from_raw_parts(
                    datum.cast_mut_ptr::<u8>(),
                    self.len as usize,
                ))
            } else {
                Encoded::Bytes(
                    std::ffi::CStr::from_ptr(datum.cast_mut_ptr::<std::ffi::c_char>()).to_bytes(),
                )
            }
        }
    }
}

/// The columns of relation `oid` by attribute number - 1 (None: dropped). Takes ACCESS SHARE on
/// it, held to the end of the transaction.
pub fn columns(oid: pg_sys::Oid) -> Vec<Option<Column>> {
    unsafe {
        let rel = pg_sys::table_open(oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
        let columns = (0..tupdesc.len())
            .map(|i| {
                tupdesc.get(i).filter(|a| !a.attisdropped).map(|a| Column {
                    name: a.name().to_string(),
                    type_oid: a.atttypid,
                    len: a.attlen,
                    by_value: a.attbyval,
                })
            })
            .collect();
        pg_sys::table_close(rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        columns
    }
}

/// A snapshot taken now (in READ COMMITTED a new one, which sees this transaction's earlier
/// commands; in REPEATABLE READ the transaction's), registered until dropped: several scans that
/// must see the same state share one.
pub struct SharedSnapshot(pg_sys::Snapshot);

impl SharedSnapshot {
    pub fn take() -> SharedSnapshot {
        SharedSnapshot(unsafe { pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot()) })
    }
}

impl Drop for SharedSnapshot {
    fn drop(&mut self) {
        unsafe { pg_sys::UnregisterSnapshot(self.0) };
    }
}

/// Calls `f` with the values and NULL flags of every tuple of relation `oid` `snapshot` sees,
/// every attribute deformed (indexed by attribute number - 1). One sequential pass through
/// the bulk-read ring; checks for interrupts as it goes. The values are valid during the call
/// only; `f` runs in a memory context reset every 1,024 tuples.
pub fn each_tuple(
    oid: pg_sys::Oid,
    snapshot: &SharedSnapshot,
    mut f: impl FnMut(&[pg_sys::Datum], &[bool]),
) {
    unsafe {
        let rel = pg_sys::table_open(oid, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let scan = pg_sys::table_beginscan(rel, snapshot.0, 0, std::ptr::null_mut());
        let slot = pg_sys::table_slot_create(rel, std::ptr::null_mut());
        let natts = (*(*rel).rd_att).natts;
        let mut memory = pgrx::PgMemoryContexts::new("taxi_loader tuples");
        let mut n = 0u64;
        while pg_sys::table_scan_getnextslot(
            scan,
            pg_sys::ScanDirection::ForwardScanDirection,
            slot,
        ) {
            if ((*slot).tts_nvalid as i32) < natts {
                pg_sys::slot_getsomeattrs_int(slot, natts);
            }
            let values = std::slice::from_raw_parts((*slot).tts_values, natts as usize);
            let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts as usize);
            memory.switch_to(|_| f(values, nulls));
            n += 1;
            if n.is_multiple_of(1_024) {
                memory.reset();
                if n.is_multiple_of(65_536) {
                    check_for_interrupts!();
                }
            }
        }
        pg_sys::ExecDropSingleTupleTableSlot(slot);
        pg_sys::table_endscan(scan);

        pg_sys::table_close(rel, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
    }
}
