//! Yellow taxi trips (`yellow_tripdata_YYYY-MM.parquet`): the layout of 2011 on, and the two
//! older ones still served for 2009 and 2010 (text timestamps, vendor names, payment strings,
//! coordinates instead of zones), matched through the columns' aliases.

use super::{col, req, Codes, Column, Dataset, Kind, Located, Service, COLUMN_DEFAULTS};

/// A column with its names and value forms of the 2009 and 2010 layouts.
const fn old(c: Column, aliases: &'static [&'static str], codes: Codes) -> Column {
    Column {
        aliases,
        codes,
        ..c
    }
}

/// The 20 columns of a 2025 yellow trip file, in the TLC's order, then the four coordinates of
/// 2009–2010. The order is part of the row hash encoding: never reorder, only append (with a
/// new encoding byte).
pub const COLUMNS: [Column; 24] = [
    old(
        col("VendorID", "vendorid", Kind::Int, true),
        &["vendor_name", "vendor_id"],
        Codes::VendorNames,
    ),
    old(
        req("tpep_pickup_datetime", "tpep_pickup_datetime"),
        &["Trip_Pickup_DateTime", "pickup_datetime"],
        Codes::None,
    ),
    old(
        req("tpep_dropoff_datetime", "tpep_dropoff_datetime"),
        &["Trip_Dropoff_DateTime", "dropoff_datetime"],
        Codes::None,
    ),
    col("passenger_count", "passenger_count", Kind::Int, true),
    col("trip_distance", "trip_distance", Kind::Float, true),
    old(
        col("RatecodeID", "ratecodeid", Kind::Int, true),
        &["Rate_Code"],
        Codes::Digits,
    ),
    old(
        col("store_and_fwd_flag", "store_and_fwd_flag", Kind::Text, true),
        &["store_and_forward"],
        Codes::FlagNumbers,
    ),
    // Absent from 2009–2010 files: computed from the coordinates (`Located`).
    col("PULocationID", "pulocationid", Kind::Int, true),
    col("DOLocationID", "dolocationid", Kind::Int, true),
    old(
        col("payment_type", "payment_type", Kind::Int, true),
        &[],
        Codes::PaymentNames,
    ),
    old(
        col("fare_amount", "fare_amount", Kind::Money, true),
        &["Fare_Amt"],
        Codes::None,
    ),
    old(
        col("extra", "extra", Kind::Money, true),
        &["surcharge"],
        Codes::None,
    ),
    col("mta_tax", "mta_tax", Kind::Money, true),
    old(
        col("tip_amount", "tip_amount", Kind::Money, true),
        &["Tip_Amt"],
        Codes::None,
    ),
    old(
        col("tolls_amount", "tolls_amount", Kind::Money, true),
        &["Tolls_Amt"],
        Codes::None,
    ),
    // Absent from some pre-2015 re-publications: optional, NULL when missing.
    col(
        "improvement_surcharge",
        "improvement_surcharge",
        Kind::Money,
        false,
    ),
    old(
        col("total_amount", "total_amount", Kind::Money, true),
        &["Total_Amt"],
        Codes::None,
    ),
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
    old(
        col("pickup_longitude", "pickup_longitude", Kind::Float, false),
        &["Start_Lon"],
        Codes::None,
    ),
    old(
        col("pickup_latitude", "pickup_latitude", Kind::Float, false),
        &["Start_Lat"],
        Codes::None,
    ),
    old(
        col("dropoff_longitude", "dropoff_longitude", Kind::Float, false),
        &["End_Lon"],
        Codes::None,
    ),
    old(
        col("dropoff_latitude", "dropoff_latitude", Kind::Float, false),
        &["End_Lat"],
        Codes::None,
    ),
];

static LOCATED: Located = Located {
    encoding: 5,
    pickup: [20, 21],
    dropoff: [22, 23],
    zones: [7, 8],
};

pub static YELLOW: Dataset = Dataset {
    name: "yellow",
    title: "yellow taxi",
    table: "yellow_taxi_trips",
    relation: "taxi.yellow_taxi_trips",
    file_prefix: "yellow_tripdata_",
    // 0.1.0's ENCODING_VERSION: yellow's stored hashes stay valid (rows without coordinates are
    // encoded over the first 20 columns, as before).
    encoding: 1,
    columns: &COLUMNS,
    pickup: 1,
    dropoff: 2,
    service: Service::Fixed(1),
    located: Some(&LOCATED),
    ..COLUMN_DEFAULTS
};

