//! What `taxi_check_consistency` compares, pgrx-free: a month's facts as stored, and as the
//! month's trips define them, each reduced to one digest per dataset.
//!
//! A fact row is encoded column by column in [`FACT_COLUMNS`] order — NULL, or the bytes
//! PostgreSQL stores (a fixed-size value's little-endian bytes, a varlena's payload) — and hashed
//! to 128 bits (XXH3). A month's digest is the number of rows and the wrapping sum of their
//! hashes, so the order the rows are read in does not matter. The stored side encodes each fact
//! tuple's Datums. The expected side encodes what the direct write path stores for each trip: the
//! Datums the fact copies from the trip tuple, and the computed [`Fact`] values as their Datums
//! hold them ([`expected_record`]).
//!
//! Equal digests mean equal rows, but for a 2⁻¹²⁸ accident: the month needs no row comparison.
//! Different digests send the month to the SQL comparison, which decides by value and names the
//! trips. Equal values may encode differently (a numeric 1.5 and 1.50): such a month is only
//! slower to check, never reported wrongly.

use twox_hash::XxHash3_128;

use crate::dataset::Dataset;
use crate::facts::Fact;
use crate::sql::star::{copied_from, FACT_COLUMNS};

/// A value of the trip that a fact column copies, as the trip tuple holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copied {
    RowHash,
    LoadId,
    /// The trip column at this position among the dataset's columns.
    Trip(usize),
}

/// Where the value of a fact column comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Copied(Copied),
    DateKey,
    TimeKey,
    PickupLocation,
    DropoffLocation,
    Vendor,
    RateCode,
    PaymentType,
    Duration,
    Speed,
    TipPct,
    Airport,
    CrossBorough,
    Cash,
    Long,
    Short,
    Service,
    /// The dataset has nothing for it (FHV's fares), or the column is not the loader's.
    Null,
}

/// The types computed fact values are stored as (sql/star.sql).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactType {
    Int2,
    Int4,
    Float8,
    Numeric,
    Bool,
}

impl Origin {
    /// The type a computed value's column must have for [`expected_record`]'s encoding to be
    /// the stored one; None for copies, whose column has the type of the trip column.
    pub fn computed_type(self) -> Option<FactType> {
        use Origin::*;
        match self {
            Copied(_) | Null => None,
            DateKey => Some(FactType::Int4),
            TimeKey | PickupLocation | DropoffLocation | Vendor | RateCode | PaymentType
            | Service => Some(FactType::Int2),
            Duration | Speed => Some(FactType::Float8),
            TipPct => Some(FactType::Numeric),
            Airport | CrossBorough | Cash | Long | Short => Some(FactType::Bool),
        }
    }
}

/// Where fact column `name` of `dataset`'s facts comes from; None: a column the loader does not
/// fill.
pub fn origin(dataset: &Dataset, name: Option<&str>) -> Origin {
    let Some(name) = name else {
        return Origin::Null;
    };
    match name {
        "row_hash" => Origin::Copied(Copied::RowHash),
        "load_id" => Origin::Copied(Copied::LoadId),
        "date_key" => Origin::DateKey,
        "time_key" => Origin::TimeKey,
        "pickup_location_key" => Origin::PickupLocation,
        "dropoff_location_key" => Origin::DropoffLocation,
        "vendor_key" => Origin::Vendor,
        "rate_code_key" => Origin::RateCode,
        "payment_type_key" => Origin::PaymentType,
        "trip_duration_minutes" => Origin::Duration,
        "avg_speed_mph" => Origin::Speed,
        "tip_pct" => Origin::TipPct,
        "is_airport_trip" => Origin::Airport,
        "is_cross_borough" => Origin::CrossBorough,
        "is_cash" => Origin::Cash,
        "is_long_distance" => Origin::Long,
        "is_short_distance" => Origin::Short,
        "service_key" => Origin::Service,
        other => copied_from(dataset, other)
            .and_then(|trip| dataset.column(trip))
            .map_or(Origin::Null, |c| Origin::Copied(Copied::Trip(c))),
    }
}

/// The origin of every column of [`FACT_COLUMNS`] for `dataset`'s facts, in that order.
pub fn origins(dataset: &Dataset) -> Vec<Origin> {
    FACT_COLUMNS
        .iter()
        .map(|c| origin(dataset, Some(c)))
        .collect()
}

/// One row's encoding, reused from row to row.
#[derive(Default)]
pub struct Record(Vec<u8>);

impl Record {
    pub fn null(&mut self) {
        self.0.push(0);
    }

    /// A value's bytes, length-prefixed so that no two rows' encodings run into each other.
    pub fn bytes(&mut self, bytes: &[u8]) {
        self.0.push(1);
        self.0
            .extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.0.extend_from_slice(bytes);
    }

