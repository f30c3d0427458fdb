#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;
    use taxi_core::dataset::{Dataset, ALL, FHVHV};
    use taxi_core::trip::Kind;
    use taxi_gen::{self as generate, Options, Vintage};

    /// One row per dataset: `name:rows`, of every trips table.
    fn rows_per_table() -> String {
        ALL.iter()
            .map(|d| {
                let n = count(&format!("SELECT count(*) FROM {}", d.qualified()));
                format!("{}:{n}", d.name)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The discrepancies taxi_check_consistency() finds; when none, also that every month was
    /// found equal by its digests, without the row comparison.
    fn consistent() -> i64 {
        let found = count("SELECT count(*) FROM taxi_check_consistency()");
        if found == 0 {
            let checked = crate::consistency::check(None, None).unwrap();
            assert!(checked.found.is_empty());
            assert_eq!(checked.by_rows, 0, "months compared row by row");
            assert!(checked.by_digest > 0 || count("SELECT count(*) FROM taxi.fact_trips") == 0);
        }
        found
    }

    fn text(sql: &str) -> String {
        Spi::get_one::<String>(sql).unwrap().unwrap()
    }

    /// `text` with `$1` bound to `value`.
    fn text_of(sql: &str, value: &str) -> String {
        Spi::get_one_with_args::<String>(sql, &[value.into()])
            .unwrap()
            .unwrap()
    }

    fn count_of(sql: &str, value: &str) -> i64 {
        Spi::get_one_with_args::<i64>(sql, &[value.into()])
            .unwrap()
            .unwrap()
    }

    /// The tables are what the dataset descriptions say: every column, in order, with its type
    /// and NOT NULL where the description requires a value; the registry names each table.
    #[pg_test]
    fn the_tables_are_the_descriptions() {
        for d in ALL {
            // Columns added by a later version (yellow's coordinates, 0.8.0) follow quality_flags.
            let column = |c: &taxi_core::trip::Column| {
                let ty = match c.kind {
                    Kind::Int => "smallint",
                    Kind::BigInt => "bigint",
                    Kind::Timestamp => "timestamp without time zone",
                    Kind::Float => "double precision",
                    Kind::Money => "numeric(12,2)",
                    Kind::Text => "text",
                };
                format!("{} {ty} {}", c.name, c.not_null)
            };
            let (first, later) = d.columns.split_at(d.hashed_columns());
            let want: Vec<String> = ["row_hash bytea true", "load_id bigint true"]
                .into_iter()
                .map(String::from)
                .chain(first.iter().map(column))
                .chain(["quality_flags smallint true".to_string()])
                .chain(later.iter().map(column))
                .collect();
            let got = text_of(
                "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || ' ' || attnotnull, ', ' ORDER BY attnum)
                 FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
                d.qualified(),
            );
            assert_eq!(got, want.join(", "), "{}", d.name);
            assert_eq!(
                text_of(
                    "SELECT trip_table::text || ' ' || title FROM taxi.dataset WHERE name = $1",
                    d.name
                ),
                format!("{} {}", d.qualified(), d.title)
            );
            let key = text(&format!(
                "SELECT a.attname::text FROM pg_partitioned_table t
                 JOIN pg_attribute a ON a.attrelid = t.partrelid AND a.attnum = t.partattrs[0]
                 WHERE t.partrelid = '{}'::regclass",
                d.qualified()
            ));
            assert_eq!(key, d.pickup_column(), "{}", d.name);
        }
        assert_eq!(count("SELECT count(*) FROM taxi.dataset"), ALL.len() as i64);
        // The services the facts use are the description's.
        for (license, key) in taxi_core::dataset::LICENSES {
            assert_eq!(
                count_of(
                    "SELECT service_key::bigint FROM taxi.dim_service WHERE license = $1",
                    license
                ),
                key as i64
            );
        }
    }

    /// The real green month loads exactly: its counts and money sums are pyarrow's, each trip
    /// once, its facts agree, and the history says it was green.
    #[pg_test]
    fn the_real_green_month_loads_exactly() {
        wait_for_other_loads();
        assert_eq!(rows_per_table(), "yellow:0 green:0 fhv:0 fhvhv:0");
        let row = text_of(
            "SELECT concat_ws(' ', load_id, rows_read, rows_inserted, rows_duplicate, rows_rejected, dataset)
             FROM taxi_load($1, 10000)",
            &fixture(GREEN),
        );
        let (load_id, row) = row.split_once(' ').unwrap();
        assert_eq!(row, "56551 56551 0 0 green");
        // Computed with pyarrow from the file (money rounded to cents).
        assert_eq!(
            text(
                "SELECT concat_ws(' ', count(*), sum(fare_amount), sum(tip_amount), sum(total_amount),
                                  count(ehail_fee), sum(congestion_surcharge), count(congestion_surcharge),
                                  count(trip_type))
                 FROM taxi.green_taxi_trips"
            ),
            "56551 957367.44 127607.90 1266922.59 0 41294.00 53136 53133"
        );
        assert_eq!(
            text(
                "SELECT string_agg(to_char(m, 'YYYY-MM') || ':' || n, ' ' ORDER BY m) FROM (
                   SELECT date_trunc('month', lpep_pickup_datetime) m, count(*) n
                   FROM taxi.green_taxi_trips GROUP BY 1) x"
            ),
            "2023-12:2 2024-01:56549"
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.fact_trips WHERE service_key = 2"),
            56551
        );
        assert_eq!(consistent(), 0);
        assert_eq!(
            text(&format!(
                "SELECT coalesce(dataset, 'NULL') || ' ' || status FROM taxi.load_runs WHERE load_id = {load_id}"
            )),
            "green succeeded"
        );
        // Again: every trip is a duplicate.
        let again = load(&fixture(GREEN), 10000);
        assert_eq!((again.inserted, again.duplicate), (0, 56551));
    }

    fn month_of(
        d: &'static Dataset,
        year: i32,
        rows: usize,
        seed: u64,
    ) -> taxi_core::trip::TripBatch {
        generate::generate(&Options {
            dataset: d,
            rows,
            year,
            month: 3,
            seed,
            messy_rate: 0.05,
            ..Options::default()
        })
    }

    fn distinct(trips: &taxi_core::trip::TripBatch) -> i64 {
        let mut h = taxi_core::hash::hash_batch(trips);
        h.sort_unstable();
        h.dedup();
        h.len() as i64
    }

    /// Every dataset's generated month loads into its own table under a misleading name, in an
    /// official and a pandas layout; the pandas rewrite adds nothing.
    #[pg_test]
    fn every_dataset_loads_into_its_table_and_a_pandas_rewrite_adds_nothing() {
        wait_for_other_loads();
        for (i, d) in ALL.iter().enumerate() {
            let trips = month_of(d, 2024, 3000, 70 + i as u64);
            let official = write_trips(
                &format!("yellow_tripdata_2024-03_{}.parquet", d.name),
                &trips,
                2024,
            );
            let pandas = write_trips(&format!("pandas_{}.parquet", d.name), &trips, 2023);
            let row = text_of(
                "SELECT concat_ws(' ', rows_read, rows_inserted, rows_rejected, dataset)
                 FROM taxi_load($1, 1000)",
                &official,
            );
            assert_eq!(row, format!("3000 {} 0 {}", distinct(&trips), d.name));
            let again = load(&pandas, 700);
            assert_eq!((again.inserted, again.duplicate), (0, 3000), "{}", d.name);
        }
        assert_eq!(consistent(), 0);
        // Every dataset's facts: one per trip, under its services.
        assert_eq!(
            text(
                "SELECT string_agg(s.dataset || ':' || n, ' ' ORDER BY s.dataset) FROM (
                   SELECT d.dataset, count(*) n FROM taxi.fact_trips f
                   JOIN taxi.dim_service d USING (service_key) GROUP BY 1) s"
            ),
            ALL.iter()
                .map(|d| (
                    d.name,
                    count(&format!("SELECT count(*) FROM {}", d.qualified()))
                ))
                .collect::<std::collections::BTreeMap<_, _>>()
                .iter()
                .map(|(n, c)| format!("{n}:{c}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }

    /// One query compares services by zone, day and hour, and its counts are the trips tables'.
    #[pg_test]
    fn a_cross_service_query_equals_the_trips_tables() {
        wait_for_other_loads();
        for (i, d) in ALL.iter().enumerate() {
            let trips = month_of(d, 2024, 2000, 90 + i as u64);
            load(
                &write_trips(&format!("x_{}.parquet", d.name), &trips, 2024),
                1000,
            );
        }
        // Trips per service, pickup zone and hour, from the facts and from each table.
        let star = text(
            "SELECT md5(string_agg(concat_ws(',', service, zone, hr, n), '|' ORDER BY service, zone, hr))
             FROM (SELECT s.dataset AS service, l.location_key AS zone, t.hour AS hr, count(*) n
                   FROM taxi.fact_trips f
                   JOIN taxi.dim_service s USING (service_key)
                   JOIN taxi.dim_location l ON l.location_key = f.pickup_location_key
                   JOIN taxi.dim_time t ON t.time_key = f.time_key
                   GROUP BY 1, 2, 3) x",
        );
        let normalized = text(
            "SELECT md5(string_agg(concat_ws(',', service, zone, hr, n), '|' ORDER BY service, zone, hr))
             FROM (SELECT service, zone, hr, count(*) n FROM (
                     SELECT 'yellow' service, coalesce(z.locationid, -1) zone, extract(hour FROM tpep_pickup_datetime)::int hr
                     FROM taxi.yellow_taxi_trips t LEFT JOIN taxi.taxi_zone z ON z.locationid = t.pulocationid
                     UNION ALL
                     SELECT 'green', coalesce(z.locationid, -1), extract(hour FROM lpep_pickup_datetime)::int
                     FROM taxi.green_taxi_trips t LEFT JOIN taxi.taxi_zone z ON z.locationid = t.pulocationid
                     UNION ALL
                     SELECT 'fhv', coalesce(z.locationid, -1), extract(hour FROM pickup_datetime)::int
                     FROM taxi.fhv_trips t LEFT JOIN taxi.taxi_zone z ON z.locationid = t.pulocationid
                     UNION ALL
                     SELECT 'fhvhv', coalesce(z.locationid, -1), extract(hour FROM pickup_datetime)::int
                     FROM taxi.fhvhv_trips t LEFT JOIN taxi.taxi_zone z ON z.locationid = t.pulocationid) u
                   GROUP BY 1, 2, 3) x",
        );
        assert_eq!(star, normalized);
        // The high-volume trips are split by company, as their licenses say.
        assert_eq!(
            text(
                "SELECT string_agg(company || ':' || n, ' ' ORDER BY company) FROM (
                   SELECT s.company, count(*) n FROM taxi.fact_trips f
                   JOIN taxi.dim_service s USING (service_key) WHERE s.dataset = 'fhvhv' GROUP BY 1) x"
            ),
            text(
                "SELECT string_agg(company || ':' || n, ' ' ORDER BY company) FROM (
                   SELECT s.company, count(*) n FROM taxi.fhvhv_trips t
                   JOIN taxi.dim_service s ON s.license = t.hvfhs_license_num GROUP BY 1) x"
            )
        );
    }

    /// A named dataset is checked, not guessed; an unknown name, a file with two datasets'
    /// columns, and a file of another dataset than the one named are refused, nothing written.
    #[pg_test]
    fn named_unknown_and_ambiguous_datasets() {
        wait_for_other_loads();
        load(&fixture(SAMPLE5), 100);
        let before = fingerprint();
        let e = sql_error(&format!(
            "SELECT * FROM taxi_load('{}', dataset => 'green')",
            fixture(SAMPLE5000)
        ));
        assert!(e.starts_with("22P04: file "), "{e}");
        assert!(e.contains("is not a green taxi trip file"), "{e}");
        let e = sql_error(&format!(
            "SELECT * FROM taxi_load('{}', dataset => 'blue')",
            fixture(SAMPLE5000)
        ));
        assert!(e.starts_with("22023: unknown dataset \"blue\""), "{e}");
        // The green month with yellow's pickup and dropoff columns added under their names.
        let both = scratch("both.parquet");
        taxi_core::read::rewrite::rewrite(&fixture(GREEN), &both, |fields, columns| {
            for (from, to) in [
                ("lpep_pickup_datetime", "tpep_pickup_datetime"),
                ("lpep_dropoff_datetime", "tpep_dropoff_datetime"),
            ] {
                let at = fields.iter().position(|f| f.name() == from).unwrap();
                fields.push(fields[at].clone().with_name(to));
                columns.push(columns[at].clone());
            }
        });
        let e = load_error(&both, 100);
        assert!(
            e.starts_with("22P04: file ")
                && e.contains("has the columns of more than one TLC dataset (yellow, green)"),
            "{e}"
        );
        assert!(e.ends_with("Say which it is: dataset => 'yellow'."), "{e}");
        assert_eq!(fingerprint(), before);
        // Named, it loads as that dataset.
        let row = text_of(
            "SELECT rows_inserted || ' ' || dataset FROM taxi_load($1, dataset => 'green')",
            &both,
        );
        assert!(row.ends_with(" green"), "{row}");
    }

    /// A folder mixing the datasets loads each file into its table; dropping one dataset's
    /// month keeps the others' trips and facts.
    #[pg_test]
    fn a_mixed_folder_loads_and_a_month_drops_per_dataset() {
        wait_for_other_loads();
        let dir = scratch("mixed");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, d) in ALL.iter().enumerate() {
            let trips = month_of(d, 2024, 1500, 110 + i as u64);
            generate::write_parquet(
                &format!("{dir}/{}_tripdata_2024-03.parquet", d.name),
                &trips,
                &Vintage::of_year(2024),
                1000,
            )
            .unwrap();
        }
        let rows = text_of(
            "SELECT string_agg(status || ':' || dataset, ' ' ORDER BY file) FROM taxi_load_dir($1)",
            &dir,
        );
        assert_eq!(
            rows,
            "succeeded:fhv succeeded:fhvhv succeeded:green succeeded:yellow"
        );
        assert_eq!(consistent(), 0);
        let march = |d: &Dataset| {
            count(&format!(
                "SELECT count(*) FROM {} WHERE {} >= '2024-03-01' AND {} < '2024-04-01'",
                d.qualified(),
                d.pickup_column(),
                d.pickup_column()
            ))
        };
        let hv = march(&FHVHV);
        let dropped = text(
            "SELECT string_agg(concat_ws(' ', dropped_dataset, trip_partition, trips_dropped, facts_dropped), ',')
             FROM taxi_drop_month('2024-03-01', 'fhvhv')",
        );
        assert_eq!(dropped, format!("fhvhv fhvhv_trips_y2024m03 {hv} {hv}"));
        assert_eq!(march(&FHVHV), 0);
        assert!(march(&taxi_core::dataset::GREEN) > 1000);
        assert_eq!(consistent(), 0);
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname = 'fact_trips_y2024m03'"),
            1
        );
        // Every other dataset at once: the fact partition goes with them.
        let left = count("SELECT count(*) FROM taxi_drop_month('2024-03-15')");
        assert_eq!(left, 3);
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname = 'fact_trips_y2024m03'"),
            0
        );
        assert_eq!(consistent(), 0);
        let e = sql_error("SELECT * FROM taxi_drop_month('2024-03-01', 'blue')");
        assert!(e.starts_with("22023: unknown dataset \"blue\""), "{e}");
    }

    /// High-volume trips whose trip_time disagrees with their timestamps are flagged, and the
    /// history counts the flag for that dataset only.
    #[pg_test]
    fn a_high_volume_trip_time_that_disagrees_is_flagged() {
        wait_for_other_loads();
        let mut trips = month_of(&FHVHV, 2024, 500, 130);
        let at = FHVHV.trip_seconds.unwrap();
        if let taxi_core::trip::Values::BigInt(v) = &mut trips.columns[at] {
            for x in v.iter_mut().take(7) {
                *x = x.map(|s| s + 3600);
            }
        }
        let path = write_trips("hv_flags.parquet", &trips, 2024);
        // The load's own history row (a load of an earlier test may still be finishing).
        let flags_of = |path: &str| {
            let load_id = count_of("SELECT load_id FROM taxi_load($1, 1000)", path);
            text(&format!(
                "SELECT flag_counts::text FROM taxi.load_runs WHERE load_id = {load_id}"
            ))
        };
        let counts = flags_of(&path);
        let flagged = count("SELECT count(*) FROM taxi.fhvhv_trips WHERE quality_flags & 64 <> 0");
        assert!(flagged >= 7, "{flagged}");
        assert!(
            counts.contains(&format!("\"trip_time_mismatch\": {flagged}")),
            "{counts}"
        );
        let yellow = flags_of(&fixture(SAMPLE5));
        assert!(!yellow.contains("trip_time"), "{yellow}");
    }

    /// A re-published month of each dataset replaces its earlier version exactly: the table
    /// then holds the new version's trips, and its facts agree.
    #[pg_test]
    fn a_republished_month_of_every_dataset_replaces_the_earlier_version() {
        wait_for_other_loads();
        for (i, d) in ALL.iter().enumerate() {
            let first = month_of(d, 2024, 2000, 150 + i as u64);
            let (second, corrected, withdrawn) = generate::republish(
                &first,
                &generate::Republish {
                    year: 2024,
                    month: 3,
                    add: 40,
                    ..generate::Republish::default()
                },
            );
            assert!(corrected > 0 && withdrawn > 0, "{}", d.name);
            let path = scratch(&format!("{}_tripdata_2024-03.parquet", d.name));
            generate::write_parquet(&path, &first, &Vintage::of_year(2024), 1000).unwrap();
            load(&path, 700);
            generate::write_parquet(&path, &second, &Vintage::of_year(2024), 1000).unwrap();
            let removed = count_of(
                "SELECT rows_removed FROM taxi_load($1, 700, replace => true)",
                &path,
            );
            let mut want: Vec<String> = taxi_core::hash::hash_batch(&second)
                .iter()
                .map(|h| taxi_core::hash::hex(h))
                .collect();
            want.sort_unstable();
            want.dedup();
            let got = text(&format!(
                "SELECT string_agg(encode(row_hash, 'hex'), ',' ORDER BY encode(row_hash, 'hex')) FROM {}",
                d.qualified()
            ));
            assert_eq!(got, want.join(","), "{}", d.name);
            assert!(removed > 0, "{}", d.name);
        }
        assert_eq!(consistent(), 0);
    }
}
