//! The star schema's side of a load: the fact table locked and inspected, the dimensions read,
//! a table for each month of the file (new months' attached at the end, with the trips'); and
//! `taxi_rebuild_star`'s recomputation of a month.
//!
//! Facts are written the way their trips are: with the trips' INSERT (one statement, RETURNING
//! feeds the fact INSERT) on the SPI path; straight into the partitions' heaps next to the trips
//! on the direct path (`fact_writer`); on a Citus table, after the last chunk, by one
//! statement a month that the workers run on their shards (`facts_of_load`). When the fact table
//! is not plain enough for the direct path, no trip goes direct either. Each path writes the
//! facts of exactly the trips it wrote.

use std::collections::HashMap;

use pgrx::datum::Date;
use pgrx::pg_sys;
use pgrx::spi::{Spi, SpiClient};
use taxi_core::dataset::{Dataset, ALL};
use taxi_core::error::LoadError;
use taxi_core::facts::{Dims, Partition};
use taxi_core::policy;
use taxi_core::sql::partitions as part_sql;
use taxi_core::sql::star as sql;

use crate::load::fact_writer::FactTables;
use crate::load::trips;
use crate::postgres::partitions;
use crate::postgres::{datum, locks};
use crate::report::OrInternal;

/// What a load knows about the star schema after locking it.
pub struct Star {
    pub dims: Dims,
    /// Facts may go straight into the partitions' heaps (see `sql::INSPECT_FACTS`).
    pub direct: bool,
    /// The table each partition's facts go to, with its oid.
    partitions: HashMap<Partition, pg_sys::Oid>,
    /// New months' standalone tables, to attach at the end.
    standalone: Vec<(Partition, pg_sys::Oid)>,
}

impl Star {
    /// Locks the fact table and its partitions as INSERT would (ROW EXCLUSIVE) and reads the
    /// dimensions. Error if the current role may not insert facts.
    pub fn open(client: &mut SpiClient<'_>) -> Result<Star, LoadError> {
        const DOING: &str = "reading the star schema";
        let (oid, may_insert) = client
            .select(sql::FACTS_OID, Some(1), &[])
            .and_then(|t| t.first().get_two::<i64, bool>())
            .or_internal(DOING)?;
        let Some(oid) = oid else {
            return Err(LoadError::NotUpdated {
                missing: sql::FACTS,
            });
        };
        if may_insert != Some(true) {
            return Err(LoadError::NoTablePrivilege { table: sql::FACTS });
        }
        locks::lock_for_insert(locks::oid(oid));
        let columns: Vec<&str> = sql::FACT_COLUMNS.to_vec();
        let row = client
            .select(sql::INSPECT_FACTS, Some(1), &[columns.into()])
            .or_internal(DOING)?
            .first();
        let direct = row.get::<bool>(1).or_internal(DOING)?.unwrap_or(false);
        // Locked now, so no index or trigger can appear on them while the load writes.
        for part in row
            .get::<Vec<i64>>(2)
            .or_internal(DOING)?
            .unwrap_or_default()
        {
            locks::lock_for_insert(locks::oid(part));
        }
        let dims = read_dims(client)?;
        Ok(Star {
            dims,
            direct,
            partitions: HashMap::new(),
            standalone: Vec::new(),
        })
    }

    /// Gives every partition of `wanted` a table its facts can go to: the existing partition;
    /// for a new month whose trips go into a new table (`standalone`), a new standalone table
    /// too, attached by [`Star::finish`]; otherwise a new, empty partition attached now.
    pub fn prepare(
        &mut self,
        client: &mut SpiClient<'_>,
        wanted: impl IntoIterator<Item = (Partition, bool)>,
    ) -> Result<(), LoadError> {
        let wanted: Vec<(Partition, bool)> = wanted
            .into_iter()
            .filter(|(p, _)| !self.partitions.contains_key(p))
            .collect();
        let names: Vec<String> = wanted.iter().map(|(p, _)| p.fact_table()).collect();
        let found = partitions::existing(client, part_sql::FACTS, &names)?;
        let mut attach_now = Vec::new();
        for &(p, standalone) in &wanted {
            match found.get(&p.fact_table()) {
                Some(e) => {
                    locks::lock_for_insert(e.oid);
                    self.partitions.insert(p, e.oid);
                }
                None if standalone => {
                    let oid = partitions::create_table(client, part_sql::FACTS, p)?;
                    self.partitions.insert(p, oid);
                    self.standalone.push((p, oid));
                }
                None => attach_now.push(p),
            }
        }
        partitions::ensure(
            client,
            part_sql::FACTS,
            attach_now
                .iter()
                .map(|&p| partitions::month_date(p))
                .collect(),
        )?;
        let names: Vec<String> = attach_now.iter().map(|p| p.fact_table()).collect();
        let made = partitions::existing(client, part_sql::FACTS, &names)?;
        for p in attach_now {
            let e = made.get(&p.fact_table()).ok_or(LoadError::NotAPartition {
                table: p.fact_table(),
            })?;
            self.partitions.insert(p, e.oid);
        }
        Ok(())
    }

