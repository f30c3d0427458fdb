//! On a Citus worker, the shard-local write path (`load::shards` starts it from the coordinator,
//! in the load's transaction): the node reads the load's file itself, keeps the trips that fall in
//! its own shards of the load's new months, and writes them and their facts straight into the
//! shards' heaps, as a single node writes a new month; then rebuilds those shards' indexes once.
//! The rows never cross the network, and no row goes through COPY, tuple routing or a per-row
//! index insert.
//!
//! Exact only under what the coordinator guarantees before it calls: the months are locked
//! exclusively by the load and held no trip; their shards are plain (no triggers, no row
//! security); every node reads the same file. The node applies the same reader, the same
//! rejection rules and the same in-file deduplication as the coordinator, which compares the
//! number of trips written with its own count.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};

use pgrx::pg_sys;
use pgrx::spi::{Spi, SpiClient};
use taxi_core::dataset::Dataset;
use taxi_core::dedup::Seen;
use taxi_core::error::LoadError;
use taxi_core::facts::{self, Partition};
use taxi_core::hash::{sum_digest, RowHash};
use taxi_core::policy;
use taxi_core::read::input::Source;
use taxi_core::read::limits::Work;
use taxi_core::read::pipeline::{self, Decoded, Pipeline};
use taxi_core::read::TripReader;
use taxi_core::sql::shards as sql;
use taxi_core::threads;

use crate::load::fact_writer::{FactTables, FactWriter};
use crate::load::indexes;
use crate::load::star;
use crate::load::trip_writer::TripWriter;
use crate::postgres::locks;
use crate::report::OrInternal;

const DOING: &str = "writing a worker's shards";

/// What the coordinator asks of every node: one element of `months`, `trip_shards`,
/// `fact_shards`, `mins` and `maxs` per month and shard of the load's new months.
pub struct Request<'a> {
    pub path: &'a str,
    pub dataset: &'static Dataset,
    pub load_id: i64,
    pub chunk_size: usize,
    pub star: bool,
    pub workers: usize,
    /// Partition keys (`Partition::lock_key`) of months.
    pub months: Vec<i32>,
    pub trip_shards: Vec<String>,
    pub fact_shards: Vec<Option<String>>,
    pub mins: Vec<i32>,
    pub maxs: Vec<i32>,
}

/// The load this backend wrote its shards for last: a node gets one call per shard key of the
/// load (one connection per node: the coordinator runs Citus sequentially) and writes on the first.
static WRITTEN_FOR: AtomicI64 = AtomicI64::new(i64::MIN);

/// One of this node's shards of a month: its hash range, its trip table and its fact table.
struct Shard {
    min: i32,
    max: i32,
    trips: pg_sys::Oid,
    facts: Option<pg_sys::Oid>,
}

/// The fact shard of one trip shard, for every month: a shard group's facts stay in it.
struct ShardFacts(HashMap<Partition, pg_sys::Oid>);

impl FactTables for ShardFacts {
    fn fact_table(&self, p: Partition) -> (pg_sys::Oid, bool) {
        (self.0[&p], false)
    }
}

/// Whether this node reads `path` as a file of `size` bytes, as the coordinator does.
pub fn can_read(path: &str, size: i64) -> bool {
    Source::local(path).is_ok_and(|s| s.size() as i64 == size)
}

/// Citus' hash of a row hash: bytea's hash function (`hashvarlena`), which places it in the shard
/// whose range holds it. [`check_hash`] compares it with Citus' own once per call.
fn citus_hash(h: &RowHash) -> i32 {
    // A bytea in a stack buffer, so no row allocates: a 4-byte varlena header (its length
    // shifted left by two, as SET_VARSIZE writes it on this little-endian machine), then the bytes.
    let mut bytea = [0u8; 36];
    bytea[..4].copy_from_slice(&(36u32 << 2).to_le_bytes());
    bytea[4..].copy_from_slice(h);
    // SAFETY: hashvarlena reads its argument's header and bytes, which live until it returns.
    unsafe {
        pgrx::direct_function_call::<i32>(
            pg_sys::hashvarlena,
            &[Some(pg_sys::Datum::from(bytea.as_ptr()))],
        )
    }
    .unwrap_or_default()
}

