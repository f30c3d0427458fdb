//! Fact rows straight into the partitions' heaps, next to the trips on the direct write path:
//! one [`HeapWriter`] per partition, and for each its [`FactEncoder`], which builds the tuples'
//! bytes (on the pool's threads) from the facts `taxi_core::facts` computed and from the trip's
//! own values. Used only while the fact table is plain (see `taxi_core::sql::star::INSPECT_FACTS`),
//! so nothing INSERT would do is skipped; rows are routed to partitions by the same month rule
//! the partition bounds encode.

use std::collections::HashMap;

use pgrx::{pg_sys, PgMemoryContexts};
use taxi_core::consistency::{origin, Copied, Origin};
use taxi_core::dataset::Dataset;
use taxi_core::facts::{Fact, Partition};
use taxi_core::tuple::{Cell, Layout, Tuples};

use crate::postgres::heap::HeapWriter;

/// Where a month's facts go: the table, and whether this transaction created it (its rows may
/// then be written frozen, as COPY FREEZE writes them). The star schema's partitions on a single
/// node (`load::star::Star`); a worker's fact shards on Citus (`load::shard_writer`).
pub trait FactTables {
    fn fact_table(&self, p: Partition) -> (pg_sys::Oid, bool);
}

/// How a partition's fact tuples are built: plain data, used on the pool's threads.
pub struct FactEncoder {
    layout: Layout,
    origins: Vec<Origin>,
}

impl FactEncoder {
    /// Appends the tuple of `fact` to `out`; `copy` gives the trip's values a fact repeats.
    pub fn encode<'a>(
        &self,
        fact: &Fact,
        copy: impl Fn(Copied) -> Cell<'a>,
        cells: &mut Vec<Cell<'a>>,
        out: &mut Tuples,
    ) {
        cells.clear();
        cells.extend(self.origins.iter().map(|&origin| match origin {
            Origin::Copied(c) => copy(c),
            Origin::DateKey => Cell::int(fact.date_key.into()),
            Origin::TimeKey => Cell::int(fact.time_key.into()),
            Origin::PickupLocation => Cell::int(fact.pickup_location_key.into()),
            Origin::DropoffLocation => Cell::int(fact.dropoff_location_key.into()),
            Origin::Vendor => Cell::int(fact.vendor_key.into()),
            Origin::RateCode => Cell::int(fact.rate_code_key.into()),
            Origin::PaymentType => Cell::int(fact.payment_type_key.into()),
            Origin::Duration => Cell::float(fact.trip_duration_minutes),
            Origin::Speed => Cell::float(fact.avg_speed_mph),
            Origin::TipPct => fact.tip_pct_hundredths.map_or(Cell::Null, Cell::Numeric),
            Origin::Airport => Cell::bool(fact.is_airport_trip),
            Origin::CrossBorough => Cell::bool(fact.is_cross_borough),
            Origin::Cash => Cell::bool(fact.is_cash),
            Origin::Long => Cell::bool(fact.is_long_distance),
            Origin::Short => Cell::bool(fact.is_short_distance),
            Origin::Service => Cell::int(fact.service_key.into()),
            Origin::Null => Cell::Null,
        }));
        out.push(&self.layout, cells);
    }
}

pub struct FactWriter {
    dataset: &'static Dataset,
    heaps: HashMap<Partition, HeapWriter>,
    encoders: HashMap<Partition, FactEncoder>,
    /// Where partitions' relations and slots are allocated: the writer's creator's context.
    context: pg_sys::MemoryContext,
}

impl FactWriter {
    /// # Safety
    /// Only while the fact table is plain (`star.direct`), with the tables locked by `Star::open`
    /// or created by this transaction.
    pub unsafe fn open(dataset: &'static Dataset) -> FactWriter {
        FactWriter {
            dataset,
            heaps: HashMap::new(),
            encoders: HashMap::new(),
            context: unsafe { pg_sys::CurrentMemoryContext },
        }
    }

    /// Opens the partitions of `facts` not open yet, so their encoders exist before the tuples
    /// are built.
    pub fn prepare(&mut self, tables: &dyn FactTables, facts: &[Fact]) {
        let (context, dataset) = (self.context, self.dataset);
        for fact in facts {
            let p = fact.partition;
            if self.heaps.contains_key(&p) {
                continue;
            }
            // SAFETY (frozen): a table this load created, in its subtransaction; the writer's
            // relation and slots live in the writer's context, which outlives it.
            let heap = unsafe {
                PgMemoryContexts::For(context).switch_to(|_| {
                    let (oid, created) = tables.fact_table(p);
                    HeapWriter::open(oid, created)
                })
            };
            let origins = heap
                .attributes()
                .iter()
                .map(|a| origin(dataset, a.as_deref()))
                .collect();
            self.encoders.insert(
                p,
                FactEncoder {
                    layout: heap.layout(),
                    origins,
                },
            );
            self.heaps.insert(p, heap);
        }
    }

    /// The encoders of the partitions prepared, and the writer to add their tuples with.
    pub fn split(&mut self) -> (&HashMap<Partition, FactEncoder>, FactHeaps<'_>) {
        (&self.encoders, FactHeaps(&mut self.heaps))
    }

    pub fn finish(self) {
        for (_, heap) in self.heaps {
            heap.finish();
        }
    }
}

/// The fact partitions' heaps, while their encoders are lent out.
pub struct FactHeaps<'w>(&'w mut HashMap<Partition, HeapWriter>);

impl FactHeaps<'_> {
    /// Adds the tuples `p`'s encoder built, and writes them.
    ///
    /// # Safety
    /// `tuples` must come from `p`'s [`FactEncoder`].
    pub unsafe fn write(&mut self, p: Partition, tuples: &Tuples) {
        let heap = self.0.get_mut(&p).expect("a prepared fact partition");
        for tuple in tuples.iter() {
            // SAFETY: tuples outlives the flush below.
            unsafe { heap.push(tuple) };
        }
        heap.flush();
    }
}
