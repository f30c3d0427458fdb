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
