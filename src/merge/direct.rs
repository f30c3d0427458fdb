//! The direct write path: trips go straight into the target's heap with `table_multi_insert`
//! and a bulk-insert state, as COPY does, Datums built from the chunk's Rust values without text
//! formatting or parsing. Used only while the target has no indexes (taxi_load dropped them and
//! rebuilds them afterwards), no triggers, no row security and no column the loader does not fill,
//! and the current role owns it: nothing the executor would have done is skipped.

use pgrx::prelude::*;
use pgrx::{PgMemoryContexts, PgTupleDesc};

use crate::convert::numeric::numeric_from_cents;
use crate::convert::timestamp::UNIX_TO_PG_EPOCH_US;
use crate::hash::RowHash;
use crate::star::direct::{Copied, FactWriter};
use crate::star::facts::Fact;
use crate::star::Star;
use crate::trip::{TripBatch, Values, COLUMNS};

/// Rows per `table_multi_insert` call, as COPY buffers them.
const BATCH: usize = 1000;

/// Where each attribute of the target's tuple comes from.
enum Source {
    RowHash,
    LoadId,
    Flags,
    Trip(usize),
    Null,
}

pub struct DirectWriter {
    rel: pg_sys::Relation,
    slots: Vec<*mut pg_sys::TupleTableSlot>,
    sources: Vec<Source>,
    /// Where a fact finds the trip's values in a trip tuple: the row hash's attribute, and each
    /// trip column's.
    hash_attr: Option<usize>,
    trip_attr: Vec<Option<usize>>,
    bistate: *mut pg_sys::BulkInsertStateData,
    cid: pg_sys::CommandId,
    rows_memory: PgMemoryContexts,
    load_id: i64,
    options: i32,
}

impl DirectWriter {
    /// # Safety
    /// `relid` must be the loader's target, locked by this transaction, and eligible as the
    /// module comment says. `frozen` only if this transaction truncated it (as COPY FREEZE
    /// requires): rows are then written frozen and their pages marked all-visible, so no later
    /// scan has to set hint bits and no vacuum has to freeze them.
    pub unsafe fn open(relid: pg_sys::Oid, load_id: i64, frozen: bool) -> DirectWriter {
        unsafe {
            let rel = pg_sys::table_open(relid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE);
            let tupdesc = PgTupleDesc::from_pg_unchecked((*rel).rd_att);
            let sources = (0..tupdesc.len())
                .map(|i| {
                    let att = tupdesc.get(i).expect("attribute");
                    if att.attisdropped {
                        return Source::Null;
                    }
                    match att.name() {
                        "row_hash" => Source::RowHash,
                        "load_id" => Source::LoadId,
                        "quality_flags" => Source::Flags,
                        name => COLUMNS
                            .iter()
                            .position(|c| c.name == name)
                            .map_or(Source::Null, Source::Trip),
                    }
                })
                .collect::<Vec<_>>();
            let hash_attr = sources.iter().position(|s| matches!(s, Source::RowHash));
            let trip_attr = (0..COLUMNS.len())
                .map(|c| {
                    sources
                        .iter()
                        .position(|s| matches!(s, Source::Trip(t) if *t == c))
                })
                .collect();
            let slots = (0..BATCH)
                .map(|_| pg_sys::table_slot_create(rel, std::ptr::null_mut()))
                .collect();
            DirectWriter {
                rel,
                slots,
                sources,
                hash_attr,
                trip_attr,
                bistate: pg_sys::GetBulkInsertState(),
                cid: pg_sys::GetCurrentCommandId(true),
                rows_memory: PgMemoryContexts::new("taxi_load rows"),
                load_id,
                options: if frozen {
                    pg_sys::TABLE_INSERT_FROZEN as i32
                } else {
                    0
                },
            }
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
        mut facts: Option<(&mut FactWriter, &Star, &[Fact])>,
    ) {
        let DirectWriter {
            rel,
            slots,
            sources,
            hash_attr,
            trip_attr,
            bistate,
            cid,
            rows_memory,
            load_id,
            options,
        } = self;
        let mut numeric = Vec::with_capacity(16);
        for (g, group) in rows.chunks(BATCH).enumerate() {
            unsafe {
                rows_memory.switch_to(|_| {
                    for (i, (slot, &row)) in slots.iter().zip(group).enumerate() {
                        let slot = *slot;
                        pg_sys::ExecClearTuple(slot);
                        let natts = sources.len();
                        let values = std::slice::from_raw_parts_mut((*slot).tts_values, natts);
                        let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, natts);
                        for (a, source) in sources.iter().enumerate() {
                            let datum = match source {
                                Source::RowHash => Some(varlena(&hashes[row])),
                                Source::LoadId => load_id.into_datum(),
                                Source::Flags => flags[row].into_datum(),
                                Source::Trip(c) => {
                                    trip_datum(&batch.columns[*c], row, &mut numeric)
                                }
                                Source::Null => None,
                            };
                            nulls[a] = datum.is_none();
                            values[a] = datum.unwrap_or(pg_sys::Datum::from(0usize));
                        }
                        pg_sys::ExecStoreVirtualTuple(slot);
                        if let Some((writer, star, facts)) = facts.as_mut() {
                            let read = |attr: Option<usize>| {
                                attr.and_then(|a| (!nulls[a]).then_some(values[a]))
                            };
                            writer.stage(
                                star,
                                &facts[g * BATCH + i],
                                |copied| match copied {
                                    Copied::RowHash => read(*hash_attr),
                                    Copied::Trip(c) => read(trip_attr[c]),
                                },
                                &mut numeric,
                            );
                        }
                    }
                    pg_sys::table_multi_insert(
                        *rel,
                        slots.as_mut_ptr(),
                        group.len() as i32,
                        *cid,
                        *options,
                        *bistate,
                    );
                    for &slot in &slots[..group.len()] {
                        pg_sys::ExecClearTuple(slot);
                    }
                    if let Some((writer, _, _)) = facts.as_mut() {
                        writer.flush();
                    }
                });
                rows_memory.reset();
            }
        }
    }

