//! Star: the fact rows of the trips taxi_load inserts, in the same transaction, plus
//! `taxi_check_consistency()` and `taxi_rebuild_star(month)`. Dimensions and the fact table are
//! created by sql/star.sql.
//!
//! Facts are written the way the trips are: with the trips' INSERT (one statement, RETURNING feeds
//! the fact INSERT) on the SPI path; straight into the partitions' heaps next to the trips on the
//! direct path, or, when the fact table is not plain enough for that, by one INSERT … SELECT of
//! the load's trips at its end. Each path writes the facts of exactly the trips it wrote.

pub mod direct;
pub mod facts;
pub mod sql;

use std::collections::{HashMap, HashSet};

use pgrx::datum::{Date, Timestamp};

use pgrx::prelude::*;
use pgrx::spi::SpiClient;
use pgrx::AnyNumeric;

use crate::error::LoadError;
use crate::star::facts::{Dims, Partition};

/// What a load knows about the star schema after locking it.
pub struct Star {
    pub dims: Dims,
    /// Facts may go straight into the partitions' heaps (see `sql::INSPECT_FACTS`).
    pub direct: bool,
    /// Partitions known to exist, with their oids.
    partitions: HashMap<Partition, pg_sys::Oid>,
}

/// Locks the fact table and its partitions as INSERT would (ROW EXCLUSIVE) and reads the
/// dimensions. Error if the current role may not insert facts.
pub fn open(client: &mut SpiClient<'_>) -> Result<Star, LoadError> {
    let (oid, may_insert) = client
        .select(sql::FACTS_OID, Some(1), &[])
        .and_then(|t| t.first().get_two::<i64, bool>())
        .expect("fact table oid");
    let Some(oid) = oid else {
        return Err(LoadError::NotUpdated {
            missing: sql::FACTS,
        });
    };
    if may_insert != Some(true) {
        return Err(LoadError::NoTablePrivilege { table: sql::FACTS });
    }
    let lock = pg_sys::RowExclusiveLock as pg_sys::LOCKMODE;
    unsafe { pg_sys::LockRelationOid(pg_sys::Oid::from(oid as u32), lock) };
    let columns: Vec<&str> = sql::FACT_COLUMNS.to_vec();
    let row = client
        .select(sql::INSPECT_FACTS, Some(1), &[columns.into()])
        .expect("inspect fact table")
        .first();
    let direct = row.get::<bool>(1).expect("plain").unwrap_or(false);
    // Locked now, so no index or trigger can appear on them while the load writes.
    for part in row
        .get::<Vec<i64>>(2)
        .expect("partitions")
        .unwrap_or_default()
    {
        unsafe { pg_sys::LockRelationOid(pg_sys::Oid::from(part as u32), lock) };
    }
    let zones: Vec<(i16, String, bool, bool)> = client
        .select(sql::DIM_LOCATIONS, None, &[])
        .expect("dim_location")
        .map(|r| {
            (
                r.get(1).unwrap().unwrap(),
                r.get(2).unwrap().unwrap(),
                r.get(3).unwrap().unwrap(),
                r.get(4).unwrap().unwrap(),
            )
        })
        .collect();
    let keys = |client: &mut SpiClient<'_>, query: &str| -> Vec<i16> {
        client
            .select(query, None, &[])
            .expect("dimension keys")
            .filter_map(|r| r.get::<i16>(1).unwrap())
            .collect()
    };
    let dims = Dims::new(
        &zones,
        &keys(client, sql::DIM_VENDORS),
        &keys(client, sql::DIM_RATE_CODES),
        &keys(client, sql::DIM_PAYMENT_TYPES),
    );
    Ok(Star {
        dims,
        direct,
        partitions: HashMap::new(),
    })
}

impl Star {
    /// Makes sure the partitions of `wanted` exist (creating monthly ones on first sight).
    /// Returns whether it ran SQL (which may have created partitions).
    pub fn prepare(&mut self, wanted: impl IntoIterator<Item = Partition>) -> bool {
        let new: HashSet<Partition> = wanted
            .into_iter()
            .filter(|p| !self.partitions.contains_key(p))
            .collect();
        if new.is_empty() {
            return false;
        }
        Spi::connect_mut(|client| {
            let months: Vec<Date> = new
                .iter()
                .map(|p| {
                    let (y, m) = p.month();
                    Date::new(y, m as u8, 1).expect("first day of a month")
                })
                .collect();
            ensure_partitions(client, months);
            for p in new {
                let name = p.table_name();
                let oid = client
                    .select(sql::PARTITION_OID, Some(1), &[name.as_str().into()])
                    .and_then(|t| t.first().get_one::<i64>())
                    .expect("partition oid");
                let Some(oid) = oid else {
                    error!("taxi_load: taxi.{name} is not a partition of taxi.fact_trips")
                };
                self.partitions.insert(p, pg_sys::Oid::from(oid as u32));
            }
        });
        true
    }

