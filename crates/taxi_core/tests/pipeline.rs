//! The decode-and-hash pipeline on its threads: order, back-pressure, errors, shutdown.

use taxi_core::hash::hash_batch;
use taxi_core::read::pipeline::*;
use taxi_core::read::TripReader;
use taxi_gen::{generate, write_parquet, Options, Vintage};

fn file(rows: usize) -> String {
    let dir = std::env::temp_dir().join(format!("taxi_loader_pipe_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir
        .join(format!("p{rows}.parquet"))
        .to_str()
        .unwrap()
        .to_string();
    let trips = generate(&Options {
        rows,
        ..Options::default()
    });
    write_parquet(&path, &trips, &Vintage::of_year(2024), 1000).unwrap();
    path
}

#[test]
fn delivers_every_chunk_in_order_with_its_hashes() {
    let path = file(2500);
    let mut p = Pipeline::start(TripReader::open(&path, 1000).unwrap(), 1);
    let mut firsts = Vec::new();
    while let Some(chunk) = p.next(|| {}) {
        let Decoded {
            batch,
            hashes,
            not_stored,
            ..
        } = chunk.unwrap();
        assert_eq!(hashes, hash_batch(&batch));
        assert!(not_stored.is_none());
        firsts.push((batch.first_row, batch.len()));
    }
    assert_eq!(firsts, [(0, 1000), (1000, 1000), (2000, 500)]);
}

#[test]
fn dropping_early_stops_the_worker() {
    let path = file(5000);
    let mut p = Pipeline::start(TripReader::open(&path, 100).unwrap(), 2);
    assert!(p.next(|| {}).is_some());
    drop(p); // joins; a hang here fails the test run
}
