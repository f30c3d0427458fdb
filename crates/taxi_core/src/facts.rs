//! How a trip becomes a fact row (`taxi.fact_trips`) on the direct write path: dimension keys,
//! derived measures and flags, computed from the chunk's Rust values. pgrx-free.
//!
//! This is the second definition of the projection in `star::sql` (which INSERT paths,
//! taxi_rebuild_star and taxi_check_consistency use). Every rule here is written to give the
//! bit-identical value PostgreSQL computes there — the same IEEE operations in the same order,
//! exact integer arithmetic where SQL uses numeric — and a pg_test loads files through both paths
//! and compares every column.

use crate::calendar::{civil_from_days, US_PER_DAY, US_PER_HOUR};

use rayon::prelude::*;

use crate::dataset::{license_service, Service};
use crate::threads;
use crate::trip::{TripBatch, Values};

use crate::partition::partition_of;
pub use crate::partition::{Partition, FIRST_YEAR, LAST_YEAR};

/// The key of every dimension's unknown member (dim_date's is 0).
pub const UNKNOWN: i16 = -1;

/// avg_speed_mph is defined for distances of 0 or within these bounds (miles): beyond them it
/// would be meaningless, and PostgreSQL's float8 division raises an underflow error for tiny
/// non-zero numerators.
pub const SPEED_MIN_MILES: f64 = 1e-6;
pub const SPEED_MAX_MILES: f64 = 1e6;

/// A zone as the facts need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    /// Index of the borough name among the known boroughs; None when the borough is not known.
    pub borough: Option<u16>,
    pub airport: bool,
}

/// The dimension members, read from the dimension tables at the start of a load.
pub struct Dims {
    zones: Vec<Option<Zone>>,
    vendors: Vec<bool>,
    rate_codes: Vec<bool>,
    payment_types: Vec<bool>,
}

fn slot(code: i16) -> usize {
    code as u16 as usize
}

fn members(keys: &[i16]) -> Vec<bool> {
    let mut set = vec![false; 1 << 16];
    for &k in keys {
        set[slot(k)] = true;
    }
    set
}

impl Dims {
    /// `zones`: (location_key, borough, borough_known, is_airport) of every dim_location row.
    pub fn new(
        zones: &[(i16, String, bool, bool)],
        vendors: &[i16],
        rate_codes: &[i16],
        payment_types: &[i16],
    ) -> Dims {
        let mut boroughs: Vec<&str> = Vec::new();
        let mut table = vec![None; 1 << 16];
        for (key, borough, known, airport) in zones {
            let borough = known.then(|| {
                let i = boroughs
                    .iter()
                    .position(|b| b == borough)
                    .unwrap_or_else(|| {
                        boroughs.push(borough);
                        boroughs.len() - 1
                    });
                i as u16
            });
            table[slot(*key)] = Some(Zone {
                borough,
                airport: *airport,
            });
        }
        Dims {
            zones: table,
            vendors: members(vendors),
            rate_codes: members(rate_codes),
            payment_types: members(payment_types),
        }
    }

    fn zone(&self, code: Option<i16>) -> (i16, Option<Zone>) {
        match code.and_then(|c| self.zones[slot(c)].map(|z| (c, z))) {
            Some((c, z)) => (c, Some(z)),
            None => (UNKNOWN, None),
        }
    }
}

fn key(set: &[bool], code: Option<i16>) -> i16 {
    match code {
        Some(c) if set[slot(c)] => c,
        _ => UNKNOWN,
    }
}

/// Everything a fact row holds beyond the trip's own values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fact {
    pub partition: Partition,
    /// taxi.dim_service: the dataset, and for high-volume FHV the company.
    pub service_key: i16,
    pub date_key: i32,
    pub time_key: i16,
    pub pickup_location_key: i16,
    pub dropoff_location_key: i16,
    pub vendor_key: i16,
    pub rate_code_key: i16,
    pub payment_type_key: i16,
    /// None when the trip has no dropoff (early FHV files).
    pub trip_duration_minutes: Option<f64>,
    pub avg_speed_mph: Option<f64>,
    /// tip_pct in hundredths of a percent (numeric with two decimals).
    pub tip_pct_hundredths: Option<i64>,
    pub is_airport_trip: bool,
    pub is_cross_borough: bool,
    pub is_cash: bool,
    pub is_long_distance: bool,
    pub is_short_distance: bool,
}

