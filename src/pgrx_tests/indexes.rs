#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;

    fn indexes(table: &str) -> String {
        Spi::get_one_with_args::<String>(
            "SELECT coalesce(string_agg(indexname, ',' ORDER BY indexname), '')
             FROM pg_indexes WHERE schemaname || '.' || tablename = $1",
            &[table.into()],
        )
        .unwrap()
        .unwrap()
    }

    #[pg_test]
    fn begin_and_end_drop_and_rebuild_secondary_indexes() {
        Spi::run("CREATE TABLE public.bulk_t (id int PRIMARY KEY, a int, b text)").unwrap();
        Spi::run("CREATE INDEX bulk_t_a ON public.bulk_t (a)").unwrap();
        Spi::run("CREATE INDEX bulk_t_ab ON public.bulk_t (a, b) WHERE a > 0").unwrap();
        let dropped = Spi::get_one::<String>(
            "SELECT string_agg(index_name || '=' || definition, ';' ORDER BY index_name)
             FROM taxi_bulk_begin('public.bulk_t')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            dropped,
            "bulk_t_a=CREATE INDEX bulk_t_a ON public.bulk_t USING btree (a);\
             bulk_t_ab=CREATE INDEX bulk_t_ab ON public.bulk_t USING btree (a, b) WHERE (a > 0)"
        );
        assert_eq!(indexes("public.bulk_t"), "bulk_t_pkey");
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 2);
        Spi::run(
            "INSERT INTO public.bulk_t SELECT g, g % 7, g::text FROM generate_series(1, 1000) g",
        )
        .unwrap();
        let rebuilt = count("SELECT count(*) FROM taxi_bulk_end('public.bulk_t')");
        assert_eq!(rebuilt, 2);
        assert_eq!(indexes("public.bulk_t"), "bulk_t_a,bulk_t_ab,bulk_t_pkey");
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 0);
        // With include_unique the primary key goes too, and comes back first.
        assert_eq!(
            count("SELECT count(*) FROM taxi_bulk_begin('public.bulk_t', include_unique => true)"),
            3
        );
        assert_eq!(indexes("public.bulk_t"), "");
        let first =
            Spi::get_one::<String>("SELECT index_name FROM taxi_bulk_end('public.bulk_t') LIMIT 1");
        assert_eq!(first.unwrap().unwrap(), "bulk_t_pkey");
        assert_eq!(indexes("public.bulk_t"), "bulk_t_a,bulk_t_ab,bulk_t_pkey");
    }

    #[pg_test]
    fn identifiers_are_quoted() {
        Spi::run(r#"CREATE TABLE public."x""; DROP TABLE y; --" (a int)"#).unwrap();
        Spi::run(r#"CREATE INDEX "i""; DROP TABLE y; --" ON public."x""; DROP TABLE y; --" (a)"#)
            .unwrap();
        Spi::run("CREATE TABLE public.y (a int)").unwrap();
        let n = count(r#"SELECT count(*) FROM taxi_bulk_begin('public."x""; DROP TABLE y; --"')"#);
        assert_eq!(n, 1);
        let n = count(r#"SELECT count(*) FROM taxi_bulk_end('public."x""; DROP TABLE y; --"')"#);
        assert_eq!(n, 1);
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname = 'y'"),
            1
        );
        assert_eq!(
            count(r#"SELECT count(*) FROM pg_indexes WHERE indexname = 'i"; DROP TABLE y; --'"#),
            1
        );
    }

    #[pg_test]
    fn tune_session_reports_what_it_changed() {
        Spi::run("SET LOCAL synchronous_commit = on").unwrap();
        Spi::run("SET LOCAL maintenance_work_mem = '64MB'").unwrap();
        let changed = Spi::get_one::<String>(
            "SELECT string_agg(setting || ':' || old_value || '->' || new_value, ',' ORDER BY setting)
             FROM taxi_tune_session()",
        );
        assert_eq!(
            changed.unwrap().unwrap(),
            "maintenance_work_mem:64MB->1GB,synchronous_commit:on->off"
        );
        assert_eq!(
            Spi::get_one::<String>("SHOW maintenance_work_mem")
                .unwrap()
                .unwrap(),
            "1GB"
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi_tune_session()"),
            0,
            "nothing left to change"
        );
    }

    #[pg_test]
    fn a_bulk_load_indexes_each_new_partition_once() {
        // The parent has no index of its own (sql/schema.sql): each month's are its partition's.
        assert_eq!(indexes("taxi.yellow_taxi_trips"), "");
        let c = load(&fixture(SAMPLE5000), 1000);
        assert_eq!(c.inserted, 5000);
        assert_eq!(
            indexes("taxi.yellow_taxi_trips_y2025m02"),
            "yellow_taxi_trips_y2025m02_pickup_idx,yellow_taxi_trips_y2025m02_pkey,yellow_taxi_trips_y2025m02_zones_idx"
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_index WHERE indrelid = 'taxi.yellow_taxi_trips_y2025m02'::regclass AND indisvalid AND indisready"),
            3
        );
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 0);
        // The primary key is a real constraint that refuses a second copy.
        assert_eq!(count("SELECT count(*) FROM pg_constraint WHERE conname = 'yellow_taxi_trips_y2025m02_pkey' AND contype = 'p'"), 1);
        let dup = sql_error(
            "INSERT INTO taxi.yellow_taxi_trips SELECT * FROM taxi.yellow_taxi_trips LIMIT 1",
        );
        assert!(dup.starts_with("23505"), "{dup}");
    }

    #[pg_test]
    fn a_failed_bulk_load_leaves_the_indexes_and_table_as_they_were() {
        let before = indexes("taxi.yellow_taxi_trips");
        let trips = taxi_gen::generate(&taxi_gen::Options {
            rows: 3000,
            ..Default::default()
        });
        // Three row groups; the last one's page headers are garbage, so the load fails at its
        // third chunk, after two were written with the indexes dropped.
        let path = scratch("late_error.parquet");
        taxi_gen::write_parquet(&path, &trips, &taxi_gen::Vintage::of_year(2024), 1000).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let metadata = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&bytes::Bytes::copy_from_slice(&bytes))
            .unwrap();
        assert_eq!(metadata.num_row_groups(), 3);
        for c in metadata.row_group(2).columns() {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset()) as usize;
            bytes[start..start + 8].fill(0xFF);
        }
        std::fs::write(&path, &bytes).unwrap();
        let error = load_error(&path, 1000);
        assert!(error.starts_with("XX001"), "{error}");
        assert_eq!(indexes("taxi.yellow_taxi_trips"), before);
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 0);
        assert_eq!(count("SELECT count(*) FROM taxi.bulk_saved_index"), 0);
        // No partition, attached or not, of the month it was writing.
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname LIKE 'yellow_taxi_trips_y%' OR relname LIKE 'fact_trips_y%'"),
            0
        );
    }
}
