//! `taxi_check_consistency`: the star schema against the trips tables, one month partition at a
//! time. For each month, one pass over its fact partition and one over each dataset's trip
//! partition give a digest per dataset on each side (`taxi_core::consistency` says how; the
//! facts a trip should have are recomputed on the worker pool, as loads compute them). A dataset
//! whose digests differ — or whose month cannot be digested, say a column whose type a user
//! changed — gets the SQL row comparison of that month, which decides by value and names the
//! trips. Where the heaps cannot be read (a Citus table's are empty shells; row security
//! applies only in SQL), SQL digests each month instead (a count and a sum of row hashes, which
//! Citus computes on the workers) before any row comparison. Memory, work and temporary files
//! are one month's at most.

use std::collections::BTreeMap;
use std::sync::Arc;

use pgrx::datum::{Date, DatumWithOid};
use pgrx::prelude::*;
use pgrx::{pg_sys, AnyNumeric};
use taxi_core::calendar::{civil_from_days, UNIX_TO_PG_EPOCH_US};
use taxi_core::consistency::{expected_digest, origins, Copied, Digest, FactType, Origin, Record};
use taxi_core::convert::numeric::cents_from_numeric;
use taxi_core::dataset::{Dataset, Kind, ALL};
use taxi_core::error::LoadError;
use taxi_core::facts::{self, Dims, Partition};
use taxi_core::policy::ProgressEvery;
use taxi_core::sql::star::{self as sql, service_keys, FACTS, FACT_COLUMNS};
use taxi_core::trip::{TripBatch, Values};

use crate::load::star::read_dims;
use crate::postgres::progress::Progress;
use crate::postgres::scan::{self, Column, Encoded, SharedSnapshot};
use crate::postgres::{datum, locks};
use crate::report::OrInternal;

const DOING: &str = "checking consistency";

/// Trips recomputed per block: the block's decoded columns and copied bytes take about 10 MB.
const BLOCK: usize = 65_536;

/// One row of taxi_check_consistency's result.
pub struct Discrepancy {
    pub dataset: String,
    pub month: Option<Date>,
    pub item: String,
    pub normalized: Option<AnyNumeric>,
    pub star: Option<AnyNumeric>,
    pub detail: Option<String>,
}

/// What a check found, and how: months of a dataset found equal by their digests alone, and
/// compared row by row.
pub struct Checked {
    pub found: Vec<Discrepancy>,
    pub by_digest: u64,
    pub by_rows: u64,
}

/// The partitions of one month: the facts', and each checked dataset's trips' (oid and the
/// planner's row estimate).
#[derive(Default)]
struct Month {
    facts: Option<(pg_sys::Oid, f64)>,
    trips: Vec<Option<(pg_sys::Oid, f64)>>,
}

