#[pgrx::pg_schema]
mod tests {
    use std::collections::BTreeMap;

    use pgrx::prelude::*;

    use crate::load::indexes;
    use crate::pgrx_tests::fixtures::idx;
    use crate::pgrx_tests::fixtures::*;
    use taxi_core::calendar::days_from_civil;
    use taxi_core::partition::Partition;
    use taxi_core::policy::{self, Mode};
    use taxi_core::trip::{TripBatch, Values};
    use taxi_gen::{self as generate, Options};

    const US_PER_DAY: i64 = 86_400_000_000;
    const US_PER_MINUTE: i64 = 60_000_000;

    fn month(rows: usize, month: u32, seed: u64) -> TripBatch {
        generate::generate(&Options {
            rows,
            month,
            seed,
            duplicate_rate: 0.0,
            ..Options::default()
        })
    }

    fn pickups(b: &mut TripBatch) -> &mut Vec<Option<i64>> {
        let Values::Timestamp(x) = &mut b.columns[idx::PICKUP] else {
            panic!()
        };
        x
    }

    fn move_trip(b: &mut TripBatch, row: usize, pickup_us: i64) {
        pickups(b)[row] = Some(pickup_us);
        let Values::Timestamp(d) = &mut b.columns[idx::DROPOFF] else {
            panic!()
        };
        d[row] = Some(pickup_us + 12 * US_PER_MINUTE);
    }

    fn at(y: i32, m: u32, d: u32, minutes: i64) -> i64 {
        days_from_civil(y, m, d) * US_PER_DAY + minutes * US_PER_MINUTE
    }

    /// Trips per partition table, as stored.
    fn stored_by_partition(parent: &str) -> BTreeMap<String, i64> {
        Spi::connect(|client| {
            client
                .select(
                    &format!(
                        "SELECT c.relname::text, count(*) FROM {parent} t
                         JOIN pg_class c ON c.oid = t.tableoid GROUP BY 1"
                    ),
                    None,
                    &[],
                )
                .unwrap()
                .map(|r| {
                    (
                        r.get::<String>(1).unwrap().unwrap(),
                        r.get::<i64>(2).unwrap().unwrap(),
                    )
                })
                .collect()
        })
    }

    /// Trips per partition table, as the Rust side routes `batches` (distinct trips).
    fn expected_by_partition(batches: &[&TripBatch]) -> BTreeMap<String, i64> {
        let mut seen = std::collections::HashSet::new();
        let mut counts = BTreeMap::new();
        for b in batches {
            let hashes = taxi_core::hash::hash_batch(b);
            let Values::Timestamp(p) = &b.columns[idx::PICKUP] else {
                panic!()
            };
            for (h, pickup) in hashes.iter().zip(p) {
                if seen.insert(*h) {
                    let part = Partition::of_pickup(pickup.unwrap());
                    *counts
                        .entry(part.trip_table(&taxi_core::dataset::YELLOW))
                        .or_insert(0) += 1;
                }
            }
        }
        counts
    }

    fn consistent() -> bool {
        count("SELECT count(*) FROM taxi_check_consistency()") == 0
    }