/// What a node wrote: how many trips, and their [`sum_digest`].
#[derive(Default)]
pub struct Written {
    pub trips: i64,
    pub digest: i64,
}

/// Writes this node's shards of the load's months (nothing when this node wrote for this load
/// already, or holds none of the shards).
pub fn write(req: Request<'_>) -> Result<Written, LoadError> {
    if WRITTEN_FOR.swap(req.load_id, Ordering::Relaxed) == req.load_id {
        return Ok(Written::default());
    }
    let n = req.months.len();
    if [
        req.trip_shards.len(),
        req.fact_shards.len(),
        req.mins.len(),
        req.maxs.len(),
    ] != [n; 4]
    {
        return Err(LoadError::Internal {
            doing: DOING,
            detail: "the shard arrays differ in length".into(),
        });
    }
    let (local, dims) = Spi::connect_mut(|client| {
        let local = local_shards(client, &req)?;
        if local.is_empty() {
            return Ok((local, None));
        }
        check_hash(client)?;
        let dims = if req.star {
            client
                .update(sql::ALLOW_NESTED, None, &["on".into()])
                .or_internal(DOING)?;
            let dims = star::read_dims(client)?;
            client
                .update(sql::ALLOW_NESTED, None, &["off".into()])
                .or_internal(DOING)?;
            Some(dims)
        } else {
            None
        };
        Ok::<_, LoadError>((local, dims))
    })?;
    if local.is_empty() {
        return Ok(Written::default());
    }
    for shard in local.values().flatten() {
        // Nothing may read their indexes until they are rebuilt below.
        locks::lock_exclusive(shard.trips);
        if let Some(f) = shard.facts {
            locks::lock_exclusive(f);
        }
    }

    threads::configure(req.workers);
    // Declared before the pipeline, so it drops after it: the pipeline's threads are joined first.
    let _pool = threads::PoolGuard;
    let source = Source::local(req.path)?;
    let reader = TripReader::open_source(
        &source,
        Some(req.dataset),
        req.chunk_size,
        &mut Work::default(),
    )?;
    let ahead = pipeline::chunks_ahead(req.chunk_size, policy::PIPELINE_MEMORY);
    let mut seen = Seen::with_capacity(reader.total_rows() as usize);
    let mut chunks = Pipeline::start(reader, ahead);
    chunks.steady();

    // A shard group's facts stay in it: the fact shard of each month, by hash range.
    let mut fact_tables: HashMap<i32, ShardFacts> = HashMap::new();
    for (&p, shards) in &local {
        for s in shards {
            if let Some(f) = s.facts {
                fact_tables
                    .entry(s.min)
                    .or_insert_with(|| ShardFacts(HashMap::new()))
                    .0
                    .insert(p, f);
            }
        }
    }
    let mut trip_writers: HashMap<(Partition, usize), TripWriter> = HashMap::new();
    let mut fact_writers: HashMap<i32, FactWriter> = HashMap::new();
    let mut written = Written::default();
    while let Some(chunk) = chunks.next(|| {
        pgrx::check_for_interrupts!();
    }) {
        pgrx::check_for_interrupts!();
        let Decoded {
            batch,
            hashes,
            flags,
            ..
        } = chunk?;
        let of_row = facts::row_partitions(&batch);
        let mut shard_of = vec![0usize; batch.len()];
        let mut candidates = Vec::new();
        for (r, p) in of_row.iter().enumerate() {
            let Some(shards) = local.get(p) else { continue };
            if let Some(i) = shard_holding(shards, citus_hash(&hashes[r])) {
                shard_of[r] = i;
                candidates.push(r);
            }
        }
        let mut groups: BTreeMap<(Partition, usize), Vec<usize>> = BTreeMap::new();
        for r in seen.new_rows_among(&hashes, &candidates) {
            groups.entry((of_row[r], shard_of[r])).or_default().push(r);
        }
        for ((p, i), rows) in groups {
            let shard = &local[&p][i];
            let trips = trip_writers.entry((p, i)).or_insert_with(|| {
                // SAFETY: a shard of a month locked exclusively by the load, created in its
                // transaction, locked exclusively above; its indexes are rebuilt below.
                unsafe { TripWriter::open(shard.trips, req.dataset, req.load_id, false) }
            });
            match (&dims, fact_tables.get(&shard.min)) {
                (Some(dims), Some(tables)) => {
                    let computed = facts::compute(dims, &batch, &rows);
                    let writer = fact_writers.entry(shard.min).or_insert_with(|| {
                        // SAFETY: the fact shards are plain and locked exclusively above.
                        unsafe { FactWriter::open(req.dataset) }
                    });
                    let with_facts = (writer, tables as &dyn FactTables, computed.as_slice());
                    trips.write(&batch, &hashes, &flags, &rows, Some(with_facts));
                }
                _ => trips.write(&batch, &hashes, &flags, &rows, None),
            }
            written.trips += rows.len() as i64;
            written.digest = written
                .digest
                .wrapping_add(sum_digest(rows.iter().map(|&r| &hashes[r])));
        }
    }
    drop(chunks);
    let mut reindex = Vec::new();
    for ((p, i), writer) in trip_writers {
        writer.finish();
        reindex.push(local[&p][i].trips);
    }
    for (min, writer) in fact_writers {
        writer.finish();
        reindex.extend(fact_tables[&min].0.values().copied());
    }
    reindex.sort_unstable_by_key(|oid| oid.to_u32());
    reindex.dedup();
    Spi::connect_mut(|client| indexes::reindex_written(client, &reindex, "indexing a shard"))?;
    Ok(written)
}