/// Compares the trips of `datasets` (every dataset when None) with their facts, for the month
/// holding `day` or for every month.
pub fn check(day: Option<Date>, dataset: Option<&'static Dataset>) -> Result<Checked, LoadError> {
    let datasets: Vec<&'static Dataset> = dataset.map_or_else(|| ALL.to_vec(), |d| vec![d]);
    let only = day
        .map(|d| {
            if !d.is_finite() {
                return Err(LoadError::InfiniteMonth {
                    function: "taxi_check_consistency",
                });
            }
            let (y, m, _) = civil_from_days(datum::unix_days(d));
            Ok(Partition::of_month(y, m))
        })
        .transpose()?;
    let (dims, facts_oid, months, by_sql) = Spi::connect_mut(|client| {
        let facts_oid = client
            .select(
                "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.int8",
                Some(1),
                &[FACTS.into()],
            )
            .and_then(|t| t.first().get_one::<i64>())
            .or_internal(DOING)?
            .ok_or(LoadError::NotUpdated { missing: FACTS })?;
        // The heap is read directly: SQL's privilege checks are made here, first.
        // Months digested and compared in SQL only: row security applies (only SQL applies
        // policies), or a table is a Citus table (its heaps here are empty shells; Citus runs
        // both on the workers, shard by co-located shard).
        let mut by_sql = false;
        for table in std::iter::once(FACTS).chain(datasets.iter().map(|d| d.qualified())) {
            let (may, sql_only) = client
                .select(sql::MAY_READ, Some(1), &[table.into()])
                .and_then(|t| t.first().get_two::<bool, bool>())
                .or_internal(DOING)?;
            if may != Some(true) {
                return Err(LoadError::NoTablePrivilege { table });
            }
            by_sql |= sql_only == Some(true);
        }
        let dims = read_dims(client)?;
        let mut months: BTreeMap<Partition, Month> = BTreeMap::new();
        let mut list = |parent: &str, prefix: &str, which: Option<usize>| {
            for r in client
                .select(sql::PARTITIONS_OF, None, &[parent.into()])
                .or_internal(DOING)?
            {
                let (Some(name), Some(oid), estimate) = (
                    r.get::<String>(1).or_internal(DOING)?,
                    r.get::<i64>(2).or_internal(DOING)?,
                    r.get::<f64>(3).or_internal(DOING)?.unwrap_or(0.0),
                ) else {
                    continue;
                };
                // Partitions the loader did not name are not the loader's.
                let Some(p) = Partition::of_table(prefix, &name) else {
                    continue;
                };
                if only.is_some_and(|o| o != p) {
                    continue;
                }
                let month = months.entry(p).or_default();
                month.trips.resize(datasets.len(), None);
                let at = Some((locks::oid(oid), estimate));
                match which {
                    Some(i) => month.trips[i] = at,
                    None => month.facts = at,
                }
            }
            Ok::<_, LoadError>(())
        };
        list(FACTS, "fact_trips", None)?;
        for (i, d) in datasets.iter().enumerate() {
            list(d.qualified(), d.table, Some(i))?;
        }
        Ok::<_, LoadError>((dims, locks::oid(facts_oid), months, by_sql))
    })?;

    let rows_total: f64 = months
        .values()
        .map(|m| m.facts.map_or(0.0, |f| f.1) + m.trips.iter().flatten().map(|t| t.1).sum::<f64>())
        .sum();
    let mut progress = Progress::start(
        "taxi_check_consistency",
        facts_oid,
        rows_total as u64,
        0,
        BLOCK as u64,
        // NOTICEs only when asked for (a number of blocks): a check is a query, and scripts
        // that read its result should not get chatter by default as a load's callers do.
        match crate::gucs::progress_every() {
            ProgressEvery::Auto => ProgressEvery::Never,
            every => every,
        },
    );
    // Trips and facts are read as of one moment: a load commits both at once.
    let snapshot = SharedSnapshot::take();
    let mut rows_done = 0u64;
    let (mut by_digest, mut by_rows) = (0u64, 0u64);
    let fact_parent = scan::columns(facts_oid);
    let mut found = Vec::new();
    for (p, month) in &months {
        let fact_columns = month
            .facts
            .map_or_else(|| fact_parent.clone(), |f| scan::columns(f.0));
        let stored = match month.facts {
            _ if by_sql => None,
            Some((oid, _)) => stored_digests(
                oid,
                &snapshot,
                &fact_columns,
                &datasets,
                &mut progress,
                &mut rows_done,
            ),
            None => Some(vec![Digest::default(); datasets.len()]),
        };
        for (i, d) in datasets.iter().enumerate() {
            if by_sql {
                match sql_digests(d, *p)? {
                    [s, e] if s.0 == 0 && e.0 == 0 => {}
                    [s, e] if s == e => by_digest += 1,
                    _ => {
                        by_rows += 1;
                        found.extend(compare_rows(d, *p)?);
                    }
                }
                continue;
            }
            let expected = match month.trips[i] {
                Some((oid, _)) => trips_digest(
                    oid,
                    &snapshot,
                    d,
                    &dims,
                    &fact_columns,
                    &mut progress,
                    &mut rows_done,
                ),
                None => Some(Digest::default()),
            };
            let equal = matches!((&stored, expected), (Some(s), Some(e)) if s[i] == e);
            let empty =
                matches!((&stored, expected), (Some(s), Some(e)) if s[i].rows == 0 && e.rows == 0);
            if empty {
                continue;
            } else if equal {
                by_digest += 1;
            } else {
                by_rows += 1;
                found.extend(compare_rows(d, *p)?);
            }
        }
        check_for_interrupts!();
    }
    let checked = Checked {
        found,
        by_digest,
        by_rows,
    };
    progress.summary(format!(
        "{} month(s), {rows_done} rows read: {} month(s) of a dataset equal by their digests, {} compared row by row",
        months.len(),
        checked.by_digest,
        checked.by_rows
    ), rows_done);
    Ok(checked)
}