/// The vendor names of 2009–2010 and their codes. `DDS` (Digital Dispatch Systems) has none in
/// the TLC's dictionary: it is given 3, unused there, with its own `taxi.dim_vendor` member.
pub const VENDOR_NAMES: [(&str, i16); 3] = [("CMT", 1), ("VTS", 2), ("DDS", 3)];

/// The payment strings of 2009–2010 (compared trimmed and ignoring case) and their codes.
/// Any other string is 5, Unknown, as the dictionary says; NULL stays NULL.
pub const PAYMENT_NAMES: [(&str, i16); 16] = [
    ("credit", 1),
    ("cre", 1),
    ("crd", 1),
    ("cash", 2),
    ("cas", 2),
    ("csh", 2),
    ("no charge", 3),
    ("noc", 3),
    ("no", 3),
    ("dispute", 4),
    ("dis", 4),
    ("unknown", 5),
    ("unk", 5),
    ("na", 5),
    ("voided trip", 6),
    ("void", 6),
];

/// The payment code of a 2009–2010 payment string.
pub fn payment_code(s: &str) -> i16 {
    let s = s.trim();
    if let Ok(n) = s.parse::<i16>() {
        return n;
    }
    PAYMENT_NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map_or(5, |(_, code)| *code)
}

/// The vendor code of a 2009–2010 vendor name; None for a name without one.
pub fn vendor_code(s: &str) -> Option<i16> {
    let s = s.trim();
    VENDOR_NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(s))
        .map(|(_, code)| *code)
        .or_else(|| s.parse().ok())
}

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
    pub const IMPROVEMENT_SURCHARGE: usize = 15;
    pub const TOTAL_AMOUNT: usize = 16;
    pub const CONGESTION_SURCHARGE: usize = 17;
    pub const AIRPORT_FEE: usize = 18;
    pub const CBD_CONGESTION_FEE: usize = 19;
    pub const PICKUP_LONGITUDE: usize = 20;
    pub const PICKUP_LATITUDE: usize = 21;
    pub const DROPOFF_LONGITUDE: usize = 22;
    pub const DROPOFF_LATITUDE: usize = 23;
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
            (idx::IMPROVEMENT_SURCHARGE, "improvement_surcharge"),
            (idx::TOTAL_AMOUNT, "total_amount"),
            (idx::CONGESTION_SURCHARGE, "congestion_surcharge"),
            (idx::AIRPORT_FEE, "airport_fee"),
            (idx::CBD_CONGESTION_FEE, "cbd_congestion_fee"),
            (idx::PICKUP_LONGITUDE, "pickup_longitude"),
            (idx::PICKUP_LATITUDE, "pickup_latitude"),
            (idx::DROPOFF_LONGITUDE, "dropoff_longitude"),
            (idx::DROPOFF_LATITUDE, "dropoff_latitude"),
        ] {
            assert_eq!(YELLOW.column(name), Some(at), "{name}");
        }
        assert_eq!((YELLOW.pickup, YELLOW.dropoff), (idx::PICKUP, idx::DROPOFF));
        assert_eq!(
            LOCATED.pickup,
            [idx::PICKUP_LONGITUDE, idx::PICKUP_LATITUDE]
        );
        assert_eq!(
            LOCATED.dropoff,
            [idx::DROPOFF_LONGITUDE, idx::DROPOFF_LATITUDE]
        );
        assert_eq!(LOCATED.zones, [idx::PU_LOCATION_ID, idx::DO_LOCATION_ID]);
        // The classic encoding covers the 20 columns of 0.1.0 to 0.7.0.
        assert_eq!(YELLOW.hashed_columns(), 20);
    }

    #[test]
    fn vendor_names_and_payment_strings() {
        assert_eq!(vendor_code("CMT"), Some(1));
        assert_eq!(vendor_code(" vts "), Some(2));
        assert_eq!(vendor_code("DDS"), Some(3));
        assert_eq!(vendor_code("XYZ"), None);
        for (s, code) in [
            ("CASH", 2),
            ("Cash", 2),
            ("CAS", 2),
            ("Credit", 1),
            ("CREDIT", 1),
            ("CRE", 1),
            ("CRD", 1),
            ("No Charge", 3),
            ("NOC", 3),
            ("Dispute", 4),
            ("DIS", 4),
            ("UNK", 5),
            ("whatever", 5),
            ("2", 2),
        ] {
            assert_eq!(payment_code(s), code, "{s}");
        }
    }
}
