//! The months both partitioned tables are split by: `taxi.yellow_taxi_trips` and
//! `taxi.fact_trips` have the same partitions, one per month of pickup for 2000-2099 and two
//! catch-alls, so a month's trips and facts can be written, checked and dropped together.
//! The bounds are encoded once more in SQL (`taxi.partition_bounds`, sql/partitions.sql); a
//! pg_test compares the two.

use crate::calendar::{civil_from_days, days_from_civil, next_month, US_PER_DAY};

/// Monthly partitions and calendar days exist for these years; pickups outside go to the
/// catch-all partitions and map to date_key 0.
pub const FIRST_YEAR: i32 = 2000;
pub const LAST_YEAR: i32 = 2099;

/// The advisory-lock class of month locks (`pg_advisory_xact_lock(MONTH_LOCK_CLASS, key)`):
/// "taxi" in ASCII, so it is unlikely to collide with an application's own advisory locks.
pub const MONTH_LOCK_CLASS: i32 = 0x7461_7869;

/// Which partition a pickup belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Partition {
    Before,
    /// year * 12 + month - 1
    Month(i32),
    After,
}

pub(crate) fn partition_of(year: i32, month: u32) -> Partition {
    if year < FIRST_YEAR {
        Partition::Before
    } else if year > LAST_YEAR {
        Partition::After
    } else {
        Partition::Month(year * 12 + month as i32 - 1)
    }
}

impl Partition {
    /// The partition holding month `month` (1-12) of `year`.
    pub fn of_month(year: i32, month: u32) -> Partition {
        partition_of(year, month)
    }

    /// The partition of a pickup in microseconds since 1970-01-01 (as [`crate::trip`] holds it).
    pub fn of_pickup(us: i64) -> Partition {
        let (year, month, _) = civil_from_days(us.div_euclid(US_PER_DAY));
        partition_of(year, month)
    }

    /// A month (year, month) inside the partition: what the SQL functions that create
    /// partitions take to name one.
    pub fn month(self) -> (i32, u32) {
        match self {
            Partition::Before => (FIRST_YEAR - 1, 12),
            Partition::After => (LAST_YEAR + 1, 1),
            Partition::Month(m) => (m.div_euclid(12), m.rem_euclid(12) as u32 + 1),
        }
    }

    /// The pickups it holds, [lower, upper) in microseconds since 1970-01-01; None: unbounded.
    pub fn bounds_us(self) -> (Option<i64>, Option<i64>) {
        let first = |y: i32, m: u32| days_from_civil(y, m, 1) * US_PER_DAY;
        match self {
            Partition::Before => (None, Some(first(FIRST_YEAR, 1))),
            Partition::After => (Some(first(LAST_YEAR + 1, 1)), None),
            Partition::Month(_) => {
                let (y, m) = self.month();
                let (ny, nm) = next_month(y, m);
                (Some(first(y, m)), Some(first(ny, nm)))
            }
        }
    }

    fn suffix(self) -> String {
        match self {
            Partition::Before => format!("before_{FIRST_YEAR}"),
            Partition::After => format!("from_{}", LAST_YEAR + 1),
            Partition::Month(m) => format!("y{:04}m{:02}", m.div_euclid(12), m.rem_euclid(12) + 1),
        }
    }

    /// The partition a table name ends in (`…_y2024m01`, `…_before_2000`, `…_from_2100`), if
    /// `name` is `prefix` followed by `_` and a partition's suffix.
    pub fn of_table(prefix: &str, name: &str) -> Option<Partition> {
        let suffix = name.strip_prefix(prefix)?.strip_prefix('_')?;
        if suffix == Partition::Before.suffix() {
            return Some(Partition::Before);
        }
        if suffix == Partition::After.suffix() {
            return Some(Partition::After);
        }
        let rest = suffix.strip_prefix('y')?;
        let (year, month) = rest.split_once('m')?;
        if year.len() != 4 || month.len() != 2 {
            return None;
        }
        let (year, month): (i32, u32) = (year.parse().ok()?, month.parse().ok()?);
        let p = partition_of(year, month);
        ((1..=12).contains(&month) && matches!(p, Partition::Month(_))).then_some(p)
    }