/// The fact columns' positions among `columns` in [`FACT_COLUMNS`] order, if all are there.
fn fact_positions(columns: &[Option<Column>]) -> Option<Vec<usize>> {
    FACT_COLUMNS.iter().map(|c| position(columns, c)).collect()
}

fn position(columns: &[Option<Column>], name: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| c.as_ref().is_some_and(|c| c.name == name))
}

fn push(record: &mut Record, e: Encoded<'_>) {
    match e {
        Encoded::Fixed(v, len) => record.fixed(v, len),
        Encoded::Bytes(b) => record.bytes(b),
    }
}

/// The digest of each of `datasets`' stored facts in partition `oid`; None if its columns are
/// not the fact table's.
fn stored_digests(
    oid: pg_sys::Oid,
    snapshot: &SharedSnapshot,
    columns: &[Option<Column>],
    datasets: &[&Dataset],
    progress: &mut Progress,
    rows_done: &mut u64,
) -> Option<Vec<Digest>> {
    let at = fact_positions(columns)?;
    let service_at = position(columns, "service_key")?;
    let mut owner = vec![None; 1 << 16];
    for (i, d) in datasets.iter().enumerate() {
        for k in service_keys(d) {
            owner[k as u16 as usize] = Some(i);
        }
    }
    let mut digests = vec![Digest::default(); datasets.len()];
    let mut record = Record::default();
    let mut n = 0u64;
    scan::each_tuple(oid, snapshot, |values, nulls| {
        n += 1;
        if n.is_multiple_of(BLOCK as u64) {
            progress.rows_checked(*rows_done + n);
        }
        if nulls[service_at] {
            return;
        }
        let Some(i) = owner[values[service_at].value() as i16 as u16 as usize] else {
            return;
        };
        for &a in &at {
            if nulls[a] {
                record.null();
            } else {
                let column = columns[a].as_ref().expect("a live column");
                // SAFETY: a non-NULL value of this column, valid during the call.
                push(&mut record, unsafe { column.encode(values[a]) });
            }
        }
        digests[i].add(record.finish());
    });
    *rows_done += n;
    Some(digests)
}

fn type_oid(t: FactType) -> pg_sys::Oid {
    match t {
        FactType::Int2 => pg_sys::INT2OID,
        FactType::Int4 => pg_sys::INT4OID,
        FactType::Float8 => pg_sys::FLOAT8OID,
        FactType::Numeric => pg_sys::NUMERICOID,
        FactType::Bool => pg_sys::BOOLOID,
    }
}

fn kind_fits(kind: Kind, t: pg_sys::Oid) -> bool {
    match kind {
        Kind::Int => t == pg_sys::INT2OID,
        Kind::BigInt => t == pg_sys::INT8OID,
        Kind::Timestamp => t == pg_sys::TIMESTAMPOID,
        Kind::Float => t == pg_sys::FLOAT8OID,
        Kind::Money => t == pg_sys::NUMERICOID,
        Kind::Text => t == pg_sys::TEXTOID || t == pg_sys::VARCHAROID,
    }
}

/// How a trip partition's tuples become facts' inputs and copies.
struct TripLayout {
    /// (dataset column, attribute) of the columns facts are computed from.
    inputs: Vec<(usize, usize)>,
    /// The attribute of each copied value, in slot order.
    copies: Vec<usize>,
    /// The slot of each copied value: row hash, load id, then trip columns by position.
    row_hash_slot: usize,
    load_id_slot: usize,
    trip_slots: Vec<Option<usize>>,
}