    pub fn partition_oid(&self, p: Partition) -> pg_sys::Oid {
        self.partitions[&p]
    }
}

/// The partitions the pickups of `rows` belong to.
pub fn partitions_of(batch: &crate::trip::TripBatch, rows: &[usize]) -> HashSet<Partition> {
    let inputs = facts::Inputs::new(batch);
    rows.iter().map(|&r| inputs.partition(r)).collect()
}

/// The facts of one load whose trips were written straight into the heap, when the fact table
/// is not plain enough for direct writes.
pub fn insert_facts_of_load(client: &mut SpiClient<'_>, load_id: i64) -> u64 {
    client
        .update(
            sql::insert_facts_of_load().as_str(),
            None,
            &[load_id.into()],
        )
        .expect("insert facts of the load")
        .len() as u64
}

/// Compares taxi.yellow_taxi_trips with the star schema: per month of pickup, the trip counts
/// and the sums of every money column; trips present on one side only; and trips whose fact row
/// is not what their trip gives. One row per discrepancy; none means consistent.
// pgrx reads the result columns from this signature (a type alias would hide them).
#[allow(clippy::type_complexity)]
#[pg_extern(stable, parallel_restricted)]
fn taxi_check_consistency() -> TableIterator<
    'static,
    (
        name!(month, Option<Date>),
        name!(item, String),
        name!(normalized, Option<AnyNumeric>),
        name!(star, Option<AnyNumeric>),
        name!(detail, Option<String>),
    ),
> {
    let rows = Spi::connect(|client| {
        client
            .select(sql::check_consistency().as_str(), None, &[])
            .expect("consistency check")
            .map(|r| {
                (
                    r.get::<Date>(1).unwrap(),
                    r.get::<String>(2).unwrap().unwrap(),
                    r.get::<AnyNumeric>(3).unwrap(),
                    r.get::<AnyNumeric>(4).unwrap(),
                    r.get::<String>(5).unwrap(),
                )
            })
            .collect::<Vec<_>>()
    });
    TableIterator::new(rows)
}