/// Which of a month's shards on this node (in hash order) holds hash `h`; None: another node's.
fn shard_holding(shards: &[Shard], h: i32) -> Option<usize> {
    let i = shards.partition_point(|s| s.max < h);
    shards.get(i).filter(|s| s.min <= h).map(|_| i)
}

/// The shards of the request that are on this node, by month, in hash order (the request's).
fn local_shards(
    client: &mut SpiClient<'_>,
    req: &Request<'_>,
) -> Result<BTreeMap<Partition, Vec<Shard>>, LoadError> {
    let mut local: BTreeMap<Partition, Vec<Shard>> = BTreeMap::new();
    let oid_of =
        |client: &mut SpiClient<'_>, name: &str| -> Result<Option<pg_sys::Oid>, LoadError> {
            Ok(client
                .select(sql::LOCAL_TABLE, Some(1), &[name.into()])
                .and_then(|t| t.first().get_one::<i64>())
                .or_internal(DOING)?
                .map(locks::oid))
        };
    for i in 0..req.months.len() {
        let Some(trips) = oid_of(client, &req.trip_shards[i])? else {
            continue;
        };
        let facts = match (req.star, &req.fact_shards[i]) {
            (false, _) => None,
            (true, Some(name)) => {
                Some(oid_of(client, name)?.ok_or_else(|| LoadError::Internal {
                    doing: DOING,
                    detail: format!("{name} is not on the node of {}", req.trip_shards[i]),
                })?)
            }
            (true, None) => {
                return Err(LoadError::Internal {
                    doing: DOING,
                    detail: format!("no fact shard beside {}", req.trip_shards[i]),
                })
            }
        };
        local
            .entry(Partition::Month(req.months[i]))
            .or_default()
            .push(Shard {
                min: req.mins[i],
                max: req.maxs[i],
                trips,
                facts,
            });
    }
    Ok(local)
}

/// Refuses to write if this node's Citus hashes a row hash otherwise than [`citus_hash`]: the
/// trips would be stored in shards where queries by row_hash do not look.
fn check_hash(client: &mut SpiClient<'_>) -> Result<(), LoadError> {
    let probe: RowHash = std::array::from_fn(|i| (i * 37 + 11) as u8);
    let citus = client
        .select(sql::CITUS_HASH, Some(1), &[probe.as_slice().into()])
        .and_then(|t| t.first().get_one::<i32>())
        .or_internal(DOING)?;
    if citus != Some(citus_hash(&probe)) {
        return Err(LoadError::Internal {
            doing: DOING,
            detail: format!(
                "Citus hashes a row hash to {citus:?}, the loader to {}",
                citus_hash(&probe)
            ),
        });
    }
    Ok(())
}
