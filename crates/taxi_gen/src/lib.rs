//! A generator of realistic months of every TLC dataset (yellow, green, FHV, high-volume FHV),
//! in the physical layout of any vintage from 2011 to 2025, with in-file duplicates, Flex-Fare
//! nulls and the messy rows real files carry. Used by the tests, the demo and the benchmark
//! (through the `taxi_gen` binary). pgrx-free.

pub mod corrupt;
pub mod legacy;
mod others;
mod vintage;
mod write;

pub use vintage::Vintage;
pub use write::{write_one_page, write_parquet};

use taxi_core::calendar::{days_from_civil, US_PER_DAY, US_PER_SEC};
use taxi_core::dataset::yellow::idx;
use taxi_core::dataset::{Dataset, YELLOW};
use taxi_core::trip::{TripBatch, Values};

/// What to generate. `Default` is a clean-ish 2024-01 yellow month of 10,000 rows.
#[derive(Debug, Clone)]
pub struct Options {
    pub dataset: &'static Dataset,
    pub rows: usize,
    pub year: i32,
    pub month: u32,
    pub seed: u64,
    /// Fraction of rows that are exact copies of an earlier row of the file.
    pub duplicate_rate: f64,
    /// Fraction of rows with a real-world oddity (see [`Mess`]).
    pub messy_rate: f64,
    /// Fraction of Flex-Fare rows whose optional fields are all NULL.
    pub null_rate: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dataset: &YELLOW,
            rows: 10_000,
            year: 2024,
            month: 1,
            seed: 42,
            duplicate_rate: 0.005,
            messy_rate: 0.01,
            null_rate: 0.05,
        }
    }
}

/// The oddities of real files a messy row gets, one each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mess {
    /// A refund: every amount negative.
    NegativeAmounts,
    DropoffBeforePickup,
    /// Pickup years before the file's month (real files have 2002 and 2008 pickups).
    PickupOutOfMonth,
    /// Unknown zones 264/265.
    UnknownZone,
    ZeroDistance,
    /// Odometer garbage: more than 100,000 miles.
    HugeDistance,
}

const MESSES: [Mess; 6] = [
    Mess::NegativeAmounts,
    Mess::DropoffBeforePickup,
    Mess::PickupOutOfMonth,
    Mess::UnknownZone,
    Mess::ZeroDistance,
    Mess::HugeDistance,
];

/// splitmix64: tiny, fast and reproducible across platforms, which is all a generator needs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    pub(crate) fn pick<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total as u64) as u32;
        for &(item, w) in items {
            if r < w {
                return item;
            }
            r -= w;
        }
        items[items.len() - 1].0
    }
}

pub(crate) fn cents(dollars: f64) -> i64 {
    (dollars * 100.0).round() as i64
}

/// Generates `opts.rows` trips of `opts.dataset`.
pub fn generate(opts: &Options) -> TripBatch {
    let mut rng = Rng::new(opts.seed);
    let month_start = days_from_civil(opts.year, opts.month, 1) * US_PER_DAY;
    let (ny, nm) = if opts.month == 12 {
        (opts.year + 1, 1)
    } else {
        (opts.year, opts.month + 1)
    };
    let month_len = days_from_civil(ny, nm, 1) * US_PER_DAY - month_start;

    let mut b = TripBatch::empty(opts.dataset, opts.rows);
    let mut row = TripBatch::empty(opts.dataset, 1);
    let mut yellow = TripBatch::empty(&YELLOW, 1);
    for n in 0..opts.rows {
        if n > 0 && rng.chance(opts.duplicate_rate) {
            let earlier = rng.below(n as u64) as usize;
            let copy = b.clone_row(earlier);
            b.push_row(&copy, 0);
            continue;
        }
        row.clear();
        let mess = rng
            .chance(opts.messy_rate)
            .then(|| MESSES[rng.below(6) as usize]);
        if opts.dataset == &YELLOW {
            trip(&mut rng, opts, month_start, month_len, mess, &mut row);
        } else {
            yellow.clear();
            trip(&mut rng, opts, month_start, month_len, mess, &mut yellow);
            others::from_yellow(&mut rng, opts, &yellow, &mut row);
        }
        b.push_row(&row, 0);
    }
    b
}

