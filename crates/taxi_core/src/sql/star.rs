//! SQL text of the star schema. pgrx-free: built here, executed by `star` with bound parameters.
//!
//! [`project`] is the definition of a fact row in SQL; `star::facts` is the same definition for
//! the direct write path (see there).

use crate::dataset::{Dataset, Service, UNKNOWN_COMPANY};
use crate::facts::{SPEED_MAX_MILES, SPEED_MIN_MILES};

pub const FACTS: &str = "taxi.fact_trips";

/// The columns of taxi.fact_trips, in table order (service_key came with 0.7.0, last).
pub const FACT_COLUMNS: [&str; 31] = [
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
    "service_key",
];

/// The fact table's amounts: yellow's, which the other datasets fill where they have one.
pub const FACT_MONEY: [&str; 10] = [
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
];

/// The trip column of `d` a fact column copies, if it is a copy and `d` has it.
pub fn copied_from(d: &Dataset, fact_column: &str) -> Option<&'static str> {
    match fact_column {
        "row_hash" => Some("row_hash"),
        "load_id" => Some("load_id"),
        "pickup_datetime" => Some(d.pickup_column()),
        "passenger_count" | "trip_distance" => {
            d.fact_source(fact_column).map(|i| d.columns[i].name)
        }
        other if FACT_MONEY.contains(&other) => d.fact_source(other).map(|i| d.columns[i].name),
        _ => None,
    }
}

/// `d`'s members of taxi.dim_service.
pub fn service_keys(d: &Dataset) -> Vec<i16> {
    match d.service {
        Service::Fixed(key) => vec![key],
        Service::ByLicense(_) => std::iter::once(UNKNOWN_COMPANY)
            .chain(crate::dataset::LICENSES.iter().map(|(_, k)| *k))
            .collect(),
    }
}

