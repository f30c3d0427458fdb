//! `taxi_check_consistency(month)` and `taxi_rebuild_star(month)`. Dimensions and the fact table are
//! created by sql/star.sql; facts are written by the loads themselves (`crate::load::star`).

use pgrx::datum::Date;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use taxi_core::error::LoadError;
use taxi_core::policy;

use crate::consistency;
use crate::load::star;
use crate::report;

/// Compares a dataset's trips (every dataset's when NULL) with the star schema, month partition
/// by month partition: the month holding `month` (any day of it), or every month when NULL. One
/// row per discrepancy — the trip count and each money column's sum where they differ, trips
/// without a fact, facts without a trip, trips whose fact is not what their trip gives; none
/// means consistent. Reports progress like a load; cancellable.
// pgrx reads the result columns from this signature (a type alias would hide them).
#[allow(clippy::type_complexity)]
#[pg_extern(name = "taxi_check_consistency", stable, parallel_restricted)]
fn check_consistency_by_month(
    month: default!(Option<Date>, "NULL"),
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
    let rows = policy::dataset_argument(dataset)
        .and_then(|d| consistency::check(month, d))
        .unwrap_or_else(|e| report::raise(e, "taxi_check_consistency"));
    TableIterator::new(
        rows.found
            .into_iter()
            .map(|r| (r.dataset, r.month, r.item, r.normalized, r.star, r.detail)),
    )
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
/// them (no dataset), and of taxi_check_consistency(dataset) as 0.7.0-0.8.0 did (no month):
/// objects not yet updated get the update hint, not an argument error.
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
fn check_consistency(_dataset: Option<&str>) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_check_consistency(month, dataset)",
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
