//! The reader against real and generated files: every vintage, every broken variant, bounds.

use std::sync::Arc;

use arrow::array::StringArray;
use arrow::datatypes::Field;

use taxi_core::error::{Class, LoadError};
use taxi_core::hash::hash_batch;
use taxi_core::read::*;
use taxi_core::trip::*;
use taxi_gen::{generate, write_parquet, Options, Vintage};

fn fixture(name: &str) -> String {
    format!("{}/../../tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("taxi_loader_unit_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_str().unwrap().to_string()
}

fn read_all(path: &str, chunk: usize) -> TripBatch {
    read_to_end(path, chunk).unwrap()
}

fn error_of(path: &str) -> LoadError {
    read_to_end(path, 100).expect_err("an error")
}

/// Reads every broken variant of two good files to the end. A panic that escaped the reader
/// would fail this test; every case must end in a classified error or in rows. The table it
/// produces is the table of docs/reliability.md (the test fails when the docs are stale).
#[test]
fn broken_files_give_clean_errors() {
    use taxi_gen::corrupt;
    let mut results = Vec::new();
    for (_, good) in
        corrupt::base_files(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures"))
    {
        let path = tmp("corrupt.parquet");
        std::fs::write(&path, &good).unwrap();
        let want = read_to_end(&path, 1000).unwrap();
        for case in corrupt::cases(&good) {
            std::fs::write(&path, &case.bytes).unwrap();
            let outcome = corrupt::outcome(&case, read_to_end(&path, 1000), &want);
            results.push((case.kind, outcome));
        }
    }
    assert!(results.len() >= 400, "{}", results.len());
    let table = corrupt::summary(&results);
    let readme = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/reliability.md"
    ))
    .unwrap();
    assert!(
        readme.contains(&table),
        "docs/reliability.md's table of broken files is stale; it should read:\n{table}"
    );
}

/// Inputs the fuzzer (fuzz/) once found to crash, hang or crawl are refused before the
/// parquet crate decodes a page, with work bounded by their size (no clock: the time is in
/// `scripts/bench --only reject`).
#[test]
fn fuzz_regressions_stay_fixed() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let size = std::fs::metadata(&path).unwrap().len();
        let path = path.to_str().unwrap().to_string();
        let mut work = limits::Work::default();
        let e = TripReader::open_counted(&path, 1000, &mut work)
            .err()
            .unwrap_or_else(|| panic!("{path}: opened"));
        assert_eq!(e.class().sqlstate(), "XX001", "{path}: {e}");
        assert!(
            e.detail().unwrap().contains("not well-formed Thrift"),
            "{path}: {e:?}"
        );
        assert!(work.bytes_read <= 2 * size, "{path}: {work:?}");
        assert!(work.thrift_walked <= 2 * size, "{path}: {work:?}");
        n += 1;
    }
    assert!(n >= 1);
}

/// A good month's checks read each column chunk's headers about once: the work before decoding
/// is a fraction of the file.
#[test]
fn the_checks_before_decoding_read_little_of_a_good_file() {
    let path = fixture("yellow_tripdata_2025-02_sample5000.parquet");
    let size = std::fs::metadata(&path).unwrap().len();
    let mut work = limits::Work::default();
    TripReader::open_counted(&path, 1000, &mut work).unwrap();
    assert!(work.headers >= 19, "{work:?}");
    assert!(work.bytes_read <= 2 * size, "{work:?} of {size}");
}

/// A dictionary holding one huge value that rows repeat (a dictionary bomb) is refused
/// before anything is decoded; the same file with short values loads.
#[test]
fn huge_text_values_are_refused_before_decoding() {
    let mut trips = generate(&Options {
        rows: 50,
        ..Options::default()
    });
    trips.fill_store_and_fwd_flag(&"Y".repeat(64 << 10));
    let path = tmp("huge_text.parquet");
    write_parquet(&path, &trips, &Vintage::of_year(2024), 1000).unwrap();
    assert!(
        std::fs::metadata(&path).unwrap().len() < 64 << 10,
        "compressed"
    );
    let e = error_of(&path);
    assert_eq!(e.class().sqlstate(), "54000", "{e}");
    let detail = e.detail().unwrap();
    assert!(detail.contains("a value of 65536 bytes"), "{detail}");
    // Long values within the limit load.
    trips.fill_store_and_fwd_flag(&"N".repeat(4000));
    write_parquet(&path, &trips, &Vintage::of_year(2024), 1000).unwrap();
    assert_eq!(read_all(&path, 1000).len(), 50);
}

