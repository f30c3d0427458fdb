//! Fact rows straight into the partitions' heaps, next to the trips on the direct write path:
//! `table_multi_insert` per partition, Datums built from the chunk's Rust values and the facts
//! computed by `star::facts` (on the rayon pool: plain Rust data only). Used only while the fact
//! table is plain (see `star::sql::INSPECT_FACTS`), so nothing INSERT would do is skipped; rows
//! are routed to partitions by the same month rule the partition bounds encode.

use std::collections::HashMap;

use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, PgTupleDesc};
use rayon::prelude::*;

use crate::convert::numeric::numeric_from_cents;
use crate::merge::direct::varlena;
use crate::star::facts::{Fact, Inputs, Partition};
use crate::star::{sql, Star};
use crate::threads;
use crate::trip::{TripBatch, COLUMNS};

/// Rows per `table_multi_insert` call.
const BATCH: usize = 1000;

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
    Null,
}

fn source(name: &str) -> Source {
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
        other => sql::copied_from(other)
            .and_then(|trip| COLUMNS.iter().position(|c| c.name == trip))
            .map_or(Source::Null, Source::Trip),
    }
}

struct Part {
    rel: pg_sys::Relation,
    slots: Vec<*mut pg_sys::TupleTableSlot>,
    sources: Vec<Source>,
    bistate: *mut pg_sys::BulkInsertStateData,
    /// Slots filled and not yet written.
    pending: usize,
}

impl Part {
    unsafe fn open(oid: pg_sys::Oid) -> Part {
        unsafe {
            let rel = pg_sys::table_open(oid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
            let tupdesc = PgTupleDesc::from_pg_unchecked((*rel).rd_att);
            let sources = (0..tupdesc.len())
                .map(|i| {
                    let att = tupdesc.get(i).expect("attribute");
                    if att.attisdropped {
                        Source::Null
                    } else {
                        source(att.name())
                    }
                })
                .collect();
            Part {
                rel,
                slots: (0..BATCH)
                    .map(|_| pg_sys::table_slot_create(rel, std::ptr::null_mut()))
                    .collect(),
                sources,
                bistate: pg_sys::GetBulkInsertState(),
                pending: 0,
            }
        }
    }

    unsafe fn flush(&mut self, cid: pg_sys::CommandId) {
        if self.pending == 0 {
            return;
        }
        unsafe {
            pg_sys::table_multi_insert(
                self.rel,
                self.slots.as_mut_ptr(),
                self.pending as i32,
                cid,
                0,
                self.bistate,
            );
            for &slot in &self.slots[..self.pending] {
                pg_sys::ExecClearTuple(slot);
            }
        }
        self.pending = 0;
    }
}

/// A value of the trip a fact copies, as the trip tuple already holds it.
#[derive(Clone, Copy)]
pub enum Copied {
    RowHash,
    Trip(usize),
}

pub struct FactWriter {
    parts: HashMap<Partition, Part>,
    cid: pg_sys::CommandId,
    load_id: i64,
    /// Where partitions' relations and slots are allocated: `stage` runs in the trip writer's
    /// per-batch context, which is reset after every batch.
    context: pg_sys::MemoryContext,
}

impl FactWriter {
    /// # Safety
    /// Only while `star.direct`, with the partitions locked by `star::open` or created by this
    /// transaction.
    pub unsafe fn open(load_id: i64) -> FactWriter {
        FactWriter {
            parts: HashMap::new(),
            cid: unsafe { pg_sys::GetCurrentCommandId(true) },
            load_id,
            context: unsafe { pg_sys::CurrentMemoryContext },
        }
    }

    /// The facts of rows `rows` of `batch`, computed on the rayon pool.
    pub fn compute(star: &Star, batch: &TripBatch, rows: &[usize]) -> Vec<Fact> {
        let inputs = Inputs::new(batch);
        threads::pool().install(|| {
            rows.par_iter()
                .map(|&r| inputs.fact(r, &star.dims))
                .collect()
        })
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
        let cid = self.cid;
        let load_id = self.load_id;
        let context = self.context;
        let part = self.parts.entry(fact.partition).or_insert_with(|| unsafe {
            PgMemoryContexts::For(context)
                .switch_to(|_| Part::open(star.partition_oid(fact.partition)))
        });
        unsafe {
            let slot = part.slots[part.pending];
            pg_sys::ExecClearTuple(slot);
            let natts = part.sources.len();
            let values = std::slice::from_raw_parts_mut((*slot).tts_values, natts);
            let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, natts);
            for (a, source) in part.sources.iter().enumerate() {
                let datum = match *source {
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
                    Source::TipPct => fact.tip_pct_hundredths.map(|h| {
                        numeric.clear();
                        numeric_from_cents(h, numeric);
                        varlena(numeric)
                    }),
                    Source::Airport => fact.is_airport_trip.into_datum(),
                    Source::CrossBorough => fact.is_cross_borough.into_datum(),
                    Source::Cash => fact.is_cash.into_datum(),
                    Source::Long => fact.is_long_distance.into_datum(),
                    Source::Short => fact.is_short_distance.into_datum(),
                    Source::Null => None,
                };
                nulls[a] = datum.is_none();
                values[a] = datum.unwrap_or(pg_sys::Datum::from(0usize));
            }
            pg_sys::ExecStoreVirtualTuple(slot);
            part.pending += 1;
            if part.pending == BATCH {
                part.flush(cid);
            }
        }
    }

    /// Writes every staged fact. Before the memory their Datums live in is reset.
    ///
    /// # Safety
    /// In (or below) the memory context the staged Datums were built in.
    pub unsafe fn flush(&mut self) {
        for part in self.parts.values_mut() {
            unsafe { part.flush(self.cid) };
        }
    }

    pub fn finish(mut self) {
        unsafe { self.flush() };
        for (_, part) in self.parts {
            unsafe {
                for slot in part.slots {
                    pg_sys::ExecDropSingleTupleTableSlot(slot);
                }
                pg_sys::FreeBulkInsertState(part.bistate);
                pg_sys::table_close(part.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
            }
        }
    }
}
