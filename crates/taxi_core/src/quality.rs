//! Quality flags: storable but suspicious trips are loaded with a bitmask saying why they look
//! wrong (the trip tables' `quality_flags`), and each flag is counted per load
//! (`load_runs.flag_counts`). A flag applies to a dataset that has the columns it looks at; the
//! bits are part of the stored data: never renumber, only add. pgrx-free.

use crate::calendar::{civil_from_days, US_PER_DAY, US_PER_HOUR};
use crate::dataset::Dataset;
use crate::trip::{TripBatch, Values};

/// One flag: its bit and the name `load_runs.flag_counts` uses for it.
pub struct Flag {
    pub bit: i16,
    pub name: &'static str,
    pub meaning: &'static str,
}

pub const NEGATIVE_AMOUNT: i16 = 1;
pub const DROPOFF_BEFORE_PICKUP: i16 = 2;
pub const OUTSIDE_FILE_MONTH: i16 = 4;
pub const UNKNOWN_ZONE: i16 = 8;
pub const ZERO_DISTANCE: i16 = 16;
pub const IMPLAUSIBLE_SPEED: i16 = 32;
pub const TRIP_TIME_MISMATCH: i16 = 64;

/// A trip's stated duration (high-volume FHV's trip_time) may differ from its timestamps by this
/// much before it is flagged: the timestamps are whole seconds, the companies' clocks are not
/// the same clock.
pub const TRIP_TIME_TOLERANCE_SECONDS: i64 = 60;

/// Above this average speed a trip is implausible (the city's highways are limited to 50 mph).
pub const MAX_PLAUSIBLE_MPH: f64 = 100.0;

pub const FLAGS: [Flag; 7] = [
    Flag {
        bit: NEGATIVE_AMOUNT,
        name: "negative_amount",
        meaning: "an amount column is below zero (a refund or a correction)",
    },
    Flag {
        bit: DROPOFF_BEFORE_PICKUP,
        name: "dropoff_before_pickup",
        meaning: "tpep_dropoff_datetime is earlier than tpep_pickup_datetime",
    },
    Flag {
        bit: OUTSIDE_FILE_MONTH,
        name: "outside_file_month",
        meaning: "the pickup is not in the month the file name states (…YYYY-MM.parquet)",
    },
    Flag {
        bit: UNKNOWN_ZONE,
        name: "unknown_zone",
        meaning: "pickup or dropoff zone is 264 or 265 (unknown, outside NYC)",
    },
    Flag {
        bit: ZERO_DISTANCE,
        name: "zero_distance",
        meaning: "trip_distance is 0",
    },
    Flag {
        bit: IMPLAUSIBLE_SPEED,
        name: "implausible_speed",
        meaning: "trip_distance over the trip's duration is above 100 mph",
    },
    Flag {
        bit: TRIP_TIME_MISMATCH,
        name: "trip_time_mismatch",
        meaning:
            "trip_time differs from dropoff - pickup by more than 60 seconds (high-volume FHV)",
    },
];

impl Flag {
    /// Whether `dataset` has the columns this flag looks at.
    pub fn applies(&self, dataset: &Dataset) -> bool {
        let distance = dataset.fact_source("trip_distance").is_some();
        match self.bit {
            NEGATIVE_AMOUNT => dataset
                .columns
                .iter()
                .any(|c| c.kind == crate::trip::Kind::Money),
            DROPOFF_BEFORE_PICKUP | OUTSIDE_FILE_MONTH => true,
            UNKNOWN_ZONE => dataset.column("pulocationid").is_some(),
            ZERO_DISTANCE | IMPLAUSIBLE_SPEED => distance,
            TRIP_TIME_MISMATCH => dataset.trip_seconds.is_some(),
            _ => false,
        }
    }
}

/// The month a TLC file name states (`yellow_tripdata_2024-01.parquet` → (2024, 1)): the last
/// `YYYY-MM` in the name. None if there is none.
pub fn file_month(path: &str) -> Option<(i32, u32)> {
    let name = path.rsplit('/').next().unwrap_or(path).as_bytes();
    (0..name.len().saturating_sub(6)).rev().find_map(|i| {
        let w = &name[i..i + 7];
        let digits = |r: std::ops::Range<usize>| w[r].iter().all(u8::is_ascii_digit);
        if !(digits(0..4) && w[4] == b'-' && digits(5..7)) {
            return None;
        }
        // Not part of a longer number on either side.
        let before = i.checked_sub(1).map(|j| name[j]);
        let after = name.get(i + 7);
        if before.is_some_and(|b| b.is_ascii_digit()) || after.is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let text = std::str::from_utf8(w).ok()?;
        let year: i32 = text[..4].parse().ok()?;
        let month: u32 = text[5..].parse().ok()?;
        (1..=12).contains(&month).then_some((year, month))
    })
}

