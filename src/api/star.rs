//! `taxi_check_consistency()` and `taxi_rebuild_star(month)`. Dimensions and the fact table are
//! created by sql/star.sql; facts are written by the loads themselves (`crate::load::star`).

use pgrx::datum::Date;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use taxi_core::error::LoadError;
use taxi_core::policy;
use taxi_core::sql::star as sql;

use crate::load::star;
use crate::report::{self, OrInternal};

/// Compares a dataset's trips table (every dataset's when NULL) with the star schema: per month
/// of pickup, the trip counts and the sums of every money column the dataset has; trips present
/// on one side only; and trips whose fact row is not what their trip gives. One row per
/// discrepancy; none means consistent.
// pgrx reads the result columns from this signature (a type alias would hide them).
#[allow(clippy::type_complexity)]
#[pg_extern(name = "taxi_check_consistency", stable, parallel_restricted)]
fn check_consistency(
    dataset: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(dataset, String),
        name!(month, Option<Date>),
        name!(item, String),
        name!(normalized, Option<AnyNumeric>),
        name!(star, Option<AnyNumeric>),
        name!(detail, Option<String>),
    ),
> {
    const DOING: &str = "checking consistency";
    let rows = policy::dataset_argument(dataset)
        .and_then(|d| {
            Spi::connect(|client| {
                let mut rows = Vec::new();
                for r in client
                    .select(sql::check_consistency_of(d).as_str(), None, &[])
                    .or_internal(DOING)?
                {
                    rows.push((
                        // The check names the dataset and every discrepancy it reports.
                        r.get::<String>(1).or_internal(DOING)?.unwrap_or_default(),
                        r.get::<Date>(2).or_internal(DOING)?,
                        r.get::<String>(3).or_internal(DOING)?.unwrap_or_default(),
                        r.get::<AnyNumeric>(4).or_internal(DOING)?,
                        r.get::<AnyNumeric>(5).or_internal(DOING)?,
                        r.get::<String>(6).or_internal(DOING)?,
                    ));
                }
                Ok::<_, LoadError>(rows)
            })
        })
        .unwrap_or_else(|e| report::raise(e, "taxi_check_consistency"));
    TableIterator::new(rows)
}

/// Recomputes the fact rows of one month of pickups (any day of it), or of every trip when
/// `month` is NULL, from a dataset's trips table (every dataset's when NULL): one row per
/// dataset. Waits for running loads (and they for it).
#[pg_extern(name = "taxi_rebuild_star", volatile, parallel_unsafe)]
fn rebuild_star(
    month: default!(Option<Date>, "NULL"),
    dataset: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(dataset, String),
        name!(month, Option<Date>),
        name!(facts_deleted, i64),
        name!(facts_inserted, i64),
    ),
> {
    let done = policy::dataset_argument(dataset)
        .and_then(|d| star::rebuild(month, d))
        .unwrap_or_else(|e| report::raise(e, "taxi_rebuild_star"));
    TableIterator::new(done.into_iter().map(|r| {
        (
            r.dataset.name.to_string(),
            r.month,
            r.deleted as i64,
            r.inserted as i64,
        )
    }))
}

/// The C symbols of taxi_check_consistency() and taxi_rebuild_star(month) as 0.2.0-0.6.0 defined
/// them (no dataset): objects not yet updated get the update hint, not an argument error.
#[pg_extern(sql = false)]
fn taxi_check_consistency() -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_check_consistency(dataset)",
        },
        "taxi_check_consistency",
    )
}

#[pg_extern(sql = false)]
fn taxi_rebuild_star(_month: Option<Date>) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_rebuild_star(month, dataset)",
        },
        "taxi_rebuild_star",
    )
}
