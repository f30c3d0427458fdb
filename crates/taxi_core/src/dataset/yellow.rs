//! Yellow taxi trips (`yellow_tripdata_YYYY-MM.parquet`, from 2011 in this layout).

use super::{col, req, Column, Dataset, Kind, Service, COLUMN_DEFAULTS};

/// The 20 columns of a 2025 yellow trip file, in the TLC's order. The order is part of the row
/// hash encoding: never reorder, only append (with a new encoding byte).
pub const COLUMNS: [Column; 20] = [
    col("VendorID", "vendorid", Kind::Int, true),
    req("tpep_pickup_datetime", "tpep_pickup_datetime"),
    req("tpep_dropoff_datetime", "tpep_dropoff_datetime"),
    col("passenger_count", "passenger_count", Kind::Int, true),
    col("trip_distance", "trip_distance", Kind::Float, true),
    col("RatecodeID", "ratecodeid", Kind::Int, true),
    col("store_and_fwd_flag", "store_and_fwd_flag", Kind::Text, true),
    col("PULocationID", "pulocationid", Kind::Int, true),
    col("DOLocationID", "dolocationid", Kind::Int, true),
    col("payment_type", "payment_type", Kind::Int, true),
    col("fare_amount", "fare_amount", Kind::Money, true),
    col("extra", "extra", Kind::Money, true),
    col("mta_tax", "mta_tax", Kind::Money, true),
    col("tip_amount", "tip_amount", Kind::Money, true),
    col("tolls_amount", "tolls_amount", Kind::Money, true),
    // Absent from some pre-2015 re-publications: optional, NULL when missing.
    col(
        "improvement_surcharge",
        "improvement_surcharge",
        Kind::Money,
        false,
    ),
    col("total_amount", "total_amount", Kind::Money, true),
    col(
        "congestion_surcharge",
        "congestion_surcharge",
        Kind::Money,
        false,
    ),
    // `airport_fee` until 2023-01, `Airport_fee` after: the case-insensitive match covers both.
    col("Airport_fee", "airport_fee", Kind::Money, false),
    col(
        "cbd_congestion_fee",
        "cbd_congestion_fee",
        Kind::Money,
        false,
    ),
];

pub static YELLOW: Dataset = Dataset {
    name: "yellow",
    title: "yellow taxi",
    table: "yellow_taxi_trips",
    relation: "taxi.yellow_taxi_trips",
    file_prefix: "yellow_tripdata_",
    // 0.1.0's ENCODING_VERSION: yellow's stored hashes stay valid.
    encoding: 1,
    columns: &COLUMNS,
    pickup: 1,
    dropoff: 2,
    service: Service::Fixed(1),
    ..COLUMN_DEFAULTS
};

/// Positions of yellow's columns, for code that builds yellow trips by hand: the generator and
/// tests. The load itself finds columns by name (`Dataset::column`), whatever the dataset.
pub mod idx {
    pub const VENDOR_ID: usize = 0;
    pub const PICKUP: usize = 1;
    pub const DROPOFF: usize = 2;
    pub const PASSENGER_COUNT: usize = 3;
    pub const TRIP_DISTANCE: usize = 4;
    pub const RATECODE_ID: usize = 5;
    pub const STORE_AND_FWD_FLAG: usize = 6;
    pub const PU_LOCATION_ID: usize = 7;
    pub const DO_LOCATION_ID: usize = 8;
    pub const PAYMENT_TYPE: usize = 9;
    pub const FARE_AMOUNT: usize = 10;
    pub const TIP_AMOUNT: usize = 13;
    pub const TOTAL_AMOUNT: usize = 16;
    pub const CONGESTION_SURCHARGE: usize = 17;
    pub const AIRPORT_FEE: usize = 18;
    pub const CBD_CONGESTION_FEE: usize = 19;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_name_their_columns() {
        for (at, name) in [
            (idx::VENDOR_ID, "vendorid"),
            (idx::PICKUP, "tpep_pickup_datetime"),
            (idx::DROPOFF, "tpep_dropoff_datetime"),
            (idx::PASSENGER_COUNT, "passenger_count"),
            (idx::TRIP_DISTANCE, "trip_distance"),
            (idx::RATECODE_ID, "ratecodeid"),
            (idx::STORE_AND_FWD_FLAG, "store_and_fwd_flag"),
            (idx::PU_LOCATION_ID, "pulocationid"),
            (idx::DO_LOCATION_ID, "dolocationid"),
            (idx::PAYMENT_TYPE, "payment_type"),
            (idx::FARE_AMOUNT, "fare_amount"),
            (idx::TIP_AMOUNT, "tip_amount"),
            (idx::TOTAL_AMOUNT, "total_amount"),
            (idx::CONGESTION_SURCHARGE, "congestion_surcharge"),
            (idx::AIRPORT_FEE, "airport_fee"),
            (idx::CBD_CONGESTION_FEE, "cbd_congestion_fee"),
        ] {
            assert_eq!(YELLOW.column(name), Some(at), "{name}");
        }
        assert_eq!((YELLOW.pickup, YELLOW.dropoff), (idx::PICKUP, idx::DROPOFF));
    }
}