    /// The fact partition's table name in schema taxi.
    pub fn fact_table(self) -> String {
        format!("fact_trips_{}", self.suffix())
    }

    /// The partition's table name in schema taxi of `dataset`'s trips.
    pub fn trip_table(self, dataset: &crate::dataset::Dataset) -> String {
        format!("{}_{}", dataset.table, self.suffix())
    }

    /// The second key of the partition's month lock; sorts as the partitions do, so loads that
    /// take their months' locks in this order cannot deadlock on them.
    pub fn lock_key(self) -> i32 {
        match self {
            Partition::Before => i32::MIN,
            Partition::Month(m) => m,
            Partition::After => i32::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * US_PER_DAY
    }

    #[test]
    fn pickups_fall_into_their_month_and_the_catch_alls() {
        assert_eq!(
            Partition::of_pickup(at(2024, 1, 1)),
            Partition::Month(2024 * 12)
        );
        assert_eq!(
            Partition::of_pickup(at(2024, 2, 1) - 1),
            Partition::Month(2024 * 12)
        );
        assert_eq!(
            Partition::of_pickup(at(2024, 2, 1)),
            Partition::Month(2024 * 12 + 1)
        );
        assert_eq!(Partition::of_pickup(at(1999, 12, 31)), Partition::Before);
        assert_eq!(
            Partition::of_pickup(at(2000, 1, 1)),
            Partition::Month(2000 * 12)
        );
        assert_eq!(Partition::of_pickup(at(2100, 1, 1)), Partition::After);
        assert_eq!(Partition::of_pickup(at(1970, 1, 1) - 1), Partition::Before);
    }

    #[test]
    fn names_months_and_lock_order() {
        let jan = Partition::Month(2024 * 12);
        assert_eq!(
            jan.trip_table(&crate::dataset::YELLOW),
            "yellow_taxi_trips_y2024m01"
        );
        assert_eq!(jan.fact_table(), "fact_trips_y2024m01");
        assert_eq!(
            Partition::Before.trip_table(&crate::dataset::YELLOW),
            "yellow_taxi_trips_before_2000"
        );
        assert_eq!(Partition::After.fact_table(), "fact_trips_from_2100");
        assert_eq!(Partition::Before.month(), (1999, 12));
        assert_eq!(Partition::After.month(), (2100, 1));
        assert_eq!(Partition::Month(2024 * 12 + 11).month(), (2024, 12));
        let dec = Partition::Month(2024 * 12 + 11);
        assert_eq!(
            dec.bounds_us(),
            (Some(at(2024, 12, 1)), Some(at(2025, 1, 1)))
        );
        assert_eq!(Partition::Before.bounds_us(), (None, Some(at(2000, 1, 1))));
        assert_eq!(Partition::After.bounds_us(), (Some(at(2100, 1, 1)), None));
        for p in [Partition::Before, dec, Partition::After] {
            let (lo, hi) = p.bounds_us();
            for us in [lo, hi.map(|h| h - 1)].into_iter().flatten() {
                assert_eq!(Partition::of_pickup(us), p);
            }
        }
        let mut parts = vec![
            Partition::After,
            jan,
            Partition::Before,
            Partition::Month(2002 * 12),
        ];
        let mut by_key = parts.clone();
        parts.sort();
        by_key.sort_by_key(|p| p.lock_key());
        assert_eq!(parts, by_key);
    }

    #[test]
    fn table_names_give_their_partition() {
        for p in [
            Partition::Before,
            Partition::After,
            Partition::of_month(2009, 1),
            Partition::of_month(2024, 12),
        ] {
            assert_eq!(Partition::of_table("fact_trips", &p.fact_table()), Some(p));
            let t = p.trip_table(&crate::dataset::FHVHV);
            assert_eq!(Partition::of_table("fhvhv_trips", &t), Some(p), "{t}");
        }
        for bad in [
            "fact_trips",
            "fact_trips_y2024m13",
            "fact_trips_y2024m1",
            "fact_trips_y1999m01",
            "fact_trips_old",
            "fact_tripsy2024m01",
            "fhvhv_trips_y2024m01",
        ] {
            assert_eq!(Partition::of_table("fact_trips", bad), None, "{bad}");
        }
    }
}