/// The layout of `d`'s trip partition with `columns`, if its facts can be digested: every input
/// and copied column present with the type the encoding assumes, and the fact partition's
/// columns of the types the stored encoding has.
fn trip_layout(
    d: &Dataset,
    columns: &[Option<Column>],
    origins: &[Origin],
    fact_columns: &[Option<Column>],
) -> Option<TripLayout> {
    let attr = |name: &str| position(columns, name);
    let fact_at = fact_positions(fact_columns)?;
    let mut inputs = Vec::new();
    for c in facts::input_columns(d) {
        let a = attr(d.columns[c].name)?;
        if !kind_fits(d.columns[c].kind, columns[a].as_ref()?.type_oid) {
            return None;
        }
        inputs.push((c, a));
    }
    let mut copies = Vec::new();
    let mut trip_slots = vec![None; d.columns.len()];
    let (mut row_hash_slot, mut load_id_slot) = (usize::MAX, usize::MAX);
    for (origin, &f) in origins.iter().zip(&fact_at) {
        let fact_type = fact_columns[f].as_ref()?.type_oid;
        match origin {
            Origin::Copied(c) => {
                let a = match c {
                    Copied::RowHash => attr("row_hash")?,
                    Copied::LoadId => attr("load_id")?,
                    Copied::Trip(i) => attr(d.columns[*i].name)?,
                };
                if columns[a].as_ref()?.type_oid != fact_type {
                    return None;
                }
                let slot = copies.len();
                copies.push(a);
                match c {
                    Copied::RowHash => row_hash_slot = slot,
                    Copied::LoadId => load_id_slot = slot,
                    Copied::Trip(i) => trip_slots[*i] = Some(slot),
                }
            }
            Origin::Null => {}
            computed => {
                if type_oid(computed.computed_type()?) != fact_type {
                    return None;
                }
            }
        }
    }
    Some(TripLayout {
        inputs,
        copies,
        row_hash_slot,
        load_id_slot,
        trip_slots,
    })
}

/// A block of trips: the inputs decoded, the copied values' bytes.
struct Block {
    columns: Vec<Values>,
    bytes: Vec<u8>,
    /// Per row and slot: (start, length) in `bytes`, None for NULL.
    spans: Vec<Option<(u32, u32)>>,
    rows: usize,
}

/// The digest of the facts `d`'s trips in partition `oid` should have; None if they cannot be
/// digested (see [`trip_layout`]; a stored amount that is not whole cents).
fn trips_digest(
    oid: pg_sys::Oid,
    snapshot: &SharedSnapshot,
    d: &'static Dataset,
    dims: &Dims,
    fact_columns: &[Option<Column>],
    progress: &mut Progress,
    rows_done: &mut u64,
) -> Option<Digest> {
    let columns = scan::columns(oid);
    let origins = origins(d);
    let layout = trip_layout(d, &columns, &origins, fact_columns)?;
    let fresh = || Block {
        columns: d
            .columns
            .iter()
            .map(|c| Values::empty(c.kind, BLOCK))
            .collect(),
        bytes: Vec::with_capacity(BLOCK * 160),
        spans: Vec::with_capacity(BLOCK * layout.copies.len()),
        rows: 0,
    };
    let mut block = fresh();
    let mut digest = Digest::default();
    let mut decodable = true;
    let mut n = 0u64;
    scan::each_tuple(oid, snapshot, |values, nulls| {
        if !decodable {
            return;
        }
        for &(c, a) in &layout.inputs {
            let value = (!nulls[a]).then_some(values[a]);
            let column = columns[a].as_ref().expect("a live column");
            decodable &= decode(&mut block.columns[c], value, column);
        }
        for &a in &layout.copies {
            if nulls[a] {
                block.spans.push(None);
                continue;
            }
            let start = block.bytes.len();
            // SAFETY: a non-NULL value of this column, valid during the call.
            match unsafe {
                columns[a]
                    .as_ref()
                    .expect("a live column")
                    .encode(values[a])
            } {
                Encoded::Fixed(v, len) => block.bytes.extend_from_slice(&v.to_le_bytes()[..len]),
                Encoded::Bytes(b) => block.bytes.extend_from_slice(b),
            }
            block
                .spans
                .push(Some((start as u32, (block.bytes.len() - start) as u32)));
        }
        block.rows += 1;
        if block.rows == BLOCK {
            let full = std::mem::replace(&mut block, fresh());
            digest = digest.merge(digest_block(d, dims, &origins, &layout, full));
            n += BLOCK as u64;
            progress.rows_checked(*rows_done + n);
        }
    });
    n += block.rows as u64;
    *rows_done += n;
    if !decodable {
        return None;
    }
    Some(digest.merge(digest_block(d, dims, &origins, &layout, block)))
}

