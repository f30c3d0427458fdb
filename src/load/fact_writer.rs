//! Fact rows straight into the partitions' heaps, next to the trips on the direct write path:
//! one [`HeapWriter`] per partition, Datums built from the facts `taxi_core::facts` computed and
//! from the trip tuple's own Datums. Used only while the fact table is plain (see
//! `taxi_core::sql::star::INSPECT_FACTS`), so nothing INSERT would do is skipped; rows are
//! routed to partitions by the same month rule the partition bounds encode.

use std::collections::HashMap;

use pgrx::{pg_sys, IntoDatum, PgMemoryContexts};
use taxi_core::consistency::{origin, Copied, Origin};
use taxi_core::dataset::Dataset;
use taxi_core::facts::{Fact, Partition};

use crate::postgres::datum;
use crate::postgres::heap::HeapWriter;

/// Where a month's facts go: the table, and whether this transaction created it (its rows may
/// then be written frozen, as COPY FREEZE writes them). The star schema's partitions on a single
/// node (`load::star::Star`); a worker's fact shards on Citus (`load::shard_writer`).
pub trait FactTables {
    fn fact_table(&self, p: Partition) -> (pg_sys::Oid, bool);
}

struct Part {
    heap: HeapWriter,
    origins: Vec<Origin>,
}

pub struct FactWriter {
    dataset: &'static Dataset,
    parts: HashMap<Partition, Part>,
    /// Where partitions' relations and slots are allocated: `stage` runs in the trip writer's
    /// per-batch context, which is reset after every batch.
    context: pg_sys::MemoryContext,
}

impl FactWriter {
    /// # Safety
    /// Only while the fact table is plain (`star.direct`), with the tables locked by `Star::open`
    /// or created by this transaction.
    pub unsafe fn open(dataset: &'static Dataset) -> FactWriter {
        FactWriter {
            dataset,
            parts: HashMap::new(),
            context: unsafe { pg_sys::CurrentMemoryContext },
        }
    }

    /// Fills the next fact tuple of `fact`'s partition (its partition must be prepared).
    /// `copy` gives the Datums the trip's tuple already holds (its load_id too) — built once, in the writer's
    /// current memory context, which must outlive the next [`FactWriter::flush`].
    ///
    /// # Safety
    /// In the memory context of the trip Datums `copy` returns.
    pub unsafe fn stage(
        &mut self,
        tables: &dyn FactTables,
        fact: &Fact,
        copy: impl Fn(Copied) -> Option<pg_sys::Datum>,
        numeric: &mut Vec<u8>,
    ) {
        let (context, dataset) = (self.context, self.dataset);
        let part = self.parts.entry(fact.partition).or_insert_with(|| unsafe {
            PgMemoryContexts::For(context).switch_to(|_| {
                // SAFETY (frozen): a table this load created, in its subtransaction.
                let (oid, created) = tables.fact_table(fact.partition);
                let heap = HeapWriter::open(oid, created);
                let origins = heap
                    .attributes()
                    .iter()
                    .map(|a| origin(dataset, a.as_deref()))
                    .collect();
                Part { heap, origins }
            })
        });
        let origins = &part.origins;
        unsafe {
            part.heap.push(|values, nulls| {
                for (a, origin) in origins.iter().enumerate() {
                    let value = match *origin {
                        Origin::Copied(c) => copy(c),
                        Origin::DateKey => fact.date_key.into_datum(),
                        Origin::TimeKey => fact.time_key.into_datum(),
                        Origin::PickupLocation => fact.pickup_location_key.into_datum(),
                        Origin::DropoffLocation => fact.dropoff_location_key.into_datum(),
                        Origin::Vendor => fact.vendor_key.into_datum(),
                        Origin::RateCode => fact.rate_code_key.into_datum(),
                        Origin::PaymentType => fact.payment_type_key.into_datum(),
                        Origin::Duration => fact.trip_duration_minutes.into_datum(),
                        Origin::Speed => fact.avg_speed_mph.into_datum(),
                        Origin::TipPct => fact
                            .tip_pct_hundredths
                            .map(|h| datum::numeric_value(h, numeric)),
                        Origin::Airport => fact.is_airport_trip.into_datum(),
                        Origin::CrossBorough => fact.is_cross_borough.into_datum(),
                        Origin::Cash => fact.is_cash.into_datum(),
                        Origin::Long => fact.is_long_distance.into_datum(),
                        Origin::Short => fact.is_short_distance.into_datum(),
                        Origin::Service => fact.service_key.into_datum(),
                        Origin::Null => None,
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
