//! Replacing a file's earlier versions (`replace => true`, `taxi_core::versions`): while the new
//! version loads, the keys of all its trips are gathered; after its trips are written, the
//! partitions the earlier versions inserted into are scanned for their trips, and those the new
//! version lacks are removed with their facts. Trips in both stay as they are.

use pgrx::datum::DatumWithOid;
use pgrx::spi::SpiClient;
use taxi_core::dedup::{key, key_set, KeySet};
use taxi_core::error::LoadError;
use taxi_core::hash::RowHash;
use taxi_core::sql::partitions as part_sql;
use taxi_core::sql::replace as sql;
use taxi_core::versions::Replacement;

use crate::load::partitions;
use crate::postgres::{datum, scan};
use crate::report::OrInternal;

pub struct Replacing<'a> {
    plan: &'a Replacement,
    /// Every trip of the new version, as the file is read.
    in_file: KeySet,
}

impl<'a> Replacing<'a> {
    /// Error unless the current role may remove trips and facts.
    pub fn start(
        client: &SpiClient<'_>,
        plan: &'a Replacement,
        file_rows: u64,
    ) -> Result<Replacing<'a>, LoadError> {
        let may = client
            .select(sql::MAY_DELETE, Some(1), &[])
            .and_then(|t| t.first().get_one::<bool>())
            .or_internal("checking privileges")?;
        if may != Some(true) {
            return Err(LoadError::NoRemovePrivilege {
                table: "taxi.yellow_taxi_trips",
            });
        }
        Ok(Replacing {
            plan,
            in_file: key_set(file_rows as usize),
        })
    }

    /// A chunk's trips (all of them: stored, new or repeated).
    pub fn saw(&mut self, hashes: &[RowHash]) {
        self.in_file.extend(hashes.iter().map(|h| key(&h[..])));
    }

    /// Removes the trips of the earlier versions the new one lacks, month by month, with their
    /// facts. Returns how many trips went.
    pub fn remove(self, client: &mut SpiClient<'_>) -> Result<u64, LoadError> {
        const DOING: &str = "removing the earlier version's trips";
        let names: Vec<String> = self.plan.months.iter().map(|p| p.trip_table()).collect();
        let found = partitions::existing(client, part_sql::TRIPS, &names)?;
        let mut removed = 0u64;
        for &p in &self.plan.months {
            pgrx::check_for_interrupts!();
            let Some(e) = found.get(&p.trip_table()) else {
                continue; // dropped since (taxi_drop_month)
            };
            let mut gone: Vec<Vec<u8>> = Vec::new();
            scan::row_hashes_of_loads(e.oid, &self.plan.owners, |h| {
                if h.len() >= 16 && !self.in_file.contains(&key(h)) {
                    gone.push(h.to_vec());
                }
            });
            if gone.is_empty() {
                continue;
            }
            let (lower, upper) = p.bounds_us();
            let hashes: Vec<&[u8]> = gone.iter().map(Vec::as_slice).collect();
            let args: Vec<DatumWithOid> = vec![
                hashes.into(),
                self.plan.owners.clone().into(),
                lower.map(datum::timestamp).into(),
                upper.map(datum::timestamp).into(),
            ];
            let trips = client
                .update(sql::REMOVE, Some(1), &args)
                .and_then(|t| t.first().get_one::<i64>())
                .or_internal(DOING)?
                .unwrap_or(0);
            removed += trips as u64;
        }
        Ok(removed)
    }
}