/// Appends a stored trip value to its column; false if it cannot be represented there.
fn decode(to: &mut Values, value: Option<pg_sys::Datum>, column: &Column) -> bool {
    match to {
        Values::Int(v) => v.push(value.map(|x| x.value() as i16)),
        Values::BigInt(v) => v.push(value.map(|x| x.value() as i64)),
        Values::Timestamp(v) => v.push(value.map(|x| x.value() as i64 + UNIX_TO_PG_EPOCH_US)),
        Values::Float(v) => v.push(value.map(|x| f64::from_bits(x.value() as u64))),
        Values::Money(v) => match value {
            None => v.push(None),
            // SAFETY: a non-NULL numeric of this column.
            Some(x) => match unsafe { column.encode(x) } {
                Encoded::Bytes(b) => match cents_from_numeric(b) {
                    Some(cents) => v.push(Some(cents)),
                    None => return false,
                },
                Encoded::Fixed(..) => return false,
            },
        },
        Values::Text(v) => match value {
            None => v.push(None),
            // SAFETY: a non-NULL text of this column.
            Some(x) => match unsafe { column.encode(x) } {
                Encoded::Bytes(b) => match std::str::from_utf8(b) {
                    Ok(s) => v.push(Some(Arc::from(s))),
                    Err(_) => return false,
                },
                Encoded::Fixed(..) => return false,
            },
        },
    }
    true
}

/// The digest of the facts of a block's trips, computed on the worker pool (plain Rust data).
fn digest_block(
    d: &'static Dataset,
    dims: &Dims,
    origins: &[Origin],
    layout: &TripLayout,
    block: Block,
) -> Digest {
    let rows = block.rows;
    if rows == 0 {
        return Digest::default();
    }
    let batch = TripBatch {
        dataset: d,
        first_row: 0,
        columns: block
            .columns
            .into_iter()
            .zip(d.columns)
            .map(|(v, c)| {
                if v.len() == rows {
                    v
                } else {
                    Values::nulls(c.kind, rows)
                }
            })
            .collect(),
        rejected: Vec::new(),
    };
    let all: Vec<usize> = (0..rows).collect();
    let computed = facts::compute(dims, &batch, &all);
    let slots = layout.copies.len();
    let (bytes, spans) = (&block.bytes, &block.spans);
    let span = |r: usize, slot: usize| {
        spans[r * slots + slot].map(|(s, l)| &bytes[s as usize..(s + l) as usize])
    };
    expected_digest(origins, &computed, |r, c| match c {
        Copied::RowHash => span(r, layout.row_hash_slot),
        Copied::LoadId => span(r, layout.load_id_slot),
        Copied::Trip(i) => layout.trip_slots[i].and_then(|slot| span(r, slot)),
    })
}

/// The digests of `d`'s month `p` computed by SQL, stored and expected: (rows, sum of row
/// hashes). On a Citus table the workers compute them, shard by shard, in parallel.
pub(crate) fn sql_digests(d: &Dataset, p: Partition) -> Result<[(i64, String); 2], LoadError> {
    let [from, to] = datum::month_bounds(p);
    Spi::connect(|client| {
        let digest = |statement: String| {
            let (rows, sum) = client
                .select(statement.as_str(), Some(1), &[from.into(), to.into()])
                .and_then(|t| t.first().get_two::<i64, String>())
                .or_internal(DOING)?;
            Ok::<_, LoadError>((rows.unwrap_or(0), sum.unwrap_or_default()))
        };
        Ok([
            digest(sql::stored_month_digest(d))?,
            digest(sql::expected_month_digest(d))?,
        ])
    })
}

/// The SQL row comparison of `d`'s month `p`.
fn compare_rows(d: &Dataset, p: Partition) -> Result<Vec<Discrepancy>, LoadError> {
    let [from, to] = datum::month_bounds(p);
    let args: Vec<DatumWithOid> = vec![from.into(), to.into()];
    Spi::connect(|client| {
        let mut rows = Vec::new();
        for r in client
            .select(sql::month_differences(d).as_str(), None, &args)
            .or_internal(DOING)?
        {
            rows.push(Discrepancy {
                dataset: r.get::<String>(1).or_internal(DOING)?.unwrap_or_default(),
                month: r.get::<Date>(2).or_internal(DOING)?,
                item: r.get::<String>(3).or_internal(DOING)?.unwrap_or_default(),
                normalized: r.get::<AnyNumeric>(4).or_internal(DOING)?,
                star: r.get::<AnyNumeric>(5).or_internal(DOING)?,
                detail: r.get::<String>(6).or_internal(DOING)?,
            });
        }
        Ok(rows)
    })
}
