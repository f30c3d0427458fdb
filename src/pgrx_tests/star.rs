#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::idx;
    use crate::pgrx_tests::fixtures::*;
    use taxi_core::calendar::days_from_civil;
    use taxi_core::sql::star::FACT_COLUMNS;
    use taxi_core::trip::{TripBatch, Values};
    use taxi_gen::{self as generate, Options};

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

    /// What taxi_check_consistency(dataset => 'yellow') finds; when nothing, also that no month
    /// needed the row comparison (the digests of what loads wrote agree).
    fn discrepancies() -> Vec<String> {
        let found = found();
        if found.is_empty() {
            let checked =
                crate::consistency::check(None, Some(&taxi_core::dataset::YELLOW)).unwrap();
            assert_eq!(checked.by_rows, 0, "months compared row by row");
        }
        found
    }

    fn found() -> Vec<String> {
        Spi::connect(|client| {
            client
                .select(
                    "SELECT row(c.month, c.item, c.normalized, c.star, c.detail)::text
                     FROM taxi_check_consistency(dataset => 'yellow') c",
                    None,
                    &[],
                )
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
        wait_for_other_loads();
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
            let rebuilt = Spi::get_one::<String>(
                "SELECT row(r.month, r.facts_deleted, r.facts_inserted)::text
                 FROM taxi_rebuild_star() r WHERE r.dataset = 'yellow'",
            )
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
        wait_for_other_loads();
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

        let rebuilt = Spi::get_one::<String>(
            "SELECT row(r.month, r.facts_deleted, r.facts_inserted)::text
                 FROM taxi_rebuild_star('2025-02-17', 'yellow') r",
        )
        .unwrap()
        .unwrap();
        assert_eq!(rebuilt, "(2025-02-01,4999,5000)");
        assert_eq!(discrepancies(), Vec::<String>::new());
        assert_eq!(facts_fingerprint(), clean);
    }

    /// `(month,item,normalized,star)` of what the check of `args` finds, in its order.
    fn found_by(args: &str) -> Vec<String> {
        Spi::connect(|client| {
            client
                .select(
                    &format!(
                        "SELECT row(c.dataset, c.month, c.item, c.normalized, c.star)::text
                         FROM taxi_check_consistency({args}) c"
                    ),
                    None,
                    &[],
                )
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect()
        })
    }

    #[pg_test]
    fn a_check_by_month_finds_a_tampered_and_a_missing_fact_in_their_months_only() {
        wait_for_other_loads();
        load(&fixture(SAMPLE5000), 1000);
        let march = generated(
            "check_by_month.parquet",
            &Options {
                rows: 3000,
                month: 3,
                ..Options::default()
            },
            2024,
        );
        load(&march, 1000);
        load(&fixture(GREEN), 10_000);
        assert_eq!(found_by(""), Vec::<String>::new());
        // A yellow fact of March changed, one of February 2025 gone; green's untouched.
        Spi::run(
            "UPDATE taxi.fact_trips SET vendor_key = 99 WHERE row_hash = (
                 SELECT row_hash FROM taxi.fact_trips WHERE service_key = 1
                   AND pickup_datetime >= '2024-03-01' AND pickup_datetime < '2024-04-01'
                 ORDER BY row_hash LIMIT 1);
             DELETE FROM taxi.fact_trips WHERE row_hash = (
                 SELECT row_hash FROM taxi.fact_trips WHERE service_key = 1
                   AND pickup_datetime >= '2025-02-01' AND pickup_datetime < '2025-03-01'
                 ORDER BY row_hash LIMIT 1);",
        )
        .unwrap();
        let march_found = found_by("'2024-03-31'");
        assert_eq!(
            march_found,
            vec!["(yellow,2024-03-01,\"trips whose fact differs\",1,1)".to_string()]
        );
        let february = found_by("month => '2025-02-01', dataset => 'yellow'");
        assert!(
            february.contains(&"(yellow,2025-02-01,trips,5000,4999)".to_string()),
            "{february:?}"
        );
        assert!(
            february.iter().any(
                |r| r.starts_with("(yellow,2025-02-01,\"trips only in yellow_taxi_trips\",1,0")
            ),
            "{february:?}"
        );
        assert!(
            february.iter().all(|r| r.contains("2025-02-01")),
            "{february:?}"
        );
        // The whole check: both months, in month order; nothing for green.
        let all = found_by("");
        assert_eq!(all.first(), march_found.first());
        assert_eq!(all.len(), 1 + february.len(), "{all:?}");
        assert_eq!(found_by("dataset => 'green'"), Vec::<String>::new());
        assert_eq!(found_by("'2024-04-01'"), Vec::<String>::new());
        let checked = crate::consistency::check(None, None).unwrap();
        assert_eq!(checked.by_rows, 2, "the two months that differ");
        assert!(
            checked.by_digest >= 2,
            "green's January, yellow's stragglers"
        );
        // Repaired, the months are equal by their digests again.
        Spi::run("SELECT * FROM taxi_rebuild_star()").unwrap();
        let checked = crate::consistency::check(None, None).unwrap();
        assert!(checked.found.is_empty());
        assert_eq!(checked.by_rows, 0);
        assert!(sql_error("SELECT * FROM taxi_check_consistency('infinity')").contains("22"));
    }

    #[pg_test]
    fn a_check_through_sql_decides_by_digests_then_rows() {
        // Row security on the facts makes the check read them through SQL, as on Citus: each
        // month digested by SQL first (facts from the heap and from the Rust direct path and
        // from SQL must give the same row text), compared row by row only where that differs.
        wait_for_other_loads();
        load(&fixture(SAMPLE5000), 1000);
        load(&fixture(GREEN), 10_000);
        Spi::run(
            "ALTER TABLE taxi.fact_trips ENABLE ROW LEVEL SECURITY;
             CREATE POLICY every_fact ON taxi.fact_trips USING (true)",
        )
        .unwrap();
        let checked = crate::consistency::check(None, None).unwrap();
        assert!(checked.found.is_empty());
        assert_eq!(checked.by_rows, 0, "months compared row by row");
        assert!(checked.by_digest >= 2, "yellow's and green's months");
        // The digests themselves: as stored and as the trips define them, equal and over the
        // month's rows.
        let february = taxi_core::facts::Partition::of_month(2025, 2);
        let yellow = &taxi_core::dataset::YELLOW;
        let [stored, expected] = crate::consistency::sql_digests(yellow, february).unwrap();
        assert_eq!(stored, expected);
        assert_eq!(
            stored.0,
            count("SELECT count(*) FROM taxi.yellow_taxi_trips_y2025m02")
        );
        assert!(stored.0 > 4900 && stored.1 != "0", "{stored:?}");
        Spi::run(
            "UPDATE taxi.fact_trips SET tip_pct = tip_pct + 0.01 WHERE row_hash = (
                 SELECT row_hash FROM taxi.fact_trips WHERE service_key = 1
                   AND pickup_datetime >= '2025-02-01' AND pickup_datetime < '2025-03-01'
                   AND tip_pct IS NOT NULL
                 ORDER BY row_hash LIMIT 1)",
        )
        .unwrap();
        let [stored, expected] = crate::consistency::sql_digests(yellow, february).unwrap();
        assert_eq!(stored.0, expected.0);
        assert_ne!(stored.1, expected.1, "one fact's tip_pct changed");
        let checked = crate::consistency::check(None, None).unwrap();
        assert_eq!(checked.by_rows, 1, "the tampered month only");
        assert_eq!(
            found_by("'2025-02-01', 'yellow'"),
            vec!["(yellow,2025-02-01,\"trips whose fact differs\",1,1)".to_string()]
        );
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
        // A rebuild after a load in the same transaction would wait for concurrent tests' loads
        // while they wait for this load's new partition (docs/reference.md, taxi_rebuild_star).
        wait_for_other_loads();
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
        let rebuilt = Spi::get_one::<String>(
            "SELECT row(r.month, r.facts_deleted, r.facts_inserted)::text
                 FROM taxi_rebuild_star() r WHERE r.dataset = 'yellow'",
        )
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
