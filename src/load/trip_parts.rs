//! The trip partitions a load writes, one [`Route`] each (`taxi_core::policy::route`): the
//! months of the file are locked in order, their partitions inspected and their stored trips
//! read (only theirs: a load never reads, rebuilds or locks exclusively a month it does not
//! write); a new month is written into a standalone table, indexed once and attached at the end;
//! an existing month written directly is locked exclusively and reindexed at the end; the rest
//! goes through SPI.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use pgrx::pg_sys;
use pgrx::spi::SpiClient;
use taxi_core::dataset::Dataset;
use taxi_core::dedup::Key;
use taxi_core::error::LoadError;
use taxi_core::partition::{Partition, MONTH_LOCK_CLASS};
use taxi_core::policy::{self, Found, Mode, Route, WriteSetting};
use taxi_core::sql::partitions as sql;

use crate::load::indexes;
use crate::load::trip_writer::TripWriter;
use crate::load::trips;
use crate::postgres::partitions::{create_table, ensure, existing, month_date, run_as_owner};
use crate::postgres::{locks, scan};
use crate::report::OrInternal;

struct Part {
    file_rows: u64,
    route: Route,
    /// Where direct writes go: the partition, or the standalone table of a new month.
    oid: Option<pg_sys::Oid>,
    writer: Option<TripWriter>,
    written: u64,
    /// Its month is locked exclusively by this load.
    exclusive: bool,
    /// What it held when locked.
    found: Found,
}

pub struct TripParts {
    writing: Writing,
    parts: BTreeMap<Partition, Part>,
}

/// Whose trips a load writes: its dataset's, as load `load_id`; and where they are:
/// `local_heaps` when the partitions hold their rows on this node (not a Citus table's shells),
/// so the stored trips are read from their heaps, otherwise through SQL.
#[derive(Clone, Copy)]
pub struct Writing {
    pub dataset: &'static Dataset,
    pub load_id: i64,
    pub local_heaps: bool,
}

impl TripParts {
    /// Locks the file's months (in order: loads of overlapping files cannot deadlock), inspects
    /// their partitions, reads the stored trips of those that are not too large into `stored`,
    /// and creates what must exist before the first chunk: standalone tables for new months
    /// written directly, empty attached partitions for those that go through SPI.
    /// `direct_allowed`: the target (and the star schema, if filled) allow direct writes.
    /// `also`: months the load removes trips from without the file bringing any (a replaced
    /// version's), locked shared in the same order.
    pub fn plan(
        client: &mut SpiClient<'_>,
        writing: Writing,
        setting: WriteSetting,
        direct_allowed: bool,
        file: &BTreeMap<Partition, u64>,
        also: &BTreeSet<Partition>,
        stored: &mut Vec<Key>,
    ) -> Result<TripParts, LoadError> {
        let dataset = writing.dataset;
        let table = dataset.qualified();
        let names: Vec<String> = file.keys().map(|p| p.trip_table(dataset)).collect();
        let file_rows: u64 = file.values().sum();
        let seen_before = existing(client, table, &names)?;
        let mut to_lock: BTreeMap<Partition, Option<u64>> =
            file.iter().map(|(&p, &rows)| (p, Some(rows))).collect();
        for &p in also {
            to_lock.entry(p).or_insert(None);
        }
        let mut exclusive = HashMap::new();
        for (&p, &rows) in &to_lock {
            let x = rows.is_some_and(|rows| {
                let e = seen_before.get(&p.trip_table(dataset));
                policy::month_lock_exclusive(
                    setting,
                    direct_allowed && e.is_none_or(|e| e.plain),
                    !writing.local_heaps,
                    e.map(|e| e.estimated_rows),
                    rows,
                    file_rows,
                )
            });
            let lock = if x {
                sql::LOCK_MONTH
            } else {
                sql::LOCK_MONTH_SHARED
            };
            client
                .select(lock, None, &[MONTH_LOCK_CLASS.into(), p.lock_key().into()])
                .or_internal("locking a month")?;
            exclusive.insert(p, x);
        }
        // Looked up again under the locks: a load of the same month may have committed meanwhile
        // (none can have dropped one: taxi_drop_month waits for running loads).
        let now = existing(client, table, &names)?;
        let mut parts = BTreeMap::new();
        let mut to_attach = Vec::new();
        for (&p, &rows) in file {
            let (found, oid, plain) = match now.get(&p.trip_table(dataset)) {
                None => (Found::Missing, None, true),
                Some(e) => {
                    locks::lock_for_insert(e.oid);
                    let read = match policy::stored_read_limit(setting, e.estimated_rows, rows) {
                        None => None,
                        Some(limit) if writing.local_heaps => {
                            scan::read_row_hashes(e.oid, stored, limit)
                        }
                        Some(limit) => trips::read_stored(client, dataset, p, stored, limit)?,
                    };
                    (
                        read.map_or(Found::TooMany, Found::Stored),
                        Some(e.oid),
                        e.plain,
                    )
                }
            };
            // Under a shared month lock (chosen on the estimate before the lock) no heap write.
            let direct = direct_allowed && plain && exclusive[&p];
            let route = policy::route(setting, direct, found, policy::minor(rows, file_rows));
            let oid = match (route, found) {
                (Route::New, _) => Some(create_table(client, table, p)?),
                (_, Found::Missing) => {
                    to_attach.push(month_date(p));
                    None
                }
                _ => oid,
            };
            parts.insert(
                p,
                Part {
                    file_rows: rows,
                    route,
                    oid,
                    writer: None,
                    written: 0,
                    exclusive: exclusive[&p],
                    found,
                },
            );
        }
        ensure(client, table, to_attach)?;
        Ok(TripParts { writing, parts })
    }