/// The flags of every row of `batch`. `month`: the file's month, if its name states one.
pub fn flags(batch: &TripBatch, month: Option<(i32, u32)>) -> Vec<i16> {
    let d = batch.dataset;
    let money: Vec<&[Option<i64>]> = batch
        .columns
        .iter()
        .filter_map(|v| match v {
            Values::Money(v) => Some(v.as_slice()),
            _ => None,
        })
        .collect();
    let at = |name: &str| d.column(name).map(|i| &batch.columns[i]);
    let ts = |i: usize| match &batch.columns[i] {
        Values::Timestamp(v) => v.as_slice(),
        other => panic!("column {i} is {other:?}"),
    };
    let zones: Vec<&[Option<i16>]> = [at("pulocationid"), at("dolocationid")]
        .into_iter()
        .flatten()
        .map(|v| match v {
            Values::Int(v) => v.as_slice(),
            other => panic!("zone is {other:?}"),
        })
        .collect();
    let (pickup, dropoff) = (ts(d.pickup), ts(d.dropoff));
    let distance = d
        .fact_source("trip_distance")
        .map(|i| match &batch.columns[i] {
            Values::Float(v) => v.as_slice(),
            other => panic!("distance is {other:?}"),
        });
    let seconds = d.trip_seconds.map(|i| match &batch.columns[i] {
        Values::BigInt(v) => v.as_slice(),
        other => panic!("trip_time is {other:?}"),
    });
    (0..batch.len())
        .map(|r| {
            let mut f = 0;
            if money.iter().any(|m| m[r].is_some_and(|c| c < 0)) {
                f |= NEGATIVE_AMOUNT;
            }
            let (p, d) = (pickup[r], dropoff[r]);
            let dist = distance.and_then(|v| v[r]);
            if let (Some(p), Some(d)) = (p, d) {
                if d < p {
                    f |= DROPOFF_BEFORE_PICKUP;
                }
                if let (Some(dist), true) = (dist, d > p) {
                    if dist / ((d - p) as f64 / US_PER_HOUR as f64) > MAX_PLAUSIBLE_MPH {
                        f |= IMPLAUSIBLE_SPEED;
                    }
                }
                if let Some(s) = seconds.and_then(|v| v[r]) {
                    let stamped = (d - p).div_euclid(1_000_000);
                    if (s as i128 - stamped as i128).abs() > TRIP_TIME_TOLERANCE_SECONDS as i128 {
                        f |= TRIP_TIME_MISMATCH;
                    }
                }
            }
            if let (Some(p), Some(m)) = (p, month) {
                let (y, mo, _) = civil_from_days(p.div_euclid(US_PER_DAY));
                if (y, mo) != m {
                    f |= OUTSIDE_FILE_MONTH;
                }
            }
            if zones.iter().any(|z| matches!(z[r], Some(264) | Some(265))) {
                f |= UNKNOWN_ZONE;
            }
            if dist == Some(0.0) {
                f |= ZERO_DISTANCE;
            }
            f
        })
        .collect()
}

/// Per-flag counts, in [`FLAGS`] order.
pub fn count(counts: &mut [u64; FLAGS.len()], flags: &[i16], rows: impl Iterator<Item = usize>) {
    for r in rows {
        let f = flags[r];
        if f != 0 {
            for (n, flag) in counts.iter_mut().zip(&FLAGS) {
                *n += u64::from(f & flag.bit != 0);
            }
        }
    }
}