/// One plausible trip, then its oddity if it has one.
fn trip(
    rng: &mut Rng,
    opts: &Options,
    start: i64,
    len: i64,
    mess: Option<Mess>,
    out: &mut TripBatch,
) {
    let year = opts.year;
    // Whole seconds, as the TLC records them.
    let mut pickup = start + (rng.below((len / US_PER_SEC) as u64) as i64) * US_PER_SEC;
    let minutes = 2.0 + (rng.unit() * rng.unit()) * 58.0;
    let mph = 6.0 + rng.unit() * 18.0;
    let mut distance = ((minutes / 60.0 * mph) * 100.0).round() / 100.0;
    let mut dropoff = pickup + (minutes * 60.0) as i64 * US_PER_SEC;

    // 2009–2010: vendor names (DDS is 3), coordinates instead of zones, no Flex Fare.
    let legacy = year <= 2010;
    let vendors: &[(i16, u32)] = if year >= 2025 {
        &[(1, 25), (2, 72), (6, 2), (7, 1)]
    } else if legacy {
        &[(1, 45), (2, 50), (3, 5)]
    } else {
        &[(1, 30), (2, 70)]
    };
    let vendor = rng.pick(vendors);
    let flex = !legacy && rng.chance(opts.null_rate);
    let payment = if flex {
        0
    } else {
        rng.pick(&[(1i16, 75), (2, 20), (3, 3), (4, 2)])
    };
    let ratecode = rng.pick(&[(1i16, 92), (2, 4), (3, 1), (4, 1), (5, 1), (99, 1)]);
    let mut pu = 1 + rng.below(263) as i16;
    let mut dz = 1 + rng.below(263) as i16;
    let mut points = legacy.then(|| (point(rng), point(rng)));
    let airport_pickup = pu == 132 || pu == 138;

    let fare = cents(3.0 + 2.5 * distance + 0.5 * minutes);
    let extra = rng.pick(&[(0i64, 50), (100, 30), (250, 20)]);
    let mta = 50;
    let tip = if payment == 1 {
        cents(fare as f64 / 100.0 * (0.1 + rng.unit() * 0.2))
    } else {
        0
    };
    let tolls = if rng.chance(0.05) { 694 } else { 0 };
    let improvement = if year >= 2023 {
        100
    } else if year >= 2015 {
        30
    } else {
        0
    };
    let congestion = if year >= 2019 { 250 } else { 0 };
    let airport = if year >= 2021 && airport_pickup {
        175
    } else {
        0
    };
    let cbd = if year >= 2025 && rng.chance(0.4) {
        75
    } else {
        0
    };
    // Flex-Fare rows leave these fields NULL; the total only counts what is there.
    let (congestion, airport) = if flex { (0, 0) } else { (congestion, airport) };
    let mut money = [
        fare,
        extra,
        mta,
        tip,
        tolls,
        improvement,
        0,
        congestion,
        airport,
        cbd,
    ];
    money[6] = money.iter().sum();

    match mess {
        Some(Mess::NegativeAmounts) => money.iter_mut().for_each(|m| *m = -*m),
        Some(Mess::DropoffBeforePickup) => {
            dropoff = pickup - (rng.below(3600) as i64 + 1) * US_PER_SEC
        }
        Some(Mess::PickupOutOfMonth) => {
            let back = days_from_civil(2002 + rng.below(7) as i32, 12, 31) * US_PER_DAY;
            let shift = pickup - back;
            pickup -= shift;
            dropoff -= shift;
        }
        Some(Mess::UnknownZone) => {
            pu = 264;
            dz = if rng.chance(0.5) { 265 } else { dz };
            if let Some((p, _)) = points.as_mut() {
                *p = (0.0, 0.0);
            }
        }
        Some(Mess::ZeroDistance) => distance = 0.0,
        Some(Mess::HugeDistance) => distance = 100_000.0 + (rng.below(10_000_000) as f64) / 100.0,
        None => {}
    }

    let int = |v: i16| Values::Int(vec![Some(v)]);
    let opt_int = |v: Option<i16>| Values::Int(vec![v]);
    let m = |v: Option<i64>| Values::Money(vec![v]);
    out.columns[idx::VENDOR_ID] = int(vendor);
    out.columns[idx::PICKUP] = Values::Timestamp(vec![Some(pickup)]);
    out.columns[idx::DROPOFF] = Values::Timestamp(vec![Some(dropoff)]);
    out.columns[idx::PASSENGER_COUNT] = opt_int(
        (!flex).then(|| rng.pick(&[(1, 70), (2, 15), (3, 5), (4, 3), (5, 4), (6, 2), (0, 1)])),
    );
    out.columns[idx::TRIP_DISTANCE] = Values::Float(vec![Some(distance)]);
    // 2009's rate codes and flags are mostly empty.
    let sparse = legacy && !rng.chance(0.1);
    out.columns[idx::RATECODE_ID] = opt_int((!flex && !sparse).then_some(ratecode));
    let fwd = if rng.chance(0.005) { "Y" } else { "N" };
    out.columns[idx::STORE_AND_FWD_FLAG] =
        Values::Text(vec![(!flex && !sparse).then(|| fwd.into())]);
    let float = |v: Option<f64>| Values::Float(vec![v]);
    match points {
        // The zones are what the load computes from the coordinates.
        Some(((x1, y1), (x2, y2))) => {
            let grid = taxi_zones::shipped();
            out.columns[idx::PU_LOCATION_ID] = int(grid.zone(x1, y1));
            out.columns[idx::DO_LOCATION_ID] = int(grid.zone(x2, y2));
            out.columns[idx::PICKUP_LONGITUDE] = float(Some(x1));
            out.columns[idx::PICKUP_LATITUDE] = float(Some(y1));
            out.columns[idx::DROPOFF_LONGITUDE] = float(Some(x2));
            out.columns[idx::DROPOFF_LATITUDE] = float(Some(y2));
        }
        None => {
            out.columns[idx::PU_LOCATION_ID] = int(pu);
            out.columns[idx::DO_LOCATION_ID] = int(dz);
            for c in [
                idx::PICKUP_LONGITUDE,
                idx::PICKUP_LATITUDE,
                idx::DROPOFF_LONGITUDE,
                idx::DROPOFF_LATITUDE,
            ] {
                out.columns[c] = float(None);
            }
        }
    }
    out.columns[idx::PAYMENT_TYPE] = int(payment);
    for (k, amount) in money.iter().enumerate() {
        let column = idx::FARE_AMOUNT + k;
        let optional_null =
            flex && (column == idx::CONGESTION_SURCHARGE || column == idx::AIRPORT_FEE);
        let absent_in_year = (legacy && column == idx::IMPROVEMENT_SURCHARGE)
            || (column == idx::CONGESTION_SURCHARGE && year < 2019)
            || (column == idx::AIRPORT_FEE && year < 2021)
            || (column == idx::CBD_CONGESTION_FEE && year < 2025);
        out.columns[column] = m((!optional_null && !absent_in_year).then_some(*amount));
    }
}