    /// A fixed-size value of `len` bytes, as a by-value Datum holds it (`value`'s low bytes).
    pub fn fixed(&mut self, value: u64, len: usize) {
        self.bytes(&value.to_le_bytes()[..len]);
    }

    /// The row's hash; the record is empty again after.
    pub fn finish(&mut self) -> u128 {
        let h = XxHash3_128::oneshot(&self.0);
        self.0.clear();
        h
    }
}

/// Rows and the wrapping sum of their hashes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub rows: u64,
    pub sum: u128,
}

impl Digest {
    pub fn add(&mut self, row: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(row);
    }

    pub fn merge(self, other: Digest) -> Digest {
        Digest {
            rows: self.rows + other.rows,
            sum: self.sum.wrapping_add(other.sum),
        }
    }
}

/// Encodes into `record` the fact row the direct write path stores for a trip: `fact` computed
/// from it, `copied` giving the encoded bytes of the trip's own values (None: NULL). `numeric`
/// is scratch space.
pub fn expected_record<'a>(
    origins: &[Origin],
    fact: &Fact,
    copied: impl Fn(Copied) -> Option<&'a [u8]>,
    numeric: &mut Vec<u8>,
    record: &mut Record,
) {
    let key = |k: i16| k as u16 as u64;
    let float = |f: Option<f64>| f.map(f64::to_bits);
    for origin in origins {
        let (value, len) = match *origin {
            Origin::Copied(c) => {
                match copied(c) {
                    Some(bytes) => record.bytes(bytes),
                    None => record.null(),
                }
                continue;
            }
            Origin::TipPct => {
                match fact.tip_pct_hundredths {
                    Some(h) => {
                        numeric.clear();
                        crate::convert::numeric::numeric_from_cents(h, numeric);
                        record.bytes(numeric);
                    }
                    None => record.null(),
                }
                continue;
            }
            Origin::Null => (None, 0),
            Origin::DateKey => (Some(fact.date_key as u32 as u64), 4),
            Origin::TimeKey => (Some(key(fact.time_key)), 2),
            Origin::PickupLocation => (Some(key(fact.pickup_location_key)), 2),
            Origin::DropoffLocation => (Some(key(fact.dropoff_location_key)), 2),
            Origin::Vendor => (Some(key(fact.vendor_key)), 2),
            Origin::RateCode => (Some(key(fact.rate_code_key)), 2),
            Origin::PaymentType => (Some(key(fact.payment_type_key)), 2),
            Origin::Service => (Some(key(fact.service_key)), 2),
            Origin::Duration => (float(fact.trip_duration_minutes), 8),
            Origin::Speed => (float(fact.avg_speed_mph), 8),
            Origin::Airport => (Some(fact.is_airport_trip as u64), 1),
            Origin::CrossBorough => (Some(fact.is_cross_borough as u64), 1),
            Origin::Cash => (Some(fact.is_cash as u64), 1),
            Origin::Long => (Some(fact.is_long_distance as u64), 1),
            Origin::Short => (Some(fact.is_short_distance as u64), 1),
        };
        match value {
            Some(v) => record.fixed(v, len),
            None => record.null(),
        }
    }
}