/// Recomputes the fact rows of one month of pickups (any day of it), or of every trip when
/// `month` is NULL, from taxi.yellow_taxi_trips. Waits for running loads (and they for it).
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_rebuild_star(
    month: default!(Option<Date>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(month, Option<Date>),
        name!(facts_deleted, i64),
        name!(facts_inserted, i64),
    ),
> {
    let first = month.map(|d| {
        if !d.is_finite() {
            ereport!(
                ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                "taxi_rebuild_star: month must be a finite date",
                "Pass any day of the month to rebuild, or NULL for every month."
            );
        }
        Date::new(d.year(), d.month(), 1).expect("first of month")
    });
    let (from, to) = match first {
        Some(d) => {
            let (y, m) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            let next = Date::new(y, m, 1).expect("first of next month");
            (Some(midnight(d)), Some(midnight(next)))
        }
        None => (None, None),
    };
    let (deleted, inserted) = Spi::connect_mut(|client| {
        let target = client
            .select(crate::merge::sql::TARGET_OID, Some(1), &[])
            .and_then(|t| t.first().get_one::<i64>())
            .expect("target oid")
            .expect("oid");
        // The lock loads take: no load runs while the month is rebuilt.
        unsafe {
            pg_sys::LockRelationOid(
                pg_sys::Oid::from(target as u32),
                pg_sys::ShareRowExclusiveLock as pg_sys::LOCKMODE,
            )
        };
        let months = client
            .select(
                sql::months_of_trips().as_str(),
                Some(1),
                &[from.into(), to.into()],
            )
            .and_then(|t| t.first().get_one::<Vec<Date>>())
            .expect("months of trips")
            .unwrap_or_default();
        ensure_partitions(client, months);
        let truncate = from.is_none()
            && client
                .select(sql::MAY_TRUNCATE_FACTS, Some(1), &[])
                .and_then(|t| t.first().get_one::<bool>())
                .expect("truncate privilege")
                .unwrap_or(false);
        let deleted = if truncate {
            let n = client
                .select("SELECT count(*) FROM taxi.fact_trips", Some(1), &[])
                .and_then(|t| t.first().get_one::<i64>())
                .expect("count facts")
                .unwrap_or(0);
            client
                .update(sql::TRUNCATE_FACTS, None, &[])
                .expect("truncate facts");
            n as u64
        } else {
            client
                .update(
                    sql::delete_facts().as_str(),
                    None,
                    &[from.into(), to.into()],
                )
                .expect("delete facts")
                .len() as u64
        };
        let inserted = client
            .update(
                sql::insert_facts_of_range().as_str(),
                None,
                &[from.into(), to.into()],
            )
            .expect("insert facts")
            .len() as u64;
        (deleted, inserted)
    });
    TableIterator::once((first, deleted as i64, inserted as i64))
}

fn midnight(d: Date) -> Timestamp {
    Timestamp::try_from(d.to_pg_epoch_days() as i64 * 86_400_000_000).expect("timestamp of a date")
}

/// Creates the partitions of `months` that are missing. As the extension's owner: the function
/// is not executable by PUBLIC, so the only partitions anyone can create are those of the trips
/// they load (or rebuild).
fn ensure_partitions(client: &mut pgrx::spi::SpiClient<'_>, months: Vec<Date>) {
    let Some(owner) = crate::runs::extension_owner() else {
        error!("taxi_loader's objects are older than its library: run ALTER EXTENSION taxi_loader UPDATE")
    };
    crate::runs::as_owner(owner, || {
        client
            .update(sql::ENSURE_PARTITIONS, None, &[months.into()])
            .map(|_| ())
    })
    .expect("create fact partitions");
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::generate::{self, days_from_civil, Options};
    use crate::star::sql::FACT_COLUMNS;
    use crate::testing::*;
    use crate::trip::{idx, TripBatch, Values};

    const US_PER_DAY: i64 = 86_400_000_000;
    const US_PER_MINUTE: i64 = 60_000_000;

    fn at(y: i32, m: u32, d: u32, minutes: i64) -> i64 {
        days_from_civil(y, m, d) * US_PER_DAY + minutes * US_PER_MINUTE
    }

    fn set_int(b: &mut TripBatch, col: usize, row: usize, v: Option<i16>) {
        let Values::Int(x) = &mut b.columns[col] else {
            panic!()
        };
        x[row] = v;
    }
    fn set_i64(b: &mut TripBatch, col: usize, row: usize, v: Option<i64>) {
        match &mut b.columns[col] {
            Values::Timestamp(x) | Values::Money(x) => x[row] = v,
            _ => panic!(),
        }
    }
    fn set_float(b: &mut TripBatch, row: usize, v: Option<f64>) {
        let Values::Float(x) = &mut b.columns[idx::TRIP_DISTANCE] else {
            panic!()
        };
        x[row] = v;
    }
    fn set_times(b: &mut TripBatch, row: usize, pickup: i64, minutes: i64) {
        set_i64(b, idx::PICKUP, row, Some(pickup));
        set_i64(b, idx::DROPOFF, row, Some(pickup + minutes * US_PER_MINUTE));
    }

    /// Trips at the edges of every fact rule (rows 0-14), then ordinary ones.
    fn odd_trips() -> TripBatch {
        let mut b = generate::generate(&Options {
            rows: 40,
            duplicate_rate: 0.0,
            seed: 7,
            ..Options::default()
        });
        set_times(&mut b, 0, at(1999, 12, 31, 23 * 60 + 59), 10);
        set_times(&mut b, 1, at(2002, 3, 4, 60), 12);
        set_times(&mut b, 2, at(2099, 12, 31, 23 * 60 + 30), 40);
        set_times(&mut b, 3, at(2102, 6, 1, 0), 5);
        set_int(&mut b, idx::VENDOR_ID, 4, Some(9));
        set_int(&mut b, idx::RATECODE_ID, 4, None);
        set_int(&mut b, idx::PU_LOCATION_ID, 4, Some(300));
        set_int(&mut b, idx::DO_LOCATION_ID, 4, None);
        set_int(&mut b, idx::PAYMENT_TYPE, 4, None);
        set_float(&mut b, 5, Some(f64::NAN));
        set_float(&mut b, 6, Some(1e-7));
        set_float(&mut b, 7, Some(-3.0));
        set_i64(&mut b, idx::FARE_AMOUNT, 8, Some(0));
        set_times(&mut b, 9, at(2024, 1, 9, 600), -7);
        set_i64(&mut b, idx::FARE_AMOUNT, 10, Some(-1250));
        set_i64(&mut b, idx::TIP_AMOUNT, 10, Some(-333));
        set_float(&mut b, 11, Some(2e6));
        set_times(&mut b, 12, at(2024, 1, 12, 600), 0);
        set_int(&mut b, idx::PU_LOCATION_ID, 13, Some(264));
        set_int(&mut b, idx::DO_LOCATION_ID, 13, Some(265));
        set_int(&mut b, idx::PU_LOCATION_ID, 14, Some(1));
        set_int(&mut b, idx::DO_LOCATION_ID, 14, Some(132));
        set_i64(&mut b, idx::TIP_AMOUNT, 15, Some(1));
        set_i64(&mut b, idx::FARE_AMOUNT, 15, Some(3));
        b
    }

    fn discrepancies() -> Vec<String> {
        Spi::connect(|client| {
            client
                .select("SELECT c::text FROM taxi_check_consistency() c", None, &[])
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect()
        })
    }

    /// Count and digest of every fact value except load_id (which differs between loads).
    fn facts_fingerprint() -> String {
        let cols: Vec<&str> = FACT_COLUMNS
            .iter()
            .copied()
            .filter(|c| *c != "load_id")
            .collect();
        Spi::get_one::<String>(&format!(
            "SELECT count(*) || ':' || coalesce(md5(string_agg(({})::text, '|' ORDER BY row_hash)), '')
             FROM taxi.fact_trips",
            cols.join(", ")
        ))
        .unwrap()
        .unwrap()
    }

    fn sums(table: &str) -> String {
        Spi::get_one::<String>(&format!(
            "SELECT concat_ws(',', count(*), sum(fare_amount), sum(extra), sum(mta_tax),
                    sum(tip_amount), sum(tolls_amount), sum(improvement_surcharge),
                    sum(total_amount), sum(congestion_surcharge), sum(airport_fee),
                    sum(cbd_congestion_fee), sum(passenger_count), sum(trip_distance::numeric))
             FROM {table}"
        ))
        .unwrap()
        .unwrap()
    }

    fn empty_tables() {
        Spi::run("TRUNCATE taxi.yellow_taxi_trips, taxi.fact_trips").unwrap();
    }

    #[pg_test]
    fn star_agrees_with_trips_after_real_samples_and_a_generated_month() {
        load(&fixture(SAMPLE5), 2);
        load(&fixture(SAMPLE5000), 1000);
        let month = generated(
            "star_month.parquet",
            &Options {
                rows: 20_000,
                ..Options::default()
            },
            2024,
        );
        load(&month, 5000);
        assert_eq!(discrepancies(), Vec::<String>::new());
        let trips = count("SELECT count(*) FROM taxi.yellow_taxi_trips");
        assert!(trips > 24_000, "{trips}");
        assert_eq!(count("SELECT count(*) FROM taxi.fact_trips"), trips);
        assert_eq!(sums("taxi.fact_trips"), sums("taxi.yellow_taxi_trips"));
        // Every trip's fact, by row_hash, in its pickup month's partition.
        assert_eq!(
            count(
                "SELECT count(*) FROM taxi.fact_trips f JOIN taxi.yellow_taxi_trips t USING (row_hash)
                 WHERE f.tableoid = format('taxi.fact_trips_y%s', to_char(t.tpep_pickup_datetime, 'YYYY\"m\"MM'))::regclass"
            ),
            trips
        );

        // Reloading adds no facts.
        let before = facts_fingerprint();
        assert_eq!(load(&fixture(SAMPLE5000), 1000).inserted, 0);
        assert_eq!(load(&month, 7000).inserted, 0);
        assert_eq!(facts_fingerprint(), before);
    }

    #[pg_test]
    fn every_write_path_writes_the_facts_sql_defines() {
        let odd = write_trips("star_odd.parquet", &odd_trips(), 2024);
        let month = generated(
            "star_paths.parquet",
            &Options {
                rows: 5000,
                seed: 3,
                ..Options::default()
            },
            2024,
        );
        let mut fingerprints = Vec::new();
        for mode in ["bulk", "known", "probe", "auto"] {
            empty_tables();
            Spi::run(&format!("SET LOCAL taxi.write_mode = {mode}")).unwrap();
            load(&odd, 7);
            load(&month, 2000);
            assert_eq!(discrepancies(), Vec::<String>::new(), "{mode}");
            let written = facts_fingerprint();
            // taxi_rebuild_star computes every fact in SQL.
            let rebuilt = Spi::get_one::<String>("SELECT r::text FROM taxi_rebuild_star() r")
                .unwrap()
                .unwrap();
            let trips = count("SELECT count(*) FROM taxi.yellow_taxi_trips");
            assert_eq!(rebuilt, format!("(,{trips},{trips})"), "{mode}");
            assert_eq!(facts_fingerprint(), written, "{mode}");
            fingerprints.push(written);
        }
        fingerprints.dedup();
        assert_eq!(fingerprints.len(), 1);
    }

    #[pg_test]
    fn odd_pickups_and_codes_map_to_partitions_and_unknown_members() {
        load(&write_trips("star_odd_map.parquet", &odd_trips(), 2024), 10);
        let row = |pickup: &str| {
            Spi::get_one::<String>(&format!(
                "SELECT concat_ws(' ', f.tableoid::regclass, date_key, time_key, pickup_location_key,
                        dropoff_location_key, vendor_key, rate_code_key, payment_type_key,
                        trip_duration_minutes, avg_speed_mph, tip_pct, is_airport_trip,
                        is_cross_borough, is_cash, is_long_distance, is_short_distance)
                 FROM taxi.fact_trips f JOIN taxi.yellow_taxi_trips t USING (row_hash)
                 WHERE {pickup}"
            ))
            .unwrap()
            .unwrap()
        };
        let before = row("f.pickup_datetime < '2000-01-01'");
        assert!(
            before.starts_with("taxi.fact_trips_before_2000 0 23 "),
            "{before}"
        );
        let y2002 = row("f.pickup_datetime BETWEEN '2002-01-01' AND '2003-01-01'");
        assert!(
            y2002.starts_with("taxi.fact_trips_y2002m03 20020304 1 "),
            "{y2002}"
        );
        let y2099 = row("f.pickup_datetime BETWEEN '2099-01-01' AND '2100-01-01'");
        assert!(
            y2099.starts_with("taxi.fact_trips_y2099m12 20991231 23 "),
            "{y2099}"
        );
        let after = row("f.pickup_datetime > '2100-01-01'");
        assert!(
            after.starts_with("taxi.fact_trips_from_2100 0 0 "),
            "{after}"
        );
        // Codes outside the dimensions, and NULL codes, map to the unknown members.
        let unknown = row("t.vendorid = 9");
        assert!(unknown.contains(" -1 -1 -1 -1 -1 "), "{unknown}");
        // 264/265 are zones of their own, in no known borough.
        let zones = row("t.pulocationid = 264");
        assert!(
            zones.contains(" 264 265 ") && zones.ends_with(" f f f"),
            "{zones}"
        );
        let airport = row("t.pulocationid = 1 AND t.dolocationid = 132");
        assert!(airport.contains(" t t "), "{airport}");
        // Undefined measures are NULL, never an error.
        let nan = row("t.trip_distance = 'NaN'");
        assert!(nan.ends_with(" f f"), "{nan}");
        assert_eq!(
            count("SELECT count(*) FROM taxi.fact_trips WHERE trip_distance IN (1e-7, -3, 2e6) AND avg_speed_mph IS NULL"),
            3
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.fact_trips WHERE fare_amount = 0 AND tip_pct IS NULL"),
            1
        );
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT string_agg(tip_pct::text, ',' ORDER BY tip_pct) FROM taxi.fact_trips
                 WHERE fare_amount IN (-12.50, 0.03)"
            )
            .unwrap()
            .unwrap(),
            "26.64,33.33"
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.fact_trips WHERE trip_duration_minutes = -7 AND avg_speed_mph IS NULL"),
            1
        );
        assert_eq!(discrepancies(), Vec::<String>::new());
    }

    #[pg_test]
    fn tampering_is_detected_and_rebuild_repairs_it() {
        load(&fixture(SAMPLE5000), 1000);
        let clean = facts_fingerprint();
        Spi::run(
            "DELETE FROM taxi.fact_trips WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips ORDER BY row_hash LIMIT 1);
             UPDATE taxi.fact_trips SET fare_amount = fare_amount + 1
             WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips ORDER BY row_hash DESC LIMIT 1);
             UPDATE taxi.fact_trips SET is_cash = NOT is_cash
             WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips ORDER BY row_hash DESC LIMIT 1 OFFSET 1);",
        )
        .unwrap();
        let found = discrepancies();
        for must in [
            "\"sum(fare_amount)\"",
            ",trips,",
            "\"trips only in yellow_taxi_trips\"",
            "\"trips whose fact differs\"",
        ] {
            assert!(
                found.iter().any(|r| r.contains(must)),
                "{must} in {found:?}"
            );
        }
        assert!(
            found.iter().all(|r| r.starts_with("(2025-02-01,")),
            "{found:?}"
        );
        let differs = found.iter().find(|r| r.contains("differs")).unwrap();
        assert!(differs.contains(",2,2,\"e.g. row_hash "), "{differs}");

        let rebuilt =
            Spi::get_one::<String>("SELECT r::text FROM taxi_rebuild_star('2025-02-17') r")
                .unwrap()
                .unwrap();
        assert_eq!(rebuilt, "(2025-02-01,4999,5000)");
        assert_eq!(discrepancies(), Vec::<String>::new());
        assert_eq!(facts_fingerprint(), clean);
    }

    #[pg_test]
    fn facts_of_a_fact_table_with_an_index_go_through_insert() {
        wait_for_other_loads();
        // Someone indexed the facts: they can no longer be written straight into the heap.
        Spi::run("CREATE INDEX fact_hash ON taxi.fact_trips (row_hash)").unwrap();
        let month = generated(
            "star_indexed.parquet",
            &Options {
                rows: 3000,
                ..Options::default()
            },
            2024,
        );
        for mode in ["bulk", "auto"] {
            empty_tables();
            Spi::run(&format!("SET LOCAL taxi.write_mode = {mode}")).unwrap();
            load(&fixture(SAMPLE5000), 1000);
            load(&month, 1000);
            assert_eq!(discrepancies(), Vec::<String>::new(), "{mode}");
            assert_eq!(
                count("SELECT count(*) FROM taxi.fact_trips"),
                count("SELECT count(*) FROM taxi.yellow_taxi_trips")
            );
        }
        // The index follows onto partitions created during the load, and is used.
        assert_eq!(
            count("SELECT count(*) FROM pg_indexes WHERE tablename LIKE 'fact_trips_y2024m%'"),
            count("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'fact_trips_y2024m%'")
        );
    }

    #[pg_test]
    fn with_the_star_off_the_check_reports_the_gap_and_rebuild_closes_it() {
        Spi::run("SET LOCAL taxi.star = off").unwrap();
        load(&fixture(SAMPLE5), 5);
        assert_eq!(count("SELECT count(*) FROM taxi.fact_trips"), 0);
        let gap = discrepancies();
        assert!(
            gap.contains(&"(2025-01-01,trips,5,0,)".to_string()),
            "{gap:?}"
        );
        assert!(
            gap.contains(&"(2025-01-01,\"sum(fare_amount)\",33.20,,)".to_string()),
            "{gap:?}"
        );
        assert!(discrepancies()
            .iter()
            .any(|r| r.starts_with("(2025-01-01,\"trips only in yellow_taxi_trips\",5,0,")));
        Spi::run("SET LOCAL taxi.star = on").unwrap();
        let rebuilt = Spi::get_one::<String>("SELECT r::text FROM taxi_rebuild_star() r")
            .unwrap()
            .unwrap();
        assert_eq!(rebuilt, "(,0,5)");
        assert_eq!(discrepancies(), Vec::<String>::new());
    }

    #[pg_test]
    fn loading_needs_insert_on_the_facts() {
        wait_for_other_loads();
        Spi::run(
            "CREATE ROLE star_loader;
             GRANT pg_read_server_files TO star_loader;
             GRANT USAGE ON SCHEMA taxi TO star_loader;
             GRANT SELECT, INSERT ON taxi.yellow_taxi_trips TO star_loader;
             GRANT USAGE ON SEQUENCE taxi.load_id_seq TO star_loader;
             SET LOCAL ROLE star_loader;",
        )
        .unwrap();
        let e = load_error(&fixture(SAMPLE5), 5);
        assert!(
            e.starts_with("42501: permission denied for table taxi.fact_trips"),
            "{e}"
        );
        Spi::run("RESET ROLE; GRANT INSERT ON taxi.fact_trips TO star_loader; SET LOCAL ROLE star_loader;").unwrap();
        assert_eq!(load(&fixture(SAMPLE5), 5).inserted, 5);
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(discrepancies(), Vec::<String>::new());
    }
}
