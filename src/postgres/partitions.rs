//! Month partitions in the catalog, for trips and facts alike: which are attached, a standalone
//! table for a new month, the missing ones created. The partition functions they call run as the
//! extension's owner (they are not executable by PUBLIC).

use std::collections::HashMap;

use pgrx::datum::{Date, DatumWithOid};
use pgrx::pg_sys;
use pgrx::spi::SpiClient;
use taxi_core::calendar;
use taxi_core::error::LoadError;
use taxi_core::partition::Partition;
use taxi_core::sql::partitions as sql;

use crate::postgres::{datum, locks, owner};
use crate::report::OrInternal;

/// An attached partition as the catalog describes it.
pub struct Existing {
    pub oid: pg_sys::Oid,
    pub estimated_rows: Option<f64>,
    pub plain: bool,
}

/// The attached partitions of `parent` (trips or facts) among `names`, by name.
pub fn existing(
    client: &SpiClient<'_>,
    parent: &str,
    names: &[String],
) -> Result<HashMap<String, Existing>, LoadError> {
    const DOING: &str = "finding partitions";
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut found = HashMap::new();
    for r in client
        .select(sql::PARTITIONS, None, &[parent.into(), names.into()])
        .or_internal(DOING)?
    {
        let (Some(name), Some(oid)) = (
            r.get::<String>(1).or_internal(DOING)?,
            r.get::<i64>(2).or_internal(DOING)?,
        ) else {
            continue;
        };
        found.insert(
            name,
            Existing {
                oid: locks::oid(oid),
                estimated_rows: r.get::<f64>(3).or_internal(DOING)?.filter(|n| *n >= 0.0),
                plain: r.get::<bool>(4).or_internal(DOING)?.unwrap_or(false),
            },
        );
    }
    Ok(found)
}

/// The first day of a partition's month, as the SQL functions take it.
pub fn month_date(p: Partition) -> Date {
    let (y, m) = p.month();
    datum::date(calendar::days_from_civil(y, m, 1))
}

/// Runs `f` (a call of the partition functions) as the extension's owner: they are not
/// executable by PUBLIC, so the only partitions a role can create, fill or drop are those of its
/// own load.
fn owner_sql<R>(
    f: impl FnOnce() -> pgrx::spi::Result<R>,
    doing: &'static str,
) -> Result<R, LoadError> {
    let owner = owner::extension_owner().ok_or(LoadError::NotUpdated {
        missing: "taxi.create_partition_table",
    })?;
    owner::as_owner(owner, f).or_internal(doing)
}

/// Runs `sql`, one of the partition functions, as the extension's owner.
pub fn run_as_owner(
    client: &mut SpiClient<'_>,
    sql: &str,
    args: &[DatumWithOid],
    doing: &'static str,
) -> Result<(), LoadError> {
    owner_sql(|| client.update(sql, None, args).map(|_| ()), doing)
}

/// A standalone table for month `p` of `parent` (see `taxi.create_partition_table`), created as
/// the extension's owner.
pub fn create_table(
    client: &mut SpiClient<'_>,
    parent: &'static str,
    p: Partition,
) -> Result<pg_sys::Oid, LoadError> {
    let oid = owner_sql(
        || {
            client
                .update(
                    sql::CREATE_TABLE,
                    Some(1),
                    &[parent.into(), month_date(p).into()],
                )
                .and_then(|t| t.first().get_one::<i64>())
        },
        "creating a partition",
    )?;
    oid.map(locks::oid).ok_or(LoadError::NotAPartition {
        table: format!("{parent} of {:?}", p.month()),
    })
}

/// Creates the missing partitions of `months` of `parent`, empty and attached.
pub fn ensure(
    client: &mut SpiClient<'_>,
    parent: &str,
    months: Vec<Date>,
) -> Result<(), LoadError> {
    if months.is_empty() {
        return Ok(());
    }
    run_as_owner(
        client,
        sql::ENSURE,
        &[parent.into(), months.into()],
        "creating partitions",
    )
}
