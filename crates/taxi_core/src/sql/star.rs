//! SQL text of the star schema. pgrx-free: built here, executed by `star` with bound parameters.
//!
//! [`project`] is the definition of a fact row in SQL; `star::facts` is the same definition for
//! the direct write path (see there).

use crate::facts::{SPEED_MAX_MILES, SPEED_MIN_MILES};
use crate::trip::{Kind, COLUMNS};

pub const FACTS: &str = "taxi.fact_trips";

/// The columns of taxi.fact_trips, in table order.
pub const FACT_COLUMNS: [&str; 30] = [
    "load_id",
    "pickup_datetime",
    "trip_distance",
    "trip_duration_minutes",
    "avg_speed_mph",
    "date_key",
    "time_key",
    "pickup_location_key",
    "dropoff_location_key",
    "vendor_key",
    "rate_code_key",
    "payment_type_key",
    "passenger_count",
    "is_airport_trip",
    "is_cross_borough",
    "is_cash",
    "is_long_distance",
    "is_short_distance",
    "row_hash",
    "fare_amount",
    "extra",
    "mta_tax",
    "tip_amount",
    "tolls_amount",
    "improvement_surcharge",
    "total_amount",
    "congestion_surcharge",
    "airport_fee",
    "cbd_congestion_fee",
    "tip_pct",
];

/// The trip column a fact column copies, if it is a copy.
pub fn copied_from(fact_column: &str) -> Option<&'static str> {
    match fact_column {
        "row_hash" => Some("row_hash"),
        "load_id" => Some("load_id"),
        "pickup_datetime" => Some("tpep_pickup_datetime"),
        "passenger_count" | "trip_distance" => COLUMNS
            .iter()
            .find(|c| c.name == fact_column)
            .map(|c| c.name),
        other => money_columns().find(|&m| m == other),
    }
}

pub fn money_columns() -> impl Iterator<Item = &'static str> {
    COLUMNS
        .iter()
        .filter(|c| c.kind == Kind::Money)
        .map(|c| c.name)
}

/// The fact rows of the trips in `source` (a relation or subquery with the columns of
/// taxi.yellow_taxi_trips, aliased `t` here), columns named and ordered as [`FACT_COLUMNS`].
/// Dimension keys by set-based joins; a code that is no member (or NULL) maps to -1.
pub fn project(source: &str) -> String {
    let money: Vec<String> = money_columns().map(|m| format!("t.{m}")).collect();
    format!(
        "SELECT t.load_id, t.tpep_pickup_datetime AS pickup_datetime, t.trip_distance, \
                d.us::pg_catalog.float8 / 60000000 AS trip_duration_minutes, \
                CASE WHEN d.us > 0 AND (t.trip_distance = 0 OR t.trip_distance BETWEEN {min}::pg_catalog.float8 AND {max}::pg_catalog.float8) \
                     THEN t.trip_distance / (d.us::pg_catalog.float8 / 3600000000) END AS avg_speed_mph, \
                CASE WHEN t.tpep_pickup_datetime >= '2000-01-01' AND t.tpep_pickup_datetime < '2100-01-01' \
                     THEN pg_catalog.to_char(t.tpep_pickup_datetime, 'YYYYMMDD')::pg_catalog.int4 ELSE 0 END AS date_key, \
                EXTRACT(HOUR FROM t.tpep_pickup_datetime)::pg_catalog.int2 AS time_key, \
                COALESCE(pu.location_key, -1)::pg_catalog.int2 AS pickup_location_key, \
                COALESCE(dl.location_key, -1)::pg_catalog.int2 AS dropoff_location_key, \
                COALESCE(v.vendor_key, -1)::pg_catalog.int2 AS vendor_key, \
                COALESCE(r.rate_code_key, -1)::pg_catalog.int2 AS rate_code_key, \
                COALESCE(p.payment_type_key, -1)::pg_catalog.int2 AS payment_type_key, \
                t.passenger_count, \
                COALESCE(pu.is_airport, false) OR COALESCE(dl.is_airport, false) AS is_airport_trip, \
                COALESCE(pu.borough_known AND dl.borough_known AND pu.borough <> dl.borough, false) AS is_cross_borough, \
                COALESCE(t.payment_type = 2, false) AS is_cash, \
                COALESCE(t.trip_distance > 10 AND t.trip_distance <> 'NaN', false) AS is_long_distance, \
                COALESCE(t.trip_distance < 1, false) AS is_short_distance, \
                t.row_hash, {money}, \
                CASE WHEN t.fare_amount <> 0 THEN pg_catalog.round(t.tip_amount * 100 / t.fare_amount, 2) END AS tip_pct \
         FROM {source} t \
         CROSS JOIN LATERAL (SELECT (EXTRACT(EPOCH FROM t.tpep_dropoff_datetime) \
                                     - EXTRACT(EPOCH FROM t.tpep_pickup_datetime)) * 1000000 AS us) d \
         LEFT JOIN taxi.dim_location pu ON pu.location_key = t.pulocationid \
         LEFT JOIN taxi.dim_location dl ON dl.location_key = t.dolocationid \
         LEFT JOIN taxi.dim_vendor v ON v.vendor_key = t.vendorid \
         LEFT JOIN taxi.dim_rate_code r ON r.rate_code_key = t.ratecodeid \
         LEFT JOIN taxi.dim_payment_type p ON p.payment_type_key = t.payment_type",
        money = money.join(", "),
        min = float_literal(SPEED_MIN_MILES),
        max = float_literal(SPEED_MAX_MILES),
    )
}