/// An honest file whose long strings sit in one plain-encoded page of 360 MB (it compresses
/// to a few hundred kilobytes): every value is under the length limit and the footer's
/// sizes are true, but decoding would hold the whole page. Refused from its page headers.
#[test]
fn a_huge_page_is_refused_before_decoding() {
    let path = tmp("huge_page.parquet");
    let write = |rows: usize, value_len: usize| {
        let mut trips = generate(&Options {
            rows,
            ..Options::default()
        });
        trips.fill_store_and_fwd_flag(&"Y".repeat(value_len));
        taxi_gen::write_one_page(&path, &trips, &Vintage::of_year(2024)).unwrap();
    };
    write(120_000, 3000);
    assert!(std::fs::metadata(&path).unwrap().len() < 8 << 20);
    let e = read_to_end(&path, 100_000).expect_err("refused");
    assert_eq!(e.class().sqlstate(), "54000", "{e}");
    let detail = e.detail().unwrap();
    assert!(
        detail.contains("column store_and_fwd_flag has a page of 343 MB"),
        "{detail}"
    );
    // The same layout with pages that fit loads.
    write(20_000, 3000);
    assert_eq!(read_all(&path, 5000).len(), 20_000);
}

#[test]
fn every_vintage_reads_back_the_same_trips() {
    let trips = generate(&Options {
        rows: 3000,
        year: 2025,
        messy_rate: 0.05,
        ..Options::default()
    });
    let want = hash_batch(&trips);
    for year in [2011, 2013, 2015, 2017, 2019, 2021, 2023, 2024, 2025] {
        let path = tmp(&format!("v{year}.parquet"));
        write_parquet(&path, &trips, &Vintage::of_year(year), 1000).unwrap();
        let back = read_all(&path, 700);
        assert_eq!(back.columns, trips.columns, "{year}");
        assert_eq!(hash_batch(&back), want, "{year}");
    }
}

#[test]
fn chunks_follow_chunk_size_and_count_rows() {
    let trips = generate(&Options {
        rows: 2500,
        ..Options::default()
    });
    let path = tmp("chunks.parquet");
    write_parquet(&path, &trips, &Vintage::of_year(2024), 1000).unwrap();
    let reader = TripReader::open(&path, 1000).unwrap();
    assert_eq!(reader.total_rows(), 2500);
    let sizes: Vec<(u64, usize)> = reader
        .map(|b| b.unwrap())
        .map(|b| (b.first_row, b.len()))
        .collect();
    assert_eq!(sizes, [(0, 1000), (1000, 1000), (2000, 500)]);
}

#[test]
fn names_match_ignoring_case_and_extra_columns_are_ignored() {
    let src = fixture("yellow_tripdata_2025-01_sample5.parquet");
    let path = tmp("upper.parquet");
    taxi_core::read::rewrite::rewrite(&src, &path, |fields, columns| {
        for f in fields.iter_mut() {
            *f = f.clone().with_name(f.name().to_uppercase());
        }
        fields.push(Field::new(
            "__index_level_0__",
            arrow::datatypes::DataType::Utf8,
            true,
        ));
        columns.push(Arc::new(StringArray::from(vec!["a"; 5])));
    });
    assert_eq!(
        hash_batch(&read_all(&path, 10)),
        hash_batch(&read_all(&src, 10))
    );
}

