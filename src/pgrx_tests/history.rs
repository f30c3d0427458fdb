/// Load history, rejected rows, quality flags and folder loads, against a real server.
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::idx;
    use crate::pgrx_tests::fixtures::*;
    use taxi_core::quality::FLAGS;
    use taxi_core::trip::Values;
    use taxi_gen::{self as generate, Options};

    fn text(sql: &str) -> String {
        Spi::get_one::<String>(sql).unwrap().unwrap_or_default()
    }

    /// The load_runs row of `load_id` as text.
    fn run_row(load_id: i64) -> String {
        text(&format!(
            "SELECT concat_ws(' ', status, rows_read, rows_inserted, rows_duplicate, rows_rejected,
                              error_sqlstate, chunk_size, loaded_by = current_user,
                              backend_pid = pg_backend_pid(), finished_at >= started_at)
             FROM taxi.load_runs WHERE load_id = {load_id}"
        ))
    }

    fn last_load_id() -> i64 {
        count("SELECT max(load_id) FROM taxi.load_runs WHERE backend_pid = pg_backend_pid()")
    }

    #[pg_test]
    fn load_runs_record_a_success_a_reload_and_a_failure() {
        let path = fixture(SAMPLE5000);
        load(&path, 1000);
        let first = last_load_id();
        assert_eq!(run_row(first), "succeeded 5000 5000 0 0 1000 t t t");
        // The checksum is the file's, the size and the month from its name too.
        let sha = taxi_core::files::sha256_hex(&path).unwrap();
        assert_eq!(
            text(&format!(
                "SELECT concat_ws(' ', encode(file_sha256, 'hex'), file_size, file_month, file_path)
                 FROM taxi.load_runs WHERE load_id = {first}"
            )),
            format!(
                "{sha} {} 2025-02-01 {path}",
                std::fs::metadata(&path).unwrap().len()
            )
        );
        load(&path, 700);
        let reload = last_load_id();
        assert!(reload > first);
        assert_eq!(run_row(reload), "succeeded 5000 0 5000 0 700 t t t");

        // A failure: its row survives the ERROR (written by a background worker), its trips do not.
        let before = fingerprint();
        let bad = scratch("not_parquet_2025-03.parquet");
        std::fs::write(&bad, b"this is not parquet at all, not even close").unwrap();
        let e = load_error(&bad, 100);
        assert!(e.starts_with("22P04"), "{e}");
        let failed = last_load_id();
        assert!(failed > reload);
        assert_eq!(run_row(failed), "failed 22P04 100 t t t");
        assert_eq!(
            text(&format!(
                "SELECT error_message FROM taxi.load_runs WHERE load_id = {failed}"
            )),
            format!("file \"{bad}\" is not a parquet file")
        );
        // A missing file and an error PostgreSQL raises (a cancel by statement_timeout is another,
        // tested at SQL level) are recorded the same way.
        assert!(load_error("/nonexistent/yellow.parquet", 100).starts_with("58P01"));
        assert_eq!(run_row(last_load_id()), "failed 58P01 100 t t t");
        assert_eq!(fingerprint(), before);
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id >= {failed}"
            )),
            0
        );
        // A run that did not commit (its caller rolled back after it returned) is marked failed by
        // the next load: simulated with a subtransaction that loads, then fails.
        Spi::run(
            "DO $$ BEGIN
                 BEGIN
                     PERFORM taxi_load($1, 100);
                     RAISE EXCEPTION 'roll it back';
                 EXCEPTION WHEN OTHERS THEN NULL;
                 END;
             END $$"
                .replace("$1", &format!("'{}'", fixture(SAMPLE5)))
                .as_str(),
        )
        .unwrap();
        let rolled_back = last_load_id();
        // Its row, committed as running by the worker, still says running: its transaction (this
        // test's) is in progress, so the sweep must leave it.
        assert_eq!(run_row(rolled_back), "running 100 t t");
        load(&fixture(SAMPLE5), 100);
        assert_eq!(run_row(rolled_back), "running 100 t t");
    }

    /// A file with every kind of rejected and suspicious row: the counts add up, the rejected rows
    /// keep their raw values, each flag is on exactly the rows its definition (in SQL) selects.
    #[pg_test]
    fn rejected_rows_are_recorded_and_every_flag_is_exact() {
        let mut trips = generate::generate(&Options {
            rows: 3000,
            year: 2024,
            month: 3,
            messy_rate: 0.05,
            seed: 77,
            ..Options::default()
        });
        const MARCH: i64 = 1_709_251_200_000_000; // 2024-03-01 00:00, µs since 1970
        const H: i64 = 3_600_000_000;
        let set_ts =
            |t: &mut taxi_core::trip::TripBatch, col: usize, row: usize, v: Option<i64>| {
                if let Values::Timestamp(c) = &mut t.columns[col] {
                    c[row] = v;
                }
            };
        let set_money =
            |t: &mut taxi_core::trip::TripBatch, col: usize, row: usize, v: Option<i64>| {
                if let Values::Money(c) = &mut t.columns[col] {
                    c[row] = v;
                }
            };
        // Rejected (0-based rows; the file numbers them from 1).
        set_ts(&mut trips, idx::PICKUP, 10, None);
        set_ts(&mut trips, idx::DROPOFF, 20, None);
        set_money(&mut trips, idx::FARE_AMOUNT, 30, Some(5_000_000_000_000));
        set_ts(&mut trips, idx::PICKUP, 40, Some(-300_000_000_000_000_000));
        if let Values::Text(c) = &mut trips.columns[idx::STORE_AND_FWD_FLAG] {
            c[50] = Some("N\0".into());
        }
        set_ts(&mut trips, idx::PICKUP, 60, None);
        set_money(&mut trips, idx::TOTAL_AMOUNT, 60, Some(-5_000_000_000_000));
        // Suspicious, one of each at least.
        set_money(&mut trips, idx::FARE_AMOUNT, 100, Some(-500));
        set_ts(&mut trips, idx::PICKUP, 101, Some(MARCH + 2 * H));
        set_ts(&mut trips, idx::DROPOFF, 101, Some(MARCH + H));
        set_ts(&mut trips, idx::PICKUP, 102, Some(MARCH - H));
        if let Values::Int(c) = &mut trips.columns[idx::PU_LOCATION_ID] {
            c[103] = Some(264);
        }
        if let Values::Float(c) = &mut trips.columns[idx::TRIP_DISTANCE] {
            c[104] = Some(0.0);
            c[105] = Some(50.0);
        }
        set_ts(&mut trips, idx::PICKUP, 105, Some(MARCH + 5 * H));
        set_ts(&mut trips, idx::DROPOFF, 105, Some(MARCH + 5 * H + H / 6));
        let path = write_trips("yellow_tripdata_2024-03.parquet", &trips, 2024);

        let c = load(&path, 1000);
        let load_id = last_load_id();
        assert_eq!(c.read, 3000);
        assert_eq!(c.rejected, 6);
        assert_eq!(c.read, c.inserted + c.duplicate + c.rejected);
        assert_eq!(
            run_row(load_id),
            format!("succeeded 3000 {} {} 6 1000 t t t", c.inserted, c.duplicate)
        );
        // The rejected rows: their numbers in the file, why, and the values as the file has them.
        let rejected = text(&format!(
            "SELECT string_agg(row_number || ': ' || reason, E'\\n' ORDER BY row_number)
             FROM taxi.rejected_rows WHERE load_id = {load_id}"
        ));
        assert_eq!(
            rejected,
            "11: tpep_pickup_datetime: the column requires a value (NULL)\n\
             21: tpep_dropoff_datetime: the column requires a value (NULL)\n\
             31: fare_amount: outside the range of numeric(12,2) (50000000000)\n\
             41: tpep_pickup_datetime: outside the range of timestamp (-300000000000000000)\n\
             51: store_and_fwd_flag: text cannot contain NUL (N\\u{0})\n\
             61: tpep_pickup_datetime: the column requires a value (NULL); total_amount: outside the range of numeric(12,2) (-50000000000)",
        );
        let vendor = |r: usize| match &trips.columns[idx::VENDOR_ID] {
            Values::Int(v) => v[r].map_or("null".to_string(), |x| x.to_string()),
            _ => unreachable!(),
        };
        for (row, column, want) in [
            (11, "tpep_pickup_datetime", "null".to_string()),
            (21, "tpep_dropoff_datetime", "null".to_string()),
            (31, "fare_amount", "50000000000.0".to_string()),
            (51, "store_and_fwd_flag", "\"N\\\\u0000\"".to_string()),
            (61, "total_amount", "-50000000000.0".to_string()),
            (11, "VendorID", vendor(10)),
            (41, "VendorID", vendor(40)),
        ] {
            let got = text(&format!(
                "SELECT (raw -> '{column}')::text FROM taxi.rejected_rows
                 WHERE load_id = {load_id} AND row_number = {row}"
            ));
            assert_eq!(got, want, "row {row} {column}");
        }
        // Every column of the file is in the raw row (a 2024 file has 19: no cbd_congestion_fee).
        assert_eq!(
            count(&format!(
                "SELECT min((SELECT count(*) FROM jsonb_object_keys(raw))) FROM taxi.rejected_rows WHERE load_id = {load_id}"
            )),
            19
        );
        // Each flag: on exactly the rows its SQL definition selects, and counted in load_runs.
        let money = taxi_core::dataset::YELLOW
            .columns
            .iter()
            .filter(|c| c.kind == taxi_core::trip::Kind::Money)
            .map(|c| format!("{} < 0", c.name))
            .collect::<Vec<_>>()
            .join(" OR ");
        let definitions = [
            money,
            "tpep_dropoff_datetime < tpep_pickup_datetime".to_string(),
            "date_trunc('month', tpep_pickup_datetime) <> '2024-03-01'".to_string(),
            "pulocationid IN (264, 265) OR dolocationid IN (264, 265)".to_string(),
            "trip_distance = 0".to_string(),
            "tpep_dropoff_datetime > tpep_pickup_datetime AND trip_distance <> 'NaN'
             AND trip_distance / (extract(epoch FROM tpep_dropoff_datetime - tpep_pickup_datetime)::float8 / 3600) > 100"
                .to_string(),
        ];
        for (flag, definition) in FLAGS.iter().zip(definitions) {
            let wrong = count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = {load_id}
                   AND (quality_flags & {}::smallint <> 0) IS DISTINCT FROM coalesce({definition}, false)",
                flag.bit
            ));
            assert_eq!(wrong, 0, "{}", flag.name);
            let flagged = count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = {load_id}
                   AND quality_flags & {}::smallint <> 0",
                flag.bit
            ));
            assert!(flagged > 0, "{} never set", flag.name);
            // No duplicates in this file's storable rows? Then the counts are the stored rows'.
            if c.duplicate == 0 {
                let counted = count(&format!(
                    "SELECT (flag_counts ->> '{}')::bigint FROM taxi.load_runs WHERE load_id = {load_id}",
                    flag.name
                ));
                assert_eq!(counted, flagged, "{}", flag.name);
            }
        }
        // The facts of the stored rows are consistent; nothing of the rejected rows reached them.
        assert_eq!(count("SELECT count(*) FROM taxi_check_consistency()"), 0);
        // Reloading: every storable row a duplicate, the same rows rejected again.
        let again = load(&path, 512);
        assert_eq!(
            (again.inserted, again.duplicate, again.rejected),
            (0, 3000 - 6, 6)
        );
        // pandas-written files hold passenger_count as double: 1.5 passengers is not a count.
        let path = scratch("half.parquet");
        let counts = arrow::array::Float64Array::from(vec![1.0, 1.5, 1.0, 3.0, 3.0]);
        replace_column(
            &fixture(SAMPLE5),
            &path,
            "passenger_count",
            std::sync::Arc::new(counts),
        );
        let c = load(&path, 100);
        assert_eq!(c.rejected, 1);
        assert_eq!(
            text(&format!(
                "SELECT row_number || ' ' || reason || ' ' || (raw -> 'passenger_count')::text
                 FROM taxi.rejected_rows WHERE load_id = {}",
                last_load_id()
            )),
            "2 passenger_count: not a whole number (1.5) 1.5"
        );
        // More rejected rows than taxi.max_rejected_rows: the load fails, nothing of it remains,
        // and the first bad row is named.
        let before = fingerprint();
        Spi::run("SET LOCAL taxi.max_rejected_rows = 5").unwrap();
        let e = load_error(&scratch("yellow_tripdata_2024-03.parquet"), 1000);
        assert!(
            e.starts_with("22000: file")
                && e.contains("has more than 5 rows that cannot be stored")
                && e.contains("The first: row 11: tpep_pickup_datetime"),
            "{e}"
        );
        assert_eq!(run_row(last_load_id()), "failed 22000 1000 t t t");
        Spi::run("SET LOCAL taxi.max_rejected_rows = 6").unwrap();
        assert_eq!(
            load(&scratch("yellow_tripdata_2024-03.parquet"), 1000).rejected,
            6
        );
        assert_eq!(fingerprint(), before);
    }

    #[pg_test]
    fn folder_loads_each_content_once_and_goes_on_after_a_bad_file() {
        let dir = scratch("folder");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(
            fixture(SAMPLE5000),
            format!("{dir}/yellow_tripdata_2025-02.parquet"),
        )
        .unwrap();
        // A renamed copy: sorts first, so it is the one loaded; the original is then skipped.
        std::fs::copy(
            fixture(SAMPLE5000),
            format!("{dir}/yellow_tripdata_2025-02-copy.parquet"),
        )
        .unwrap();
        std::fs::write(
            format!("{dir}/yellow_tripdata_2025-03.parquet"),
            b"not parquet",
        )
        .unwrap();
        std::fs::write(format!("{dir}/notes.txt"), b"ignored").unwrap();
        let call = |dir: &str| -> String {
            text(&format!(
                "SELECT string_agg(concat_ws(' ', regexp_replace(file, '.*/', ''), status,
                                             rows_inserted, rows_duplicate, error_sqlstate), '; ')
                 FROM taxi_load_dir('{dir}')"
            ))
        };
        assert_eq!(
            call(&dir),
            "yellow_tripdata_2025-02-copy.parquet succeeded 5000 0; \
             yellow_tripdata_2025-02.parquet skipped; \
             yellow_tripdata_2025-03.parquet failed 22P04"
        );
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = (SELECT max(load_id) FROM taxi.load_runs WHERE status = 'succeeded' AND backend_pid = pg_backend_pid())"), 5000);
        // Again: nothing new is loaded; the bad file fails again.
        assert_eq!(
            call(&dir),
            "yellow_tripdata_2025-02-copy.parquet skipped; \
             yellow_tripdata_2025-02.parquet skipped; \
             yellow_tripdata_2025-03.parquet failed 22P04"
        );
        // New content under an old name is loaded.
        std::fs::copy(
            fixture(SAMPLE5),
            format!("{dir}/yellow_tripdata_2025-02.parquet"),
        )
        .unwrap();
        assert!(call(&dir).contains("yellow_tripdata_2025-02.parquet succeeded 5 0"));
        // A pattern selects; a file that is not a folder is refused.
        assert_eq!(
            text(&format!(
                "SELECT string_agg(status, ',') FROM taxi_load_dir('{dir}', '*.txt')"
            )),
            "failed"
        );
        let e = sql_error(&format!("SELECT * FROM taxi_load_dir('{dir}/notes.txt')"));
        assert!(e.starts_with("42809"), "{e}");
        let e = sql_error("SELECT * FROM taxi_load_dir('relative/dir')");
        assert!(e.starts_with("22023"), "{e}");
        let e = sql_error("SELECT * FROM taxi_load_dir('/nonexistent/dir')");
        assert!(e.starts_with("58P01"), "{e}");
    }
}