/// Where a 2009–2010 trip starts or ends: nine in ten in a zone (mostly Manhattan), the rest
/// what the files also hold: points in the rivers and the bay, 0,0 and New Jersey. Six
/// decimals, as the files have.
fn point(rng: &mut Rng) -> (f64, f64) {
    let six = |x: f64| (x * 1e6).round() / 1e6;
    let manhattan = |rng: &mut Rng| (-74.02 + 0.09 * rng.unit(), 40.70 + 0.12 * rng.unit());
    let city = |rng: &mut Rng| (-74.05 + 0.35 * rng.unit(), 40.57 + 0.30 * rng.unit());
    let (lon, lat) = match rng.below(100) {
        0..=89 => {
            let mut p = (0.0, 0.0);
            for _ in 0..50 {
                p = if rng.chance(0.8) {
                    manhattan(rng)
                } else {
                    city(rng)
                };
                if taxi_zones::shipped().zone(six(p.0), six(p.1)) != taxi_zones::UNKNOWN_ZONE {
                    break;
                }
            }
            p
        }
        90..=95 => city(rng),
        96..=98 => (0.0, 0.0),
        _ => (-74.20 + 0.10 * rng.unit(), 40.60 + 0.20 * rng.unit()),
    };
    (six(lon), six(lat))
}

#[cfg(test)]
mod tests {
    use super::*;
    use taxi_core::hash::hash_batch;

    #[test]
    fn same_seed_same_trips_and_requested_duplicates() {
        let opts = Options {
            rows: 20_000,
            duplicate_rate: 0.01,
            ..Options::default()
        };
        let a = generate(&opts);
        assert_eq!(a, generate(&opts));
        assert_eq!(a.len(), 20_000);
        let mut hashes = hash_batch(&a);
        hashes.sort();
        hashes.dedup();
        let dups = 20_000 - hashes.len();
        assert!(
            (120..=280).contains(&dups),
            "{dups} duplicates for a 1% rate"
        );
    }

