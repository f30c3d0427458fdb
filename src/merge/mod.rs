//! Merge: new trips into `taxi.yellow_taxi_trips`. Knows what the target already holds (so a
//! reload writes nothing), and writes either through SPI (`INSERT … ON CONFLICT DO NOTHING`) or,
//! into an index-less target, straight into the heap (`direct`).

pub mod direct;
pub mod sql;

use pgrx::datum::{DatumWithOid, Timestamp};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

use crate::hash::RowHash;
use crate::stage::{key, Key, KeySet, Seen};
use crate::trip::{TripBatch, Values};

/// What taxi_load learnt about its target after locking it.
pub struct Target {
    pub oid: pg_sys::Oid,
    /// The current role owns the target (and may insert): it may drop and rebuild its indexes.
    pub owner: bool,
    /// Rows can go straight into the heap (see `direct`).
    pub plain: bool,
    /// The planner's estimate of the rows stored, if the table was ever analysed.
    pub estimated_rows: Option<f64>,
}

/// Locks the target against other loads and inspects it; None if the current role may not
/// insert into it.
pub fn lock_and_inspect(client: &mut SpiClient<'_>) -> Option<Target> {
    let (oid, may_insert) = client
        .select(sql::TARGET_OID, Some(1), &[])
        .and_then(|t| t.first().get_two::<i64, bool>())
        .expect("target oid");
    if may_insert != Some(true) {
        return None;
    }
    // SHARE ROW EXCLUSIVE: other loads wait (the mode conflicts with itself), readers and
    // ordinary writers do not. Taken directly rather than with LOCK TABLE, which would also ask
    // for UPDATE or DELETE rights a loading role need not have. Held until the transaction ends,
    // so what is inspected below stays true for the whole load.
    let oid = pg_sys::Oid::from(oid.expect("oid") as u32);
    unsafe { pg_sys::LockRelationOid(oid, pg_sys::ShareRowExclusiveLock as pg_sys::LOCKMODE) };
    let filled = sql::filled_columns();
    let row = client
        .select(sql::INSPECT_TARGET, Some(1), &[filled.into()])
        .expect("inspect target")
        .first();
    Some(Target {
        oid,
        owner: row.get(1).expect("owner").unwrap_or(false),
        plain: row.get(2).expect("plain").unwrap_or(false),
        estimated_rows: row.get::<f64>(3).expect("reltuples").filter(|n| *n >= 0.0),
    })
}

/// Empties the target within this transaction (it must hold no rows): rows written afterwards
/// may be frozen, as COPY FREEZE writes them.
pub fn truncate(client: &mut SpiClient<'_>) {
    client
        .update(sql::TRUNCATE_TARGET, None, &[])
        .expect("truncate target");
}

/// Puts every stored trip into `stored` and returns how many there are, or None (and a partly
/// filled set) as soon as there are more than `limit`. One sequential pass over the heap,
/// reading only `row_hash` straight from each tuple (no SPI, no tuple copies); the scan uses
/// PostgreSQL's bulk-read ring, so it does not sweep the table through shared buffers.
pub fn read_all(target: pg_sys::Oid, stored: &mut KeySet, limit: u64) -> Option<u64> {
    let n = unsafe {
        let rel = pg_sys::table_open(target, pg_sys::AccessShareLock as pg_sys::LOCKMODE);
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*rel).rd_att);
        let attnum = (0..tupdesc.len())
            .find(|&i| {
                tupdesc
                    .get(i)
                    .is_some_and(|a| !a.attisdropped && a.name() == "row_hash")
            })
            .expect("the target has a row_hash column") as i32
            + 1;
        let snapshot = pg_sys::RegisterSnapshot(pg_sys::GetTransactionSnapshot());
        let scan = pg_sys::table_beginscan(rel, snapshot, 0, std::ptr::null_mut());
        let mut n = 0u64;
        // Keys are collected first and inserted after the scan: interleaving hash-table inserts
        // with the scan thrashes the cache and made the pass three times slower.
        let mut keys: Vec<Key> = Vec::with_capacity(limit.min(1 << 24) as usize);
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
        stored.extend(keys);
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

/// Marks those of `hashes` that are stored as seen: one index probe per chunk, for targets too
/// large to read whole.
pub fn probe(client: &mut SpiClient<'_>, hashes: &[RowHash], seen: &mut Seen) {
    let arg: Vec<&[u8]> = hashes.iter().map(|h| &h[..]).collect();
    let found = client
        .select(sql::PROBE, None, &[arg.into()])
        .expect("probe row hashes");
    for row in found {
        if let Some(hash) = row.get::<&[u8]>(1).expect("row_hash") {
            seen.insert(hash);
        }
    }
}

/// Inserts rows `rows` of `batch` through SPI with `sql` (`sql::insert_rows`, possibly wrapped
/// to insert facts too); returns how many were new.
pub fn insert_rows(
    client: &mut SpiClient<'_>,
    sql: &str,
    batch: &TripBatch,
    hashes: &[RowHash],
    flags: &[i16],
    rows: &[usize],
    load_id: i64,
) -> u64 {
    if rows.is_empty() {
        return 0;
    }
    let mut args: Vec<DatumWithOid> = Vec::with_capacity(batch.columns.len() + 2);
    args.push(
        rows.iter()
            .map(|&r| &hashes[r][..])
            .collect::<Vec<&[u8]>>()
            .into(),
    );
    args.push(load_id.into());
    for values in &batch.columns {
        args.push(match values {
            Values::Int(v) => rows.iter().map(|&r| v[r]).collect::<Vec<_>>().into(),
            Values::Timestamp(v) => rows
                .iter()
                .map(|&r| v[r].map(pg_timestamp))
                .collect::<Vec<Option<Timestamp>>>()
                .into(),
            Values::Float(v) => rows.iter().map(|&r| v[r]).collect::<Vec<_>>().into(),
            Values::Money(v) => rows.iter().map(|&r| v[r]).collect::<Vec<_>>().into(),
            Values::Text(v) => rows
                .iter()
                .map(|&r| v[r].as_deref())
                .collect::<Vec<_>>()
                .into(),
        });
    }
    args.push(rows.iter().map(|&r| flags[r]).collect::<Vec<i16>>().into());
    let inserted = client.update(sql, None, &args).expect("insert");
    inserted.len() as u64
}

fn pg_timestamp(unix_us: i64) -> Timestamp {
    // The converter has already refused values outside PostgreSQL's range.
    Timestamp::try_from(unix_us - crate::convert::timestamp::UNIX_TO_PG_EPOCH_US)
        .expect("timestamp in range")
}

/// Makes sure DROP EXTENSION cannot silently take loaded trips with it (see sql/schema.sql).
pub fn ensure_drop_guard(client: &mut SpiClient<'_>) {
    client
        .update(sql::ENSURE_DROP_GUARD, None, &[])
        .expect("drop guard");
}
