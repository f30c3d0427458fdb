//! SQL text of the write path. pgrx-free: built here, executed by the extension's `load::trips`
//! with bound parameters;
//! identifiers are fixed or come from `regclass`/`format('%I')` inside PostgreSQL.

use crate::dataset::Dataset;
use crate::trip::Kind;

/// The target's oid (NULL unless it is partitioned, as 0.4.0 made it) and whether the current
/// role may insert into it.
pub fn target_oid(d: &Dataset) -> String {
    format!(
        "SELECT CASE WHEN c.relkind = 'p' THEN c.oid::pg_catalog.int8 END,
       pg_catalog.has_table_privilege(c.oid, 'INSERT')
FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass('{}')",
        d.qualified()
    )
}

/// Whether the current role owns the target (and may insert); whether rows can be written
/// straight into its partitions' heaps (partitioned as the extension made it, no triggers, no
/// row security, no columns the loader does not fill); whether it is a Citus table (its rows are
/// in shards on the workers: read and written through SQL only). $1: the columns the loader fills.
pub fn inspect_target(d: &Dataset) -> String {
    format!(
        "SELECT pg_catalog.pg_has_role(c.relowner, 'USAGE')
         AND pg_catalog.has_table_privilege(c.oid, 'INSERT') AS owner,
       c.relkind = 'p' AND NOT c.relhastriggers AND NOT c.relrowsecurity
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           AND a.attname <> ALL ($1::pg_catalog.text[])) AS plain,
       taxi.distributed(c.oid) AS distributed
FROM pg_catalog.pg_class c WHERE c.oid = '{}'::pg_catalog.regclass",
        d.qualified()
    )
}

/// Those of row hashes $1 stored with a pickup in [$2, $3) (NULL: unbounded): the bounds of one
/// partition, so the plan reads only its primary key.
pub fn probe(d: &Dataset) -> String {
    format!(
        "{}\n  AND row_hash = ANY ($1::pg_catalog.bytea[])",
        super::hashes_in_month(d, 2)
    )
}

/// Up to $3 of the row hashes stored with a pickup in [$1, $2) (one partition's bounds): what a
/// load reads of a distributed table's month, whose heap on the coordinator is empty (a local
/// partition's heap is read directly). The limit goes down to every shard, so a month too large
/// to read whole costs no more than the limit.
pub fn stored(d: &Dataset) -> String {
    format!(
        "{}\nLIMIT $3::pg_catalog.int8",
        super::hashes_in_month(d, 1)
    )
}

pub const ENSURE_DROP_GUARD: &str = "SELECT taxi.ensure_drop_guard()";

/// Every column the loader fills (the direct write path finds each attribute by name).
pub fn filled_columns(d: &Dataset) -> Vec<&'static str> {
    ["row_hash", "load_id"]
        .into_iter()
        .chain(d.columns.iter().map(|c| c.name))
        .chain(["quality_flags"])
        .collect()
}

fn sql_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "smallint",
        Kind::BigInt => "bigint",
        Kind::Timestamp => "timestamp",
        Kind::Float => "double precision",
        // Amounts travel as whole cents and become numeric(12,2) here, exactly (× 0.01).
        Kind::Money => "bigint",
        Kind::Text => "text",
    }
}

/// One INSERT per chunk for the SPI path: $1 the row hashes, $2 the load_id, then one array per
/// trip column, then the quality flags. A trip stored meanwhile by someone else is skipped, not
/// an error: the conflict is on the primary key of the trip's partition (the parent has none).
pub fn insert_rows(d: &Dataset) -> String {
    format!("{} ON CONFLICT DO NOTHING", insert_new_rows(d))
}

/// [`insert_rows`] without ON CONFLICT, for trips known to be new: a Citus table's month that
/// this load locked exclusively after reading (or probing) its stored trips. Without the clause
/// Citus copies the rows straight into the shards; with it, it stages them in intermediate
/// results and inserts each shard's rows again on its worker. A trip inserted meanwhile by
/// anything but a load fails the load with 23505 instead of being skipped.
pub fn insert_new_rows(d: &Dataset) -> String {
    let names: Vec<&str> = d.columns.iter().map(|c| c.name).collect();
    let arrays: Vec<String> = std::iter::once("pg_catalog.unnest($1::pg_catalog.bytea[])".into())
        .chain(
            d.columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("pg_catalog.unnest(${}::{}[])", i + 3, sql_type(c.kind))),
        )
        .chain(std::iter::once(format!(
            "pg_catalog.unnest(${}::smallint[])",
            d.columns.len() + 3
        )))
        .collect();
    let values: Vec<String> = d
        .columns
        .iter()
        .map(|c| match c.kind {
            Kind::Money => format!("r.{} * 0.01", c.name),
            _ => format!("r.{}", c.name),
        })
        .collect();
    format!(
        "INSERT INTO {table} (row_hash, load_id, {names}, quality_flags) \
         SELECT r.row_hash, $2, {values}, r.quality_flags \
         FROM ROWS FROM ({arrays}) AS r(row_hash, {names}, quality_flags)",
        table = d.qualified(),
        names = names.join(", "),
        values = values.join(", "),
        arrays = arrays.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{FHVHV, YELLOW};

    #[test]
    fn insert_binds_arrays_and_converts_cents() {
        let sql = insert_rows(&YELLOW);
        assert!(
            sql.contains("SELECT r.row_hash, $2, r.vendorid, r.tpep_pickup_datetime,"),
            "{sql}"
        );
        assert!(sql.contains("r.fare_amount * 0.01"));
        assert!(
            sql.contains("pg_catalog.unnest($3::smallint[]), pg_catalog.unnest($4::timestamp[])")
        );
        assert!(sql.contains(
            "pg_catalog.unnest($26::double precision[]), pg_catalog.unnest($27::smallint[])) AS r(row_hash, vendorid,"
        ));
        assert!(sql.contains("r.cbd_congestion_fee * 0.01, r.pickup_longitude,"));
        assert!(sql.contains("r.dropoff_latitude, r.quality_flags FROM"));
        assert!(sql.ends_with("ON CONFLICT DO NOTHING"));
        let new = insert_new_rows(&YELLOW);
        assert!(!new.contains("ON CONFLICT"));
        assert_eq!(format!("{new} ON CONFLICT DO NOTHING"), sql);
    }

    #[test]
    fn filled_columns_are_the_table_columns() {
        let cols = filled_columns(&YELLOW);
        assert_eq!(cols.len(), 27);
        assert_eq!(cols[26], "quality_flags");
        assert_eq!(&cols[..3], &["row_hash", "load_id", "vendorid"]);
    }

    #[test]
    fn other_datasets_insert_into_their_tables() {
        let sql = insert_rows(&FHVHV);
        assert!(
            sql.starts_with("INSERT INTO taxi.fhvhv_trips (row_hash, load_id, hvfhs_license_num,")
        );
        assert!(
            sql.contains("pg_catalog.unnest($13::bigint[])"),
            "trip_time: {sql}"
        );
        assert!(sql.contains("r.base_passenger_fare * 0.01"));
        assert!(probe(&FHVHV).contains("WHERE pickup_datetime >= "));
    }
}
