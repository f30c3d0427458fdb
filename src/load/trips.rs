//! The trips table through SPI: locking and inspecting it, probing a partition for stored row
//! hashes, and inserting new trips (`INSERT … ON CONFLICT DO NOTHING`, possibly with their
//! facts through RETURNING). The direct path is `trip_writer`.

use pgrx::datum::{DatumWithOid, Timestamp};
use pgrx::pg_sys;
use pgrx::spi::SpiClient;
use taxi_core::dataset::Dataset;
use taxi_core::dedup::{key, Key, Seen};
use taxi_core::error::LoadError;
use taxi_core::hash::RowHash;
use taxi_core::partition::Partition;
use taxi_core::sql::trips as sql;
use taxi_core::trip::{TripBatch, Values};

use crate::postgres::{datum, locks};
use crate::report::OrInternal;

/// What taxi_load learnt about its target after locking it.
pub struct Target {
    pub oid: pg_sys::Oid,
    /// The current role owns the target (and may insert): it may drop and rebuild its indexes.
    pub owner: bool,
    /// Rows can go straight into its partitions' heaps (see `trip_writer`).
    pub plain: bool,
    /// A Citus table: its partitions' heaps on this node are empty shells, never read or
    /// written; a month's stored trips are read through SQL (or probed per chunk when too many)
    /// and new ones inserted through SQL, which Citus routes to the shards.
    pub distributed: bool,
}

/// The oid of `d`'s table; NotUpdated if the extension's objects predate the library (no table,
/// or not partitioned).
pub fn target_oid(
    client: &SpiClient<'_>,
    d: &'static Dataset,
) -> Result<(pg_sys::Oid, bool), LoadError> {
    let (oid, may_insert) = client
        .select(sql::target_oid(d).as_str(), Some(1), &[])
        .and_then(|t| t.first().get_two::<i64, bool>())
        .or_internal("finding the trips table")?;
    let oid = oid.ok_or(LoadError::NotUpdated {
        missing: d.qualified(),
    })?;
    Ok((locks::oid(oid), may_insert == Some(true)))
}

/// Locks the target as INSERT would (loads of other months go on; the month locks of
/// `partitions` order loads of the same month) and inspects it. Held until the transaction ends,
/// so what is inspected stays true for the whole load.
pub fn lock_and_inspect(
    client: &mut SpiClient<'_>,
    d: &'static Dataset,
) -> Result<Target, LoadError> {
    let (oid, may_insert) = target_oid(client, d)?;
    if !may_insert {
        return Err(LoadError::NoTablePrivilege {
            table: d.qualified(),
        });
    }
    locks::lock_for_insert(oid);
    let filled = sql::filled_columns(d);
    let row = client
        .select(sql::inspect_target(d).as_str(), Some(1), &[filled.into()])
        .or_internal("inspecting the trips table")?
        .first();
    let get = |i| row.get::<bool>(i).or_internal("inspecting the trips table");
    let distributed = get(3)?.unwrap_or(false);
    Ok(Target {
        oid,
        owner: get(1)?.unwrap_or(false),
        plain: get(2)?.unwrap_or(false) && !distributed,
        distributed,
    })
}

/// Marks those of `rows` of `hashes`, all of partition `p`, that are stored as seen: one index
/// probe of that partition per chunk, for partitions too large to read whole.
pub fn probe(
    client: &mut SpiClient<'_>,
    d: &'static Dataset,
    p: Partition,
    hashes: &[RowHash],
    rows: &[usize],
    seen: &mut Seen,
) -> Result<(), LoadError> {
    let arg: Vec<&[u8]> = rows.iter().map(|&r| &hashes[r][..]).collect();
    let [lower, upper] = datum::month_bounds(p);
    let found = client
        .select(
            sql::probe(d).as_str(),
            None,
            &[arg.into(), lower.into(), upper.into()],
        )
        .or_internal("probing for stored trips")?;
    for row in found {
        if let Some(hash) = row
            .get::<&[u8]>(1)
            .or_internal("probing for stored trips")?
        {
            seen.insert(hash);
        }
    }
    Ok(())
}

/// Reads the row hashes stored in partition `p` of a distributed table into `stored`, up to
/// `limit` (then None: the partition is probed per chunk instead), as `scan::read_row_hashes`
/// does for a local heap. One query for the month instead of one probe per chunk: Citus runs it
/// on every shard of the month at once; a cursor keeps the coordinator's memory to one batch.
pub fn read_stored(
    client: &mut SpiClient<'_>,
    d: &'static Dataset,
    p: Partition,
    stored: &mut Vec<Key>,
    limit: u64,
) -> Result<Option<u64>, LoadError> {
    let [lower, upper] = datum::month_bounds(p);
    // One row past the limit says the month holds more.
    let rows = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
    let mut cursor = client
        .try_open_cursor(
            sql::stored(d).as_str(),
            &[lower.into(), upper.into(), rows.into()],
        )
        .or_internal("reading stored trips")?;
    let mut n = 0u64;
    loop {
        let batch = cursor.fetch(65_536).or_internal("reading stored trips")?;
        if batch.is_empty() {
            return Ok(Some(n));
        }
        for row in batch {
            if let Some(hash) = row
                .get::<&[u8]>(1)
                .or_internal("reading stored trips")?
                .filter(|h| h.len() >= 16)
            {
                stored.push(key(hash));
            }
            n += 1;
        }
        if n > limit {
            return Ok(None);
        }
        pgrx::check_for_interrupts!();
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
) -> Result<u64, LoadError> {
    if rows.is_empty() {
        return Ok(0);
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
            Values::BigInt(v) => rows.iter().map(|&r| v[r]).collect::<Vec<_>>().into(),
            Values::Timestamp(v) => rows
                .iter()
                .map(|&r| v[r].map(datum::timestamp))
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
    let inserted = client
        .update(sql, None, &args)
        .or_internal("inserting trips")?;
    Ok(inserted.len() as u64)
}

/// Makes sure DROP EXTENSION cannot silently take loaded trips with it (see sql/schema.sql).
pub fn ensure_drop_guard(client: &mut SpiClient<'_>) -> Result<(), LoadError> {
    client
        .update(sql::ENSURE_DROP_GUARD, None, &[])
        .or_internal("guarding the trips against DROP EXTENSION")
        .map(|_| ())
}
