//! The physical layout the TLC (or a pandas rewrite) used for a given year's yellow files.

use arrow::datatypes::{DataType, TimeUnit};

/// Physical column types of one vintage. See `../shared/data/README.md` for the drift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vintage {
    pub year: i32,
    /// VendorID, PULocationID, DOLocationID as int64 (before 2023-02) instead of int32.
    pub ids_int64: bool,
    /// passenger_count and RatecodeID as double (2018-07 .. 2023-01).
    pub counts_double: bool,
    pub timestamp_unit: TimeUnit,
    /// `airport_fee` (until 2023-01) rather than `Airport_fee`.
    pub airport_fee_lowercase: bool,
    /// store_and_fwd_flag as large_string (the 2025 files).
    pub large_strings: bool,
    /// How an all-null congestion_surcharge / airport_fee column is typed (older months).
    pub all_null_type: DataType,
    /// Has the `cbd_congestion_fee` column (2025 on).
    pub has_cbd_fee: bool,
    /// Carries pandas' `__index_level_0__` column.
    pub pandas_index: bool,
}

impl Vintage {
    /// The layout of `year`'s files. 2023 stands for the pandas-era layout of 2023-01 (double
    /// counts, lower-case `airport_fee`, int64 ids, nanosecond timestamps).
    pub fn of_year(year: i32) -> Vintage {
        Vintage {
            year,
            ids_int64: year <= 2023,
            counts_double: (2018..=2023).contains(&year),
            timestamp_unit: match year {
                ..=2014 => TimeUnit::Millisecond,
                2018..=2023 => TimeUnit::Nanosecond,
                _ => TimeUnit::Microsecond,
            },
            airport_fee_lowercase: year <= 2023,
            large_strings: year >= 2025,
            all_null_type: if year <= 2016 {
                DataType::Null
            } else {
                DataType::Int32
            },
            has_cbd_fee: year >= 2025,
            pandas_index: (2018..=2023).contains(&year),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_matches_the_data_readme() {
        let v23 = Vintage::of_year(2023);
        assert!(v23.ids_int64 && v23.counts_double && v23.airport_fee_lowercase);
        assert_eq!(v23.timestamp_unit, TimeUnit::Nanosecond);
        let v25 = Vintage::of_year(2025);
        assert!(!v25.ids_int64 && !v25.counts_double && v25.has_cbd_fee && v25.large_strings);
        assert_eq!(Vintage::of_year(2012).timestamp_unit, TimeUnit::Millisecond);
    }
}
