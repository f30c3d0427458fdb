//! For-hire vehicle trips (`fhv_tripdata_YYYY-MM.parquet`, from 2015-01): bases' dispatches,
//! without fares. The TLC spells `dropOff_datetime`, `PUlocationID` and `DOlocationID` this way
//! (matched ignoring case), stores the location IDs as doubles in some months and leaves the
//! dropoff empty in the early years: only the base and the pickup are required.

use super::{col, req, Column, Dataset, Kind, Service, COLUMN_DEFAULTS};

/// In the TLC's order (the row hash's order: only append).
pub const COLUMNS: [Column; 7] = [
    col(
        "dispatching_base_num",
        "dispatching_base_num",
        Kind::Text,
        true,
    ),
    req("pickup_datetime", "pickup_datetime"),
    col(
        "dropOff_datetime",
        "dropoff_datetime",
        Kind::Timestamp,
        false,
    ),
    col("PUlocationID", "pulocationid", Kind::Int, false),
    col("DOlocationID", "dolocationid", Kind::Int, false),
    // Shared ride flag: 1 or NULL (mostly NULL).
    col("SR_Flag", "sr_flag", Kind::Int, false),
    col(
        "Affiliated_base_number",
        "affiliated_base_number",
        Kind::Text,
        false,
    ),
];

pub static FHV: Dataset = Dataset {
    name: "fhv",
    title: "for-hire vehicle",
    table: "fhv_trips",
    relation: "taxi.fhv_trips",
    file_prefix: "fhv_tripdata_",
    encoding: 3,
    columns: &COLUMNS,
    pickup: 1,
    dropoff: 2,
    service: Service::Fixed(3),
    ..COLUMN_DEFAULTS
};