    /// Attaches the standalone tables of the months whose trips were `written` (after the trip
    /// partitions: see `taxi.attach_partition`), drops the others.
    pub fn finish(
        &mut self,
        client: &mut SpiClient<'_>,
        written: &[Partition],
    ) -> Result<(), LoadError> {
        for (p, oid) in std::mem::take(&mut self.standalone) {
            if written.contains(&p) {
                partitions::run_as_owner(
                    client,
                    part_sql::ATTACH,
                    &[
                        part_sql::FACTS.into(),
                        oid.into(),
                        partitions::month_date(p).into(),
                    ],
                    "attaching a fact partition",
                )?;
            } else {
                partitions::run_as_owner(
                    client,
                    part_sql::DROP_TABLE,
                    &[oid.into()],
                    "dropping an empty table",
                )?;
            }
        }
        Ok(())
    }

    /// Inserts the facts of the trips load `load_id` of `d` inserted into `months`, month by
    /// month, through SQL that Citus pushes down to the workers. A month whose trips are all
    /// this load's (`whole`) is taken whole, without the load_id filter: on a month just written
    /// the workers have no statistics, and the filter's default estimate (a few rows) plans
    /// nested loops over the dimensions (a large share of the workers' CPU in a profile of a 3.6M-row
    /// load), where a whole month gets hash joins.
    /// Returns how many.
    pub fn facts_of_load(
        &self,
        client: &mut SpiClient<'_>,
        d: &'static Dataset,
        months: &std::collections::BTreeSet<Partition>,
        whole: impl Fn(Partition) -> bool,
        load_id: i64,
    ) -> Result<u64, LoadError> {
        let (of_load, of_month) = (sql::insert_facts_of_load(d), sql::insert_facts_of_range(d));
        let mut inserted = 0;
        for &p in months {
            pgrx::check_for_interrupts!();
            let [lower, upper] = datum::month_bounds(p);
            let done = if whole(p) {
                client.update(of_month.as_str(), None, &[lower.into(), upper.into()])
            } else {
                client.update(
                    of_load.as_str(),
                    None,
                    &[lower.into(), upper.into(), load_id.into()],
                )
            };
            inserted += done.or_internal("inserting the facts of a load")?.len() as u64;
        }
        Ok(inserted)
    }
}

impl FactTables for Star {
    /// The table of a partition [`Star::prepare`] made sure of; created by this load (not yet
    /// attached) for a new month's standalone table.
    fn fact_table(&self, p: Partition) -> (pg_sys::Oid, bool) {
        (
            self.partitions[&p],
            self.standalone.iter().any(|(q, _)| *q == p),
        )
    }
}

/// What `taxi_rebuild_star` did for one dataset: the month's first day (None: every month),
/// facts deleted and inserted.
pub struct Rebuilt {
    pub dataset: &'static Dataset,
    pub month: Option<Date>,
    pub deleted: u64,
    pub inserted: u64,
}