/// `{v:e}` is Rust's shortest round-trip form, which PostgreSQL's float8in reads back exactly.
fn float_literal(v: f64) -> String {
    format!("'{v:e}'")
}

/// INSERT of the fact rows of the trips in `source`.
pub fn insert_facts(source: &str) -> String {
    format!(
        "INSERT INTO {FACTS} ({}) {}",
        FACT_COLUMNS.join(", "),
        project(source)
    )
}

/// One statement that inserts trips (`insert_trips`, an INSERT into taxi.yellow_taxi_trips) and
/// the facts of exactly the trips it inserted, through RETURNING.
pub fn insert_trips_and_facts(insert_trips: &str) -> String {
    format!(
        "WITH inserted AS ({insert_trips} RETURNING *) {}",
        insert_facts("inserted")
    )
}

/// Pickups in [$1, $2); NULL bounds are open.
const RANGE_TRIPS: &str = "($1::pg_catalog.timestamp IS NULL OR tpep_pickup_datetime >= $1) \
     AND ($2::pg_catalog.timestamp IS NULL OR tpep_pickup_datetime < $2)";
const RANGE_FACTS: &str = "($1::pg_catalog.timestamp IS NULL OR pickup_datetime >= $1) \
     AND ($2::pg_catalog.timestamp IS NULL OR pickup_datetime < $2)";

/// The months with trips in [$1, $2), for taxi_rebuild_star.
pub fn months_of_trips() -> String {
    format!(
        "SELECT COALESCE(pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('month', tpep_pickup_datetime)::pg_catalog.date), '{{}}') \
         FROM taxi.yellow_taxi_trips WHERE {RANGE_TRIPS}"
    )
}

pub fn delete_facts() -> String {
    format!("DELETE FROM {FACTS} WHERE {RANGE_FACTS}")
}

/// Whether the current role may TRUNCATE the fact table and every partition.
pub const MAY_TRUNCATE_FACTS: &str = "\
SELECT pg_catalog.bool_and(pg_catalog.has_table_privilege(relid, 'TRUNCATE'))
FROM pg_catalog.pg_partition_tree('taxi.fact_trips')";

pub const TRUNCATE_FACTS: &str = "TRUNCATE taxi.fact_trips";

pub const COUNT_FACTS: &str = "SELECT pg_catalog.count(*) FROM taxi.fact_trips";

pub fn insert_facts_of_range() -> String {
    insert_facts(&format!(
        "(SELECT * FROM taxi.yellow_taxi_trips WHERE {RANGE_TRIPS})"
    ))
}

/// The fact table's oid and whether the current role may insert into it.
/// NULL oid: the fact table does not exist (the extension's objects predate the star schema).
pub const FACTS_OID: &str = "SELECT pg_catalog.to_regclass('taxi.fact_trips')::pg_catalog.oid::pg_catalog.int8, pg_catalog.to_regclass('taxi.fact_trips') IS NOT NULL AND pg_catalog.has_table_privilege('taxi.fact_trips', 'INSERT')";

/// Whether fact rows can go straight into the partitions' heaps: nothing the executor would do
/// on INSERT is skipped — no triggers, row security, indexes, CHECK constraints or columns the
/// loader does not fill on the table or any partition, every partition a plain table. $1: the
/// fact columns. Also returns every partition's oid, to be locked.
pub const INSPECT_FACTS: &str = "\
SELECT pg_catalog.bool_and(
         (c.relkind = 'r' OR (c.relkind = 'p' AND t.level = 0))
         AND NOT c.relhastriggers AND NOT c.relrowsecurity AND NOT c.relhasindex
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid AND k.contype NOT IN ('n'))
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           AND a.attname <> ALL ($1::pg_catalog.text[]))),
       pg_catalog.array_agg(t.relid::pg_catalog.oid::pg_catalog.int8) FILTER (WHERE t.level > 0)
FROM pg_catalog.pg_partition_tree('taxi.fact_trips') t
JOIN pg_catalog.pg_class c ON c.oid = t.relid";

/// The dimension members the direct write path needs.
pub const DIM_LOCATIONS: &str =
    "SELECT location_key, borough, borough_known, is_airport FROM taxi.dim_location";
pub const DIM_VENDORS: &str = "SELECT vendor_key FROM taxi.dim_vendor";
pub const DIM_RATE_CODES: &str = "SELECT rate_code_key FROM taxi.dim_rate_code";
pub const DIM_PAYMENT_TYPES: &str = "SELECT payment_type_key FROM taxi.dim_payment_type";

