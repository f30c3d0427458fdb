//! Yellow 2009 and 2010: the older layouts read into yellow's columns, zones computed from the
//! coordinates, and hashes that cover the file's values, not the zones.

use taxi_core::dataset::yellow::idx;
use taxi_core::dataset::YELLOW;
use taxi_core::hash::hash_batch;
use taxi_core::read::read_to_end;
use taxi_core::trip::{TripBatch, Values};
use taxi_gen::{generate, write_parquet, Options, Vintage};

fn tmp(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("taxi_loader_legacy_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).to_str().unwrap().to_string()
}

fn month(year: i32, rows: usize) -> TripBatch {
    generate(&Options {
        rows,
        year,
        messy_rate: 0.05,
        ..Options::default()
    })
}

fn ints(v: &Values) -> &[Option<i16>] {
    match v {
        Values::Int(x) => x,
        other => panic!("{other:?}"),
    }
}

#[test]
fn both_layouts_read_with_zones_from_their_coordinates() {
    for year in [2009, 2010] {
        let trips = month(year, 3_000);
        let path = tmp(&format!("renamed_{year}.parquet"));
        write_parquet(&path, &trips, &Vintage::of_year(year), 1_000).unwrap();
        let read = read_to_end(&path, 700).unwrap();
        assert_eq!(read.dataset, &YELLOW);
        assert!(read.rejected.is_empty(), "{:?}", read.rejected.first());
        assert_eq!(read.columns, trips.columns, "{year}");
        // Zones were computed: 0,0 and New Jersey are 264, most trips are in a zone.
        let pu = ints(&read.columns[idx::PU_LOCATION_ID]);
        let unknown = pu.iter().filter(|z| **z == Some(264)).count();
        assert!(pu.iter().all(Option::is_some));
        assert!(
            (100..900).contains(&unknown),
            "{year}: {unknown} unknown of 3000"
        );
        // Vendor names and payment strings became codes; DDS is 3.
        let vendors = ints(&read.columns[idx::VENDOR_ID]);
        assert!(
            vendors.contains(&Some(3)) && vendors.iter().all(|v| (1..=3).contains(&v.unwrap()))
        );
        let payments = ints(&read.columns[idx::PAYMENT_TYPE]);
        for code in 1..=4 {
            assert!(payments.contains(&Some(code)), "{year}: payment {code}");
        }
    }
}

/// A pandas rewrite (nanosecond timestamps, double counts, an index column) hashes as the
/// official file; the 2009 and 2010 layouts of the same trips hash alike too.
#[test]
fn hashes_are_stable_under_a_pandas_rewrite_and_across_the_two_layouts() {
    let trips = month(2009, 2_000);
    let official = tmp("official_2009.parquet");
    let pandas = tmp("pandas_2009.parquet");
    let as_2010 = tmp("as_2010.parquet");
    write_parquet(&official, &trips, &Vintage::of_year(2009), 1_000).unwrap();
    let mut v = Vintage::of_year(2009);
    v.pandas_index = true;
    write_parquet(&pandas, &trips, &v, 1_000).unwrap();
    write_parquet(&as_2010, &trips, &Vintage::of_year(2010), 1_000).unwrap();
    let a = hash_batch(&read_to_end(&official, 400).unwrap());
    assert_eq!(a, hash_batch(&read_to_end(&pandas, 400).unwrap()));
    // The same values in the other layout (text rate codes and flags) are the same trips.
    assert_eq!(a, hash_batch(&read_to_end(&as_2010, 400).unwrap()));
}

/// The hash leaves out the zones of a row with coordinates: a better zone map later must not
/// turn a stored trip into a new one. Rows without coordinates (2011 on) hash their zones.
#[test]
fn a_different_zone_map_changes_no_hash() {
    let mut trips = month(2009, 500);
    let before = hash_batch(&trips);
    if let Values::Int(z) = &mut trips.columns[idx::PU_LOCATION_ID] {
        z.iter_mut().for_each(|z| *z = Some(1));
    }
    assert_eq!(hash_batch(&trips), before);
    let mut modern = month(2024, 500);
    let before = hash_batch(&modern);
    if let Values::Int(z) = &mut modern.columns[idx::PU_LOCATION_ID] {
        z.iter_mut().for_each(|z| *z = z.map(|z| z % 263 + 1));
    }
    assert_ne!(hash_batch(&modern), before);
}
