//! The shard-local write path on Citus, coordinator side. When every worker reads the load's file
//! at the same path, the trips of the load's new months (locked exclusively, empty) are not sent
//! to the workers at all: after the last chunk one query over `taxi.shard_keys` makes each worker
//! read the file and write its own shards (`load::shard_writer`), in the load's transaction. The
//! coordinator still reads the file for everything else (rejected rows, history, other months)
//! and counts the new trips of those months; the workers must have written exactly as many.
//!
//! Citus runs the load's transaction on one connection per node (sequential mode): the month
//! partitions' shards, created by the load on the workers, are then visible to the worker
//! function, which runs once per node.

use std::collections::BTreeSet;

use pgrx::spi::SpiClient;
use taxi_core::dataset::Dataset;
use taxi_core::error::LoadError;
use taxi_core::hash::{sum_digest, RowHash};
use taxi_core::partition::Partition;
use taxi_core::read::input::Source;
use taxi_core::sql::shards as sql;
use taxi_core::sql::star as star_sql;
use taxi_core::sql::trips as trips_sql;

use crate::report::OrInternal;

const DOING: &str = "writing the shards on the workers";

/// A file every worker reads as the coordinator does.
pub struct Readable {
    path: String,
}

/// Whether the workers can write their shards of this load themselves: the trips' tables (and the
/// facts', with `star`) are plain enough ([`sql::PLAIN`]), `source` is a server file that every
/// worker reads at the same path with the same size, and `taxi.shard_keys` reaches every shard.
/// Switches this transaction's Citus work to one connection per node first.
pub fn readable(
    client: &mut SpiClient<'_>,
    dataset: &'static Dataset,
    star: bool,
    source: &Source,
) -> Result<Option<Readable>, LoadError> {
    let Source::Local(file) = source else {
        return Ok(None);
    };
    let plain = client
        .select(
            sql::PLAIN,
            Some(1),
            &[
                dataset.qualified().into(),
                star.then_some(star_sql::FACTS).into(),
                trips_sql::filled_columns(dataset).into(),
                star_sql::FACT_COLUMNS.to_vec().into(),
            ],
        )
        .and_then(|t| t.first().get_one::<bool>())
        .or_internal(DOING)?;
    if plain != Some(true) {
        return Ok(None);
    }
    client
        .update(sql::SEQUENTIAL, None, &[])
        .or_internal(DOING)?;
    let covered = client
        .select(sql::KEYS_COVER_SHARDS, Some(1), &[])
        .and_then(|t| t.first().get_one::<bool>())
        .or_internal(DOING)?;
    if covered != Some(true) {
        return Ok(None);
    }
    let (path, size) = (file.path().to_string(), file.size() as i64);
    let (all, shards) = client
        .select(
            sql::WORKERS_CAN_READ,
            Some(1),
            &[path.as_str().into(), size.into()],
        )
        .and_then(|t| t.first().get_two::<bool, i64>())
        .or_internal(DOING)?;
    Ok((all == Some(true) && shards.unwrap_or(0) > 0).then_some(Readable { path }))
}

/// The months a load leaves to the workers, and how many trips the coordinator counted in them.
pub struct ShardWrite {
    file: Readable,
    months: BTreeSet<Partition>,
    expected: u64,
    /// [`sum_digest`] of the trips counted.
    digest: i64,
}

impl ShardWrite {
    pub fn new(file: Readable, months: BTreeSet<Partition>) -> Option<ShardWrite> {
        (!months.is_empty()).then_some(ShardWrite {
            file,
            months,
            expected: 0,
            digest: 0,
        })
    }

    /// Whether the workers write partition `p`'s trips (and facts).
    pub fn covers(&self, p: Partition) -> bool {
        self.months.contains(&p)
    }

    /// New trips of a covered month (`rows` of a chunk's `hashes`), which the workers must write.
    pub fn count(&mut self, hashes: &[RowHash], rows: &[usize]) {
        self.expected += rows.len() as u64;
        self.digest = self
            .digest
            .wrapping_add(sum_digest(rows.iter().map(|&r| &hashes[r])));
    }

    /// Makes every worker write its shards of the covered months; error unless they wrote the
    /// trips counted (as many, and the same digest).
    pub fn run(
        self,
        client: &mut SpiClient<'_>,
        dataset: &'static Dataset,
        load_id: i64,
        chunk_size: usize,
        star: bool,
    ) -> Result<(), LoadError> {
        let (mut months, mut trip_shards, mut fact_shards, mut mins, mut maxs) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &p in &self.months {
            let facts = star.then(|| p.fact_table());
            for r in client
                .select(
                    sql::SHARDS_OF_MONTH,
                    None,
                    &[p.trip_table(dataset).into(), facts.into()],
                )
                .or_internal(DOING)?
            {
                let (Some(min), Some(max), Some(trips)) = (
                    r.get::<i32>(1).or_internal(DOING)?,
                    r.get::<i32>(2).or_internal(DOING)?,
                    r.get::<String>(3).or_internal(DOING)?,
                ) else {
                    continue;
                };
                months.push(p.lock_key());
                trip_shards.push(trips);
                fact_shards.push(r.get::<String>(4).or_internal(DOING)?);
                mins.push(min);
                maxs.push(max);
            }
        }
        let (mut written, mut digest) = (0i64, 0i64);
        for r in client
            .select(
                sql::WRITE,
                None,
                &[
                    self.file.path.as_str().into(),
                    dataset.name.into(),
                    load_id.into(),
                    (chunk_size as i32).into(),
                    star.into(),
                    months.into(),
                    trip_shards.into(),
                    fact_shards.into(),
                    mins.into(),
                    maxs.into(),
                ],
            )
            .or_internal(DOING)?
        {
            if let Some(&[trips, d]) = r.get::<Vec<i64>>(1).or_internal(DOING)?.as_deref() {
                written += trips;
                digest = digest.wrapping_add(d);
            }
        }
        if (written as u64, digest) != (self.expected, self.digest) {
            return Err(LoadError::Internal {
                doing: DOING,
                detail: format!(
                    "the workers wrote {written} trips (digest {digest}) where the coordinator counted {} new ones (digest {}) in {}: do they read the same file?",
                    self.expected, self.digest, self.file.path
                ),
            });
        }
        Ok(())
    }
}
