//! `taxi_bulk_begin(target)` records and drops a table's secondary indexes, `taxi_bulk_end(target)`
//! rebuilds them: usable on their own, around any bulk write. `taxi_tune_session()` lives in
//! sql/bulk.sql.

use pgrx::prelude::*;
use pgrx::PgRelation;

use crate::load::indexes;
use crate::report;

/// Records the definitions of `target`'s indexes in taxi.bulk_saved_index and drops them; unique
/// ones (the primary key) too only with `include_unique`. Returns what was dropped.
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_bulk_begin(
    target: PgRelation,
    include_unique: default!(bool, false),
) -> TableIterator<'static, (name!(index_name, String), name!(definition, String))> {
    let oid = target.oid();
    drop(target);
    let dropped = Spi::connect_mut(|client| indexes::drop_indexes(client, oid, include_unique))
        .unwrap_or_else(|e| report::raise(e, "taxi_bulk_begin"));
    TableIterator::new(dropped)
}

/// Rebuilds the indexes taxi_bulk_begin dropped from `target`. Returns what was rebuilt.
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_bulk_end(
    target: PgRelation,
) -> TableIterator<'static, (name!(index_name, String), name!(definition, String))> {
    let oid = target.oid();
    drop(target);
    let rebuilt = Spi::connect_mut(|client| indexes::rebuild_indexes(client, oid))
        .unwrap_or_else(|e| report::raise(e, "taxi_bulk_end"));
    TableIterator::new(rebuilt)
}
