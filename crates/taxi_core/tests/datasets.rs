//! Every dataset in every vintage the generator writes: read back exactly, recognized under any
//! name, and hashed the same after a pandas-style rewrite.

use taxi_core::dataset::{Dataset, ALL};
use taxi_core::hash::hash_batch;
use taxi_core::read::read_to_end;
use taxi_core::trip::TripBatch;
use taxi_gen::{generate, write_parquet, Options, Vintage};

fn tmp(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("taxi_loader_datasets_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_str().unwrap().to_string()
}

/// The years a dataset's files exist, sampled across the layouts the generator knows.
fn years(d: &Dataset) -> &'static [i32] {
    match d.name {
        "yellow" => &[2009, 2010, 2011, 2015, 2019, 2023, 2025],
        "green" => &[2014, 2019, 2021, 2025],
        "fhv" => &[2015, 2018, 2020, 2025],
        _ => &[2019, 2021, 2023, 2025],
    }
}

fn month(d: &'static Dataset, year: i32, rows: usize) -> TripBatch {
    generate(&Options {
        dataset: d,
        rows,
        year,
        messy_rate: 0.05,
        ..Options::default()
    })
}

#[test]
fn every_dataset_and_vintage_reads_back_exactly_under_any_name() {
    for d in ALL {
        for &year in years(d) {
            let trips = month(d, year, 2_000);
            assert_eq!(trips.dataset, d);
            // A misleading name: the columns decide.
            let path = tmp(&format!("yellow_tripdata_{}_{year}.parquet", d.name));
            write_parquet(&path, &trips, &Vintage::of_year(year), 700).unwrap();
            let read = read_to_end(&path, 500).unwrap();
            assert_eq!(read.dataset.name, d.name, "{} {year}", d.name);
            assert!(
                read.rejected.is_empty(),
                "{} {year}: {:?}",
                d.name,
                read.rejected.first()
            );
            assert_eq!(read.columns, trips.columns, "{} {year}", d.name);
        }
    }
}

#[test]
fn a_pandas_rewrite_hashes_like_the_original() {
    for d in ALL {
        let year = *years(d).last().unwrap();
        let trips = month(d, year, 1_500);
        let official = tmp(&format!("{}_official.parquet", d.name));
        let pandas = tmp(&format!("{}_pandas.parquet", d.name));
        write_parquet(&official, &trips, &Vintage::of_year(year), 1_000).unwrap();
        // 2023's layout: nanosecond timestamps, doubles for whole numbers, an index column.
        write_parquet(&pandas, &trips, &Vintage::of_year(2023), 1_000).unwrap();
        let a = hash_batch(&read_to_end(&official, 400).unwrap());
        let b = hash_batch(&read_to_end(&pandas, 400).unwrap());
        assert_eq!(a, b, "{}", d.name);
    }
}

#[test]
fn datasets_hash_apart() {
    // The same month's trips of two datasets never share a hash: the encodings begin apart.
    let mut all = Vec::new();
    for d in ALL {
        all.extend(hash_batch(&month(d, 2024, 500)));
    }
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    // Duplicates within a file are the generator's own (0.5 %).
    assert!(all.len() > n * 98 / 100, "{} of {n}", all.len());
}
