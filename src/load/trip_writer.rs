//! The direct write path: trips go straight into one month partition's heap through a
//! [`HeapWriter`] (as COPY writes them, or as whole pages into a month's new table), their tuples
//! built as bytes on the pool from the chunk's Rust values without text formatting or parsing,
//! and with them (when the star schema is filled directly) their fact rows, which reuse the
//! trip's cells. Used only for a partition whose indexes the load rebuilds
//! afterwards and that nothing else reads meanwhile (a new month's own table, or a month locked
//! exclusively: `partitions`), with no triggers, no row security and no column the loader does
//! not fill, by a role that owns the tables: nothing the executor would have done is skipped.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc;

use pgrx::pg_sys;
use taxi_core::consistency::Copied;
use taxi_core::dataset::Dataset;
use taxi_core::facts::{Fact, Partition};
use taxi_core::hash::RowHash;
use taxi_core::threads;
use taxi_core::trip::TripBatch;
use taxi_core::tuple::{Cell, Layout, Tuples};

use crate::load::fact_writer::{FactEncoder, FactTables, FactWriter};
use crate::postgres::heap::{HeapWriter, BATCH};

/// Groups of `BATCH` rows whose tuples the pool builds ahead of the one being inserted.
const AHEAD: usize = 3;

/// Where each attribute of the target's tuple comes from.
enum Source {
    RowHash,
    LoadId,
    Flags,
    Trip(usize),
    Null,
}

/// How the trip tuples are built: plain data, used on the pool's threads.
struct TripEncoder {
    layout: Layout,
    sources: Vec<Source>,
    /// The attribute holding each of the dataset's columns, if the table stores it: a fact
    /// copies the trip tuple's value from there.
    trip_attr: Vec<Option<usize>>,
    load_id: i64,
}

/// One group's tuples: the trips', and their facts' by partition.
struct Encoded {
    trips: Tuples,
    facts: Vec<(Partition, Tuples)>,
}

/// The rows of one `write` call, and what the pool needs to build their tuples.
struct Rows<'a> {
    batch: &'a TripBatch,
    hashes: &'a [RowHash],
    flags: &'a [i16],
    rows: &'a [usize],
    facts: Option<(&'a HashMap<Partition, FactEncoder>, &'a [Fact])>,
}

impl TripEncoder {
    /// The tuples of group `g` (rows `g * BATCH ..` of `rows`).
    fn encode(&self, rows: &Rows<'_>, g: usize) -> Encoded {
        let first = g * BATCH;
        let group = &rows.rows[first..rows.rows.len().min(first + BATCH)];
        let mut trips = Tuples::with_capacity(group.len(), group.len() * 256);
        let mut facts: Vec<(Partition, Tuples)> = Vec::new();
        let mut cells = Vec::with_capacity(self.sources.len());
        let mut fact_cells = Vec::new();
        for (i, &row) in group.iter().enumerate() {
            let hash: &[u8] = &rows.hashes[row];
            cells.clear();
            cells.extend(self.sources.iter().map(|source| match *source {
                Source::RowHash => Cell::Bytes(hash),
                Source::LoadId => Cell::int(self.load_id),
                Source::Flags => Cell::int(rows.flags[row].into()),
                Source::Trip(c) => Cell::of_trip(&rows.batch.columns[c], row),
                Source::Null => Cell::Null,
            }));
            trips.push(&self.layout, &cells);
            if let Some((encoders, all)) = rows.facts {
                let fact = &all[first + i];
                let p = fact.partition;
                let at = match facts.iter().position(|(q, _)| *q == p) {
                    Some(at) => at,
                    None => {
                        facts.push((p, Tuples::with_capacity(group.len(), group.len() * 160)));
                        facts.len() - 1
                    }
                };
                encoders[&p].encode(
                    fact,
                    |copied| match copied {
                        Copied::RowHash => Cell::Bytes(hash),
                        Copied::LoadId => Cell::int(self.load_id),
                        Copied::Trip(c) => self.trip_attr[c].map_or(Cell::Null, |a| cells[a]),
                    },
                    &mut fact_cells,
                    &mut facts[at].1,
                );
            }
        }
        Encoded { trips, facts }
    }
}

pub struct TripWriter {
    heap: HeapWriter,
    encoder: TripEncoder,
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
        let trip_attr = (0..dataset.columns.len())
            .map(|c| {
                sources
                    .iter()
                    .position(|s| matches!(s, Source::Trip(t) if *t == c))
            })
            .collect();
        let encoder = TripEncoder {
            layout: heap.layout(),
            sources,
            trip_attr,
            load_id,
        };
        TripWriter { heap, encoder }
    }

    /// Writes rows `rows` of `batch`, and with `facts` their fact rows (`facts.2[i]` of
    /// `rows[i]`). The pool builds the tuples of the next groups of rows while this thread
    /// inserts the current group's.
    pub fn write(
        &mut self,
        batch: &TripBatch,
        hashes: &[RowHash],
        flags: &[i16],
        rows: &[usize],
        mut facts: Option<(&mut FactWriter, &dyn FactTables, &[Fact])>,
    ) {
        if let Some((writer, tables, facts)) = facts.as_mut() {
            writer.prepare(*tables, facts);
        }
        let (encoders, mut fact_heaps) = match facts {
            Some((writer, _, facts)) => {
                let (encoders, heaps) = writer.split();
                (Some((encoders, facts)), Some(heaps))
            }
            None => (None, None),
        };
        let TripWriter { heap, encoder } = self;
        let rows = Rows {
            batch,
            hashes,
            flags,
            rows,
            facts: encoders,
        };
        let groups = rows.rows.len().div_ceil(BATCH);
        let (encoder, rows) = (&*encoder, &rows);
        threads::pool().in_place_scope(|scope| {
            let mut pending = VecDeque::new();
            let mut next = 0;
            let mut spawn_next = |pending: &mut VecDeque<mpsc::Receiver<Encoded>>| {
                if next < groups {
                    let (tx, rx) = mpsc::sync_channel(1);
                    let g = next;
                    scope.spawn(move |_| {
                        // The receiver is gone only if this thread is unwinding.
                        let _ = tx.send(encoder.encode(rows, g));
                    });
                    pending.push_back(rx);
                    next += 1;
                }
            };
            for _ in 0..AHEAD {
                spawn_next(&mut pending);
            }
            while let Some(rx) = pending.pop_front() {
                // An error only if the job panicked: the scope then passes its panic on.
                let Ok(encoded) = rx.recv() else { break };
                spawn_next(&mut pending);
                // SAFETY: the tuples were built from the writers' layouts and outlive the
                // flushes that insert them.
                unsafe {
                    for tuple in encoded.trips.iter() {
                        heap.push(tuple);
                    }
                    heap.flush();
                    if let Some(fact_heaps) = fact_heaps.as_mut() {
                        for (p, tuples) in &encoded.facts {
                            fact_heaps.write(*p, tuples);
                        }
                    }
                }
            }
        });
    }

    pub fn finish(self) {
        self.heap.finish();
    }
}