/// The dimension members the facts are computed with.
pub fn read_dims(client: &mut SpiClient<'_>) -> Result<Dims, LoadError> {
    const DOING: &str = "reading the star schema's dimensions";
    let mut zones: Vec<(i16, String, bool, bool)> = Vec::new();
    for r in client
        .select(sql::DIM_LOCATIONS, None, &[])
        .or_internal(DOING)?
    {
        // dim_location's columns are NOT NULL (sql/star.sql).
        let (Some(key), Some(borough), Some(in_nyc), Some(airport)) = (
            r.get(1).or_internal(DOING)?,
            r.get(2).or_internal(DOING)?,
            r.get(3).or_internal(DOING)?,
            r.get(4).or_internal(DOING)?,
        ) else {
            continue;
        };
        zones.push((key, borough, in_nyc, airport));
    }
    let keys = |client: &mut SpiClient<'_>, query: &str| -> Result<Vec<i16>, LoadError> {
        let mut keys = Vec::new();
        for r in client.select(query, None, &[]).or_internal(DOING)? {
            keys.extend(r.get::<i16>(1).or_internal(DOING)?);
        }
        Ok(keys)
    };
    Ok(Dims::new(
        &zones,
        &keys(client, sql::DIM_VENDORS)?,
        &keys(client, sql::DIM_RATE_CODES)?,
        &keys(client, sql::DIM_PAYMENT_TYPES)?,
    ))
}

/// Recomputes the fact rows of `dataset`'s trips (every dataset's when None) of the month
/// holding `day`, or of every month when None, from the trips tables. Takes the lock loads take:
/// no load runs while it works.
pub fn rebuild(
    day: Option<Date>,
    dataset: Option<&'static Dataset>,
) -> Result<Vec<Rebuilt>, LoadError> {
    const DOING: &str = "rebuilding the star schema";
    let month = day
        .map(|d| {
            if !d.is_finite() {
                return Err(LoadError::InfiniteMonth {
                    function: "taxi_rebuild_star",
                });
            }
            Ok(policy::month_of(datum::unix_days(d)))
        })
        .transpose()?;
    let (from, to) = match month {
        Some((first, next)) => (Some(datum::midnight(first)), Some(datum::midnight(next))),
        None => (None, None),
    };
    let datasets: Vec<&'static Dataset> = dataset.map_or(ALL.to_vec(), |d| vec![d]);
    let done = Spi::connect_mut(|client| {
        let mut months: Vec<Date> = Vec::new();
        for &d in &datasets {
            let (target, _) = trips::target_oid(client, d)?;
            locks::lock_against_loads(target);
            months.extend(
                client
                    .select(
                        sql::months_of_trips(d).as_str(),
                        Some(1),
                        &[from.into(), to.into()],
                    )
                    .and_then(|t| t.first().get_one::<Vec<Date>>())
                    .or_internal(DOING)?
                    .unwrap_or_default(),
            );
        }
        months.sort_by_key(|d| datum::unix_days(*d));
        months.dedup();
        partitions::ensure(client, part_sql::FACTS, months)?;
        // Every fact of every month goes: one TRUNCATE, when the role may, rather than DELETEs.
        let truncate = from.is_none()
            && dataset.is_none()
            && client
                .select(sql::MAY_TRUNCATE_FACTS, Some(1), &[])
                .and_then(|t| t.first().get_one::<bool>())
                .or_internal(DOING)?
                .unwrap_or(false);
        let mut counted = Vec::new();
        if truncate {
            for &d in &datasets {
                counted.push(
                    client
                        .select(sql::count_facts(d).as_str(), Some(1), &[])
                        .and_then(|t| t.first().get_one::<i64>())
                        .or_internal(DOING)?
                        .unwrap_or(0) as u64,
                );
            }
            client
                .update(sql::TRUNCATE_FACTS, None, &[])
                .or_internal(DOING)?;
        }
        let mut done = Vec::new();
        for (i, &d) in datasets.iter().enumerate() {
            let deleted = match counted.get(i) {
                Some(&n) => n,
                None => client
                    .update(
                        sql::delete_facts(d).as_str(),
                        None,
                        &[from.into(), to.into()],
                    )
                    .or_internal(DOING)?
                    .len() as u64,
            };
            let inserted = client
                .update(
                    sql::insert_facts_of_range(d).as_str(),
                    None,
                    &[from.into(), to.into()],
                )
                .or_internal(DOING)?
                .len() as u64;
            done.push(Rebuilt {
                dataset: d,
                month: month.map(|(first, _)| datum::date(first)),
                deleted,
                inserted,
            });
        }
        Ok::<_, LoadError>(done)
    })?;
    Ok(done)
}
