//! `taxi.shard_can_read` and `taxi.shard_write`: what the coordinator of a Citus cluster runs on
//! every worker, through `taxi.shard_keys`, for the shard-local write path (`load::shards`,
//! `load::shard_writer`). Internal: not for users (EXECUTE revoked from PUBLIC, sql/distributed.sql).

use pgrx::prelude::*;
use taxi_core::dataset::Dataset;
use taxi_core::error::LoadError;

use crate::gucs;
use crate::load::shard_writer::{self, Request};
use crate::report;

/// Whether this node reads `path` as a file of `size` bytes. `_key`: the shard key the row came
/// from, which makes Citus run the call on the node of that shard.
#[pg_extern(sql = false)]
fn shard_can_read(_key: Option<&[u8]>, path: Option<&str>, size: Option<i64>) -> bool {
    match (path, size) {
        (Some(path), Some(size)) => shard_writer::can_read(path, size),
        _ => false,
    }
}

/// Writes this node's shards of load `load_id`'s months (`load::shard_writer::write`):
/// `{trips written, their digest}` (`taxi_core::hash::sum_digest`).
#[allow(clippy::too_many_arguments)]
#[pg_extern(sql = false)]
fn shard_write(
    _key: Option<&[u8]>,
    path: &str,
    dataset: &str,
    load_id: i64,
    chunk_size: i32,
    star: bool,
    months: Vec<i32>,
    trip_shards: Vec<String>,
    fact_shards: Vec<Option<String>>,
    mins: Vec<i32>,
    maxs: Vec<i32>,
) -> Vec<i64> {
    const FUNCTION: &str = "taxi.shard_write";
    let Some(dataset) = Dataset::named(dataset) else {
        report::raise(
            LoadError::UnknownDataset {
                name: dataset.into(),
            },
            FUNCTION,
        );
    };
    let request = Request {
        path,
        dataset,
        load_id,
        chunk_size: chunk_size.max(1) as usize,
        star,
        workers: gucs::load_settings().workers,
        months,
        trip_shards,
        fact_shards,
        mins,
        maxs,
    };
    let written = shard_writer::write(request).unwrap_or_else(|e| report::raise(e, FUNCTION));
    vec![written.trips, written.digest]
}
