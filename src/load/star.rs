//! The star schema's side of a load: the fact table locked and inspected, the dimensions read,
//! monthly partitions created on first sight, the facts of a load inserted at its end when they
//! could not go straight into the heap; and `taxi_rebuild_star`'s recomputation of a month.
//!
//! Facts are written the way the trips are: with the trips' INSERT (one statement, RETURNING
//! feeds the fact INSERT) on the SPI path; straight into the partitions' heaps next to the trips
//! on the direct path (`fact_writer`), or, when the fact table is not plain enough for that, by
//! one INSERT … SELECT of the load's trips at its end. Each path writes the facts of exactly the
//! trips it wrote.

use std::collections::{HashMap, HashSet};

use pgrx::datum::Date;
use pgrx::pg_sys;
use pgrx::spi::{Spi, SpiClient};
use taxi_core::error::LoadError;
use taxi_core::facts::{Dims, Partition};
use taxi_core::sql::star as sql;
use taxi_core::{calendar, policy};

use crate::load::trips;
use crate::postgres::{datum, locks, owner};
use crate::report::OrInternal;

/// What a load knows about the star schema after locking it.
pub struct Star {
    pub dims: Dims,
    /// Facts may go straight into the partitions' heaps (see `sql::INSPECT_FACTS`).
    pub direct: bool,
    /// Partitions known to exist, with their oids.
    partitions: HashMap<Partition, pg_sys::Oid>,
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
        let dims = Dims::new(
            &zones,
            &keys(client, sql::DIM_VENDORS)?,
            &keys(client, sql::DIM_RATE_CODES)?,
            &keys(client, sql::DIM_PAYMENT_TYPES)?,
        );
        Ok(Star {
            dims,
            direct,
            partitions: HashMap::new(),
        })
    }

    /// Makes sure the partitions of `wanted` exist (creating monthly ones on first sight).
    /// Returns whether it ran SQL (which may have created partitions).
    pub fn prepare(
        &mut self,
        wanted: impl IntoIterator<Item = Partition>,
    ) -> Result<bool, LoadError> {
        let new: HashSet<Partition> = wanted
            .into_iter()
            .filter(|p| !self.partitions.contains_key(p))
            .collect();
        if new.is_empty() {
            return Ok(false);
        }
        Spi::connect_mut(|client| {
            let months: Vec<Date> = new
                .iter()
                .map(|p| {
                    let (y, m) = p.month();
                    datum::date(calendar::days_from_civil(y, m, 1))
                })
                .collect();
            ensure_partitions(client, months)?;
            for p in new {
                let name = p.table_name();
                let oid = client
                    .select(sql::PARTITION_OID, Some(1), &[name.as_str().into()])
                    .and_then(|t| t.first().get_one::<i64>())
                    .or_internal("finding a fact partition")?;
                let Some(oid) = oid else {
                    return Err(LoadError::NotAPartition { table: name });
                };
                self.partitions.insert(p, locks::oid(oid));
            }
            Ok(true)
        })
    }

    /// The oid of a partition [`Star::prepare`] made sure of.
    pub fn partition_oid(&self, p: Partition) -> pg_sys::Oid {
        self.partitions[&p]
    }
}

/// The facts of one load whose trips were written straight into the heap, when the fact table
/// is not plain enough for direct writes.
pub fn insert_facts_of_load(client: &mut SpiClient<'_>, load_id: i64) -> Result<u64, LoadError> {
    Ok(client
        .update(
            sql::insert_facts_of_load().as_str(),
            None,
            &[load_id.into()],
        )
        .or_internal("inserting the facts of the load")?
        .len() as u64)
}

/// Creates the partitions of `months` that are missing. As the extension's owner: the function
/// is not executable by PUBLIC, so the only partitions anyone can create are those of the trips
/// they load (or rebuild).
fn ensure_partitions(client: &mut SpiClient<'_>, months: Vec<Date>) -> Result<(), LoadError> {
    let owner = owner::extension_owner().ok_or(LoadError::NotUpdated {
        missing: "taxi.ensure_fact_partitions",
    })?;
    owner::as_owner(owner, || {
        client
            .update(sql::ENSURE_PARTITIONS, None, &[months.into()])
            .map(|_| ())
    })
    .or_internal("creating fact partitions")
}

/// What `taxi_rebuild_star` did: the month's first day (None: every month), facts deleted and
/// inserted.
pub struct Rebuilt {
    pub month: Option<Date>,
    pub deleted: u64,
    pub inserted: u64,
}

/// Recomputes the fact rows of the month holding `day`, or of every trip when None, from the
/// trips table. Takes the lock loads take: no load runs while it works.
pub fn rebuild(day: Option<Date>) -> Result<Rebuilt, LoadError> {
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
    let (deleted, inserted) = Spi::connect_mut(|client| {
        let (target, _) = trips::target_oid(client)?;
        locks::lock_against_other_loads(target);
        let months = client
            .select(
                sql::months_of_trips().as_str(),
                Some(1),
                &[from.into(), to.into()],
            )
            .and_then(|t| t.first().get_one::<Vec<Date>>())
            .or_internal(DOING)?
            .unwrap_or_default();
        ensure_partitions(client, months)?;
        let truncate = from.is_none()
            && client
                .select(sql::MAY_TRUNCATE_FACTS, Some(1), &[])
                .and_then(|t| t.first().get_one::<bool>())
                .or_internal(DOING)?
                .unwrap_or(false);
        let deleted = if truncate {
            let n = client
                .select(sql::COUNT_FACTS, Some(1), &[])
                .and_then(|t| t.first().get_one::<i64>())
                .or_internal(DOING)?
                .unwrap_or(0);
            client
                .update(sql::TRUNCATE_FACTS, None, &[])
                .or_internal(DOING)?;
            n as u64
        } else {
            client
                .update(
                    sql::delete_facts().as_str(),
                    None,
                    &[from.into(), to.into()],
                )
                .or_internal(DOING)?
                .len() as u64
        };
        let inserted = client
            .update(
                sql::insert_facts_of_range().as_str(),
                None,
                &[from.into(), to.into()],
            )
            .or_internal(DOING)?
            .len() as u64;
        Ok::<_, LoadError>((deleted, inserted))
    })?;
    Ok(Rebuilt {
        month: month.map(|(first, _)| datum::date(first)),
        deleted,
        inserted,
    })
}
