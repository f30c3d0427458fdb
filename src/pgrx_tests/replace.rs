//! Re-published files: `replace => true` makes the table hold exactly the new version.
#[pgrx::pg_schema]
mod tests {
    use std::collections::HashSet;

    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::idx;
    use crate::pgrx_tests::fixtures::*;
    use taxi_core::calendar::days_from_civil;
    use taxi_core::hash::{hash_batch, RowHash};
    use taxi_core::trip::{TripBatch, Values};
    use taxi_gen::{self as generate, republish, Options, Republish};

    const US_PER_DAY: i64 = 86_400_000_000;

    /// A month of 2019 (no other test loads 2019, so tests do not wait on each other's months),
    /// without in-file duplicates or stragglers, so a test can name the rows that change.
    fn month(rows: usize, month: u32, seed: u64) -> TripBatch {
        generate::generate(&Options {
            rows,
            year: 2019,
            month,
            seed,
            duplicate_rate: 0.0,
            messy_rate: 0.0,
            ..Options::default()
        })
    }

    fn again(trips: &TripBatch, month: u32, seed: u64, add: usize) -> TripBatch {
        republish(
            trips,
            &Republish {
                add,
                year: 2019,
                month,
                seed,
                ..Republish::default()
            },
        )
        .0
    }

    /// `trips` written as `name` in folder `version` of the scratch directory: the versions of a
    /// file share its name.
    fn publish(version: &str, name: &str, trips: &TripBatch) -> String {
        let dir = scratch(version);
        std::fs::create_dir_all(&dir).unwrap();
        let path = format!("{dir}/{name}");
        taxi_gen::write_parquet(&path, trips, &taxi_gen::Vintage::of_year(2019), 1_000_000)
            .unwrap();
        path
    }

    #[derive(Debug, PartialEq, Eq)]
    struct Replaced {
        load_id: i64,
        inserted: i64,
        duplicate: i64,
        removed: i64,
    }

    fn load_with(path: &str, replace: bool) -> Replaced {
        Spi::connect_mut(|client| {
            let row = client
                .update(
                    "SELECT load_id, rows_inserted, rows_duplicate, rows_removed
                     FROM taxi_load($1, 5000, replace => $2)",
                    None,
                    &[path.into(), replace.into()],
                )
                .unwrap()
                .first();
            Replaced {
                load_id: row.get(1).unwrap().unwrap(),
                inserted: row.get(2).unwrap().unwrap(),
                duplicate: row.get(3).unwrap().unwrap(),
                removed: row.get(4).unwrap().unwrap(),
            }
        })
    }

    fn distinct(trips: &TripBatch) -> HashSet<RowHash> {
        hash_batch(trips).into_iter().collect()
    }

    fn stored_hashes() -> HashSet<RowHash> {
        Spi::connect(|client| {
            client
                .select("SELECT row_hash FROM taxi.yellow_taxi_trips", None, &[])
                .unwrap()
                .map(|r| r.get::<&[u8]>(1).unwrap().unwrap().try_into().unwrap())
                .collect()
        })
    }