/// The fact rows of `d`'s trips in `source` (a relation or subquery with the columns of its
/// table, aliased `t` here), columns named and ordered as [`FACT_COLUMNS`]. Dimension keys by
/// set-based joins; a code that is no member (or NULL, or a column the dataset lacks) maps to -1.
pub fn project(d: &Dataset, source: &str) -> String {
    let trip = |fact: &str, null: &str| {
        copied_from(d, fact)
            .map_or_else(|| format!("NULL::pg_catalog.{null}"), |c| format!("t.{c}"))
    };
    let code = |name: &str| {
        d.column(name).map_or_else(
            || "NULL::pg_catalog.int2".to_string(),
            |i| format!("t.{}", d.columns[i].name),
        )
    };
    let money: Vec<String> = FACT_MONEY
        .iter()
        .map(|m| format!("{} AS {m}", trip(m, "numeric")))
        .collect();
    let (service, service_join) = match d.service {
        Service::Fixed(key) => (format!("{key}::pg_catalog.int2"), String::new()),
        Service::ByLicense(i) => (
            format!("COALESCE(sv.service_key, {UNKNOWN_COMPANY})::pg_catalog.int2"),
            format!(
                " LEFT JOIN taxi.dim_service sv ON sv.license = t.{}",
                d.columns[i].name
            ),
        ),
    };
    let (pickup, dropoff) = (d.pickup_column(), d.dropoff_column());
    let dist = trip("trip_distance", "float8");
    let (fare, tip) = (
        trip("fare_amount", "numeric"),
        trip("tip_amount", "numeric"),
    );
    format!(
        "SELECT t.load_id, t.{pickup} AS pickup_datetime, {dist} AS trip_distance, \
                d.us::pg_catalog.float8 / 60000000 AS trip_duration_minutes, \
                CASE WHEN d.us > 0 AND ({dist} = 0 OR {dist} BETWEEN {min}::pg_catalog.float8 AND {max}::pg_catalog.float8) \
                     THEN {dist} / (d.us::pg_catalog.float8 / 3600000000) END AS avg_speed_mph, \
                CASE WHEN t.{pickup} >= '2000-01-01' AND t.{pickup} < '2100-01-01' \
                     THEN pg_catalog.to_char(t.{pickup}, 'YYYYMMDD')::pg_catalog.int4 ELSE 0 END AS date_key, \
                EXTRACT(HOUR FROM t.{pickup})::pg_catalog.int2 AS time_key, \
                COALESCE(pu.location_key, -1)::pg_catalog.int2 AS pickup_location_key, \
                COALESCE(dl.location_key, -1)::pg_catalog.int2 AS dropoff_location_key, \
                COALESCE(v.vendor_key, -1)::pg_catalog.int2 AS vendor_key, \
                COALESCE(r.rate_code_key, -1)::pg_catalog.int2 AS rate_code_key, \
                COALESCE(p.payment_type_key, -1)::pg_catalog.int2 AS payment_type_key, \
                {passengers} AS passenger_count, \
                COALESCE(pu.is_airport, false) OR COALESCE(dl.is_airport, false) AS is_airport_trip, \
                COALESCE(pu.borough_known AND dl.borough_known AND pu.borough <> dl.borough, false) AS is_cross_borough, \
                COALESCE({payment} = 2, false) AS is_cash, \
                COALESCE({dist} > 10 AND {dist} <> 'NaN', false) AS is_long_distance, \
                COALESCE({dist} < 1, false) AS is_short_distance, \
                t.row_hash, {money}, \
                CASE WHEN {fare} <> 0 THEN pg_catalog.round({tip} * 100 / {fare}, 2) END AS tip_pct, \
                {service} AS service_key \
         FROM {source} t \
         CROSS JOIN LATERAL (SELECT (EXTRACT(EPOCH FROM t.{dropoff}) \
                                     - EXTRACT(EPOCH FROM t.{pickup})) * 1000000 AS us) d \
         LEFT JOIN taxi.dim_location pu ON pu.location_key = {pu} \
         LEFT JOIN taxi.dim_location dl ON dl.location_key = {dol} \
         LEFT JOIN taxi.dim_vendor v ON v.vendor_key = {vendor} \
         LEFT JOIN taxi.dim_rate_code r ON r.rate_code_key = {rate} \
         LEFT JOIN taxi.dim_payment_type p ON p.payment_type_key = {payment}{service_join}",
        passengers = trip("passenger_count", "int2"),
        payment = code("payment_type"),
        pu = code("pulocationid"),
        dol = code("dolocationid"),
        vendor = code("vendorid"),
        rate = code("ratecodeid"),
        money = money.join(", "),
        min = float_literal(SPEED_MIN_MILES),
        max = float_literal(SPEED_MAX_MILES),
    )
}

/// `{v:e}` is Rust's shortest round-trip form, which PostgreSQL's float8in reads back exactly.
fn float_literal(v: f64) -> String {
    format!("'{v:e}'")
}

/// INSERT of the fact rows of `d`'s trips in `source`.
pub fn insert_facts(d: &Dataset, source: &str) -> String {
    format!(
        "INSERT INTO {FACTS} ({}) {}",
        FACT_COLUMNS.join(", "),
        project(d, source)
    )
}

/// One statement that inserts trips (`insert_trips`, an INSERT into `d`'s table) and the facts
/// of exactly the trips it inserted, through RETURNING.
pub fn insert_trips_and_facts(d: &Dataset, insert_trips: &str) -> String {
    format!(
        "WITH inserted AS ({insert_trips} RETURNING *) {}",
        insert_facts(d, "inserted")
    )
}

/// Pickups in [$1, $2); NULL bounds are open.
fn range(column: &str) -> String {
    format!(
        "($1::pg_catalog.timestamp IS NULL OR {column} >= $1) \
     AND ($2::pg_catalog.timestamp IS NULL OR {column} < $2)"
    )
}

