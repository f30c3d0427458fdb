#[pgrx::pg_schema]
mod tests {
    use std::io::{Seek, SeekFrom, Write};

    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;
    use taxi_gen::{self as generate, Options};

    /// Asserts that loading `path` fails with `sqlstate` and a message containing `words`, and
    /// that the trips table is exactly as before.
    fn refused(path: &str, chunk: i32, sqlstate: &str, words: &[&str]) {
        let before = fingerprint();
        let error = load_error(path, chunk);
        assert!(
            error.starts_with(&format!("{sqlstate}: ")),
            "{path}: {error}"
        );
        for w in words {
            assert!(error.contains(w), "{path}: {error} lacks {w}");
        }
        let hint = error.rsplit(" | ").next().unwrap();
        assert!(!hint.is_empty(), "{path}: no hint in {error}");
        assert_eq!(fingerprint(), before, "{path} changed the table");
    }

    #[pg_test]
    fn missing_directory_unreadable_and_relative_paths() {
        load(&fixture(SAMPLE5), 100000);
        refused(
            "/nonexistent/yellow.parquet",
            100,
            "58P01",
            &["/nonexistent/yellow.parquet", "No such file"],
        );
        refused(
            crate::pgrx_tests::fixtures::FIXTURE_DIR,
            100,
            "42809",
            &["is a directory"],
        );
        refused(
            &fixture("unreadable.parquet"),
            100,
            "42501",
            &["unreadable.parquet", "Permission denied"],
        );
        refused("relative.parquet", 100, "22023", &["relative path"]);
        refused(&fixture(SAMPLE5), 0, "22023", &["chunk_size"]);
        refused(&fixture(SAMPLE5), -5, "22023", &["chunk_size"]);
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 5);
    }

    #[pg_test]
    fn empty_not_parquet_truncated_and_corrupt_files() {
        load(&fixture(SAMPLE5), 100000);
        let empty = scratch("empty.parquet");
        std::fs::write(&empty, b"").unwrap();
        refused(&empty, 100, "22P04", &["is empty"]);
        refused(
            &fixture("taxi_zone_lookup.csv"),
            100,
            "22P04",
            &["not a parquet file"],
        );

        let good = std::fs::read(fixture(SAMPLE5000)).unwrap();
        for cut in [5, good.len() / 3, good.len() - 9, good.len() - 1] {
            let path = scratch(&format!("cut{cut}.parquet"));
            std::fs::write(&path, &good[..cut]).unwrap();
            refused(&path, 100, "XX001", &["truncated or corrupt"]);
        }
        // Garbage in the footer, magic bytes intact.
        let path = scratch("footer.parquet");
        let mut bad = good.clone();
        let n = bad.len();
        let footer_len = u32::from_le_bytes(bad[n - 8..n - 4].try_into().unwrap()) as usize;
        for b in &mut bad[n - 8 - footer_len..n - 8 - footer_len / 2] {
            *b = 0xAB;
        }
        std::fs::write(&path, &bad).unwrap();
        refused(&path, 100, "XX001", &["truncated or corrupt"]);
        // Garbage in the data pages: the footer still parses, decoding does not.
        let path = scratch("pages.parquet");
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&good).unwrap();
        f.seek(SeekFrom::Start(4)).unwrap();
        f.write_all(&vec![0xFF; 4096]).unwrap();
        drop(f);
        refused(&path, 100, "XX001", &["truncated or corrupt"]);
        assert_eq!(count("SELECT count(*) FROM taxi.yellow_taxi_trips"), 5);
    }

    #[pg_test]
    fn a_file_of_no_dataset_is_refused_with_the_closest_ones_missing_columns() {
        load(&fixture(SAMPLE5), 100000);
        // The green month without its dropoffs: closest to green, which needs them.
        let path = scratch("no_dropoff.parquet");
        taxi_core::read::rewrite::drop_column(&fixture(GREEN), &path, "lpep_dropoff_datetime");
        refused(
            &path,
            100,
            "22P04",
            &[
                "is not a trip file of any TLC dataset",
                "closest to a green taxi trip file (green), but lacks its columns lpep_dropoff_datetime",
                "dataset => 'green'",
            ],
        );
    }

    #[pg_test]
    fn unprivileged_role_may_not_read_server_files() {
        wait_for_other_loads();
        load(&fixture(SAMPLE5), 100000);
        Spi::run("CREATE ROLE taxi_loader_nobody").unwrap();
        Spi::run("GRANT USAGE ON SCHEMA taxi TO taxi_loader_nobody").unwrap();
        // ON CONFLICT reads the unique index: loading needs SELECT as well as INSERT.
        Spi::run("GRANT SELECT, INSERT ON taxi.yellow_taxi_trips TO taxi_loader_nobody").unwrap();
        Spi::run("GRANT INSERT ON taxi.fact_trips TO taxi_loader_nobody").unwrap();
        // What the refusals are checked against: every dataset's trips and the facts, unchanged.
        Spi::run(
            "GRANT SELECT ON taxi.green_taxi_trips, taxi.fhv_trips, taxi.fhvhv_trips, taxi.fact_trips
             TO taxi_loader_nobody",
        )
        .unwrap();
        Spi::run("GRANT USAGE ON SEQUENCE taxi.load_id_seq TO taxi_loader_nobody").unwrap();
        // Through a symlink too (made by the server's user, pointing at a readable sample).
        let link = scratch("link_to_sample.parquet");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(fixture(SAMPLE5000), &link).unwrap();
        let locked_link = scratch("link_to_unreadable.parquet");
        let _ = std::fs::remove_file(&locked_link);
        std::os::unix::fs::symlink(fixture("unreadable.parquet"), &locked_link).unwrap();
        Spi::run("SET ROLE taxi_loader_nobody").unwrap();
        for path in [fixture(SAMPLE5000), link.clone()] {
            refused(
                &path,
                100,
                "42501",
                &["permission denied to read server file"],
            );
        }
        // taxi_load_dir too, before it lists the folder (also through a symlink to it).
        let dir_link = scratch("link_to_fixtures");
        let _ = std::fs::remove_file(&dir_link);
        std::os::unix::fs::symlink(FIXTURE_DIR, &dir_link).unwrap();
        for dir in [FIXTURE_DIR.to_string(), dir_link] {
            let e = sql_error(&format!("SELECT * FROM taxi_load_dir('{dir}')"));
            assert!(
                e.starts_with("42501: permission denied to read server file"),
                "{e}"
            );
        }
        Spi::run("RESET ROLE").unwrap();
        // A symlink to a file the server cannot read is refused by the operating system.
        refused(&locked_link, 100, "42501", &["Permission denied"]);
        // Membership in pg_read_server_files is what was missing.
        Spi::run("GRANT pg_read_server_files TO taxi_loader_nobody").unwrap();
        Spi::run("SET ROLE taxi_loader_nobody").unwrap();
        let c = load(&fixture(SAMPLE5000), 100000);
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(c.inserted, 5000);
    }

    /// Every broken file of the fault campaign (src/generate/corrupt.rs) through taxi_load: a
    /// clean ERROR with the SQLSTATE the reader gives, or a load (rolled back here), never an
    /// internal error or a crash; the tables stay exactly as they were.
    #[pg_test]
    fn broken_files_never_crash_the_server_or_leave_rows() {
        use taxi_gen::corrupt;
        load(&fixture(SAMPLE5), 5);
        let trips_before = fingerprint();
        let facts_before = count("SELECT count(*) FROM taxi.fact_trips");
        let started = Spi::get_one::<String>("SELECT pg_postmaster_start_time()::text").unwrap();
        Spi::run(
            "CREATE FUNCTION pg_temp.outcome(path text) RETURNS text LANGUAGE plpgsql AS $$
             DECLARE st text;
             BEGIN
                 PERFORM * FROM taxi_load(path, 1000);
                 RAISE EXCEPTION USING ERRCODE = 'TXL01';  -- roll the load back
             EXCEPTION WHEN OTHERS THEN
                 GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
                 RETURN CASE st WHEN 'TXL01' THEN 'loads' ELSE st END;
             END $$",
        )
        .unwrap();
        let mut n = 0;
        for (_, good) in corrupt::base_files(FIXTURE_DIR) {
            let path = scratch("broken.parquet");
            std::fs::write(&path, &good).unwrap();
            let good_trips = taxi_core::read::read_to_end(&path, 1000).unwrap();
            for case in corrupt::cases(&good) {
                std::fs::write(&path, &case.bytes).unwrap();
                let reader = corrupt::outcome(
                    &case,
                    taxi_core::read::read_to_end(&path, 1000),
                    &good_trips,
                );
                // taxi_load reports any load as one outcome.
                let want = if reader.starts_with("loads") {
                    "loads".to_string()
                } else {
                    reader
                };
                let got = Spi::get_one_with_args::<String>(
                    "SELECT pg_temp.outcome($1)",
                    &[path.as_str().into()],
                )
                .unwrap()
                .unwrap();
                assert_ne!(got, "XX000", "{}", case.name);
                assert_eq!(got, want, "{}", case.name);
                n += 1;
            }
        }
        assert!(n >= 400, "{n}");
        assert_eq!(fingerprint(), trips_before);
        assert_eq!(count("SELECT count(*) FROM taxi.fact_trips"), facts_before);
        assert_eq!(
            Spi::get_one::<String>("SELECT pg_postmaster_start_time()::text").unwrap(),
            started
        );
    }

    /// A dictionary bomb (one 64 KB value every row repeats, a 2 KB file) gets 54000 before
    /// anything is decoded.
    #[pg_test]
    fn a_dictionary_bomb_is_refused_before_decoding() {
        let mut trips = generate::generate(&Options {
            rows: 200,
            ..Options::default()
        });
        trips.fill_store_and_fwd_flag(&"N".repeat(64 << 10));
        let path = write_trips("bomb.parquet", &trips, 2024);
        refused(
            &path,
            100_000,
            "54000",
            &[
                "would decode to more memory",
                "store_and_fwd_flag",
                "65536 bytes",
                "smaller chunk_size",
            ],
        );
    }

    /// An honest file whose long strings sit in one 343 MB plain page (compressed to a few
    /// hundred kilobytes) gets 54000 from its page headers, before the page is decompressed.
    #[pg_test]
    fn a_huge_page_is_refused_before_decoding() {
        let mut trips = generate::generate(&Options {
            rows: 120_000,
            ..Options::default()
        });
        trips.fill_store_and_fwd_flag(&"Y".repeat(3000));
        let path = scratch("huge_page.parquet");
        generate::write_one_page(&path, &trips, &generate::Vintage::of_year(2024)).unwrap();
        drop(trips);
        refused(
            &path,
            100_000,
            "54000",
            &[
                "would decode to more memory",
                "decompressed pages",
                "store_and_fwd_flag has a page of 343 MB",
                "smaller pages",
            ],
        );
    }
}
