//! `taxi_load(path, chunk_size, replace, dataset)`, `taxi_load_dir(dir, pattern, chunk_size,
//! replace, dataset)` and `taxi_load_months(url_template, from_month, to_month, replace,
//! chunk_size, dataset)`.

use pgrx::prelude::*;
use taxi_core::error::LoadError;
use taxi_core::policy;
use taxi_core::policy::Settings;

use crate::gucs;
use crate::load::dir::{self, Outcome};
use crate::load::run_file;
use crate::report;

/// The settings of this call: the session's, and the dataset it names (refused if unknown).
fn settings(dataset: Option<&str>, function: &'static str) -> Settings {
    let dataset = policy::dataset_argument(dataset).unwrap_or_else(|e| report::raise(e, function));
    Settings {
        dataset,
        ..gucs::load_settings()
    }
}

/// Loads a NYC TLC trip file (yellow, green, FHV or high-volume FHV: its columns say which,
/// unless `dataset` does) into its dataset's table. A trip already in the table (same row_hash)
/// is counted as a duplicate, not inserted again. `chunk_size` NULL: `taxi.chunk_size`.
/// `replace`: a file of a name loaded before with other content is that name's new version;
/// the trips of the earlier versions it lacks are removed.
// pgrx reads the result columns from this signature (a type alias would hide them).
#[allow(clippy::type_complexity)]
#[pg_extern(name = "taxi_load", volatile, parallel_unsafe)]
fn load_trip_file(
    path: Option<&str>,
    chunk_size: default!(Option<i32>, "NULL"),
    replace: default!(Option<bool>, "false"),
    dataset: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(load_id, i64),
        name!(rows_read, i64),
        name!(rows_inserted, i64),
        name!(rows_duplicate, i64),
        name!(rows_rejected, i64),
        name!(rows_removed, i64),
        name!(seconds, f64),
        name!(dataset, String),
    ),
> {
    const FUNCTION: &str = "taxi_load";
    let Some(path) = path else {
        report::raise(
            LoadError::NullArgument {
                function: FUNCTION,
                arguments: "path",
            },
            FUNCTION,
        );
    };
    let Some(replace) = replace else {
        report::raise(
            LoadError::NullArgument {
                function: FUNCTION,
                arguments: "replace",
            },
            FUNCTION,
        );
    };
    let chunk_size = chunk_size.map_or_else(gucs::chunk_size, i64::from);
    let settings = settings(dataset, FUNCTION);
    let s = run_file(path, chunk_size, settings, replace)
        .1
        .unwrap_or_else(|f| f.raise(FUNCTION));
    debug1!(
        "taxi_load {path}: {:?} mode, {} worker threads, {} rows read, {} inserted",
        s.mode,
        s.workers,
        s.rows_read,
        s.rows_inserted
    );
    TableIterator::once((
        s.load_id,
        s.rows_read,
        s.rows_inserted,
        s.rows_duplicate,
        s.rows_rejected,
        s.rows_removed,
        s.seconds,
        s.dataset.name.to_string(),
    ))
}

/// Loads every file of `dir` matching `pattern` whose content was not loaded before, in name
/// order, each as its own recorded run into its dataset's table (a folder may mix datasets);
/// one row per file. `replace` and `dataset` as for `taxi_load`.
#[allow(clippy::type_complexity)]
#[pg_extern(name = "taxi_load_dir", volatile, parallel_unsafe)]
fn load_trip_folder(
    dir: Option<&str>,
    pattern: default!(Option<&str>, "'*.parquet'"),
    chunk_size: default!(Option<i32>, "NULL"),
    replace: default!(Option<bool>, "false"),
    dataset: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(status, String),
        name!(load_id, Option<i64>),
        name!(rows_read, Option<i64>),
        name!(rows_inserted, Option<i64>),
        name!(rows_duplicate, Option<i64>),
        name!(rows_rejected, Option<i64>),
        name!(rows_removed, Option<i64>),
        name!(error_sqlstate, Option<String>),
        name!(error_message, Option<String>),
        name!(dataset, Option<String>),
    ),
> {
    const FUNCTION: &str = "taxi_load_dir";
    let (Some(dir), Some(pattern), Some(replace)) = (dir, pattern, replace) else {
        report::raise(
            LoadError::NullArgument {
                function: FUNCTION,
                arguments: "dir, pattern and replace",
            },
            FUNCTION,
        );
    };
    let chunk_size = chunk_size.map_or_else(gucs::chunk_size, i64::from);
    let settings = settings(dataset, FUNCTION);
    let files = dir::load_dir(dir, pattern, chunk_size, settings, replace)
        .unwrap_or_else(|e| report::raise(e, FUNCTION));
    TableIterator::new(files.into_iter().map(file_row))
}

