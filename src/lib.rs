//! taxi_loader: loads NYC TLC yellow-taxi parquet files into PostgreSQL, each trip exactly once.
//!
//! The pipeline, one module each: `read` → `convert` → `hash` → `stage` → `merge` → `star`.
//!
//! The core — [`trip`], [`error`], [`read`], [`convert`], [`hash`], [`stage`], [`generate`],
//! [`threads`] and the SQL text in `merge::sql` and `bulk::sql` — never imports pgrx (a unit test
//! enforces it) and is tested with plain `#[test]`s. The rest is thin glue: `load` (the SQL
//! function), `merge` (SPI and direct heap writes), `bulk` (index helpers), `report` (errors →
//! ereport).

use pgrx::prelude::*;

::pgrx::pg_module_magic!(name, version);

pub mod convert;
pub mod error;
pub mod generate;
pub mod hash;
pub mod quality;
pub mod read;
pub mod threads;
pub mod trip;

mod bulk;
mod gucs;
mod load;
mod merge;
mod pg_compat;
mod report;
mod runs;
pub mod stage;
pub mod star;

#[cfg(any(test, feature = "pg_test"))]
mod testing;

extension_sql_file!("../sql/schema.sql", name = "schema", bootstrap);
extension_sql_file!("../sql/bulk.sql", name = "bulk", requires = ["schema"]);
extension_sql_file!("../sql/star.sql", name = "star", requires = ["schema"]);
extension_sql_file!("../sql/runs.sql", name = "runs", requires = ["schema"]);
extension_sql_file!(
    "../sql/progress.sql",
    name = "progress",
    requires = ["schema"]
);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    gucs::init();
}

/// This module is required by `cargo pgrx test` invocations.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {
        crate::testing::install_fixtures();
    }

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}

#[cfg(test)]
mod purity {
    /// The core must stay usable and testable without PostgreSQL.
    #[test]
    fn core_modules_never_import_pgrx() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let core = [
            "trip.rs",
            "error.rs",
            "quality.rs",
            "runs/sql.rs",
            "runs/files.rs",
            "runs/payload.rs",
            "threads.rs",
            "read",
            "convert",
            "hash",
            "generate",
            "stage",
            "merge/sql.rs",
            "bulk/sql.rs",
            "star/facts.rs",
            "star/sql.rs",
            "bin",
        ];
        let mut files = Vec::new();
        for entry in core {
            let path = std::path::Path::new(root).join(entry);
            if path.is_dir() {
                for f in std::fs::read_dir(&path).unwrap() {
                    files.push(f.unwrap().path());
                }
            } else {
                files.push(path);
            }
        }
        assert!(files.len() >= 15, "{files:?}");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for needle in ["pgrx::", "use pgrx", "pg_sys", "#[pg_"] {
                assert!(
                    !text.contains(needle),
                    "{} uses pgrx ({needle})",
                    f.display()
                );
            }
        }
    }
}
