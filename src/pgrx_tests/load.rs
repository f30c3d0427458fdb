#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;
    use taxi_core::trip::TripBatch;
    use taxi_gen::{self as generate, Options};

    const COLUMNS_IN_FILE_ORDER: &str = "vendorid, tpep_pickup_datetime, tpep_dropoff_datetime, passenger_count, trip_distance, ratecodeid, store_and_fwd_flag, pulocationid, dolocationid, payment_type, fare_amount, extra, mta_tax, tip_amount, tolls_amount, improvement_surcharge, total_amount, congestion_surcharge, airport_fee, cbd_congestion_fee";

    #[pg_test]
    fn official_sample_loads_every_value() {
        // chunk_size 2: three chunks, so chunking is exercised too.
        let c = load(&fixture(SAMPLE5), 2);
        assert_eq!(
            c,
            Counts {
                read: 5,
                inserted: 5,
                duplicate: 0,
                rejected: 0
            }
        );
        let rows: Vec<String> = Spi::connect(|client| {
            client
                .select(
                    &format!("SELECT ({COLUMNS_IN_FILE_ORDER})::text FROM taxi.yellow_taxi_trips ORDER BY tpep_pickup_datetime"),
                    None,
                    &[],
                )
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect()
        });
        // Values as pyarrow prints them from the file.
        assert_eq!(
            rows,
            [
                r#"(2,"2025-01-01 00:14:27","2025-01-01 00:20:01",3,0.52,1,N,244,244,2,7.20,1.00,0.50,0.00,0.00,1.00,9.70,0.00,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:18:38","2025-01-01 00:26:59",1,1.6,1,N,229,237,1,10.00,3.50,0.50,3.00,0.00,1.00,18.00,2.50,0.00,0.00)"#,
                r#"(2,"2025-01-01 00:21:34","2025-01-01 00:25:06",3,0.66,1,N,244,116,2,5.80,1.00,0.50,0.00,0.00,1.00,8.30,0.00,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:32:40","2025-01-01 00:35:13",1,0.5,1,N,236,237,1,5.10,3.50,0.50,2.02,0.00,1.00,12.12,2.50,0.00,0.00)"#,
                r#"(1,"2025-01-01 00:44:04","2025-01-01 00:46:01",1,0.6,1,N,141,141,1,5.10,3.50,0.50,2.00,0.00,1.00,12.10,2.50,0.00,0.00)"#,
            ]
        );
        assert_eq!(
            count("SELECT count(DISTINCT load_id) FROM taxi.yellow_taxi_trips"),
            1
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE octet_length(row_hash) = 32"),
            5
        );
    }

    #[pg_test]
    fn sample_with_nulls_keeps_nulls_and_cents() {
        let c = load(&fixture(SAMPLE5000), 1000);
        assert_eq!(
            c,
            Counts {
                read: 5000,
                inserted: 5000,
                duplicate: 0,
                rejected: 0
            }
        );
        let nulls = Spi::get_one::<String>(
            "SELECT concat_ws(',', count(*) - count(passenger_count), count(*) - count(ratecodeid),
                    count(*) - count(store_and_fwd_flag), count(*) - count(congestion_surcharge),
                    count(*) - count(airport_fee), count(*) - count(cbd_congestion_fee),
                    count(*) - count(vendorid))
             FROM taxi.yellow_taxi_trips",
        );
        assert_eq!(nulls.unwrap().unwrap(), "1125,1125,1125,1125,1125,0,0");
        // Sums of the file's doubles rounded to cents, as pyarrow computes them.
        let sums = Spi::get_one::<String>(
            "SELECT concat_ws(',', sum(fare_amount), sum(extra), sum(mta_tax), sum(tip_amount),
                    sum(tolls_amount), sum(improvement_surcharge), sum(total_amount),
                    sum(congestion_surcharge), sum(airport_fee), sum(cbd_congestion_fee))
             FROM taxi.yellow_taxi_trips",
        );
        assert_eq!(
            sums.unwrap().unwrap(),
            "83908.85,6166.00,2396.75,13933.10,2046.36,4763.00,125524.09,8567.50,498.75,2667.75"
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE passenger_count = 0"),
            Spi::get_one::<i64>("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE passenger_count IS NOT NULL AND passenger_count < 1").unwrap().unwrap()
        );
    }

    #[pg_test]
    fn loading_twice_inserts_nothing_the_second_time() {
        let first = load(&fixture(SAMPLE5000), 100000);
        let before = fingerprint();
        let second = load(&fixture(SAMPLE5000), 700);
        assert_eq!(first.inserted, 5000);
        assert_eq!(
            second,
            Counts {
                read: 5000,
                inserted: 0,
                duplicate: 5000,
                rejected: 0
            }
        );
        assert_eq!(fingerprint(), before);
    }

    /// A file of 120,000 rows read in chunks of 1,000 (more than taxi.chunk_size × 100): the key
    /// sets, the only structures of a load that grow with its file, hold at most 17 bytes a row
    /// beyond their fixed part, loading and reloading (when the stored keys are read instead).
    #[pg_test]
    fn a_file_of_many_chunks_keeps_its_key_sets_within_17_bytes_a_row() {
        use std::sync::atomic::Ordering;
        let rows = 120_000usize;
        let path = write_trips("many_chunks.parquet", &unique_trips(rows, 11), 2024);
        // The recent keys' hash table at its smallest cap (2^16 keys: 2^17 buckets of 17 bytes).
        let fixed = (1usize << 17) * 17;
        let first = load(&path, 1000);
        assert_eq!(first.inserted, rows as i64);
        let bytes = crate::load::KEY_BYTES.load(Ordering::Relaxed);
        assert!(bytes <= rows * 17 + fixed, "{bytes} bytes for {rows} rows");
        assert!(
            bytes >= rows * 16,
            "{bytes} bytes: every key of the file is held"
        );
        let again = load(&path, 1000);
        assert_eq!(again.duplicate, rows as i64);
        let bytes = crate::load::KEY_BYTES.load(Ordering::Relaxed);
        assert!(
            bytes <= rows * 17 + fixed,
            "{bytes} bytes for {rows} stored rows"
        );
        assert!(
            bytes >= rows * 16,
            "{bytes} bytes: every stored key is held"
        );
    }

    #[pg_test]
    fn in_file_duplicates_are_inserted_once() {
        let unique = unique_trips(1000, 7);
        // Every 10th trip appears again at the end of the file, across chunk boundaries.
        let mut with_copies = unique.clone();
        for row in (0..1000).step_by(10) {
            with_copies.push_row(&unique, row);
        }
        let path = write_trips("dups.parquet", &with_copies, 2024);
        let c = load(&path, 300);
        assert_eq!(
            c,
            Counts {
                read: 1100,
                inserted: 1000,
                duplicate: 100,
                rejected: 0
            }
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 1000);
        assert_eq!(
            count(&format!(
                "SELECT count(DISTINCT ({COLUMNS_IN_FILE_ORDER})) FROM taxi.yellow_taxi_trips"
            )),
            1000
        );
    }

    #[pg_test]
    fn older_vintage_of_the_same_trips_inserts_nothing() {
        load(&fixture(SAMPLE5), 100000);
        load(&fixture(SAMPLE5000), 100000);
        let before = fingerprint();
        for (sample, rows) in [(SAMPLE5, 5), (SAMPLE5000, 5000)] {
            let trips = read_all(&fixture(sample));
            // 2023: double counts, `airport_fee`, int64 ids, ns timestamps, pandas index column.
            for vintage in [2023, 2019, 2012] {
                let path = write_trips(&format!("v{vintage}_{sample}"), &trips, vintage);
                let c = load(&path, 1000);
                assert_eq!(
                    c,
                    Counts {
                        read: rows,
                        inserted: 0,
                        duplicate: rows,
                        rejected: 0
                    },
                    "{vintage} {sample}"
                );
            }
        }
        assert_eq!(fingerprint(), before);
    }

    #[pg_test]
    fn generated_month_of_every_vintage_loads() {
        for (i, year) in [2011, 2015, 2019, 2023, 2024, 2025].into_iter().enumerate() {
            let opts = Options {
                rows: 3000,
                year,
                month: 3,
                seed: i as u64,
                messy_rate: 0.05,
                ..Options::default()
            };
            let path = generated(&format!("gen{year}.parquet"), &opts, year);
            let trips = generate::generate(&opts);
            let mut distinct = taxi_core::hash::hash_batch(&trips);
            distinct.sort();
            distinct.dedup();
            let c = load(&path, 1000);
            assert_eq!(c.read, 3000);
            assert_eq!(c.inserted as usize, distinct.len(), "{year}");
        }
        // Messy rows are stored as they are: refunds, reversed times, zones 264/265.
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE total_amount < 0") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE tpep_dropoff_datetime < tpep_pickup_datetime") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE pulocationid = 264") > 0);
        assert!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE tpep_pickup_datetime < '2010-01-01'") > 0);
    }

    #[pg_test]
    fn each_write_mode_counts_exactly() {
        use crate::pgrx_tests::fixtures::load_file;
        use taxi_core::policy::Mode;
        let trips = unique_trips(4000, 11);
        let mut first = TripBatch::empty(&taxi_core::dataset::YELLOW, 3000);
        first.extend_rows(&trips, 0..3000);
        // Empty table: bulk (indexes dropped, heap written directly, indexes rebuilt).
        let s = load_file(&write_trips("m1.parquet", &first, 2024), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 3000, 0)
        );
        // 3000 stored, 4000 in the file: every stored trip known in memory, 1000 new via SPI.
        let s = load_file(&write_trips("m2.parquet", &trips, 2025), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Known, 1000, 3000)
        );
        // A file smaller than the table: index probes per chunk.
        let mut tail = TripBatch::empty(&taxi_core::dataset::YELLOW, 100);
        tail.extend_rows(&trips, 3950..4000);
        let extra = unique_trips(50, 12);
        tail.extend_rows(&extra, 0..50);
        let s = load_file(&write_trips("m3.parquet", &tail, 2019), 30).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Probe, 50, 50)
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 4050);
        assert_eq!(
            count("SELECT count(DISTINCT load_id) FROM taxi.yellow_taxi_trips"),
            3
        );
    }

    #[pg_test]
    fn a_mostly_new_file_switches_to_bulk_after_its_first_chunk() {
        use crate::pgrx_tests::fixtures::load_file;
        use taxi_core::policy::Mode;
        let old = unique_trips(1000, 21);
        let s = load_file(&write_trips("b1.parquet", &old, 2024), 500).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Bulk, 1000));
        let mut file = unique_trips(1500, 22);
        file.extend_rows(&old, 0..1000);
        let s = load_file(&write_trips("b2.parquet", &file, 2024), 500).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Bulk, 1500, 1000)
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 2500);
        // The month's partition was written directly and reindexed: its three indexes valid.
        assert_eq!(
            count("SELECT count(*) FROM pg_index WHERE indrelid = 'taxi.yellow_taxi_trips_y2024m01'::regclass AND indisvalid"),
            3
        );
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 0);
        // Reloading it: the first chunk is all stored, so no index is touched.
        let s = load_file(&write_trips("b3.parquet", &file, 2023), 500).unwrap();
        assert_eq!((s.mode, s.rows_inserted), (Mode::Known, 0));
    }

    #[pg_test]
    fn write_mode_setting_forces_a_path_with_the_same_result() {
        use crate::pgrx_tests::fixtures::load_file;
        use taxi_core::policy::Mode;
        let path = fixture(SAMPLE5000);
        let mut prints = Vec::new();
        for (setting, want) in [
            ("probe", Mode::Probe),
            ("known", Mode::Known),
            ("bulk", Mode::Bulk),
            ("auto", Mode::Bulk),
        ] {
            Spi::run("TRUNCATE taxi.yellow_taxi_trips").unwrap();
            Spi::run(&format!("SET LOCAL taxi.write_mode = {setting}")).unwrap();
            let s = load_file(&path, 1000).unwrap();
            assert_eq!((s.mode, s.rows_inserted), (want, 5000), "{setting}");
            let digest = format!(
                "SELECT md5(string_agg((row_hash, {COLUMNS_IN_FILE_ORDER})::text, '|' ORDER BY row_hash)) FROM taxi.yellow_taxi_trips"
            );
            prints.push(Spi::get_one::<String>(&digest).unwrap().unwrap());
        }
        assert!(
            prints.windows(2).all(|w| w[0] == w[1]),
            "every path stores the same values"
        );
        // bulk is only a wish: into a partition holding far more trips than the file brings it,
        // it probes.
        Spi::run("SET LOCAL taxi.write_mode = bulk").unwrap();
        let stored = taxi_core::read::read_to_end(&path, 1000).unwrap();
        let mut five = TripBatch::empty(&taxi_core::dataset::YELLOW, 5);
        five.extend_rows(&stored, 0..5);
        let s = load_file(&write_trips("five.parquet", &five, 2025), 1000).unwrap();
        assert_eq!(
            (s.mode, s.rows_inserted, s.rows_duplicate),
            (Mode::Probe, 0, 5)
        );
        // The taxi prefix is reserved (PostgreSQL 14 can only warn).
        let e = sql_error("SET taxi.write_mod = bulk");
        let want = if cfg!(feature = "pg14") {
            "no error"
        } else {
            "42602"
        };
        assert!(e.starts_with(want), "{e}");
    }

    /// The backend's threads. A released pool's threads end on their own, so this waits for them
    /// (up to 30 s: a slow machine must not fail the test, a thread that never ends must).
    fn threads_settle_at(want: usize) -> usize {
        let count = || std::fs::read_dir("/proc/self/task").unwrap().count();
        for _ in 0..1500 {
            if count() == want {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        count()
    }

    #[pg_test]
    fn taxi_workers_sizes_the_pool_and_settings_apply() {
        for workers in [1, 3, 2] {
            Spi::run(&format!("SET LOCAL taxi.workers = {workers}")).unwrap();
            Spi::run("TRUNCATE taxi.yellow_taxi_trips, taxi.fact_trips").unwrap();
            // The pool is sized by the setting while the load runs (the file's chunks are
            // converted on it) …
            let s = crate::pgrx_tests::fixtures::load_file(&fixture(SAMPLE5000), 1000).unwrap();
            assert_eq!(s.workers, workers);
            assert_eq!(s.rows_inserted, 5000);
            // … and gone when it ends.
            assert_eq!(taxi_core::threads::workers(), None);
            assert_eq!(threads_settle_at(1), 1, "{workers} workers");
        }
        // Out-of-range settings are refused by PostgreSQL itself.
        assert!(sql_error("SET taxi.chunk_size = 0").starts_with("22023"));
        assert!(sql_error("SET taxi.workers = -1").starts_with("22023"));
        assert!(sql_error("SET taxi.progress_every = -2").starts_with("22023"));
        // taxi_load(path) takes taxi.chunk_size; an argument overrides it; NULL path is an error.
        let e = sql_error("SELECT * FROM taxi_load(NULL)");
        assert!(
            e.starts_with("22004: taxi_load: path must not be NULL"),
            "{e}"
        );
    }

    /// `rows` generated trips without in-file duplicates.
    fn unique_trips(rows: usize, seed: u64) -> TripBatch {
        generate::generate(&Options {
            rows,
            duplicate_rate: 0.0,
            seed,
            ..Options::default()
        })
    }

    fn read_all(path: &str) -> TripBatch {
        taxi_core::read::read_to_end(path, 1000).unwrap()
    }
}