/// taxi_check_consistency: one row per discrepancy between the normalized table and the facts.
pub fn check_consistency() -> String {
    let money: Vec<&str> = money_columns().collect();
    // Both tables name their money columns alike.
    let sums = money
        .iter()
        .map(|m| format!("pg_catalog.sum({m}) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let items: Vec<String> =
        std::iter::once("('trips', COALESCE(n.trips, 0), COALESCE(s.trips, 0))".to_string())
            .chain(money.iter().map(|m| format!("('sum({m})', n.{m}, s.{m})")))
            .collect();
    let compared: Vec<&str> = FACT_COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "row_hash")
        .collect();
    let row = |alias: &str| {
        compared
            .iter()
            .map(|c| format!("{alias}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "WITH n AS (SELECT pg_catalog.date_trunc('month', tpep_pickup_datetime)::pg_catalog.date AS month, \
                           pg_catalog.count(*)::pg_catalog.numeric AS trips, {sums} \
                    FROM taxi.yellow_taxi_trips GROUP BY 1), \
              s AS (SELECT pg_catalog.date_trunc('month', pickup_datetime)::pg_catalog.date AS month, \
                           pg_catalog.count(*)::pg_catalog.numeric AS trips, {sums} \
                    FROM taxi.fact_trips GROUP BY 1), \
              expected AS ({expected}) \
         SELECT * FROM ( \
         SELECT COALESCE(n.month, s.month) AS month, x.item, x.normalized, x.star, NULL::pg_catalog.text AS detail \
         FROM n FULL JOIN s ON s.month = n.month \
         CROSS JOIN LATERAL (VALUES {items}) AS x(item, normalized, star) \
         WHERE x.normalized IS DISTINCT FROM x.star \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', t.tpep_pickup_datetime)::pg_catalog.date, \
                'trips only in yellow_taxi_trips', pg_catalog.count(*), 0, {examples_t} \
         FROM taxi.yellow_taxi_trips t \
         WHERE NOT EXISTS (SELECT FROM taxi.fact_trips f WHERE f.row_hash = t.row_hash) GROUP BY 1 \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', f.pickup_datetime)::pg_catalog.date, \
                'trips only in fact_trips', 0, pg_catalog.count(*), {examples_f} \
         FROM taxi.fact_trips f \
         WHERE NOT EXISTS (SELECT FROM taxi.yellow_taxi_trips t WHERE t.row_hash = f.row_hash) GROUP BY 1 \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', e.pickup_datetime)::pg_catalog.date, \
                'trips whose fact differs', pg_catalog.count(*), pg_catalog.count(*), {examples_e} \
         FROM expected e JOIN taxi.fact_trips f ON f.row_hash = e.row_hash \
         WHERE ({e_row}) IS DISTINCT FROM ({f_row}) GROUP BY 1 \
         ) d ORDER BY month, item",
        expected = project("taxi.yellow_taxi_trips"),
        items = items.join(", "),
        examples_t = examples("t"),
        examples_f = examples("f"),
        examples_e = examples("e"),
        e_row = row("e"),
        f_row = row("f"),
    )
}

/// "e.g. <first three row hashes>" of a group.
fn examples(alias: &str) -> String {
    format!(
        "'e.g. row_hash ' || pg_catalog.array_to_string((pg_catalog.array_agg(pg_catalog.encode({alias}.row_hash, 'hex') ORDER BY {alias}.row_hash))[1:3], ', ')"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fact_column_is_projected_in_order() {
        let sql = project("x");
        let mut at = 0;
        for c in FACT_COLUMNS {
            let found = [
                format!(" AS {c},"),
                format!(" AS {c} "),
                format!("t.{c},"),
                format!("t.{c} "),
            ]
            .iter()
            .filter_map(|needle| sql[at..].find(needle.as_str()).map(|i| at + i))
            .min()
            .unwrap_or_else(|| panic!("{c} missing after byte {at} in {sql}"));
            at = found + 1;
        }
        assert!(sql.contains("FROM x t "));
        assert!(sql.contains("BETWEEN '1e-6'::pg_catalog.float8 AND '1e6'::pg_catalog.float8"));
    }

    #[test]
    fn copies_and_money() {
        assert_eq!(money_columns().count(), 10);
        assert_eq!(copied_from("pickup_datetime"), Some("tpep_pickup_datetime"));
        assert_eq!(copied_from("tip_amount"), Some("tip_amount"));
        assert_eq!(copied_from("trip_distance"), Some("trip_distance"));
        assert_eq!(copied_from("tip_pct"), None);
        assert_eq!(
            FACT_COLUMNS
                .iter()
                .filter(|c| copied_from(c).is_some())
                .count(),
            15
        );
    }

    #[test]
    fn trips_and_facts_in_one_statement() {
        let sql = insert_trips_and_facts("INSERT INTO taxi.yellow_taxi_trips (a) VALUES (1)");
        assert!(sql.starts_with(
            "WITH inserted AS (INSERT INTO taxi.yellow_taxi_trips (a) VALUES (1) RETURNING *) INSERT INTO taxi.fact_trips (load_id, pickup_datetime,"
        ));
        assert!(sql.contains("FROM inserted t "));
        assert!(check_consistency().contains("'trips whose fact differs'"));
    }
}