/// `{"negative_amount": 3, …}`: every flag that applies to `dataset`, zeros included, for
/// `load_runs.flag_counts`.
pub fn counts_json(dataset: &Dataset, counts: &[u64; FLAGS.len()]) -> String {
    let fields: Vec<String> = FLAGS
        .iter()
        .zip(counts)
        .filter(|(f, _)| f.applies(dataset))
        .map(|(f, n)| format!("\"{}\": {n}", f.name))
        .collect();
    format!("{{{}}}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_comes_from_the_last_date_in_the_name() {
        assert_eq!(
            file_month("/data/yellow_tripdata_2024-01.parquet"),
            Some((2024, 1))
        );
        assert_eq!(file_month("/2023-05/x_2025-12.parquet"), Some((2025, 12)));
        assert_eq!(file_month("/d/2023-05/trips.parquet"), None);
        assert_eq!(file_month("yellow_2024-13.parquet"), None);
        assert_eq!(file_month("x12024-011.parquet"), None);
        assert_eq!(file_month("sample.parquet"), None);
    }

    #[test]
    fn bits_are_distinct_and_documented() {
        let mut all = 0;
        for f in &FLAGS {
            assert_eq!(f.bit.count_ones(), 1);
            assert_eq!(all & f.bit, 0);
            all |= f.bit;
        }
        assert_eq!(all, 127);
    }

    #[test]
    fn each_flag_on_exactly_its_rows() {
        use crate::dataset::yellow::idx;
        use crate::dataset::YELLOW;
        use crate::trip::Values;
        const JAN: i64 = 1_704_067_200_000_000; // 2024-01-01 00:00 UTC, in µs
        const H: i64 = 3_600_000_000;
        let mut b = TripBatch::empty(&YELLOW, 0);
        // (pickup, dropoff, distance, pu, do, fare)
        let rows: [(i64, i64, f64, i16, i16, i64); 7] = [
            (JAN + H, JAN + 2 * H, 10.0, 1, 2, 100),     // clean
            (JAN + H, JAN + 2 * H, 10.0, 1, 2, -100),    // negative
            (JAN + 2 * H, JAN + H, 10.0, 1, 2, 100),     // reversed
            (JAN - H, JAN, 10.0, 1, 2, 100),             // December
            (JAN + H, JAN + 2 * H, 10.0, 264, 2, 100),   // unknown zone
            (JAN + H, JAN + 2 * H, 0.0, 1, 265, 100),    // zero distance, unknown zone
            (JAN + H, JAN + H + H / 60, 2.0, 1, 2, 100), // 120 mph
        ];
        for (p, d, dist, pu, dol, fare) in rows {
            for (i, v) in b.columns.iter_mut().enumerate() {
                match (i, v) {
                    (idx::PICKUP, Values::Timestamp(v)) => v.push(Some(p)),
                    (idx::DROPOFF, Values::Timestamp(v)) => v.push(Some(d)),
                    (idx::TRIP_DISTANCE, Values::Float(v)) => v.push(Some(dist)),
                    (idx::PU_LOCATION_ID, Values::Int(v)) => v.push(Some(pu)),
                    (idx::DO_LOCATION_ID, Values::Int(v)) => v.push(Some(dol)),
                    (idx::FARE_AMOUNT, Values::Money(v)) => v.push(Some(fare)),
                    (_, Values::Money(v)) => v.push(None),
                    (_, Values::Int(v)) => v.push(None),
                    (_, Values::BigInt(v)) => v.push(None),
                    (_, Values::Float(v)) => v.push(None),
                    (_, Values::Text(v)) => v.push(None),
                    (_, Values::Timestamp(v)) => v.push(None),
                }
            }
        }
        let f = flags(&b, Some((2024, 1)));
        assert_eq!(
            f,
            [
                0,
                NEGATIVE_AMOUNT,
                DROPOFF_BEFORE_PICKUP,
                OUTSIDE_FILE_MONTH,
                UNKNOWN_ZONE,
                ZERO_DISTANCE | UNKNOWN_ZONE,
                IMPLAUSIBLE_SPEED
            ]
        );
        // Without a month in the name, the month flag is never set.
        assert_eq!(flags(&b, None)[3], 0);
        let mut counts = [0; FLAGS.len()];
        count(&mut counts, &f, 0..f.len());
        assert_eq!(counts, [1, 1, 1, 2, 1, 1, 0]);
        assert_eq!(
            counts_json(&YELLOW, &counts),
            r#"{"negative_amount": 1, "dropoff_before_pickup": 1, "outside_file_month": 1, "unknown_zone": 2, "zero_distance": 1, "implausible_speed": 1}"#
        );
    }
}