    #[pg_test]
    fn stragglers_land_in_their_partitions_and_are_deduplicated_across_files() {
        let mut jan = month(2000, 1, 31);
        move_trip(&mut jan, 0, at(2002, 12, 31, 600));
        move_trip(&mut jan, 1, at(2024, 2, 1, 30));
        let mut feb = month(2000, 2, 32);
        // The same two stragglers, also in February's file.
        feb.extend_rows(&jan, 0..2);
        let s = load_file(&write_trips("jan.parquet", &jan, 2024), 500).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Bulk, 2000));
        let jan_load = s.load_id;
        let s = load_file(&write_trips("feb.parquet", &feb, 2024), 500).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 2000, 2)
        );
        let stored = stored_by_partition("taxi.yellow_taxi_trips");
        assert_eq!(stored, expected_by_partition(&[&jan, &feb]));
        // January's first-hour-of-February trip is February's, loaded once, by January's file.
        assert_eq!(
            Spi::get_one_with_args::<i64>(
                "SELECT count(*) FROM taxi.yellow_taxi_trips_y2024m02 WHERE load_id = $1",
                &[jan_load.into()],
            )
            .unwrap(),
            Some(1)
        );
        assert!(stored["yellow_taxi_trips_y2002m12"] >= 1);
        let facts: BTreeMap<String, i64> = stored_by_partition("taxi.fact_trips")
            .into_iter()
            .map(|(k, v)| (k.replace("fact_trips_", "yellow_taxi_trips_"), v))
            .collect();
        assert_eq!(facts, stored);
        assert_eq!(
            count("SELECT count(*) - count(DISTINCT row_hash) FROM taxi.yellow_taxi_trips"),
            0
        );
        assert!(consistent());
        // Every partition is attached with the parent's indexes, valid.
        assert_eq!(
            count(
                "SELECT count(*) FROM pg_inherits i JOIN pg_index x ON x.indrelid = i.inhrelid
                 WHERE i.inhparent = 'taxi.yellow_taxi_trips'::regclass AND x.indisvalid"
            ),
            3 * stored.len() as i64
        );
    }

    #[pg_test]
    fn a_month_topped_up_or_reloaded_writes_only_its_partition() {
        let jan = month(3000, 1, 41);
        let feb = month(3000, 2, 42);
        let mar = month(3000, 3, 43);
        for (name, b) in [
            ("j.parquet", &jan),
            ("f.parquet", &feb),
            ("m.parquet", &mar),
        ] {
            assert_eq!(
                load_file(&write_trips(name, b, 2024), 1000)
                    .unwrap()
                    .rows_inserted,
                3000
            );
        }
        let scans = |part: &str| {
            Spi::get_one_with_args::<i64>(
                "SELECT coalesce(sum(seq_scan), 0)::int8 FROM pg_stat_xact_user_tables
                 WHERE schemaname = 'taxi' AND relname = $1",
                &[part.into()],
            )
            .unwrap()
            .unwrap()
        };
        let before: Vec<i64> = ["y2024m01", "y2024m02", "y2024m03"]
            .iter()
            .map(|m| scans(&format!("yellow_taxi_trips_{m}")))
            .collect();
        // A reload of February reads February only, and inserts nothing.
        let s = load_file(&write_trips("f2.parquet", &feb, 2024), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Known, 0, 3000)
        );
        let after: Vec<i64> = ["y2024m01", "y2024m02", "y2024m03"]
            .iter()
            .map(|m| scans(&format!("yellow_taxi_trips_{m}")))
            .collect();
        assert_eq!(
            (after[0], after[2]),
            (before[0], before[2]),
            "{before:?} {after:?}"
        );
        assert!(after[1] > before[1], "{before:?} {after:?}");
        // A second file of January, its new trips first: written straight into the partition,
        // which is reindexed.
        let more = month(1500, 1, 44);
        let mut top_up = TripBatch::empty(&taxi_core::dataset::YELLOW, 3000);
        top_up.extend_rows(&more, 0..1500);
        top_up.extend_rows(&jan, 1500..3000);
        let s = load_file(&write_trips("j2.parquet", &top_up, 2024), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 1500, 1500)
        );
        // A third, its stored trips first: the first chunk has no new trip, so SPI.
        let last = month(500, 1, 45);
        let mut late = TripBatch::empty(&taxi_core::dataset::YELLOW, 3500);
        late.extend_rows(&jan, 0..3000);
        late.extend_rows(&last, 0..500);
        let s = load_file(&write_trips("j3.parquet", &late, 2024), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Known, 500, 3000)
        );
        assert_eq!(
            stored_by_partition("taxi.yellow_taxi_trips"),
            expected_by_partition(&[&jan, &feb, &mar, &more, &last])
        );
        // The rebuilt primary key finds a trip that went straight into the heap.
        Spi::run("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off").unwrap();
        let hash = taxi_core::hash::hash_batch(&more)[7];
        let plan = Spi::get_one_with_args::<pgrx::Json>(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM taxi.yellow_taxi_trips WHERE row_hash = $1",
            &[(&hash[..]).into()],
        )
        .unwrap()
        .unwrap();
        assert!(plan.0.to_string().contains("Index"), "{}", plan.0);
        assert_eq!(
            Spi::get_one_with_args::<i64>(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE row_hash = $1",
                &[(&hash[..]).into()],
            )
            .unwrap(),
            Some(1)
        );
        assert!(consistent());
    }

    #[pg_test]
    fn a_new_month_is_indexed_with_the_loads_own_memory_and_the_setting_put_back() {
        // The rebuild runs with policy::REBUILD_MEMORY_KB whether the session's is lower or
        // higher (higher would let the sort take the backend past its bound); after it, the
        // session's setting is back.
        for (setting, m, seed) in [("64MB", 5, 51), ("2GB", 6, 52)] {
            Spi::run_with_args(
                "SELECT set_config('maintenance_work_mem', $1, true)",
                &[setting.into()],
            )
            .unwrap();
            let during = Spi::connect_mut(|client| {
                indexes::with_maintenance_memory(client, policy::REBUILD_MEMORY_KB, |client| {
                    Ok(client
                        .select("SHOW maintenance_work_mem", Some(1), &[])
                        .and_then(|t| t.first().get_one::<String>())
                        .unwrap())
                })
            })
            .unwrap();
            assert_eq!(during.as_deref(), Some("512MB"), "session's {setting}");
            let b = month(2000, m, seed);
            let s = load_file(&write_trips(&format!("mwm{m}.parquet"), &b, 2024), 1000).unwrap();
            assert_eq!((s.rows_inserted, s.mode), (2000, Mode::Bulk));
            assert_eq!(
                Spi::get_one::<String>("SHOW maintenance_work_mem").unwrap(),
                Some(setting.to_string())
            );
        }
        assert!(consistent());
    }

    #[pg_test]
    fn queries_by_pickup_read_only_their_months() {
        for (m, seed) in [(1, 51), (2, 52), (3, 53)] {
            load_file(
                &write_trips(&format!("q{m}.parquet"), &month(500, m, seed), 2024),
                500,
            )
            .unwrap();
        }
        for (table, prefix) in [
            ("taxi.yellow_taxi_trips", "yellow_taxi_trips"),
            ("taxi.fact_trips", "fact_trips"),
        ] {
            let column = if prefix == "fact_trips" {
                "pickup_datetime"
            } else {
                "tpep_pickup_datetime"
            };
            let plan = Spi::get_one::<pgrx::Json>(&format!(
                "EXPLAIN (FORMAT JSON) SELECT count(*) FROM {table}
                 WHERE {column} >= '2024-02-01' AND {column} < '2024-03-01'"
            ))
            .unwrap()
            .unwrap()
            .0
            .to_string();
            assert!(plan.contains(&format!("{prefix}_y2024m02")), "{plan}");
            assert!(!plan.contains(&format!("{prefix}_y2024m01")), "{plan}");
            assert!(!plan.contains(&format!("{prefix}_y2024m03")), "{plan}");
        }
    }

    #[pg_test]
    fn the_primary_key_allows_each_row_hash_once() {
        load(&fixture(SAMPLE5000), 1000);
        // A stored row again: the key refuses it.
        let e = sql_error(
            "INSERT INTO taxi.yellow_taxi_trips SELECT * FROM taxi.yellow_taxi_trips LIMIT 1",
        );
        assert!(e.starts_with("23505: duplicate key value"), "{e}");
        // The same hash at another pickup cannot come from a file: the hash covers the pickup,
        // so moving a trip to another month makes it another trip (another hash).
        let trips = taxi_core::read::read_to_end(&fixture(SAMPLE5000), 1000).unwrap();
        let mut moved = TripBatch::empty(&taxi_core::dataset::YELLOW, 1);
        moved.extend_rows(&trips, 0..1);
        let before = taxi_core::hash::hash_batch(&moved)[0];
        let pickup = pickups(&mut moved)[0].unwrap();
        move_trip(&mut moved, 0, pickup + 31 * US_PER_DAY);
        assert_ne!(taxi_core::hash::hash_batch(&moved)[0], before);
        assert_eq!(
            count("SELECT count(*) - count(DISTINCT row_hash) FROM taxi.yellow_taxi_trips"),
            0
        );
    }

    #[pg_test]
    fn partition_names_and_bounds_agree_with_sql() {
        for p in [
            Partition::Before,
            Partition::Month(2002 * 12 + 11),
            Partition::Month(2024 * 12),
            Partition::Month(2099 * 12 + 11),
            Partition::After,
        ] {
            let (y, m) = p.month();
            let (lower, upper) = p.bounds_us();
            let micros = |us: Option<i64>| us.map(|u| (u / 1_000_000).to_string());
            let row = Spi::get_one_with_args::<String>(
                "SELECT concat_ws('|', name, extract(epoch FROM lower)::int8, extract(epoch FROM upper)::int8)
                 FROM taxi.month_partition('taxi.yellow_taxi_trips', make_date($1, $2, 1))",
                &[y.into(), (m as i32).into()],
            )
            .unwrap()
            .unwrap();
            let want = [
                Some(p.trip_table(&taxi_core::dataset::YELLOW)),
                micros(lower),
                micros(upper),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("|");
            assert_eq!(row, want, "{p:?}");
        }
    }

    #[pg_test]
    fn taxi_drop_month_retires_a_month_from_both_schemas() {
        wait_for_other_loads();
        let jan = month(1000, 1, 61);
        let feb = month(1000, 2, 62);
        let jan_load = load_file(&write_trips("dj.parquet", &jan, 2024), 500)
            .unwrap()
            .load_id;
        load_file(&write_trips("df.parquet", &feb, 2024), 500).unwrap();
        let jan_trips = count(
            "SELECT count(*) FROM taxi.yellow_taxi_trips
             WHERE tpep_pickup_datetime >= '2024-01-01' AND tpep_pickup_datetime < '2024-02-01'",
        );
        let total = count("SELECT count(*) FROM taxi.yellow_taxi_trips");
        let dropped = Spi::get_one::<String>(
            "SELECT row(d.trip_partition, d.trips_dropped, d.fact_partition, d.facts_dropped)::text
             FROM taxi_drop_month('2024-01-17') d WHERE d.dropped_dataset = 'yellow'",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            dropped,
            format!("(yellow_taxi_trips_y2024m01,{jan_trips},fact_trips_y2024m01,{jan_trips})")
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips"),
            total - jan_trips
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.fact_trips"),
            total - jan_trips
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname IN ('yellow_taxi_trips_y2024m01', 'fact_trips_y2024m01')"),
            0
        );
        assert!(consistent());
        assert_eq!(
            Spi::get_one::<String>(
                "SELECT concat_ws(' ', trip_partition, trips_dropped, facts_dropped, load_ids::text, dropped_by)
                 FROM taxi.month_drops"
            )
            .unwrap()
            .unwrap(),
            format!("yellow_taxi_trips_y2024m01 {jan_trips} {jan_trips} {{{jan_load}}} postgres")
        );
        // Again: nothing left to drop, nothing recorded.
        assert_eq!(
            count("SELECT count(*) FROM taxi_drop_month('2024-01-01')"),
            0
        );
        assert_eq!(count("SELECT count(*) FROM taxi.month_drops"), 1);
        // The month loads again as a new month; the file's stragglers of other months were not
        // dropped, so they are duplicates.
        let s = load_file(&write_trips("dj2.parquet", &jan, 2024), 500).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, jan_trips, 1000 - jan_trips)
        );
        assert!(consistent());
        let e = sql_error("SELECT taxi_drop_month(NULL)");
        assert!(
            e.starts_with("22004: taxi_drop_month: month must not be NULL"),
            "{e}"
        );
        let e = sql_error("SELECT taxi_drop_month('infinity')");
        assert!(
            e.starts_with("22023: taxi_drop_month: month must be a finite date"),
            "{e}"
        );
        Spi::run("CREATE ROLE month_dropper; GRANT USAGE ON SCHEMA taxi TO month_dropper").unwrap();
        // sql_error's helper exists now (made by the owner): call it as the other role.
        Spi::run("SET LOCAL ROLE month_dropper").unwrap();
        let e = Spi::get_one::<String>(
            "SELECT pg_temp.sql_error('SELECT taxi_drop_month(''2024-02-01'')')",
        )
        .unwrap()
        .unwrap();
        Spi::run("RESET ROLE").unwrap();
        assert!(
            e.starts_with("42501: taxi_drop_month: permission denied"),
            "{e}"
        );
        assert_eq!(count("SELECT count(*) FROM taxi.month_drops"), 1);
    }

    /// A table of 216 months (2009 to 2026, as the archive fills it), trips and facts: a load of
    /// one month writes only its own partitions, the check of that month reads only its own, and
    /// a one-month query plans a scan of one partition (pruned at plan time).
    #[pg_test]
    fn a_load_into_a_table_of_216_months_touches_only_its_own() {
        wait_for_other_loads();
        Spi::run(
            "SELECT taxi.ensure_partitions('taxi.yellow_taxi_trips', months),
                    taxi.ensure_fact_partitions(months)
             FROM (SELECT array_agg(d::date) AS months
                   FROM generate_series(date '2009-01-01', date '2026-12-01', interval '1 month') d) m",
        )
        .unwrap();
        let partitions = |parent: &str| {
            count(&format!(
                "SELECT count(*) FROM pg_inherits WHERE inhparent = '{parent}'::regclass"
            ))
        };
        assert_eq!(partitions("taxi.yellow_taxi_trips"), 216);
        assert_eq!(partitions("taxi.fact_trips"), 216);
        let mut march = month(3000, 3, 216);
        for row in 0..march.len() {
            // Every pickup inside March 2024 (the generator's odd rows may fall outside).
            move_trip(
                &mut march,
                row,
                at(2024, 3, 1 + (row % 28) as u32, row as i64 % 1440),
            );
        }
        let path = write_trips("m216.parquet", &march, 2024);
        let loaded = load(&path, 1000);
        assert_eq!(loaded.read, 3000);
        assert!(loaded.inserted > 2900, "{loaded:?}");
        // Written: one trip partition and one fact partition, of the 432.
        let written = |like: &str| {
            count(&format!(
                "SELECT count(*) FROM pg_stat_xact_user_tables
                 WHERE schemaname = 'taxi' AND relname LIKE '{like}' AND n_tup_ins > 0"
            ))
        };
        assert_eq!(written("yellow\\_taxi\\_trips\\_y%"), 1);
        assert_eq!(written("fact\\_trips\\_y%"), 1);
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips_y2024m03"),
            loaded.inserted
        );
        let checked = crate::consistency::check(
            Some(crate::postgres::datum::date(days_from_civil(2024, 3, 9))),
            None,
        )
        .unwrap();
        assert!(checked.found.is_empty());
        assert_eq!(checked.by_digest, 1);
        assert!(consistent());
        // A one-month query: one partition in the plan (pruned while planning).
        let plan = Spi::get_one::<pgrx::Json>(
            "EXPLAIN (FORMAT JSON) SELECT count(*) FROM taxi.yellow_taxi_trips
             WHERE tpep_pickup_datetime >= '2024-03-01' AND tpep_pickup_datetime < '2024-04-01'",
        )
        .unwrap()
        .unwrap();
        let text = plan.0.to_string();
        assert_eq!(text.matches("\"Relation Name\"").count(), 1, "{text}");
        assert!(text.contains("yellow_taxi_trips_y2024m03"), "{text}");
    }
}
