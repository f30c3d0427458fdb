//! High-volume for-hire vehicle trips (`fhvhv_tripdata_YYYY-MM.parquet`, from 2019-02): Uber,
//! Lyft, Via and Juno, 17-24M trips a month. `on_scene_datetime` is NULL for some companies,
//! the flag columns hold `Y`, `N` or a single space (kept as the file has it), `trip_time` is in
//! seconds.

use super::{col, req, Column, Dataset, Kind, Service};

/// In the TLC's order (the row hash's order: only append).
pub const COLUMNS: [Column; 25] = [
    col("hvfhs_license_num", "hvfhs_license_num", Kind::Text, true),
    col(
        "dispatching_base_num",
        "dispatching_base_num",
        Kind::Text,
        true,
    ),
    col(
        "originating_base_num",
        "originating_base_num",
        Kind::Text,
        false,
    ),
    col(
        "request_datetime",
        "request_datetime",
        Kind::Timestamp,
        false,
    ),
    col(
        "on_scene_datetime",
        "on_scene_datetime",
        Kind::Timestamp,
        false,
    ),
    req("pickup_datetime", "pickup_datetime"),
    req("dropoff_datetime", "dropoff_datetime"),
    col("PULocationID", "pulocationid", Kind::Int, true),
    col("DOLocationID", "dolocationid", Kind::Int, true),
    col("trip_miles", "trip_miles", Kind::Float, true),
    col("trip_time", "trip_time", Kind::BigInt, true),
    col(
        "base_passenger_fare",
        "base_passenger_fare",
        Kind::Money,
        true,
    ),
    col("tolls", "tolls", Kind::Money, true),
    col("bcf", "bcf", Kind::Money, false),
    col("sales_tax", "sales_tax", Kind::Money, false),
    col(
        "congestion_surcharge",
        "congestion_surcharge",
        Kind::Money,
        false,
    ),
    col("airport_fee", "airport_fee", Kind::Money, false),
    col("tips", "tips", Kind::Money, true),
    col("driver_pay", "driver_pay", Kind::Money, true),
    col(
        "shared_request_flag",
        "shared_request_flag",
        Kind::Text,
        false,
    ),
    col("shared_match_flag", "shared_match_flag", Kind::Text, false),
    col(
        "access_a_ride_flag",
        "access_a_ride_flag",
        Kind::Text,
        false,
    ),
    col("wav_request_flag", "wav_request_flag", Kind::Text, false),
    col("wav_match_flag", "wav_match_flag", Kind::Text, false),
    col(
        "cbd_congestion_fee",
        "cbd_congestion_fee",
        Kind::Money,
        false,
    ),
];

pub static FHVHV: Dataset = Dataset {
    name: "fhvhv",
    title: "high-volume for-hire vehicle",
    table: "fhvhv_trips",
    relation: "taxi.fhvhv_trips",
    file_prefix: "fhvhv_tripdata_",
    encoding: 4,
    columns: &COLUMNS,
    pickup: 5,
    dropoff: 6,
    // The company, from the license: HV0002 Juno, HV0003 Uber, HV0004 Via, HV0005 Lyft.
    service: Service::ByLicense(0),
    fact_sources: &[
        ("trip_distance", "trip_miles"),
        ("fare_amount", "base_passenger_fare"),
        ("tip_amount", "tips"),
        ("tolls_amount", "tolls"),
    ],
    trip_seconds: Some(10),
    located: None,
};