#[test]
fn the_real_green_month_is_read_as_green_and_refused_as_yellow() {
    let path = fixture("green_tripdata_2024-01.parquet");
    let all = read_all(&path, 10_000);
    assert_eq!(all.dataset.name, "green");
    assert_eq!((all.len(), all.rejected.len()), (56_551, 0));
    let source = taxi_core::read::input::Source::local(&path).unwrap();
    let yellow = &taxi_core::dataset::YELLOW;
    let e = TripReader::open_source(&source, Some(yellow), 100, &mut Default::default())
        .err()
        .expect("refused as yellow");
    let LoadError::WrongDataset {
        missing, forced, ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(missing, &["tpep_pickup_datetime", "tpep_dropoff_datetime"]);
    assert!(*forced);
    assert_eq!(e.class(), Class::BadFileFormat);
}

#[test]
fn bad_files_get_their_own_errors() {
    assert!(matches!(
        error_of("/nonexistent/x.parquet"),
        LoadError::NotFound { .. }
    ));
    assert!(matches!(
        error_of(env!("CARGO_MANIFEST_DIR")),
        LoadError::IsDirectory { .. }
    ));
    assert!(matches!(
        error_of("/dev/null"),
        LoadError::NotRegularFile { .. }
    ));
    assert!(matches!(
        error_of(&fixture("taxi_zone_lookup.csv")),
        LoadError::NotParquet { .. }
    ));
    let good = std::fs::read(fixture("yellow_tripdata_2025-02_sample5000.parquet")).unwrap();
    let path = tmp("empty.parquet");
    std::fs::write(&path, b"").unwrap();
    assert!(matches!(error_of(&path), LoadError::Empty { .. }));
    for cut in [4, 11, 100, good.len() / 2, good.len() - 1] {
        std::fs::write(&path, &good[..cut]).unwrap();
        assert_eq!(
            error_of(&path).class(),
            Class::DataCorrupted,
            "cut at {cut}"
        );
    }
}

/// Text timestamps (yellow 2009–2010 write them) read as wall-clock time, whatever the
/// dataset; a malformed one rejects its row alone.
#[test]
fn a_string_timestamp_column_is_read_and_bad_values_reject_their_rows() {
    let src = fixture("yellow_tripdata_2025-01_sample5.parquet");
    let want = read_all(&src, 100);
    let path = tmp("string_ts.parquet");
    let pickups: Vec<Option<String>> = match &want.columns[1] {
        Values::Timestamp(v) => v
            .iter()
            .map(|o| o.map(taxi_gen::legacy::text_time))
            .collect(),
        _ => unreachable!(),
    };
    let strings = Arc::new(StringArray::from(pickups.clone()));
    taxi_core::read::rewrite::replace_column(&src, &path, "tpep_pickup_datetime", strings);
    assert_eq!(read_all(&path, 100), want);
    let mut bad = pickups;
    bad[1] = Some("2025-01-01 00:18".into());
    bad[3] = Some("2025-02-30 00:00:00".into());
    taxi_core::read::rewrite::replace_column(
        &src,
        &path,
        "tpep_pickup_datetime",
        Arc::new(StringArray::from(bad)),
    );
    let read = read_all(&path, 100);
    assert_eq!(read.len(), 3);
    let reasons: Vec<(u64, &str)> = read
        .rejected
        .iter()
        .map(|r| (r.row, r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (2, "tpep_pickup_datetime: is not a timestamp like 2009-01-04 02:52:00 (2025-01-01 00:18)"),
            (4, "tpep_pickup_datetime: is not a date (month 1–12, day within the month) (2025-02-30 00:00:00)")
        ]
    );
}

/// The months a load locks and inspects are those the full read finds, row for row, in every
/// vintage's pickup type (microseconds, nanoseconds, strings of old rewrites).
#[test]
fn the_months_of_a_file_are_those_of_its_rows() {
    use std::collections::BTreeMap;
    use taxi_core::partition::Partition;
    let trips = generate(&Options {
        rows: 3000,
        messy_rate: 0.05,
        ..Options::default()
    });
    for vintage in [2012, 2019, 2024] {
        let path = tmp(&format!("months_{vintage}.parquet"));
        write_parquet(&path, &trips, &Vintage::of_year(vintage), 1000).unwrap();
        let months = partitions_of_file(&path).unwrap();
        let Values::Timestamp(pickups) = &read_all(&path, 700).columns[1] else {
            panic!()
        };
        let mut want = BTreeMap::new();
        for us in pickups.iter().flatten() {
            *want.entry(Partition::of_pickup(*us)).or_insert(0u64) += 1;
        }
        assert_eq!(months, want, "vintage {vintage}");
        // Every row counted once: the file's month and the 2002-2008 Decembers of its messy rows.
        assert_eq!(months.values().sum::<u64>(), 3000);
        assert!(months[&Partition::Month(2024 * 12)] > 2800, "{months:?}");
        assert!(months.len() > 1, "{months:?}");
    }
}
