//! Remote sources, against the tests' HTTP server started in this backend (taxi_remote's
//! testing server, faults by path prefix). Months of 2018, which no other test loads.
#[pgrx::pg_schema]
mod tests {
    use std::sync::OnceLock;

    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;
    use taxi_gen::Options;
    use taxi_remote::testing::Server;

    /// The server of this backend, serving its scratch directory.
    fn server() -> &'static Server {
        static SERVER: OnceLock<Server> = OnceLock::new();
        SERVER.get_or_init(|| {
            let root = std::path::Path::new(&scratch("x"))
                .parent()
                .unwrap()
                .to_path_buf();
            Server::start(root, 0).unwrap()
        })
    }

    fn allow(prefixes: &str) {
        Spi::run_with_args(
            "SELECT pg_catalog.set_config('taxi.allowed_sources', $1, true)",
            &[prefixes.into()],
        )
        .unwrap();
    }

    fn month_file(name: &str, month: u32, seed: u64) -> String {
        std::fs::create_dir_all(std::path::Path::new(&scratch(name)).parent().unwrap()).unwrap();
        generated(
            name,
            &Options {
                rows: 2000,
                year: 2018,
                month,
                seed,
                duplicate_rate: 0.0,
                ..Options::default()
            },
            2018,
        )
    }

    fn run_of(url: &str) -> (String, Option<String>, bool, Option<i32>) {
        Spi::connect(|c| {
            let row = c
                .select(
                    "SELECT status, error_sqlstate, source_version IS NOT NULL, remote_retries
                       FROM taxi.load_runs WHERE file_path = $1 ORDER BY load_id DESC LIMIT 1",
                    None,
                    &[url.into()],
                )
                .unwrap()
                .first();
            (
                row.get::<String>(1).unwrap().unwrap(),
                row.get::<String>(2).unwrap(),
                row.get::<bool>(3).unwrap().unwrap(),
                row.get::<i32>(4).unwrap(),
            )
        })
    }

    #[pg_test]
    fn remote_load_equals_local() {
        let path = month_file("remote_equal_2018-07.parquet", 7, 71);
        let url = server().url("ok", "remote_equal_2018-07.parquet");
        allow(&server().url("ok", ""));
        let sent = server().bytes_sent();
        let over_http = load(&url, 700);
        // Downloaded once, its checksum from the same bytes: the file's size and the open's probe
        // (the server's other tests run in other backends, with servers of their own).
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(server().bytes_sent() - sent, size + 1);
        assert_eq!((over_http.read, over_http.duplicate), (2000, 0));
        let stored = fingerprint();
        // The local file's trips are the same trips: every one a duplicate, nothing changes.
        let local = load(&path, 700);
        assert_eq!((local.inserted, local.duplicate), (0, over_http.inserted));
        assert_eq!(fingerprint(), stored);
        assert_eq!(run_of(&url), ("succeeded".into(), None, true, Some(0)));
        // The checksum in the history is the file's.
        let sha = Spi::get_one_with_args::<String>(
            "SELECT encode(file_sha256, 'hex') FROM taxi.load_runs WHERE file_path = $1",
            &[url.as_str().into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(sha, taxi_core::files::sha256_hex(&path).unwrap());
    }

    #[pg_test]
    fn remote_refusals_reach_no_server() {
        month_file("remote_refused_2018-06.parquet", 6, 61);
        let url = server().url("ok", "remote_refused_2018-06.parquet");
        let before = server().requests();
        allow("");
        let e = load_error(&url, 1000);
        assert!(e.starts_with("42501: \""), "{e}");
        assert!(e.contains("is not in taxi.allowed_sources"), "{e}");
        // An allowed prefix that merely starts the same way.
        allow(&format!(
            "{}/o",
            server().url("ok", "").trim_end_matches("/ok/")
        ));
        assert!(load_error(&url, 1000).starts_with("42501: "));
        allow(&server().url("ok", ""));
        wait_for_other_loads();
        Spi::run("CREATE ROLE remote_test_plain").unwrap();
        Spi::run("SET LOCAL ROLE remote_test_plain").unwrap();
        let refused = crate::postgres::source::resolve(&url).err();
        Spi::run("RESET ROLE").unwrap();
        let refused = refused.expect("refused");
        assert_eq!(refused.class().sqlstate(), "42501");
        assert!(refused
            .to_string()
            .starts_with("permission denied to read remote source"));
        assert!(refused.hint().unwrap().contains("taxi_remote_reader"));
        // A member may.
        Spi::run("CREATE ROLE remote_test_member IN ROLE taxi_remote_reader").unwrap();
        Spi::run("SET LOCAL ROLE remote_test_member").unwrap();
        let member = crate::postgres::source::resolve(&url).map(|l| match l {
            crate::postgres::source::Location::Remote(u) => u.shown(),
            crate::postgres::source::Location::Local(p) => p,
        });
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(member.unwrap(), url);
        assert_eq!(server().requests(), before);
        assert_eq!(
            count("SELECT count(*) FROM taxi.load_runs WHERE file_path LIKE 'http%refused%'"),
            0
        );
    }

    #[pg_test]
    fn remote_faults_leave_nothing_and_retries_are_counted() {
        month_file("remote_faults_2018-05.parquet", 5, 51);
        let root = server().url("", "");
        allow(&root[..root.len() - 2]);
        Spi::run("SET LOCAL taxi.remote_retries = 2").unwrap();
        let before = fingerprint();
        let e = load_error(
            &server().url("close", "remote_faults_2018-05.parquet"),
            1000,
        );
        assert!(
            e.starts_with("08006: the connection to the server of"),
            "{e}"
        );
        let e = load_error(
            &server().url("missing", "remote_faults_2018-05.parquet"),
            1000,
        );
        assert!(e.starts_with("58P01: "), "{e}");
        let e = load_error(
            &server().url("norange", "remote_faults_2018-05.parquet"),
            1000,
        );
        assert!(
            e.starts_with("08P01: ") && e.contains("does not serve byte ranges"),
            "{e}"
        );
        assert_eq!(fingerprint(), before);
        let closed = server().url("close", "remote_faults_2018-05.parquet");
        let (status, sqlstate, _, retries) = run_of(&closed);
        assert_eq!(
            (status.as_str(), sqlstate.as_deref()),
            ("failed", Some("08006"))
        );
        assert!(retries.unwrap() >= 2, "{retries:?}");
        // 500 once per request, then the file: loaded, the retries counted.
        let flaky = server().url("flaky", "remote_faults_2018-05.parquet");
        assert_eq!(load(&flaky, 1000).read, 2000);
        let (status, _, _, retries) = run_of(&flaky);
        assert_eq!(status, "succeeded");
        assert!(retries.unwrap() >= 2, "{retries:?}");
    }

    #[pg_test]
    fn months_not_published_then_published() {
        month_file("months/yellow_tripdata_2018-03.parquet", 3, 31);
        let template = server().url("ok", "months/yellow_tripdata_{yyyy}-{mm}.parquet");
        allow(&server().url("ok", "months/"));
        let run = || {
            Spi::connect(|c| {
                c.select(
                    "SELECT regexp_replace(file, '^.*/', '') || ' ' || status FROM taxi_load_months($1, '2018-03-01', '2018-04-01')",
                    None,
                    &[template.as_str().into()],
                )
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            run(),
            [
                "yellow_tripdata_2018-03.parquet succeeded",
                "yellow_tripdata_2018-04.parquet not_found"
            ]
        );
        month_file("months/yellow_tripdata_2018-04.parquet", 4, 41);
        assert_eq!(
            run(),
            [
                "yellow_tripdata_2018-03.parquet skipped",
                "yellow_tripdata_2018-04.parquet succeeded"
            ]
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.load_runs WHERE file_path LIKE '%months/yellow_tripdata_2018%'"),
            2
        );
        let e = sql_error("SELECT * FROM taxi_load_months('https://h/x.parquet', '2018-01-01')");
        assert!(e.starts_with("22023: "), "{e}");
    }

    /// A green and an FHV template: each month is recognized and stored as its dataset, and
    /// `dataset =>` forces one for every month of the range.
    #[pg_test]
    fn months_of_other_datasets() {
        for (name, d, month, seed) in [
            ("green", &taxi_core::dataset::GREEN, 8, 81),
            ("fhv", &taxi_core::dataset::FHV, 9, 91),
        ] {
            let file = format!("months/{name}_tripdata_2018-{month:02}.parquet");
            std::fs::create_dir_all(std::path::Path::new(&scratch(&file)).parent().unwrap())
                .unwrap();
            let trips = taxi_gen::generate(&Options {
                dataset: d,
                rows: 1500,
                year: 2018,
                month,
                seed,
                duplicate_rate: 0.0,
                messy_rate: 0.0,
                ..Options::default()
            });
            write_trips(&file, &trips, 2018);
        }
        allow(&server().url("ok", "months/"));
        let run = |template: &str, from: &str, to: &str, dataset: Option<&str>| {
            Spi::connect(|c| {
                c.select(
                    "SELECT regexp_replace(file, '^.*/', '') || ' ' || status || ' '
                            || coalesce(dataset, '-') || ' ' || coalesce(rows_inserted, 0)
                       FROM taxi_load_months($1, $2::date, $3::date, dataset => $4)",
                    None,
                    &[
                        server().url("ok", template).as_str().into(),
                        from.into(),
                        to.into(),
                        dataset.into(),
                    ],
                )
                .unwrap()
                .map(|r| r.get::<String>(1).unwrap().unwrap())
                .collect::<Vec<_>>()
            })
        };
        assert_eq!(
            run(
                "months/green_tripdata_{yyyy}-{mm}.parquet",
                "2018-08-01",
                "2018-08-01",
                None
            ),
            ["green_tripdata_2018-08.parquet succeeded green 1500"]
        );
        // Forced: the FHV month loads as FHV; the same range forced as green is refused.
        let forced = run(
            "months/fhv_tripdata_{yyyy}-{mm}.parquet",
            "2018-09-01",
            "2018-09-01",
            Some("green"),
        );
        assert_eq!(forced.len(), 1);
        assert!(
            forced[0].starts_with("fhv_tripdata_2018-09.parquet failed"),
            "{forced:?}"
        );
        assert_eq!(
            run(
                "months/fhv_tripdata_{yyyy}-{mm}.parquet",
                "2018-09-01",
                "2018-09-01",
                Some("fhv")
            ),
            ["fhv_tripdata_2018-09.parquet succeeded fhv 1500"]
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi.green_taxi_trips WHERE lpep_pickup_datetime >= '2018-08-01' AND lpep_pickup_datetime < '2018-09-01'")
                + count("SELECT count(*) FROM taxi.fhv_trips WHERE pickup_datetime >= '2018-09-01' AND pickup_datetime < '2018-10-01'"),
            3000
        );
    }

    /// From 2009-01: the older layouts load through a template like any month, zones computed.
    #[pg_test]
    fn months_of_2009() {
        for month in [1, 2] {
            let file = format!("months/yellow_tripdata_2009-{month:02}.parquet");
            std::fs::create_dir_all(std::path::Path::new(&scratch(&file)).parent().unwrap())
                .unwrap();
            let trips = taxi_gen::generate(&Options {
                rows: 1200,
                year: 2009,
                month,
                seed: 2009 + month as u64,
                duplicate_rate: 0.0,
                messy_rate: 0.0,
                ..Options::default()
            });
            write_trips(&file, &trips, 2009);
        }
        allow(&server().url("ok", "months/"));
        let rows = Spi::connect(|c| {
            c.select(
                "SELECT regexp_replace(file, '^.*/', '') || ' ' || status || ' ' || rows_inserted
                   FROM taxi_load_months($1, '2009-01-01', '2009-02-01')",
                None,
                &[server()
                    .url("ok", "months/yellow_tripdata_{yyyy}-{mm}.parquet")
                    .as_str()
                    .into()],
            )
            .unwrap()
            .map(|r| r.get::<String>(1).unwrap().unwrap())
            .collect::<Vec<_>>()
        });
        assert_eq!(
            rows,
            [
                "yellow_tripdata_2009-01.parquet succeeded 1200",
                "yellow_tripdata_2009-02.parquet succeeded 1200"
            ]
        );
        assert_eq!(
            count(
                "SELECT count(pulocationid) FROM taxi.yellow_taxi_trips
                 WHERE tpep_pickup_datetime >= '2009-01-01' AND tpep_pickup_datetime < '2009-03-01'
                   AND pickup_longitude IS NOT NULL"
            ),
            2400
        );
    }
}
