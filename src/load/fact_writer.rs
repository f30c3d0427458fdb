//! Fact rows straight into the partitions' heaps, next to the trips on the direct write path:
//! one [`HeapWriter`] per partition, Datums built from the facts `taxi_core::facts` computed and
//! from the trip tuple's own Datums. Used only while the fact table is plain (see
//! `taxi_core::sql::star::INSPECT_FACTS`), so nothing INSERT would do is skipped; rows are
//! routed to partitions by the same month rule the partition bounds encode.

use std::collections::HashMap;

use pgrx::{pg_sys, IntoDatum, PgMemoryContexts};
use taxi_core::dataset::Dataset;
use taxi_core::facts::{Fact, Partition};
use taxi_core::sql::star::copied_from;

use crate::load::star::Star;
use crate::postgres::datum;
use crate::postgres::heap::HeapWriter;

/// Where each attribute of a fact tuple comes from.
#[derive(Clone, Copy)]
enum Source {
    RowHash,
    LoadId,
    Trip(usize),
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
    Null,
}

fn source(dataset: &Dataset, name: Option<&str>) -> Source {
    let Some(name) = name else {
        return Source::Null;
    };
    match name {
        "row_hash" => Source::RowHash,
        "load_id" => Source::LoadId,
        "date_key" => Source::DateKey,
        "time_key" => Source::TimeKey,
        "pickup_location_key" => Source::PickupLocation,
        "dropoff_location_key" => Source::DropoffLocation,
        "vendor_key" => Source::Vendor,
        "rate_code_key" => Source::RateCode,
        "payment_type_key" => Source::PaymentType,
        "trip_duration_minutes" => Source::Duration,
        "avg_speed_mph" => Source::Speed,
        "tip_pct" => Source::TipPct,
        "is_airport_trip" => Source::Airport,
        "is_cross_borough" => Source::CrossBorough,
        "is_cash" => Source::Cash,
        "is_long_distance" => Source::Long,
        "is_short_distance" => Source::Short,
        "service_key" => Source::Service,
        other => copied_from(dataset, other)
            .and_then(|trip| dataset.column(trip))
            .map_or(Source::Null, Source::Trip),
    }
}

struct Part {
    heap: HeapWriter,
    sources: Vec<Source>,
}

/// A value of the trip a fact copies, as the trip tuple already holds it.
#[derive(Clone, Copy)]
pub enum Copied {
    RowHash,
    Trip(usize),
}

pub struct FactWriter {
    dataset: &'static Dataset,
    parts: HashMap<Partition, Part>,
    load_id: i64,
    /// Where partitions' relations and slots are allocated: `stage` runs in the trip writer's
    /// per-batch context, which is reset after every batch.
    context: pg_sys::MemoryContext,
}

impl FactWriter {
    /// # Safety
    /// Only while `star.direct`, with the partitions locked by `Star::open` or created by this
    /// transaction.
    pub unsafe fn open(dataset: &'static Dataset, load_id: i64) -> FactWriter {
        FactWriter {
            dataset,
            parts: HashMap::new(),
            load_id,
            context: unsafe { pg_sys::CurrentMemoryContext },
        }
    }

    /// Fills the next fact tuple of `fact`'s partition (its partition must be prepared).
    /// `copy` gives the Datums the trip's tuple already holds — built once, in the writer's
    /// current memory context, which must outlive the next [`FactWriter::flush`].
    ///
    /// # Safety
    /// In the memory context of the trip Datums `copy` returns.
    pub unsafe fn stage(
        &mut self,
        star: &Star,
        fact: &Fact,
        copy: impl Fn(Copied) -> Option<pg_sys::Datum>,
        numeric: &mut Vec<u8>,
    ) {
        let (load_id, context, dataset) = (self.load_id, self.context, self.dataset);
        let part = self.parts.entry(fact.partition).or_insert_with(|| unsafe {
            PgMemoryContexts::For(context).switch_to(|_| {
                // SAFETY (frozen): a table this load created, in its subtransaction.
                let heap = HeapWriter::open(
                    star.partition_oid(fact.partition),
                    star.created(fact.partition),
                );
                let sources = heap
                    .attributes()
                    .iter()
                    .map(|a| source(dataset, a.as_deref()))
                    .collect();
                Part { heap, sources }
            })
        });
        let sources = &part.sources;
        unsafe {
            part.heap.push(|values, nulls| {
                for (a, source) in sources.iter().enumerate() {
                    let value = match *source {
                        Source::RowHash => copy(Copied::RowHash),
                        Source::LoadId => load_id.into_datum(),
                        Source::Trip(c) => copy(Copied::Trip(c)),
                        Source::DateKey => fact.date_key.into_datum(),
                        Source::TimeKey => fact.time_key.into_datum(),
                        Source::PickupLocation => fact.pickup_location_key.into_datum(),
                        Source::DropoffLocation => fact.dropoff_location_key.into_datum(),
                        Source::Vendor => fact.vendor_key.into_datum(),
                        Source::RateCode => fact.rate_code_key.into_datum(),
                        Source::PaymentType => fact.payment_type_key.into_datum(),
                        Source::Duration => fact.trip_duration_minutes.into_datum(),
                        Source::Speed => fact.avg_speed_mph.into_datum(),
                        Source::TipPct => fact
                            .tip_pct_hundredths
                            .map(|h| datum::numeric_value(h, numeric)),
                        Source::Airport => fact.is_airport_trip.into_datum(),
                        Source::CrossBorough => fact.is_cross_borough.into_datum(),
                        Source::Cash => fact.is_cash.into_datum(),
                        Source::Long => fact.is_long_distance.into_datum(),
                        Source::Short => fact.is_short_distance.into_datum(),
                        Source::Service => fact.service_key.into_datum(),
                        Source::Null => None,
                    };
                    nulls[a] = value.is_none();
                    values[a] = value.unwrap_or(pg_sys::Datum::from(0usize));
                }
            });
        }
    }

    /// Writes every staged fact. Before the memory their Datums live in is reset.
    pub fn flush(&mut self) {
        for part in self.parts.values_mut() {
            part.heap.flush();
        }
    }

    pub fn finish(self) {
        for (_, part) in self.parts {
            part.heap.finish();
        }
    }
}