    pub fn route(&self, p: Partition) -> Route {
        self.parts.get(&p).map_or(Route::Insert, |part| part.route)
    }

    /// The partitions of the file with their routes.
    pub fn routes(&self) -> impl Iterator<Item = (Partition, Route)> + '_ {
        self.parts.iter().map(|(&p, part)| (p, part.route))
    }

    /// Whether the trips inserted through SQL into partition `p` are known to be new, so need no
    /// ON CONFLICT (`taxi_core::sql::trips::insert_new_rows`): a Citus table's month locked
    /// exclusively by this load, whose stored trips were all read or are probed chunk by chunk.
    pub fn known_new(&self, p: Partition) -> bool {
        !self.writing.local_heaps && self.parts.get(&p).is_some_and(|part| part.exclusive)
    }

    /// Whether every trip of partition `p` is this load's: it held none when this load locked
    /// its month exclusively.
    pub fn only_this_load(&self, p: Partition) -> bool {
        self.parts.get(&p).is_some_and(|part| {
            part.exclusive && matches!(part.found, Found::Missing | Found::Stored(0))
        })
    }

    /// Whether partition `p` is a month this load created, locked exclusively: on Citus, its
    /// shards were made on every worker in this transaction (which Citus then commits on all of
    /// them by two-phase commit, as a modification).
    pub fn created_by_this_load(&self, p: Partition) -> bool {
        self.parts
            .get(&p)
            .is_some_and(|part| part.exclusive && part.found == Found::Missing)
    }

    /// Whether a partition still waits for its first chunk to settle its route.
    pub fn undecided(&self) -> bool {
        self.parts.values().any(|part| part.route == Route::Decide)
    }

    /// Settles a [`Route::Decide`] partition at its first chunk with rows of it: `new` of the
    /// chunk's `rows` of that partition are new.
    pub fn decide(&mut self, p: Partition, new: usize, rows: usize) {
        if let Some(part) = self.parts.get_mut(&p) {
            if part.route == Route::Decide {
                part.route = if policy::switch_to_bulk(new, rows) {
                    Route::Direct
                } else {
                    Route::Insert
                };
            }
        }
    }

    /// The direct writer of partition `p` (its route New or Direct), opened on first use: an
    /// existing partition is locked exclusively first, as nothing may read its indexes until they
    /// are rebuilt. `count` rows are about to be written.
    pub fn writer(&mut self, p: Partition, count: usize) -> &mut TripWriter {
        let Writing {
            dataset, load_id, ..
        } = self.writing;
        let part = self.parts.get_mut(&p).expect("a partition of the file");
        part.written += count as u64;
        let oid = part.oid.expect("a directly written partition has a table");
        let fresh = part.route == Route::New;
        part.writer.get_or_insert_with(|| {
            if !fresh {
                locks::lock_exclusive(oid);
            }
            // SAFETY: the month is locked exclusively; a standalone table created by this load
            // (in its subtransaction) may take frozen rows, as COPY FREEZE does.
            unsafe { TripWriter::open(oid, dataset, load_id, fresh) }
        })
    }

    /// How the load wrote, for its result row: the route of the partition holding most of the
    /// file's rows (a partition still undecided got no new trips: known).
    pub fn mode(&self) -> Mode {
        self.parts
            .values()
            .max_by_key(|part| part.file_rows)
            .map_or(Mode::Known, |part| part.route.mode())
    }

    /// Closes the heaps; then rebuilds the indexes of every partition written directly (once),
    /// attaches the new months that received trips and drops the standalone tables that did not.
    /// Returns the partitions that received rows straight into their heaps.
    pub fn finish(self, client: &mut SpiClient<'_>) -> Result<Vec<Partition>, LoadError> {
        let mut reindex = Vec::new();
        let mut attach = Vec::new();
        let mut drop = Vec::new();
        let mut written = Vec::new();
        for (p, part) in self.parts {
            if let Some(writer) = part.writer {
                writer.finish();
            }
            if part.written > 0 {
                written.push(p);
            }
            match (part.route, part.oid, part.written) {
                (Route::New, Some(oid), 0) => drop.push(oid),
                (Route::New, Some(oid), _) => {
                    reindex.push(oid);
                    attach.push((p, oid));
                }
                (Route::Direct, Some(oid), n) if n > 0 => reindex.push(oid),
                _ => {}
            }
        }
        indexes::reindex_written(client, &reindex, "indexing a partition")?;
        for (p, oid) in attach {
            run_as_owner(
                client,
                sql::ATTACH,
                &[
                    self.writing.dataset.qualified().into(),
                    oid.into(),
                    month_date(p).into(),
                ],
                "attaching a trip partition",
            )?;
        }
        for oid in drop {
            run_as_owner(
                client,
                sql::DROP_TABLE,
                &[oid.into()],
                "dropping an empty table",
            )?;
        }
        Ok(written)
    }
}
