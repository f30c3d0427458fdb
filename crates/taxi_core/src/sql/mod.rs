//! Every statement the extension runs, as text with bound parameters (`$1`…) and identifiers
//! quoted by PostgreSQL itself (`regclass`, `format('%I')`). Executed by the extension crate;
//! nothing here builds SQL from values.

pub mod history;
pub mod indexes;
pub mod partitions;
pub mod replace;
pub mod shards;
pub mod star;
pub mod trips;

use crate::dataset::Dataset;

/// `SELECT row_hash FROM` `d`'s table `WHERE` its pickup lies in [$`lower`, $`lower`+1) (NULL:
/// unbounded): one month partition's bounds, so the plan reads that partition only (on Citus:
/// that month's shards only).
pub(crate) fn hashes_in_month(d: &Dataset, lower: usize) -> String {
    format!(
        "SELECT row_hash FROM {table}
WHERE {pickup} >= COALESCE(${lower}::pg_catalog.timestamp, '-infinity')
  AND {pickup} < COALESCE(${upper}::pg_catalog.timestamp, 'infinity')",
        table = d.qualified(),
        pickup = d.pickup_column(),
        upper = lower + 1
    )
}