/// The columns of a chunk the facts are computed from; None: the dataset has no such column.
pub struct Inputs<'a> {
    service: Service,
    license: Option<&'a [Option<std::sync::Arc<str>>]>,
    vendor: Option<&'a [Option<i16>]>,
    pickup: &'a [Option<i64>],
    dropoff: &'a [Option<i64>],
    distance: Option<&'a [Option<f64>]>,
    rate_code: Option<&'a [Option<i16>]>,
    pu: Option<&'a [Option<i16>]>,
    dol: Option<&'a [Option<i16>]>,
    payment_type: Option<&'a [Option<i16>]>,
    fare: Option<&'a [Option<i64>]>,
    tip: Option<&'a [Option<i64>]>,
}

/// Row `row` of an optional column.
fn at<T: Copy>(column: Option<&[Option<T>]>, row: usize) -> Option<T> {
    column.and_then(|c| c[row])
}

impl<'a> Inputs<'a> {
    pub fn new(batch: &'a TripBatch) -> Inputs<'a> {
        let d = batch.dataset;
        let int = |name: &str| {
            d.fact_source(name).map(|i| match &batch.columns[i] {
                Values::Int(v) => v.as_slice(),
                other => panic!("{name} is {other:?}"),
            })
        };
        let money = |name: &str| {
            d.fact_source(name).map(|i| match &batch.columns[i] {
                Values::Money(v) => v.as_slice(),
                other => panic!("{name} is {other:?}"),
            })
        };
        let ts = |i: usize| match &batch.columns[i] {
            Values::Timestamp(v) => v.as_slice(),
            other => panic!("column {i} is {other:?}"),
        };
        Inputs {
            service: d.service,
            license: match d.service {
                Service::ByLicense(i) => match &batch.columns[i] {
                    Values::Text(v) => Some(v.as_slice()),
                    other => panic!("the license is {other:?}"),
                },
                Service::Fixed(_) => None,
            },
            vendor: int("vendorid"),
            pickup: ts(d.pickup),
            dropoff: ts(d.dropoff),
            distance: d
                .fact_source("trip_distance")
                .map(|i| match &batch.columns[i] {
                    Values::Float(v) => v.as_slice(),
                    other => panic!("the distance is {other:?}"),
                }),
            rate_code: int("ratecodeid"),
            pu: int("pulocationid"),
            dol: int("dolocationid"),
            payment_type: int("payment_type"),
            fare: money("fare_amount"),
            tip: money("tip_amount"),
        }
    }

    /// The partition of row `row`.
    pub fn partition(&self, row: usize) -> Partition {
        Partition::of_pickup(self.pickup[row].expect("pickup is NOT NULL"))
    }

    /// The fact of row `row`. The pickup is never NULL in a stored trip.
    pub fn fact(&self, row: usize, dims: &Dims) -> Fact {
        let pickup = self.pickup[row].expect("pickup is NOT NULL");
        let dropoff = self.dropoff[row];
        let (year, month, day) = civil_from_days(pickup.div_euclid(US_PER_DAY));
        let in_range = (FIRST_YEAR..=LAST_YEAR).contains(&year);
        let partition = partition_of(year, month);
        // SQL: (extract(epoch from dropoff) - extract(epoch from pickup)) * 1e6, an exact
        // numeric, then ::float8 (correctly rounded, as this conversion is).
        let duration_us = dropoff.map(|d| (d as i128 - pickup as i128) as f64);
        let distance = at(self.distance, row);
        let avg_speed_mph = match (distance, duration_us) {
            (Some(d), Some(duration_us))
                if duration_us > 0.0
                    && (d == 0.0 || (SPEED_MIN_MILES..=SPEED_MAX_MILES).contains(&d)) =>
            {
                Some(d / (duration_us / US_PER_HOUR as f64))
            }
            _ => None,
        };
        let tip_pct_hundredths = match (at(self.tip, row), at(self.fare, row)) {
            (Some(tip), Some(fare)) if fare != 0 => Some(percent_hundredths(tip, fare)),
            _ => None,
        };
        let (pu_key, pu) = dims.zone(at(self.pu, row));
        let (do_key, dol) = dims.zone(at(self.dol, row));
        let is_airport_trip = pu.is_some_and(|z| z.airport) || dol.is_some_and(|z| z.airport);
        let is_cross_borough = match (pu.and_then(|z| z.borough), dol.and_then(|z| z.borough)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        let payment_type = at(self.payment_type, row);
        Fact {
            partition,
            service_key: match self.service {
                Service::Fixed(key) => key,
                Service::ByLicense(_) => {
                    license_service(self.license.and_then(|l| l[row].as_deref()))
                }
            },
            date_key: if in_range {
                year * 10_000 + month as i32 * 100 + day as i32
            } else {
                0
            },
            time_key: (pickup.rem_euclid(US_PER_DAY) / US_PER_HOUR) as i16,
            pickup_location_key: pu_key,
            dropoff_location_key: do_key,
            vendor_key: key(&dims.vendors, at(self.vendor, row)),
            rate_code_key: key(&dims.rate_codes, at(self.rate_code, row)),
            payment_type_key: key(&dims.payment_types, payment_type),
            trip_duration_minutes: duration_us.map(|us| us / 60_000_000.0),
            avg_speed_mph,
            tip_pct_hundredths,
            is_airport_trip,
            is_cross_borough,
            is_cash: payment_type == Some(2),
            // NaN compares false here and is excluded in SQL (where NaN sorts above everything).
            is_long_distance: distance.is_some_and(|d| d > 10.0),
            is_short_distance: distance.is_some_and(|d| d < 1.0),
        }
    }
}

/// The positions of the columns of `d` a fact is computed from: [`Inputs`] reads no others, so
/// a batch may leave the rest NULL.
pub fn input_columns(d: &crate::dataset::Dataset) -> Vec<usize> {
    let mut columns: Vec<usize> = [
        "vendorid",
        "trip_distance",
        "ratecodeid",
        "pulocationid",
        "dolocationid",
        "payment_type",
        "fare_amount",
        "tip_amount",
    ]
    .iter()
    .filter_map(|name| d.fact_source(name))
    .chain([d.pickup, d.dropoff])
    .chain(match d.service {
        Service::ByLicense(i) => Some(i),
        Service::Fixed(_) => None,
    })
    .collect();
    columns.sort_unstable();
    columns.dedup();
    columns
}

/// The facts of rows `rows` of `batch`, computed on the worker pool (plain Rust data only).
pub fn compute(dims: &Dims, batch: &TripBatch, rows: &[usize]) -> Vec<Fact> {
    let inputs = Inputs::new(batch);
    threads::pool().install(|| rows.par_iter().map(|&r| inputs.fact(r, dims)).collect())
}

/// The partition of every row of `batch`.
pub fn row_partitions(batch: &TripBatch) -> Vec<Partition> {
    let inputs = Inputs::new(batch);
    (0..batch.len()).map(|r| inputs.partition(r)).collect()
}

/// round(100 * tip / fare, 2) in hundredths, rounding half away from zero as numeric does. Exact:
/// PostgreSQL divides with at least 16 significant digits before rounding, and a quotient of
/// cents can never come that close to a rounding boundary without being on it.
pub fn percent_hundredths(tip_cents: i64, fare_cents: i64) -> i64 {
    let n = tip_cents as i128 * 10_000;
    let d = fare_cents as i128;
    let q = (2 * n.abs() + d.abs()) / (2 * d.abs());
    (if (n < 0) != (d < 0) { -q } else { q }) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::days_from_civil;
    use crate::dataset::YELLOW;

    use crate::dataset::yellow::idx;

    fn dims() -> Dims {
        Dims::new(
            &[
                (1, "EWR".into(), true, true),
                (4, "Manhattan".into(), true, false),
                (132, "Queens".into(), true, true),
                (161, "Manhattan".into(), true, false),
                (264, "Unknown".into(), false, false),
                (UNKNOWN, "Unknown".into(), false, false),
            ],
            &[1, 2, UNKNOWN],
            &[1, 99, UNKNOWN],
            &[1, 2, UNKNOWN],
        )
    }

    #[test]
    fn percent_rounds_half_away_from_zero() {
        assert_eq!(percent_hundredths(300, 1000), 3000); // 30.00 %
        assert_eq!(percent_hundredths(1, 3), 3333); // 33.33 %
        assert_eq!(percent_hundredths(2, 3), 6667); // 66.67 %
        assert_eq!(percent_hundredths(1, 8), 1250); // 12.50 %
        assert_eq!(percent_hundredths(1, 20_000), 1); // 0.005 % -> 0.01
        assert_eq!(percent_hundredths(-1, 20_000), -1);
        assert_eq!(percent_hundredths(1, -20_000), -1);
        assert_eq!(percent_hundredths(-1, -20_000), 1);
        assert_eq!(percent_hundredths(1, 20_001), 0);
        assert_eq!(
            percent_hundredths(999_999_999_999, 1),
            9_999_999_999_990_000
        );
    }

    fn one_trip(
        pickup: (i32, u32, u32, i64),
        minutes: i64,
        distance: Option<f64>,
        codes: [Option<i16>; 5],
        fare_tip: (Option<i64>, Option<i64>),
    ) -> TripBatch {
        let mut batch = TripBatch::empty(&YELLOW, 1);
        let (y, m, d, h) = pickup;
        let p = days_from_civil(y, m, d) * US_PER_DAY + h * US_PER_HOUR + 123;
        let [vendor, rate, pu, dol, pay] = codes;
        for (i, values) in batch.columns.iter_mut().enumerate() {
            match values {
                Values::Int(v) => v.push(match i {
                    idx::VENDOR_ID => vendor,
                    idx::RATECODE_ID => rate,
                    idx::PU_LOCATION_ID => pu,
                    idx::DO_LOCATION_ID => dol,
                    idx::PAYMENT_TYPE => pay,
                    _ => Some(1),
                }),
                Values::Timestamp(v) => v.push(Some(if i == idx::PICKUP {
                    p
                } else {
                    p + minutes * 60_000_000
                })),
                Values::BigInt(v) => v.push(None),
                Values::Float(v) => v.push(distance),
                Values::Money(v) => v.push(match i {
                    idx::FARE_AMOUNT => fare_tip.0,
                    idx::TIP_AMOUNT => fare_tip.1,
                    _ => Some(0),
                }),
                Values::Text(v) => v.push(None),
            }
        }
        batch
    }

    #[test]
    fn a_plain_trip() {
        let b = one_trip(
            (2024, 1, 15, 8),
            30,
            Some(12.0),
            [Some(2), Some(1), Some(132), Some(161), Some(1)],
            (Some(7000), Some(1400)),
        );
        let f = Inputs::new(&b).fact(0, &dims());
        assert_eq!(f.partition, Partition::Month(2024 * 12));
        assert_eq!(f.partition.fact_table(), "fact_trips_y2024m01");
        assert_eq!(f.partition.month(), (2024, 1));
        assert_eq!(f.date_key, 20240115);
        assert_eq!(f.time_key, 8);
        assert_eq!((f.pickup_location_key, f.dropoff_location_key), (132, 161));
        assert_eq!(
            (f.vendor_key, f.rate_code_key, f.payment_type_key),
            (2, 1, 1)
        );
        assert_eq!(f.trip_duration_minutes, Some(30.0));
        assert_eq!(f.service_key, 1);
        assert_eq!(f.avg_speed_mph, Some(24.0));
        assert_eq!(f.tip_pct_hundredths, Some(2000));
        assert!(f.is_airport_trip && f.is_cross_borough && f.is_long_distance);
        assert!(!f.is_cash && !f.is_short_distance);
    }

    #[test]
    fn unknown_codes_nulls_and_odd_times_still_map() {
        let b = one_trip(
            (2102, 6, 1, 23),
            -5,
            None,
            [Some(9), None, Some(264), Some(300), Some(2)],
            (Some(0), Some(100)),
        );
        let f = Inputs::new(&b).fact(0, &dims());
        assert_eq!(f.partition, Partition::After);
        assert_eq!(f.partition.fact_table(), "fact_trips_from_2100");
        assert_eq!(f.partition.month(), (2100, 1));
        assert_eq!(f.date_key, 0);
        assert_eq!(f.time_key, 23);
        // 264 is a member (the Unknown zone), 300 is not.
        assert_eq!(
            (f.pickup_location_key, f.dropoff_location_key),
            (264, UNKNOWN)
        );
        assert_eq!(
            (f.vendor_key, f.rate_code_key, f.payment_type_key),
            (UNKNOWN, UNKNOWN, 2)
        );
        assert_eq!(f.trip_duration_minutes, Some(-5.0));
        assert_eq!(f.avg_speed_mph, None);
        assert_eq!(f.tip_pct_hundredths, None); // fare 0
        assert!(f.is_cash);
        assert!(!f.is_airport_trip && !f.is_cross_borough);
        assert!(!f.is_long_distance && !f.is_short_distance);

        let b = one_trip(
            (1999, 12, 31, 0),
            0,
            Some(f64::NAN),
            [None; 5],
            (None, Some(1)),
        );
        let f = Inputs::new(&b).fact(0, &dims());
        assert_eq!(f.partition, Partition::Before);
        assert_eq!(f.partition.fact_table(), "fact_trips_before_2000");
        assert_eq!((f.date_key, f.time_key), (0, 0));
        assert_eq!(f.avg_speed_mph, None);
        assert!(!f.is_long_distance && !f.is_short_distance);
    }

    #[test]
    fn speed_is_undefined_outside_its_bounds() {
        let speed = |d: f64, minutes: i64| {
            let b = one_trip((2024, 1, 1, 0), minutes, Some(d), [None; 5], (None, None));
            Inputs::new(&b).fact(0, &dims()).avg_speed_mph
        };
        assert_eq!(speed(0.0, 10), Some(0.0));
        assert_eq!(speed(1e-7, 10), None);
        assert_eq!(speed(-1.0, 10), None);
        assert_eq!(speed(2e6, 10), None);
        assert_eq!(speed(5.0, 0), None);
        assert_eq!(speed(1.5, 6), Some(15.0));
    }
}