    #[test]
    fn totals_add_up_and_pickups_are_in_month_unless_messy() {
        let opts = Options {
            rows: 5_000,
            messy_rate: 0.0,
            year: 2025,
            month: 2,
            ..Options::default()
        };
        let b = generate(&opts);
        let Values::Timestamp(p) = &b.columns[idx::PICKUP] else {
            unreachable!()
        };
        let lo = days_from_civil(2025, 2, 1) * US_PER_DAY;
        let hi = days_from_civil(2025, 3, 1) * US_PER_DAY;
        assert!(p.iter().all(|t| (lo..hi).contains(&t.unwrap())));
        let money: Vec<&Vec<Option<i64>>> = (idx::FARE_AMOUNT..=idx::CBD_CONGESTION_FEE)
            .map(|c| match &b.columns[c] {
                Values::Money(v) => v,
                _ => unreachable!(),
            })
            .collect();
        for r in 0..b.len() {
            let parts: i64 = money
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != 6)
                .map(|(_, v)| v[r].unwrap_or(0))
                .sum();
            assert_eq!(Some(parts), money[6][r], "row {r}");
        }
    }
}

/// How a re-published version of a month differs from the first: what the TLC does when it
/// replaces a file with corrected values, withdrawn trips and late trips.
#[derive(Debug, Clone)]
pub struct Republish {
    /// Fraction of rows whose fare (and total) is corrected by one dollar.
    pub correct: f64,
    /// Fraction of rows withdrawn.
    pub withdraw: f64,
    /// Late trips added, generated for month `month` of `year`.
    pub add: usize,
    pub year: i32,
    pub month: u32,
    pub seed: u64,
}

impl Default for Republish {
    fn default() -> Self {
        Republish {
            correct: 0.01,
            withdraw: 0.002,
            add: 500,
            year: 2024,
            month: 1,
            seed: 7,
        }
    }
}

/// The re-published version of `trips`: corrected rows in place, withdrawn rows gone, the late
/// trips at the end. Returns it with how many rows were corrected and withdrawn.
pub fn republish(trips: &TripBatch, r: &Republish) -> (TripBatch, usize, usize) {
    let mut rng = Rng::new(r.seed);
    let d = trips.dataset;
    let mut out = TripBatch::empty(d, trips.len() + r.add);
    // The fare and the total are corrected; a dataset without amounts gets a later dropoff.
    let corrected_columns: Vec<usize> = ["fare_amount", "total_amount", "base_passenger_fare"]
        .iter()
        .filter_map(|c| d.column(c))
        .collect();
    let (mut corrected, mut withdrawn) = (0, 0);
    for row in 0..trips.len() {
        if rng.chance(r.withdraw) {
            withdrawn += 1;
            continue;
        }
        out.push_row(trips, row);
        if rng.chance(r.correct) {
            let last = out.len() - 1;
            for &col in &corrected_columns {
                if let Values::Money(v) = &mut out.columns[col] {
                    v[last] = Some(v[last].unwrap_or(0) + 100);
                }
            }
            if corrected_columns.is_empty() {
                if let Values::Timestamp(v) = &mut out.columns[d.dropoff] {
                    v[last] = Some(v[last].unwrap_or(0) + 60 * US_PER_SEC);
                }
            }
            corrected += 1;
        }
    }
    let late = generate(&Options {
        dataset: d,
        rows: r.add,
        year: r.year,
        month: r.month,
        seed: r.seed.wrapping_mul(31).wrapping_add(1),
        duplicate_rate: 0.0,
        ..Options::default()
    });
    out.extend_rows(&late, 0..late.len());
    (out, corrected, withdrawn)
}

#[cfg(test)]
mod republish_tests {
    use super::*;

    #[test]
    fn a_republished_month_corrects_withdraws_and_adds() {
        let first = generate(&Options {
            rows: 20_000,
            ..Options::default()
        });
        let (second, corrected, withdrawn) = republish(&first, &Republish::default());
        assert_eq!(second.len(), 20_000 - withdrawn + 500);
        // About 1% and 0.2% of 20,000.
        assert!((150..=250).contains(&corrected), "{corrected}");
        assert!((20..=60).contains(&withdrawn), "{withdrawn}");
        let fares = |b: &TripBatch| match &b.columns[idx::FARE_AMOUNT] {
            Values::Money(v) => v.iter().flatten().sum::<i64>(),
            _ => unreachable!(),
        };
        // The same seed gives the same version.
        assert_eq!(republish(&first, &Republish::default()).0, second);
        assert_ne!(fares(&first), fares(&second));
    }
}