    pub fn finish(self) {
        unsafe {
            for slot in self.slots {
                pg_sys::ExecDropSingleTupleTableSlot(slot);
            }
            pg_sys::FreeBulkInsertState(self.bistate);
            // Keep the lock until the end of the transaction, as the executor does.
            pg_sys::table_close(self.rel, pg_sys::NoLock as pg_sys::LOCKMODE);
        }
    }
}

pub(crate) fn trip_datum(
    values: &Values,
    row: usize,
    numeric: &mut Vec<u8>,
) -> Option<pg_sys::Datum> {
    match values {
        Values::Int(v) => v[row].into_datum(),
        Values::Timestamp(v) => v[row].map(|us| pg_sys::Datum::from(us - UNIX_TO_PG_EPOCH_US)),
        Values::Float(v) => v[row].into_datum(),
        Values::Money(v) => v[row].map(|cents| {
            numeric.clear();
            numeric_from_cents(cents, numeric);
            varlena(numeric)
        }),
        Values::Text(v) => v[row].as_deref().map(|s| varlena(s.as_bytes())),
    }
}

/// A palloc'd varlena (4-byte header) holding `bytes`, in the current memory context.
pub(crate) fn varlena(bytes: &[u8]) -> pg_sys::Datum {
    unsafe {
        let size = pg_sys::VARHDRSZ + bytes.len();
        let ptr = pg_sys::palloc(size) as *mut pg_sys::varlena;
        pgrx::set_varsize_4b(ptr, size as i32);
        std::ptr::copy_nonoverlapping(
            bytes.as_ptr(),
            (ptr as *mut u8).add(pg_sys::VARHDRSZ),
            bytes.len(),
        );
        pg_sys::Datum::from(ptr)
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// Every shape of numeric(12,2) built by hand equals what PostgreSQL computes.
    #[pg_test]
    fn hand_built_numerics_equal_postgres_numerics() {
        let cents: Vec<i64> = vec![
            0,
            1,
            -1,
            5,
            50,
            -50,
            99,
            100,
            101,
            1000,
            1210,
            10_000,
            99_999,
            100_000,
            1_000_000,
            123_456_789,
            -123_456_789,
            100_000_000,
            999_999_999_999,
            -999_999_999_999,
            10_000_000_000,
            1_234_567_891,
        ];
        for c in cents {
            let mut payload = Vec::new();
            crate::convert::numeric::numeric_from_cents(c, &mut payload);
            let datum = super::varlena(&payload);
            let (text, binary) = unsafe {
                (
                    pgrx::direct_function_call::<&core::ffi::CStr>(
                        pg_sys::numeric_out,
                        &[Some(datum)],
                    )
                    .map(|c| c.to_str().unwrap().to_owned()),
                    pgrx::direct_function_call::<Vec<u8>>(pg_sys::numeric_send, &[Some(datum)]),
                )
            };
            let (want_text, want_binary) = Spi::get_two_with_args::<String, Vec<u8>>(
                "SELECT v::text, pg_catalog.numeric_send(v)
                 FROM (SELECT ($1 * 0.01)::numeric(12,2) AS v) s",
                &[c.into()],
            )
            .unwrap();
            assert_eq!(text, want_text, "{c} cents");
            assert_eq!(binary, want_binary, "{c} cents");
        }
    }
}
