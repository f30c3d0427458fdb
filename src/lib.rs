//! taxi_loader: loads NYC TLC trip parquet files (every dataset) into PostgreSQL, each trip exactly once.
//!
//! This crate is the glue between PostgreSQL and the pgrx-free core (`taxi_core`), in layers that
//! import one way only:
//! - [`api`]: the SQL-facing functions; they read [`gucs`] and call `load`;
//! - `load`: a load orchestrated (and the folder loads, history, star schema, index helpers it
//!   uses), acting on the answers of `taxi_core::policy`;
//! - `postgres`: PostgreSQL internals (heap writer, Datums, scans, locks, owner switching,
//!   subtransactions, the background worker, progress);
//! - [`report`]: every `LoadError` raised as an ERROR with its SQLSTATE, detail and hint.
//!
//! Every PostgreSQL call runs on the backend's main thread; the core's threads see plain Rust
//! data only.

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

mod api;
mod consistency;
mod gucs;
mod load;
mod pg_compat;
mod postgres;
mod report;

#[cfg(any(test, feature = "pg_test"))]
mod pgrx_tests;

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/bulk.sql", name = "bulk", requires = ["schema"]);
extension_sql_file!("../sql/star.sql", name = "star", requires = ["schema"]);
extension_sql_file!("../sql/runs.sql", name = "runs", requires = ["schema"]);
extension_sql_file!(
    "../sql/partitions.sql",
    name = "partitions",
    requires = ["schema", "star"]
);
extension_sql_file!(
    "../sql/datasets.sql",
    name = "datasets",
    requires = ["schema", "star", "runs", "partitions"]
);
extension_sql_file!(
    "../sql/coordinates.sql",
    name = "coordinates",
    requires = ["schema", "star", "datasets"]
);
extension_sql_file!(
    "../sql/progress.sql",
    name = "progress",
    requires = ["schema"]
);
extension_sql_file!(
    "../sql/distributed.sql",
    name = "distributed",
    requires = ["schema", "star", "runs", "partitions", "datasets"]
);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
    postgres::source::init();
}

/// This module is required by `cargo pgrx test` invocations.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {
        crate::pgrx_tests::fixtures::install_fixtures();
    }

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
