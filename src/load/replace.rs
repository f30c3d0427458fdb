//! Replacing a file's earlier versions (`replace => true`, `taxi_core::versions`). Before the
//! load, the file name is locked against other replacements and its earlier runs are read from
//! the history (`plan`). While the new version loads, the load's set of the file's trips takes
//! every trip of it (not only the new ones); after its trips are written, the partitions the earlier versions inserted into are scanned for
//! their trips, and those the new version lacks are removed with their facts (`Replacing`). Trips
//! in both stay as they are. The run then supersedes the earlier ones (`supersede`).

use pgrx::datum::{Date, DatumWithOid};
use pgrx::pg_sys;
use pgrx::spi::{Spi, SpiClient};
use taxi_core::calendar::civil_from_days;
use taxi_core::dataset::Dataset;
use taxi_core::dedup::Seen;
use taxi_core::error::LoadError;
use taxi_core::partition::Partition;
use taxi_core::sql::replace as sql;
use taxi_core::versions::{self, EarlierRun, Replacement};

use crate::postgres::owner::as_owner;
use crate::postgres::partitions;
use crate::postgres::{datum, scan};
use crate::report::{self, OrInternal};

/// Locks file name `name` against other replacements and decides, from its earlier runs, what
/// run `load_id` of content `sha256` replaces (None: a plain load).
pub fn plan(
    owner: pg_sys::Oid,
    name: &str,
    load_id: i64,
    sha256: Option<&str>,
    read_committed: bool,
) -> Result<Option<Replacement>, LoadError> {
    lock_name(name, read_committed)?;
    let earlier = earlier_runs(owner, name, load_id)?;
    Ok(sha256.and_then(|sha| versions::replacement(&earlier, sha)))
}

/// Replacements of file name `name` take turns. One that waited for another cannot see what that
/// one committed unless it reads committed data per statement: it fails instead.
fn lock_name(name: &str, read_committed: bool) -> Result<(), LoadError> {
    const DOING: &str = "locking the file name";
    let args = [sql::NAME_LOCK_CLASS.into(), name.into()];
    if Spi::get_one_with_args::<bool>(sql::TRY_LOCK_NAME, &args).or_internal(DOING)? == Some(true) {
        return Ok(());
    }
    Spi::run_with_args(sql::LOCK_NAME, &args).or_internal(DOING)?;
    if read_committed {
        Ok(())
    } else {
        Err(LoadError::ReplacedMeanwhile { name: name.into() })
    }
}

/// The earlier successful runs of file name `name` (other than run `load_id`).
fn earlier_runs(
    owner: pg_sys::Oid,
    name: &str,
    load_id: i64,
) -> Result<Vec<EarlierRun>, LoadError> {
    const DOING: &str = "reading the file's earlier loads";
    as_owner(owner, || {
        Spi::connect(|c| {
            let mut runs = Vec::new();
            for r in c.select(sql::EARLIER_RUNS, None, &[name.into(), load_id.into()])? {
                let months: Vec<Date> = r.get(4)?.unwrap_or_default();
                runs.push(EarlierRun {
                    load_id: r.get::<i64>(1)?.unwrap_or_default(),
                    sha256: r.get::<String>(2)?,
                    current: r.get::<bool>(3)?.unwrap_or(true),
                    months: months
                        .into_iter()
                        .map(|d| {
                            let (y, m, _) = civil_from_days(datum::unix_days(d));
                            Partition::of_month(y, m)
                        })
                        .collect(),
                });
            }
            Ok(runs)
        })
    })
    .or_internal(DOING)
}

/// Run `load_id` supersedes the current runs `runs`; their rejected rows leave the quarantine.
pub fn supersede(owner: pg_sys::Oid, load_id: i64, runs: &[i64]) -> Result<(), LoadError> {
    let args: Vec<DatumWithOid> = vec![load_id.into(), runs.to_vec().into()];
    as_owner(owner, || {
        Spi::connect_mut(|c| c.update(sql::SUPERSEDE, None, &args).map(|_| ()))
    })
    .or_internal("marking the earlier version superseded")
}

