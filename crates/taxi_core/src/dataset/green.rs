//! Green taxi trips (`green_tripdata_YYYY-MM.parquet`, from 2014-01): street-hail livery cabs,
//! with yellow's fare columns, plus `ehail_fee` and `trip_type`.

use super::{col, req, Column, Dataset, Kind, Service, COLUMN_DEFAULTS};

/// In the TLC's order (the row hash's order: only append).
pub const COLUMNS: [Column; 21] = [
    col("VendorID", "vendorid", Kind::Int, true),
    req("lpep_pickup_datetime", "lpep_pickup_datetime"),
    req("lpep_dropoff_datetime", "lpep_dropoff_datetime"),
    col("store_and_fwd_flag", "store_and_fwd_flag", Kind::Text, true),
    col("RatecodeID", "ratecodeid", Kind::Int, true),
    col("PULocationID", "pulocationid", Kind::Int, true),
    col("DOLocationID", "dolocationid", Kind::Int, true),
    col("passenger_count", "passenger_count", Kind::Int, true),
    col("trip_distance", "trip_distance", Kind::Float, true),
    col("fare_amount", "fare_amount", Kind::Money, true),
    col("extra", "extra", Kind::Money, true),
    col("mta_tax", "mta_tax", Kind::Money, true),
    col("tip_amount", "tip_amount", Kind::Money, true),
    col("tolls_amount", "tolls_amount", Kind::Money, true),
    // Typed `null` (every value missing) from 2019-09 to 2023-01.
    col("ehail_fee", "ehail_fee", Kind::Money, false),
    col(
        "improvement_surcharge",
        "improvement_surcharge",
        Kind::Money,
        false,
    ),
    col("total_amount", "total_amount", Kind::Money, true),
    col("payment_type", "payment_type", Kind::Int, true),
    // 1 street hail, 2 dispatch.
    col("trip_type", "trip_type", Kind::Int, false),
    col(
        "congestion_surcharge",
        "congestion_surcharge",
        Kind::Money,
        false,
    ),
    col(
        "cbd_congestion_fee",
        "cbd_congestion_fee",
        Kind::Money,
        false,
    ),
];

pub static GREEN: Dataset = Dataset {
    name: "green",
    title: "green taxi",
    table: "green_taxi_trips",
    relation: "taxi.green_taxi_trips",
    file_prefix: "green_tripdata_",
    encoding: 2,
    columns: &COLUMNS,
    pickup: 1,
    dropoff: 2,
    service: Service::Fixed(2),
    ..COLUMN_DEFAULTS
};
