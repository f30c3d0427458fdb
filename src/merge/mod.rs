//! Merge: new trips into `taxi.yellow_taxi_trips`. Knows what the target already holds (so a
//! reload writes nothing), and writes either through SPI (`INSERT … ON CONFLICT DO NOTHING`) or,
//! into an index-less target, straight into the heap (`direct`).

pub mod direct;
pub mod sql;

use pgrx::datum::{DatumWithOid, Timestamp};
use pgrx::prelude::*;
use pgrx::spi::SpiClient;

use crate::hash::RowHash;
use crate::stage::Seen;
use crate::trip::{TripBatch, Values};

/// What taxi_load learnt about its target after locking it.
pub struct Target {
    pub oid: pg_sys::Oid,
    /// The current role owns the target (and may insert): it may drop and rebuild its indexes.
    pub owner: bool,
    /// Rows can go straight into the heap (see `direct`).
    pub plain: bool,
    /// Rows stored, counted up to the bound given to [`lock_and_inspect`] plus one.
    pub existing: u64,
}

/// Locks the target against other loads and inspects it; None if the current role may not
/// insert into it. Counting stops past `bound` rows, so the cost is bounded by the file's size,
/// not the table's.
pub fn lock_and_inspect(client: &mut SpiClient<'_>, bound: u64) -> Option<Target> {
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
        .select(
            sql::INSPECT_TARGET,
            Some(1),
            &[filled.into(), (bound as i64 + 1).into()],
        )
        .expect("inspect target")
        .first();
    Some(Target {
        oid,
        owner: row.get(2).expect("owner").unwrap_or(false),
        plain: row.get(3).expect("plain").unwrap_or(false),
        existing: row.get::<i64>(4).expect("count").unwrap_or(0) as u64,
    })
}

/// Marks every stored trip as seen: one pass over the table, then every probe is in memory.
pub fn read_all(client: &mut SpiClient<'_>, seen: &mut Seen) {
    let mut cursor = client.open_cursor(sql::ALL_HASHES, &[]);
    loop {
        let rows = cursor.fetch(50_000).expect("fetch row hashes");
        if rows.is_empty() {
            break;
        }
        for row in rows {
            if let Some(hash) = row.get::<&[u8]>(1).expect("row_hash") {
                seen.insert(hash);
            }
        }
    }
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

/// Inserts rows `rows` of `batch` through SPI; returns how many were new.
pub fn insert_rows(
    client: &mut SpiClient<'_>,
    batch: &TripBatch,
    hashes: &[RowHash],
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
    let inserted = client
        .update(sql::insert_rows().as_str(), None, &args)
        .expect("insert");
    inserted.len() as u64
}

fn pg_timestamp(unix_us: i64) -> Timestamp {
    // The converter has already refused values outside PostgreSQL's range.
    Timestamp::try_from(unix_us - direct::UNIX_TO_PG_EPOCH_US).expect("timestamp in range")
}

/// Makes sure DROP EXTENSION cannot silently take loaded trips with it (see sql/schema.sql).
pub fn ensure_drop_guard(client: &mut SpiClient<'_>) {
    client
        .update(sql::ENSURE_DROP_GUARD, None, &[])
        .expect("drop guard");
}

pub fn next_load_id(client: &mut SpiClient<'_>) -> i64 {
    client
        .update(sql::NEXT_LOAD_ID, Some(1), &[])
        .and_then(|t| t.first().get_one::<i64>())
        .expect("nextval")
        .expect("nextval is never NULL")
}