/// The months with trips of `d` in [$1, $2), for taxi_rebuild_star.
pub fn months_of_trips(d: &Dataset) -> String {
    format!(
        "SELECT COALESCE(pg_catalog.array_agg(DISTINCT pg_catalog.date_trunc('month', {pickup})::pg_catalog.date), '{{}}') \
         FROM {table} WHERE {range}",
        pickup = d.pickup_column(),
        table = d.qualified(),
        range = range(d.pickup_column()),
    )
}

/// Deletes the facts of `d`'s trips with a pickup in [$1, $2).
pub fn delete_facts(d: &Dataset) -> String {
    format!(
        "DELETE FROM {FACTS} WHERE {} AND service_key = ANY ('{{{}}}'::pg_catalog.int2[])",
        range("pickup_datetime"),
        keys(d)
    )
}

fn keys(d: &Dataset) -> String {
    service_keys(d)
        .iter()
        .map(i16::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether the current role may TRUNCATE the fact table and every partition.
pub const MAY_TRUNCATE_FACTS: &str = "\
SELECT pg_catalog.bool_and(pg_catalog.has_table_privilege(relid, 'TRUNCATE'))
FROM pg_catalog.pg_partition_tree('taxi.fact_trips')";

pub const TRUNCATE_FACTS: &str = "TRUNCATE taxi.fact_trips";

/// How many facts `d`'s trips have.
pub fn count_facts(d: &Dataset) -> String {
    format!(
        "SELECT pg_catalog.count(*) FROM {FACTS} WHERE service_key = ANY ('{{{}}}'::pg_catalog.int2[])",
        keys(d)
    )
}

/// INSERT of the facts of `d`'s trips with a pickup in [$1, $2).
pub fn insert_facts_of_range(d: &Dataset) -> String {
    insert_facts(d, &trips_of_month(d))
}

/// INSERT of the facts of the trips of load $3 with a pickup in [$1, $2): after a load into a
/// Citus table, one statement a month that Citus runs shard by shard on the workers (trips and
/// facts are co-located on row_hash, the dimensions are reference tables), instead of sending
/// every fact from the coordinator.
pub fn insert_facts_of_load(d: &Dataset) -> String {
    insert_facts(
        d,
        &trips_of_month_where(d, Some("load_id = $3::pg_catalog.int8")),
    )
}

/// The fact table's oid and whether the current role may insert into it.
/// NULL oid: the fact table does not exist (the extension's objects predate the star schema).
pub const FACTS_OID: &str = "SELECT pg_catalog.to_regclass('taxi.fact_trips')::pg_catalog.oid::pg_catalog.int8, pg_catalog.to_regclass('taxi.fact_trips') IS NOT NULL AND pg_catalog.has_table_privilege('taxi.fact_trips', 'INSERT')";

/// Whether fact rows can go straight into the partitions' heaps: nothing the executor would do
/// on INSERT is skipped — no triggers, row security, indexes, CHECK constraints or columns the
/// loader does not fill on the table or any partition, every partition a plain table, and not a
/// Citus table (its rows are in shards). $1: the fact columns. Also returns every partition's
/// oid, to be locked.
pub const INSPECT_FACTS: &str = "\
SELECT pg_catalog.bool_and(
         (c.relkind = 'r' OR (c.relkind = 'p' AND t.level = 0))
         AND NOT c.relhastriggers AND NOT c.relrowsecurity AND NOT c.relhasindex
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid AND k.contype NOT IN ('n'))
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           AND a.attname <> ALL ($1::pg_catalog.text[])))
         AND NOT taxi.distributed('taxi.fact_trips'),
       pg_catalog.array_agg(t.relid::pg_catalog.oid::pg_catalog.int8) FILTER (WHERE t.level > 0)
FROM pg_catalog.pg_partition_tree('taxi.fact_trips') t
JOIN pg_catalog.pg_class c ON c.oid = t.relid";

/// The dimension members the direct write path needs.
pub const DIM_LOCATIONS: &str =
    "SELECT location_key, borough, borough_known, is_airport FROM taxi.dim_location";
