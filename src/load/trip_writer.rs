//! The direct write path: trips go straight into one month partition's heap through a
//! [`HeapWriter`], as COPY writes them, Datums built from the chunk's Rust values without text
//! formatting or parsing, and with them (when the star schema is filled directly) their fact
//! rows, which reuse the trip's Datums. Used only for a partition whose indexes the load rebuilds
//! afterwards and that nothing else reads meanwhile (a new month's own table, or a month locked
//! exclusively: `partitions`), with no triggers, no row security and no column the loader does
//! not fill, by a role that owns the tables: nothing the executor would have done is skipped.

use pgrx::{pg_sys, IntoDatum, PgMemoryContexts};
use taxi_core::dataset::Dataset;
use taxi_core::facts::Fact;
use taxi_core::hash::RowHash;
use taxi_core::trip::TripBatch;

use crate::load::fact_writer::{FactTables, FactWriter};
use crate::postgres::datum;
use crate::postgres::heap::{HeapWriter, BATCH};
use taxi_core::consistency::Copied;

/// Where each attribute of the target's tuple comes from.
enum Source {
    RowHash,
    LoadId,
    Flags,
    Trip(usize),
    Null,
}

pub struct TripWriter {
    heap: HeapWriter,
    sources: Vec<Source>,
    /// Where a fact finds the trip's values in a trip tuple: the row hash's attribute, and each
    /// trip column's.
    hash_attr: Option<usize>,
    trip_attr: Vec<Option<usize>>,
    rows_memory: PgMemoryContexts,
    load_id: i64,
}

impl TripWriter {
    /// # Safety
    /// `relid` must be a partition of `dataset`'s table, locked by this transaction, and
    /// eligible as the module comment says. `frozen` only if this transaction truncated it (see
    /// [`HeapWriter::open`]).
    pub unsafe fn open(
        relid: pg_sys::Oid,
        dataset: &'static Dataset,
        load_id: i64,
        frozen: bool,
    ) -> TripWriter {
        let heap = unsafe { HeapWriter::open(relid, frozen) };
        let sources = heap
            .attributes()
            .iter()
            .map(|name| match name.as_deref() {
                None => Source::Null,
                Some("row_hash") => Source::RowHash,
                Some("load_id") => Source::LoadId,
                Some("quality_flags") => Source::Flags,
                Some(name) => dataset.column(name).map_or(Source::Null, Source::Trip),
            })
            .collect::<Vec<_>>();
        let hash_attr = sources.iter().position(|s| matches!(s, Source::RowHash));
        let trip_attr = (0..dataset.columns.len())
            .map(|c| {
                sources
                    .iter()
                    .position(|s| matches!(s, Source::Trip(t) if *t == c))
            })
            .collect();
        TripWriter {
            heap,
            sources,
            hash_attr,
            trip_attr,
            rows_memory: PgMemoryContexts::new("taxi_load rows"),
            load_id,
        }
    }

    /// Writes rows `rows` of `batch`, and with `facts` their fact rows (`facts.2[i]` of
    /// `rows[i]`), reusing the Datums built for the trips.
    pub fn write(
        &mut self,
        batch: &TripBatch,
        hashes: &[RowHash],
        flags: &[i16],
        rows: &[usize],
        mut facts: Option<(&mut FactWriter, &dyn FactTables, &[Fact])>,
    ) {
        let TripWriter {
            heap,
            sources,
            hash_attr,
            trip_attr,
            rows_memory,
            load_id,
        } = self;
        let mut numeric = Vec::with_capacity(16);
        for (g, group) in rows.chunks(BATCH).enumerate() {
            // SAFETY: every Datum of a group lives in rows_memory, which is reset only after the
            // group's trips and facts were written.
            unsafe {
                rows_memory.switch_to(|_| {
                    for (i, &row) in group.iter().enumerate() {
                        heap.push(|values, nulls| {
                            for (a, source) in sources.iter().enumerate() {
                                let value = match source {
                                    Source::RowHash => Some(datum::varlena(&hashes[row])),
                                    Source::LoadId => load_id.into_datum(),
                                    Source::Flags => flags[row].into_datum(),
                                    Source::Trip(c) => {
                                        datum::trip_value(&batch.columns[*c], row, &mut numeric)
                                    }
                                    Source::Null => None,
                                };
                                nulls[a] = value.is_none();
                                values[a] = value.unwrap_or(pg_sys::Datum::from(0usize));
                            }
                            if let Some((writer, tables, facts)) = facts.as_mut() {
                                let read = |attr: Option<usize>| {
                                    attr.and_then(|a| (!nulls[a]).then_some(values[a]))
                                };
                                writer.stage(
                                    *tables,
                                    &facts[g * BATCH + i],
                                    |copied| match copied {
                                        Copied::RowHash => read(*hash_attr),
                                        Copied::LoadId => load_id.into_datum(),
                                        Copied::Trip(c) => read(trip_attr[c]),
                                    },
                                    &mut numeric,
                                );
                            }
                        });
                    }
                    heap.flush();
                    if let Some((writer, _, _)) = facts.as_mut() {
                        writer.flush();
                    }
                });
                rows_memory.reset();
            }
        }
    }

    pub fn finish(self) {
        self.heap.finish();
    }
}