/// Without replace: if the name's current version has other content, says that run `load_id`
/// added its `inserted` trips beside that version's.
pub fn notice_other_versions(
    owner: pg_sys::Oid,
    name: &str,
    load_id: i64,
    sha256: &str,
    inserted: i64,
) -> Result<(), LoadError> {
    let others = versions::other_versions(&earlier_runs(owner, name, load_id)?, sha256);
    if others.is_empty() {
        return Ok(());
    }
    let loads: Vec<String> = others.iter().map(i64::to_string).collect();
    report::notice(
        format!(
            "taxi_load: {name} was loaded before with other content (load {}); its {inserted} new trips were added beside that version's",
            loads.join(", ")
        ),
        "A re-published file replaces its earlier version with replace => true: the trips the new version lacks are then removed, and the earlier load is marked superseded.",
    );
    Ok(())
}

/// A replacement under way: what it replaces, once the role may.
pub struct Replacing<'a> {
    plan: &'a Replacement,
    dataset: &'static Dataset,
}

impl<'a> Replacing<'a> {
    /// Error unless the current role may remove trips and facts.
    pub fn start(
        client: &SpiClient<'_>,
        plan: &'a Replacement,
        dataset: &'static Dataset,
    ) -> Result<Replacing<'a>, LoadError> {
        let may = client
            .select(sql::may_delete(dataset).as_str(), Some(1), &[])
            .and_then(|t| t.first().get_one::<bool>())
            .or_internal("checking privileges")?;
        if may != Some(true) {
            return Err(LoadError::NoRemovePrivilege {
                table: dataset.qualified(),
            });
        }
        Ok(Replacing { plan, dataset })
    }

    /// Removes the trips of the earlier versions the new one lacks (those not in `in_file`: every
    /// trip of the new version), month by month, with their facts. Returns how many trips went.
    /// `distributed`: the trips table is a Citus table, read through SQL.
    pub fn remove(
        self,
        client: &mut SpiClient<'_>,
        in_file: &Seen,
        distributed: bool,
    ) -> Result<u64, LoadError> {
        const DOING: &str = "removing the earlier version's trips";
        let d = self.dataset;
        let names: Vec<String> = self.plan.months.iter().map(|p| p.trip_table(d)).collect();
        let found = partitions::existing(client, d.qualified(), &names)?;
        let mut removed = 0u64;
        for &p in &self.plan.months {
            pgrx::check_for_interrupts!();
            let Some(e) = found.get(&p.trip_table(d)) else {
                continue; // dropped since (taxi_drop_month)
            };
            let mut gone: Vec<Vec<u8>> = Vec::new();
            let mut keep = |h: &[u8]| {
                if h.len() >= 16 && !in_file.contains(h) {
                    gone.push(h.to_vec());
                }
            };
            let [lower, upper] = datum::month_bounds(p);
            if distributed {
                let args: Vec<DatumWithOid> =
                    vec![self.plan.owners.clone().into(), lower.into(), upper.into()];
                for r in client
                    .select(sql::hashes_of_loads(d).as_str(), None, &args)
                    .or_internal(DOING)?
                {
                    if let Some(h) = r.get::<&[u8]>(1).or_internal(DOING)? {
                        keep(h);
                    }
                }
            } else {
                scan::row_hashes_of_loads(e.oid, &self.plan.owners, keep);
            }
            if gone.is_empty() {
                continue;
            }
            let hashes: Vec<&[u8]> = gone.iter().map(Vec::as_slice).collect();
            let args: Vec<DatumWithOid> = vec![
                hashes.into(),
                self.plan.owners.clone().into(),
                lower.into(),
                upper.into(),
            ];
            let trips = client
                .update(sql::remove(d).as_str(), Some(1), &args)
                .and_then(|t| t.first().get_one::<i64>())
                .or_internal(DOING)?
                .unwrap_or(0);
            removed += trips as u64;
        }
        Ok(removed)
    }
}
