//! `taxi_check_consistency()` and `taxi_rebuild_star(month)`. Dimensions and the fact table are
//! created by sql/star.sql; facts are written by the loads themselves (`crate::load::star`).

use pgrx::datum::Date;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use taxi_core::error::LoadError;
use taxi_core::sql::star as sql;

use crate::load::star;
use crate::report::{self, OrInternal};

/// Compares taxi.yellow_taxi_trips with the star schema: per month of pickup, the trip counts
/// and the sums of every money column; trips present on one side only; and trips whose fact row
/// is not what their trip gives. One row per discrepancy; none means consistent.
// pgrx reads the result columns from this signature (a type alias would hide them).
#[allow(clippy::type_complexity)]
#[pg_extern(stable, parallel_restricted)]
fn taxi_check_consistency() -> TableIterator<
    'static,
    (
        name!(month, Option<Date>),
        name!(item, String),
        name!(normalized, Option<AnyNumeric>),
        name!(star, Option<AnyNumeric>),
        name!(detail, Option<String>),
    ),
> {
    const DOING: &str = "checking consistency";
    let rows = Spi::connect(|client| {
        let mut rows = Vec::new();
        for r in client
            .select(sql::check_consistency().as_str(), None, &[])
            .or_internal(DOING)?
        {
            rows.push((
                r.get::<Date>(1).or_internal(DOING)?,
                // The check names every discrepancy it reports.
                r.get::<String>(2).or_internal(DOING)?.unwrap_or_default(),
                r.get::<AnyNumeric>(3).or_internal(DOING)?,
                r.get::<AnyNumeric>(4).or_internal(DOING)?,
                r.get::<String>(5).or_internal(DOING)?,
            ));
        }
        Ok::<_, LoadError>(rows)
    })
    .unwrap_or_else(|e| report::raise(e, "taxi_check_consistency"));
    TableIterator::new(rows)
}

/// Recomputes the fact rows of one month of pickups (any day of it), or of every trip when
/// `month` is NULL, from taxi.yellow_taxi_trips. Waits for running loads (and they for it).
#[pg_extern(volatile, parallel_unsafe)]
fn taxi_rebuild_star(
    month: default!(Option<Date>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(month, Option<Date>),
        name!(facts_deleted, i64),
        name!(facts_inserted, i64),
    ),
> {
    let r = star::rebuild(month).unwrap_or_else(|e| report::raise(e, "taxi_rebuild_star"));
    TableIterator::once((r.month, r.deleted as i64, r.inserted as i64))
}
