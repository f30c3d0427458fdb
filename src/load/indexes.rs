//! Dropping a table's indexes and rebuilding them from saved definitions: what
//! `taxi_bulk_begin`/`taxi_bulk_end` do, and what taxi_load does around a bulk load, where
//! building indexes once after the load is several times cheaper than maintaining them row by
//! row. The definitions are saved in taxi.bulk_saved_index in the same transaction, so a failed
//! load rolls the drop back with everything else.

use pgrx::pg_sys;
use pgrx::spi::SpiClient;
use taxi_core::error::LoadError;
use taxi_core::policy;
use taxi_core::sql::indexes as sql;
use taxi_core::sql::partitions as part_sql;

use crate::postgres::partitions::run_as_owner;
use crate::report::OrInternal;

/// An index: its name and the statement that creates it.
pub type Index = (String, String);

/// Records the definitions of `target`'s indexes and drops them; unique ones (the primary key)
/// too only with `include_unique`. Returns what was dropped.
pub fn drop_indexes(
    client: &mut SpiClient<'_>,
    target: pg_sys::Oid,
    include_unique: bool,
) -> Result<Vec<Index>, LoadError> {
    const DOING: &str = "dropping indexes";
    let mut indexes: Vec<(String, Option<String>, String, String)> = Vec::new();
    for r in client
        .select(
            sql::LIST_INDEXES,
            None,
            &[target.into(), include_unique.into()],
        )
        .or_internal(DOING)?
    {
        // Only the constraint name is NULL, for an index without one (see sql::LIST_INDEXES).
        let (Some(name), constraint, Some(drop_sql), Some(create_sql)) = (
            r.get::<String>(1).or_internal(DOING)?,
            r.get::<String>(2).or_internal(DOING)?,
            r.get::<String>(3).or_internal(DOING)?,
            r.get::<String>(4).or_internal(DOING)?,
        ) else {
            continue;
        };
        indexes.push((name, constraint, drop_sql, create_sql));
    }
    let mut dropped = Vec::with_capacity(indexes.len());
    for (name, constraint, drop_sql, create_sql) in indexes {
        client
            .update(drop_sql.as_str(), None, &[])
            .or_internal(DOING)?;
        client
            .update(
                sql::SAVE,
                None,
                &[
                    target.into(),
                    name.as_str().into(),
                    constraint.as_deref().into(),
                    create_sql.as_str().into(),
                ],
            )
            .or_internal(DOING)?;
        dropped.push((name, create_sql));
    }
    Ok(dropped)
}

/// Rebuilds the indexes [`drop_indexes`] dropped from `target`. Returns what was rebuilt.
pub fn rebuild_indexes(
    client: &mut SpiClient<'_>,
    target: pg_sys::Oid,
) -> Result<Vec<Index>, LoadError> {
    const DOING: &str = "rebuilding indexes";
    let mut saved: Vec<Index> = Vec::new();
    for r in client
        .select(sql::SAVED, None, &[target.into()])
        .or_internal(DOING)?
    {
        // taxi.bulk_saved_index's columns are NOT NULL.
        if let (Some(name), Some(definition)) = (
            r.get::<String>(1).or_internal(DOING)?,
            r.get::<String>(2).or_internal(DOING)?,
        ) {
            saved.push((name, definition));
        }
    }
    for (_, definition) in &saved {
        client
            .update(definition.as_str(), None, &[])
            .or_internal(DOING)?;
    }
    client
        .update(sql::FORGET, None, &[target.into()])
        .or_internal(DOING)?;
    Ok(saved)
}

/// Rebuilds the indexes of tables written straight into their heaps (as the extension's owner),
/// with the rebuild's fixed memory (`policy::REBUILD_MEMORY_KB`), whatever the session's.
pub fn reindex_written(
    client: &mut SpiClient<'_>,
    tables: &[pg_sys::Oid],
    doing: &'static str,
) -> Result<(), LoadError> {
    if tables.is_empty() {
        return Ok(());
    }
    with_maintenance_memory(client, policy::REBUILD_MEMORY_KB, |client| {
        for &oid in tables {
            pgrx::check_for_interrupts!();
            run_as_owner(client, part_sql::REINDEX, &[oid.into()], doing)?;
        }
        Ok(())
    })
}

/// Runs `f` (which builds indexes) with `kb` of maintenance_work_mem, then puts the setting back.
pub fn with_maintenance_memory<R>(
    client: &mut SpiClient<'_>,
    kb: i64,
    f: impl FnOnce(&mut SpiClient<'_>) -> Result<R, LoadError>,
) -> Result<R, LoadError> {
    const DOING: &str = "setting maintenance_work_mem";
    let current: i64 = client
        .select(sql::CURRENT_MAINTENANCE_WORK_MEM_KB, Some(1), &[])
        .and_then(|t| t.first().get_one())
        .or_internal(DOING)?
        .unwrap_or(kb);
    if current == kb {
        return f(client);
    }
    let set = |client: &mut SpiClient<'_>, value: String| {
        client
            .update(
                sql::SET_MAINTENANCE_WORK_MEM,
                None,
                &[value.as_str().into()],
            )
            .or_internal(DOING)
            .map(|_| ())
    };
    set(client, format!("{kb}kB"))?;
    let done = f(client)?;
    set(client, format!("{current}kB"))?;
    Ok(done)
}