pub const DIM_VENDORS: &str = "SELECT vendor_key FROM taxi.dim_vendor";
pub const DIM_RATE_CODES: &str = "SELECT rate_code_key FROM taxi.dim_rate_code";
pub const DIM_PAYMENT_TYPES: &str = "SELECT payment_type_key FROM taxi.dim_payment_type";

/// Whether the current role may read table $1, and whether only SQL may read it: row security
/// applies to it (SQL applies the policies), or it is a Citus table (its rows are in shards).
pub const MAY_READ: &str = "\
SELECT pg_catalog.has_table_privilege(c.oid, 'SELECT'),
       c.relrowsecurity OR taxi.distributed(c.oid)
FROM pg_catalog.pg_class c WHERE c.oid = $1::pg_catalog.regclass";

/// The attached partitions of $1 (a partitioned table of schema taxi): name, oid, the planner's
/// estimate of their rows (0 when never analysed).
pub const PARTITIONS_OF: &str = "\
SELECT c.relname::pg_catalog.text, c.oid::pg_catalog.int8,
       GREATEST(c.reltuples, 0)::pg_catalog.float8
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = $1::pg_catalog.regclass AND c.relnamespace = 'taxi'::pg_catalog.regnamespace";

/// The row comparison of taxi_check_consistency for `d`'s trips and facts with a pickup in
/// [$1, $2) (one month partition: the bounds prune both tables to it): one row per discrepancy,
/// `d`'s name first — the trip count and each money column's sum where they differ, trips
/// without a fact, facts without a trip, trips whose fact is not what the trip gives.
pub fn month_differences(d: &Dataset) -> String {
    let pickup = d.pickup_column();
    let trips = trips_of_month(d);
    let facts = facts_of_month(d);
    let fact_sums = FACT_MONEY
        .iter()
        .map(|m| format!("pg_catalog.sum({m}) AS {m}"))
        .collect::<Vec<_>>()
        .join(", ");
    let trip_sums = FACT_MONEY
        .iter()
        .map(|m| match copied_from(d, m) {
            Some(c) => format!("pg_catalog.sum({c}) AS {m}"),
            None => format!("NULL::pg_catalog.numeric AS {m}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let items: Vec<String> =
        std::iter::once("('trips', COALESCE(n.trips, 0), COALESCE(s.trips, 0))".to_string())
            .chain(
                FACT_MONEY
                    .iter()
                    .filter(|m| copied_from(d, m).is_some())
                    .map(|m| format!("('sum({m})', n.{m}, s.{m})")),
            )
            .collect();
    let compared: Vec<&str> = FACT_COLUMNS
        .iter()
        .copied()
        .filter(|c| *c != "row_hash")
        .collect();
    let row = |alias: &str| columns_of(alias, &compared);
    format!(
        "WITH n AS (SELECT pg_catalog.date_trunc('month', {pickup})::pg_catalog.date AS month, \
                           pg_catalog.count(*)::pg_catalog.numeric AS trips, {trip_sums} \
                    FROM {trips} t GROUP BY 1), \
              s AS (SELECT pg_catalog.date_trunc('month', pickup_datetime)::pg_catalog.date AS month, \
                           pg_catalog.count(*)::pg_catalog.numeric AS trips, {fact_sums} \
                    FROM {facts} f GROUP BY 1) \
         SELECT '{name}'::pg_catalog.text AS dataset, * FROM ( \
         SELECT COALESCE(n.month, s.month) AS month, x.item, x.normalized, x.star, NULL::pg_catalog.text AS detail \
         FROM n FULL JOIN s ON s.month = n.month \
         CROSS JOIN LATERAL (VALUES {items}) AS x(item, normalized, star) \
         WHERE x.normalized IS DISTINCT FROM x.star \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', t.{pickup})::pg_catalog.date, \
                'trips only in {short}', pg_catalog.count(*), 0, {examples_t} \
         FROM {trips} t \
         WHERE NOT EXISTS (SELECT FROM {facts} f WHERE f.row_hash = t.row_hash) GROUP BY 1 \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', f.pickup_datetime)::pg_catalog.date, \
                'trips only in fact_trips', 0, pg_catalog.count(*), {examples_f} \
         FROM {facts} f \
         WHERE NOT EXISTS (SELECT FROM {trips} t WHERE t.row_hash = f.row_hash) GROUP BY 1 \
         UNION ALL \
         SELECT pg_catalog.date_trunc('month', e.pickup_datetime)::pg_catalog.date, \
                'trips whose fact differs', pg_catalog.count(*), pg_catalog.count(*), {examples_e} \
         FROM ({expected}) e JOIN {facts} f ON f.row_hash = e.row_hash \
         WHERE ({e_row}) IS DISTINCT FROM ({f_row}) GROUP BY 1 \
         ) d ORDER BY month, item",
        name = d.name,
        short = d.table,
        expected = project(d, &trips),
        items = items.join(", "),
        examples_t = examples("t"),
        examples_f = examples("f"),
        examples_e = examples("e"),
        e_row = row("e"),
        f_row = row("f"),
    )
}

/// `d`'s trips with a pickup in [$1, $2), as a subquery.
fn trips_of_month(d: &Dataset) -> String {
    trips_of_month_where(d, None)
}

/// [`trips_of_month`], narrowed by `condition` if any.
fn trips_of_month_where(d: &Dataset, condition: Option<&str>) -> String {
    let condition = condition.map_or_else(String::new, |c| format!(" AND {c}"));
    format!(
        "(SELECT * FROM {} WHERE {}{condition})",
        d.qualified(),
        range(d.pickup_column())
    )
}

/// `alias.column, …` of `columns`.
fn columns_of(alias: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The facts of `d`'s trips with a pickup in [$1, $2), as a subquery.
fn facts_of_month(d: &Dataset) -> String {
    format!(
        "(SELECT * FROM {FACTS} WHERE {} AND service_key = ANY ('{{{}}}'::pg_catalog.int2[]))",
        range("pickup_datetime"),
        keys(d)
    )
}

/// How many rows and the sum of a 64-bit hash of each row's text, over [`FACT_COLUMNS`] of
/// `alias` in `source`: aggregates Citus computes shard by shard on the workers and adds up.
fn digest_of(source: &str, alias: &str) -> String {
    let row = columns_of(alias, &FACT_COLUMNS);
    format!(
        "SELECT pg_catalog.count(*)::pg_catalog.int8, \
                COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(ROW({row})::pg_catalog.text, 0)), 0)::pg_catalog.text \
         FROM {source} {alias}"
    )
}

/// The digest of `d`'s facts with a pickup in [$1, $2) as stored: their count and a sum of row
/// hashes. With [`expected_month_digest`], the check's shortcut where the month is read through
/// SQL (a Citus table, or row security): equal digests, equal months; else `month_differences`.
pub fn stored_month_digest(d: &Dataset) -> String {
    digest_of(&facts_of_month(d), "f")
}

/// The same digest of the facts `d`'s trips with a pickup in [$1, $2) define.
pub fn expected_month_digest(d: &Dataset) -> String {
    digest_of(&format!("({})", project(d, &trips_of_month(d))), "e")
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
    use crate::dataset::{ALL, FHV, FHVHV, GREEN, YELLOW};

    #[test]
    fn every_fact_column_is_projected_in_order() {
        for d in ALL {
            let sql = project(d, "x");
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
                .unwrap_or_else(|| panic!("{}: {c} missing after byte {at} in {sql}", d.name));
                at = found + 1;
            }
            assert!(sql.contains("FROM x t "));
            assert!(sql.contains("BETWEEN '1e-6'::pg_catalog.float8 AND '1e6'::pg_catalog.float8"));
        }
        assert!(project(&FHV, "x").contains("NULL::pg_catalog.numeric AS fare_amount"));
        assert!(project(&FHVHV, "x").contains("t.base_passenger_fare AS fare_amount"));
        assert!(project(&FHVHV, "x").contains("ON sv.license = t.hvfhs_license_num"));
        assert!(project(&GREEN, "x").contains("2::pg_catalog.int2 AS service_key"));
    }

    #[test]
    fn copies_and_money() {
        // The amounts are the fact table's columns 19..29, in that order.
        assert_eq!(&FACT_COLUMNS[19..29], &FACT_MONEY);
        assert_eq!(
            copied_from(&YELLOW, "pickup_datetime"),
            Some("tpep_pickup_datetime")
        );
        assert_eq!(copied_from(&YELLOW, "tip_amount"), Some("tip_amount"));
        assert_eq!(copied_from(&YELLOW, "trip_distance"), Some("trip_distance"));
        assert_eq!(copied_from(&FHVHV, "trip_distance"), Some("trip_miles"));
        assert_eq!(copied_from(&FHV, "tip_amount"), None);
        assert_eq!(copied_from(&YELLOW, "tip_pct"), None);
        let copies = |d| {
            FACT_COLUMNS
                .iter()
                .filter(|c| copied_from(d, c).is_some())
                .count()
        };
        assert_eq!(copies(&YELLOW), 15);
        assert_eq!(copies(&GREEN), 14, "no airport_fee");
        assert_eq!(copies(&FHV), 3);
        assert_eq!(copies(&FHVHV), 10);
    }

    #[test]
    fn trips_and_facts_in_one_statement() {
        let sql =
            insert_trips_and_facts(&YELLOW, "INSERT INTO taxi.yellow_taxi_trips (a) VALUES (1)");
        assert!(sql.starts_with(
            "WITH inserted AS (INSERT INTO taxi.yellow_taxi_trips (a) VALUES (1) RETURNING *) INSERT INTO taxi.fact_trips (load_id, pickup_datetime,"
        ));
        assert!(sql.contains("FROM inserted t "));
        let stored = stored_month_digest(&FHV);
        assert!(stored.starts_with("SELECT pg_catalog.count(*)::pg_catalog.int8, COALESCE(pg_catalog.sum(pg_catalog.hashtextextended(ROW(f.load_id, f.pickup_datetime,"), "{stored}");
        assert!(
            stored.ends_with("AND service_key = ANY ('{3}'::pg_catalog.int2[])) f"),
            "{stored}"
        );
        let expected = expected_month_digest(&FHV);
        assert!(
            expected.contains("ROW(e.load_id, e.pickup_datetime,"),
            "{expected}"
        );
        assert!(
            expected.contains("e.tip_pct, e.service_key)::pg_catalog.text"),
            "{expected}"
        );
        assert!(
            expected.contains("FROM (SELECT * FROM taxi.fhv_trips WHERE ($1"),
            "{expected}"
        );
        let of_load = insert_facts_of_load(&GREEN);
        assert!(of_load.contains(
            "FROM (SELECT * FROM taxi.green_taxi_trips WHERE ($1::pg_catalog.timestamp IS NULL OR lpep_pickup_datetime >= $1) \
             AND ($2::pg_catalog.timestamp IS NULL OR lpep_pickup_datetime < $2) AND load_id = $3::pg_catalog.int8) t "
        ), "{of_load}");
        let check = month_differences(&YELLOW);
        assert!(check.contains("'trips whose fact differs'"));
        // Both tables are read for the month only.
        assert_eq!(
            check
                .matches("FROM taxi.yellow_taxi_trips WHERE ($1")
                .count(),
            4
        );
        assert_eq!(check.matches("FROM taxi.fact_trips WHERE ($1").count(), 4);
        assert!(!check.contains("$3"));
        assert!(
            delete_facts(&FHVHV).ends_with("service_key = ANY ('{4,5,6,7,8}'::pg_catalog.int2[])")
        );
    }
}