    /// Every stored value but load_id, of the trips and of the facts, and the consistency
    /// check's row count: equal for equal contents, whichever loads wrote them.
    fn contents() -> String {
        Spi::get_one::<String>(
            "SELECT (SELECT count(*) || ':' || md5(string_agg((to_jsonb(t) - 'load_id')::text, '|' ORDER BY row_hash))
                     FROM taxi.yellow_taxi_trips t)
                 || ' ' || (SELECT count(*) || ':' || md5(string_agg((to_jsonb(f) - 'load_id')::text, '|' ORDER BY row_hash))
                     FROM taxi.fact_trips f)
                 || ' ' || (SELECT count(*) FROM taxi_check_consistency())",
        )
        .unwrap()
        .unwrap()
    }

    fn text(sql: &str) -> String {
        Spi::get_one::<String>(sql).unwrap().unwrap_or_default()
    }

    /// The case, scaled down: 1% of fares corrected, 0.2% of trips withdrawn, late trips
    /// added. After the replacement the tables hold what a fresh load of the corrected file holds.
    #[pg_test]
    fn a_republished_month_replaces_its_earlier_version_exactly() {
        let name = "yellow_tripdata_2019-03.parquet";
        // As real files are: in-file duplicates, stragglers in other months, odd rows.
        let first = generate::generate(&Options {
            rows: 20_000,
            year: 2019,
            month: 3,
            seed: 301,
            ..Options::default()
        });
        let second = again(&first, 3, 302, 50);
        let (v1, v2) = (distinct(&first), distinct(&second));
        let v1_load = load_with(&publish("r1a", name, &first), false);
        assert_eq!(v1_load.inserted as usize, v1.len());
        let r = load_with(&publish("r1b", name, &second), true);
        assert_eq!(r.removed as usize, v1.difference(&v2).count());
        assert_eq!(r.inserted as usize, v2.difference(&v1).count());
        assert!(r.removed > 150 && r.inserted > 150, "{r:?}");
        assert_eq!(stored_hashes(), v2);
        // Trips in both versions stay as they were: same row, first load's load_id.
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM taxi.yellow_taxi_trips WHERE load_id = {}",
                v1_load.load_id
            )) as usize,
            v1.intersection(&v2).count()
        );
        // Revenue as the corrected file states it.
        let sum = |b: &TripBatch| -> i64 {
            let hashes = hash_batch(b);
            let Values::Money(total) = &b.columns[idx::TOTAL_AMOUNT] else {
                panic!()
            };
            let mut seen = HashSet::new();
            hashes
                .iter()
                .zip(total)
                .filter(|(h, _)| seen.insert(**h))
                .map(|(_, t)| t.unwrap_or(0))
                .sum()
        };
        assert_eq!(
            count("SELECT (sum(total_amount) * 100)::int8 FROM taxi.yellow_taxi_trips"),
            sum(&second)
        );
        assert_eq!(
            count("SELECT (sum(total_amount) * 100)::int8 FROM taxi.fact_trips"),
            sum(&second)
        );
        // The history: the first run superseded by the second, which counts what it removed.
        assert_eq!(
            text(&format!(
                "SELECT string_agg(concat_ws(' ', load_id, file_name, rows_removed, superseded_by), '; ' ORDER BY load_id)
                 FROM taxi.load_runs WHERE load_id IN ({}, {})",
                v1_load.load_id, r.load_id
            )),
            format!(
                "{} {name} 0 {}; {} {name} {}",
                v1_load.load_id, r.load_id, r.load_id, r.removed
            )
        );
        // A fresh load of the corrected file into emptied tables gives the same contents.
        let replaced = contents();
        assert!(replaced.ends_with(" 0"), "{replaced}");
        Spi::run("DELETE FROM taxi.yellow_taxi_trips").unwrap();
        Spi::run("DELETE FROM taxi.fact_trips").unwrap();
        let fresh = load(&publish("r1c", "fresh_2019-03.parquet", &second), 5000);
        assert_eq!(fresh.inserted as usize, v2.len());
        assert_eq!(contents(), replaced);
    }

    #[pg_test]
    fn replacing_with_the_same_content_changes_nothing() {
        let name = "yellow_tripdata_2019-05.parquet";
        let first = month(3000, 5, 501);
        let path = publish("r2a", name, &first);
        let v1 = load_with(&path, true);
        assert_eq!(v1.removed, 0);
        let before = contents();
        // The same file again, and a copy of it elsewhere under the same name.
        let copy = publish("r2b", name, &first);
        for p in [&path, &copy] {
            let r = load_with(p, true);
            assert_eq!((r.inserted, r.removed), (0, 0), "{r:?}");
        }
        assert_eq!(contents(), before);
        assert_eq!(
            count("SELECT count(*) FROM taxi.load_runs WHERE superseded_by IS NOT NULL AND file_name = 'yellow_tripdata_2019-05.parquet'"),
            0
        );
    }

    #[pg_test]
    fn replacing_twice_in_a_row_keeps_only_the_last_version() {
        let name = "yellow_tripdata_2019-06.parquet";
        let v1 = month(4000, 6, 601);
        let v2 = again(&v1, 6, 602, 40);
        let v3 = again(&v2, 6, 603, 40);
        let first = load_with(&publish("r3a", name, &v1), true);
        let second = load_with(&publish("r3b", name, &v2), true);
        let third = load_with(&publish("r3c", name, &v3), true);
        let (h1, h2, h3) = (distinct(&v1), distinct(&v2), distinct(&v3));
        assert_eq!(second.removed as usize, h1.difference(&h2).count());
        // The third removes what its version lacks, whichever earlier run inserted it: the
        // table held the second version.
        assert_eq!(third.removed as usize, h2.difference(&h3).count());
        assert_eq!(third.inserted as usize, h3.difference(&h2).count());
        assert_eq!(stored_hashes(), h3);
        assert_eq!(
            text(&format!(
                "SELECT string_agg(load_id || '>' || coalesce(superseded_by::text, 'current'), ' ' ORDER BY load_id)
                 FROM taxi.load_runs WHERE load_id IN ({}, {}, {})",
                first.load_id, second.load_id, third.load_id
            )),
            format!(
                "{}>{} {}>{} {}>current",
                first.load_id, second.load_id, second.load_id, third.load_id, third.load_id
            )
        );
        assert_eq!(count("SELECT count(*) FROM taxi_check_consistency()"), 0);
    }

    /// Stragglers of the earlier version in other months go, the new version's arrive; the
    /// trips of another file in those months stay, except a trip both files hold that the first
    /// version inserted (it belongs to the first version's file: docs/usage.md).
    #[pg_test]
    fn stragglers_of_a_replaced_version_in_other_months() {
        let name = "yellow_tripdata_2019-08.parquet";
        let mut v1 = month(2000, 8, 801);
        let july = |day: u32| days_from_civil(2019, 7, day) * US_PER_DAY + 3_600_000_000;
        let set_pickup = |b: &mut TripBatch, row: usize, us: i64| {
            if let Values::Timestamp(p) = &mut b.columns[idx::PICKUP] {
                p[row] = Some(us);
            }
            if let Values::Timestamp(d) = &mut b.columns[idx::DROPOFF] {
                d[row] = Some(us + 600_000_000);
            }
        };
        set_pickup(&mut v1, 0, july(30));
        set_pickup(&mut v1, 1, july(31));
        // July's own file holds straggler 1 too.
        let mut jul = month(1000, 7, 701);
        jul.extend_rows(&v1, 1..2);
        let first = load_with(&publish("r4a", name, &v1), true);
        let july_load = load_with(
            &publish("r4a", "yellow_tripdata_2019-07.parquet", &jul),
            false,
        );
        assert_eq!(july_load.duplicate, 1);
        // The new version: both July stragglers withdrawn, a new one on July 29th.
        let mut v2 = v1.clone();
        set_pickup(&mut v2, 2, july(29));
        let v2 = {
            let mut b = TripBatch::empty(&taxi_core::dataset::YELLOW, v2.len());
            b.extend_rows(&v2, 2..v2.len());
            b
        };
        let r = load_with(&publish("r4b", name, &v2), true);
        // Rows 0-2 of the first version are gone (row 2 moved to July), the moved row came in.
        assert_eq!((r.removed, r.inserted), (3, 1), "{r:?}");
        let july_trips = count(
            "SELECT count(*) FROM taxi.yellow_taxi_trips
             WHERE tpep_pickup_datetime >= '2019-07-01' AND tpep_pickup_datetime < '2019-08-01'",
        );
        // July's 1000 trips (the shared straggler went with the first version) and the new one.
        assert_eq!(july_trips, 1000 + 1);
        assert_eq!(
            count(
                "SELECT count(*) FROM taxi.fact_trips
                 WHERE pickup_datetime >= '2019-07-01' AND pickup_datetime < '2019-08-01'"
            ),
            july_trips
        );
        // Reloading July's file brings the shared trip back.
        let back = load_with(
            &publish("r4a", "yellow_tripdata_2019-07.parquet", &jul),
            false,
        );
        assert_eq!((back.inserted, back.removed), (1, 0));
        assert_eq!(
            text(&format!(
                "SELECT trip_months::text FROM taxi.load_runs WHERE load_id = {}",
                r.load_id
            )),
            "{2019-07-01}"
        );
        assert_eq!(first.removed, 0);
        assert_eq!(count("SELECT count(*) FROM taxi_check_consistency()"), 0);
    }

    /// The quarantine holds the current version's rejected rows only; each run's flag counts
    /// stay in its history row.
    #[pg_test]
    fn rejected_rows_follow_the_current_version() {
        let name = "yellow_tripdata_2019-09.parquet";
        let null_pickup = |b: &mut TripBatch, rows: &[usize]| {
            if let Values::Timestamp(p) = &mut b.columns[idx::PICKUP] {
                for &r in rows {
                    p[r] = None;
                }
            }
        };
        let mut v1 = month(2000, 9, 901);
        null_pickup(&mut v1, &[3, 4, 5]);
        let mut v2 = v1.clone();
        if let Values::Timestamp(p) = &mut v2.columns[idx::PICKUP] {
            p[3] = Some(days_from_civil(2019, 9, 3) * US_PER_DAY);
        }
        null_pickup(&mut v2, &[7]);
        let first = load_with(&publish("r5a", name, &v1), true);
        let second = load_with(&publish("r5b", name, &v2), true);
        assert_eq!((second.inserted, second.removed), (1, 1));
        assert_eq!(
            text(&format!(
                "SELECT string_agg(load_id || ':' || row_number, ' ' ORDER BY load_id, row_number)
                 FROM taxi.rejected_rows WHERE load_id IN ({}, {})",
                first.load_id, second.load_id
            )),
            format!("{l}:5 {l}:6 {l}:8", l = second.load_id)
        );
        assert_eq!(
            text(&format!(
                "SELECT string_agg(rows_rejected::text, ' ' ORDER BY load_id) FROM taxi.load_runs
                 WHERE load_id IN ({}, {}) AND flag_counts IS NOT NULL",
                first.load_id, second.load_id
            )),
            "3 3"
        );
    }

    #[pg_test]
    fn a_folder_load_with_replace_picks_up_a_republished_file() {
        let dir = scratch("r6");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let v1 = month(2000, 10, 1001);
        let v2 = again(&v1, 10, 1002, 30);
        let path = format!("{dir}/yellow_tripdata_2019-10.parquet");
        let write = |trips: &TripBatch| {
            taxi_gen::write_parquet(&path, trips, &taxi_gen::Vintage::of_year(2019), 1_000_000)
                .unwrap()
        };
        let call = || -> String {
            text(&format!(
                "SELECT string_agg(concat_ws(' ', status, rows_inserted, rows_removed), '; ')
                 FROM taxi_load_dir('{dir}', replace => true)"
            ))
        };
        write(&v1);
        assert_eq!(call(), format!("succeeded {} 0", distinct(&v1).len()));
        assert_eq!(call(), "skipped");
        write(&v2);
        let (h1, h2) = (distinct(&v1), distinct(&v2));
        assert_eq!(
            call(),
            format!(
                "succeeded {} {}",
                h2.difference(&h1).count(),
                h1.difference(&h2).count()
            )
        );
        assert_eq!(stored_hashes(), h2);
        // Back to the first content: it is the name's new version again.
        write(&v1);
        assert_eq!(
            call(),
            format!(
                "succeeded {} {}",
                h1.difference(&h2).count(),
                h2.difference(&h1).count()
            )
        );
        assert_eq!(stored_hashes(), h1);
    }

    /// Replacing removes trips: without DELETE the load is refused before anything is written;
    /// NULL is no answer.
    #[pg_test]
    fn replacing_needs_delete_privileges() {
        wait_for_other_loads();
        let name = "yellow_tripdata_2019-11.parquet";
        let v1 = month(1000, 11, 1101);
        let v2 = again(&v1, 11, 1102, 10);
        load_with(&publish("r7a", name, &v1), false);
        let before = contents();
        Spi::run("CREATE ROLE taxi_loader_replacer").unwrap();
        Spi::run("GRANT USAGE ON SCHEMA taxi TO taxi_loader_replacer").unwrap();
        Spi::run("GRANT SELECT, INSERT ON taxi.yellow_taxi_trips TO taxi_loader_replacer").unwrap();
        Spi::run("GRANT INSERT ON taxi.fact_trips TO taxi_loader_replacer").unwrap();
        Spi::run("GRANT USAGE ON SEQUENCE taxi.load_id_seq TO taxi_loader_replacer").unwrap();
        Spi::run("GRANT pg_read_server_files TO taxi_loader_replacer").unwrap();
        let newer = publish("r7b", name, &v2);
        Spi::run("SET ROLE taxi_loader_replacer").unwrap();
        let e = sql_error(&format!(
            "SELECT * FROM taxi_load('{newer}', replace => true)"
        ));
        Spi::run("RESET ROLE").unwrap();
        assert!(
            e.starts_with("42501: permission denied to remove trips"),
            "{e}"
        );
        assert_eq!(contents(), before);
        let e = sql_error(&format!(
            "SELECT * FROM taxi_load('{newer}', replace => NULL)"
        ));
        assert_eq!(e, "22004: taxi_load: replace must not be NULL");
        // With DELETE granted, the replacement goes through.
        Spi::run("GRANT DELETE ON taxi.yellow_taxi_trips, taxi.fact_trips TO taxi_loader_replacer")
            .unwrap();
        Spi::run("GRANT SELECT ON taxi.fact_trips TO taxi_loader_replacer").unwrap();
        Spi::run("SET ROLE taxi_loader_replacer").unwrap();
        let r = load_with(&newer, true);
        Spi::run("RESET ROLE").unwrap();
        assert!(r.removed > 0 && r.inserted > 0, "{r:?}");
    }
}