/// The digest of the facts `facts` (of consecutive trips), computed on the worker pool:
/// `copied(i, c)` gives trip `i`'s encoded copy `c` (None: NULL).
pub fn expected_digest<'a>(
    origins: &[Origin],
    facts: &[Fact],
    copied: impl Fn(usize, Copied) -> Option<&'a [u8]> + Sync,
) -> Digest {
    use rayon::prelude::*;
    crate::threads::pool().install(|| {
        facts
            .par_iter()
            .enumerate()
            .fold(
                || (Record::default(), Vec::new(), Digest::default()),
                |(mut record, mut numeric, mut digest), (i, fact)| {
                    expected_record(origins, fact, |c| copied(i, c), &mut numeric, &mut record);
                    digest.add(record.finish());
                    (record, numeric, digest)
                },
            )
            .map(|(_, _, digest)| digest)
            .reduce(Digest::default, Digest::merge)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ALL, FHV, FHVHV, YELLOW};
    use crate::facts::Partition;

    #[test]
    fn every_fact_column_has_its_origin() {
        for d in ALL {
            let o = origins(d);
            assert_eq!(o.len(), FACT_COLUMNS.len());
            assert_eq!(o[0], Origin::Copied(Copied::LoadId));
            assert_eq!(o[18], Origin::Copied(Copied::RowHash));
            assert_eq!(o[30], Origin::Service);
        }
        let fhvhv = origins(&FHVHV);
        assert_eq!(
            fhvhv[2],
            Origin::Copied(Copied::Trip(FHVHV.column("trip_miles").unwrap()))
        );
        assert_eq!(origins(&FHV)[19], Origin::Null, "FHV has no fare");
        assert_eq!(origin(&YELLOW, Some("not_ours")), Origin::Null);
        assert_eq!(origin(&YELLOW, None), Origin::Null);
    }

    fn fact() -> Fact {
        Fact {
            partition: Partition::of_month(2024, 1),
            service_key: 1,
            date_key: 20240105,
            time_key: 7,
            pickup_location_key: 161,
            dropoff_location_key: -1,
            vendor_key: 2,
            rate_code_key: 1,
            payment_type_key: 1,
            trip_duration_minutes: Some(12.5),
            avg_speed_mph: None,
            tip_pct_hundredths: Some(1250),
            is_airport_trip: false,
            is_cross_borough: true,
            is_cash: false,
            is_long_distance: false,
            is_short_distance: true,
        }
    }

    fn hash(f: &Fact, copied: impl Fn(Copied) -> Option<&'static [u8]>) -> u128 {
        let (mut record, mut numeric) = (Record::default(), Vec::new());
        expected_record(&origins(&YELLOW), f, copied, &mut numeric, &mut record);
        record.finish()
    }

    #[test]
    fn the_expected_record_is_the_stored_encoding() {
        // What a stored fact's Datums encode to, written out by hand for the first columns.
        let (mut stored, mut numeric) = (Record::default(), Vec::new());
        let copies = |c: Copied| -> Option<&'static [u8]> {
            match c {
                Copied::LoadId => Some(&[7, 0, 0, 0, 0, 0, 0, 0]),
                Copied::RowHash => Some(&[0xAB; 32]),
                Copied::Trip(_) => None,
            }
        };
        let f = fact();
        let mut record = Record::default();
        expected_record(&origins(&YELLOW), &f, copies, &mut numeric, &mut record);
        let expected = record.0.clone();
        stored.bytes(&7u64.to_le_bytes()); // load_id
        stored.null(); // pickup_datetime (not given here)
        stored.null(); // trip_distance
        stored.bytes(&12.5f64.to_bits().to_le_bytes()); // trip_duration_minutes
        stored.null(); // avg_speed_mph
        stored.bytes(&20240105i32.to_le_bytes()); // date_key
        stored.bytes(&7i16.to_le_bytes()); // time_key
        stored.bytes(&161i16.to_le_bytes());
        stored.bytes(&(-1i16).to_le_bytes());
        assert!(expected.starts_with(&stored.0));
        // tip_pct: 12.50 as the short numeric.
        let mut tip = Vec::new();
        crate::convert::numeric::numeric_from_cents(1250, &mut tip);
        assert!(expected.windows(tip.len()).any(|w| w == tip));
    }

    #[test]
    fn a_changed_value_changes_the_hash() {
        let none = |_: Copied| -> Option<&'static [u8]> { None };
        let base = hash(&fact(), none);
        assert_eq!(base, hash(&fact(), none), "deterministic");
        let mut f = fact();
        f.vendor_key = 1;
        assert_ne!(hash(&f, none), base);
        let mut f = fact();
        f.tip_pct_hundredths = None;
        assert_ne!(hash(&f, none), base);
        let mut f = fact();
        f.is_short_distance = false;
        assert_ne!(hash(&f, none), base);
        // NULL and an empty value differ.
        let empty =
            |c: Copied| -> Option<&'static [u8]> { (c == Copied::RowHash).then_some(&[][..]) };
        assert_ne!(hash(&fact(), empty), base);
    }

    #[test]
    fn digests_ignore_order() {
        let (mut a, mut b) = (Digest::default(), Digest::default());
        for h in [1u128, u128::MAX, 5] {
            a.add(h);
        }
        for h in [5u128, 1, u128::MAX] {
            b.add(h);
        }
        assert_eq!(a, b);
        assert_eq!(a.rows, 3);
        let mut c = Digest::default();
        c.add(1);
        let mut d = Digest::default();
        d.add(u128::MAX);
        d.add(5);
        assert_eq!(c.merge(d), a);
        b.add(0);
        assert_ne!(a, b, "a row more counts even when its hash adds nothing");
    }

    #[test]
    fn the_pool_sums_what_one_thread_sums() {
        let facts: Vec<Fact> = (0..1000)
            .map(|i| Fact {
                time_key: (i % 24) as i16,
                ..fact()
            })
            .collect();
        let none = |_: usize, _: Copied| -> Option<&'static [u8]> { None };
        let mut one = Digest::default();
        let (mut record, mut numeric) = (Record::default(), Vec::new());
        for f in &facts {
            expected_record(&origins(&YELLOW), f, |_| None, &mut numeric, &mut record);
            one.add(record.finish());
        }
        assert_eq!(expected_digest(&origins(&YELLOW), &facts, none), one);
        assert_eq!(one.rows, 1000);
    }
}