type FileRow = (
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn file_row((path, outcome): (String, Outcome)) -> FileRow {
    match outcome {
        Outcome::Skipped(load_id) => (
            path,
            "skipped".into(),
            Some(load_id),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        Outcome::NotFound => (
            path,
            "not_found".into(),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ),
        Outcome::Succeeded(load_id, s) => (
            path,
            "succeeded".into(),
            load_id,
            Some(s.rows_read),
            Some(s.rows_inserted),
            Some(s.rows_duplicate),
            Some(s.rows_rejected),
            Some(s.rows_removed),
            None,
            None,
            Some(s.dataset.name.to_string()),
        ),
        Outcome::Failed(load_id, f) => {
            let (sqlstate, message, _) = f.report();
            (
                path,
                "failed".into(),
                load_id,
                None,
                None,
                None,
                None,
                None,
                Some(sqlstate),
                Some(message),
                None,
            )
        }
    }
}

/// Loads every month from `from_month` to `to_month` (NULL: the current month) of a URL
/// template such as `https://host/trip-data/yellow_tripdata_{yyyy}-{mm}.parquet` that was not
/// loaded before, oldest first; one row per month. A month the server does not have (HTTP 404
/// or 403) is `not_found`, not an error: the monthly job simply finds it next time. Any
/// dataset's template works (`…/fhvhv_tripdata_{yyyy}-{mm}.parquet`); `dataset` as for
/// `taxi_load`.
#[allow(clippy::type_complexity)]
#[pg_extern(name = "taxi_load_months", volatile, parallel_unsafe)]
fn load_trip_months(
    url_template: Option<&str>,
    from_month: Option<pgrx::datum::Date>,
    to_month: default!(Option<pgrx::datum::Date>, "NULL"),
    replace: default!(Option<bool>, "false"),
    chunk_size: default!(Option<i32>, "NULL"),
    dataset: default!(Option<&str>, "NULL"),
) -> TableIterator<
    'static,
    (
        name!(file, String),
        name!(status, String),
        name!(load_id, Option<i64>),
        name!(rows_read, Option<i64>),
        name!(rows_inserted, Option<i64>),
        name!(rows_duplicate, Option<i64>),
        name!(rows_rejected, Option<i64>),
        name!(rows_removed, Option<i64>),
        name!(error_sqlstate, Option<String>),
        name!(error_message, Option<String>),
        name!(dataset, Option<String>),
    ),
> {
    const FUNCTION: &str = "taxi_load_months";
    let (Some(template), Some(from), Some(replace)) = (url_template, from_month, replace) else {
        report::raise(
            LoadError::NullArgument {
                function: FUNCTION,
                arguments: "url_template, from_month and replace",
            },
            FUNCTION,
        );
    };
    let to = to_month.unwrap_or_else(|| {
        Spi::get_one::<pgrx::datum::Date>("SELECT CURRENT_DATE")
            .ok()
            .flatten()
            .unwrap_or(from)
    });
    if from.is_infinity() || from.is_neg_infinity() || to.is_infinity() || to.is_neg_infinity() {
        report::raise(LoadError::InfiniteMonth { function: FUNCTION }, FUNCTION);
    }
    let month = |d: pgrx::datum::Date| (d.year(), d.month() as u32);
    let chunk_size = chunk_size.map_or_else(gucs::chunk_size, i64::from);
    let settings = settings(dataset, FUNCTION);
    let files = dir::load_months(
        template,
        month(from),
        month(to),
        chunk_size,
        settings,
        replace,
    )
    .unwrap_or_else(|e| report::raise(e, FUNCTION));
    TableIterator::new(files.into_iter().map(file_row))
}

/// The C symbols of taxi_load, taxi_load_dir and taxi_load_months as earlier versions defined
/// them (fewer arguments, other result columns): objects not yet updated get the update hint
/// from them, not an argument error. 0.1.0-0.4.0 …
#[pg_extern(sql = false)]
fn taxi_load(_path: Option<&str>, _chunk_size: Option<i32>) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_load(path, chunk_size, replace)",
        },
        "taxi_load",
    )
}

#[pg_extern(sql = false)]
fn taxi_load_dir(_dir: Option<&str>, _pattern: Option<&str>, _chunk_size: Option<i32>) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_load_dir(dir, pattern, chunk_size, replace)",
        },
        "taxi_load_dir",
    )
}

/// … and 0.5.0-0.6.0.
#[pg_extern(sql = false)]
fn load_file(_path: Option<&str>, _chunk_size: Option<i32>, _replace: Option<bool>) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_load(path, chunk_size, replace, dataset)",
        },
        "taxi_load",
    )
}

#[pg_extern(sql = false)]
fn load_folder(
    _dir: Option<&str>,
    _pattern: Option<&str>,
    _chunk_size: Option<i32>,
    _replace: Option<bool>,
) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing: "taxi_load_dir(dir, pattern, chunk_size, replace, dataset)",
        },
        "taxi_load_dir",
    )
}

#[pg_extern(sql = false)]
fn load_months(
    _url_template: Option<&str>,
    _from_month: Option<pgrx::datum::Date>,
    _to_month: Option<pgrx::datum::Date>,
    _replace: Option<bool>,
    _chunk_size: Option<i32>,
) -> i64 {
    report::raise(
        LoadError::NotUpdated {
            missing:
                "taxi_load_months(url_template, from_month, to_month, replace, chunk_size, dataset)",
        },
        "taxi_load_months",
    )
}
