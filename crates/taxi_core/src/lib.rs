//! taxi_core: everything taxi_loader does that needs no PostgreSQL. The extension crate calls it
//! and turns its results into Datums, SPI calls and heap writes; nothing here links pgrx, so all
//! of it is tested with plain `cargo test`.
//!
//! The pipeline, one module each: [`read`] (parquet → Arrow, bounded) → [`convert`] (Arrow → the
//! trip schema's Rust values) → [`hash`] (row hashes) → [`dedup`] (which rows are new) →
//! [`quality`] (flags) → [`facts`] (star-schema rows). Beside it: [`dataset`] (the TLC's four
//! trip datasets, each described once), [`trip`] (a chunk of trips),
//! [`error`] (every error with its SQLSTATE), [`policy`] (the load's decisions), [`sql`] (every
//! statement the extension runs), [`files`] (folder loads), [`payload`] (what the history's
//! background worker receives), [`calendar`] (dates without a time-zone library) and [`threads`]
//! (the worker pool); [`versions`] (re-published files); [`consistency`] (the check's digests).

pub mod calendar;
pub mod consistency;
pub mod convert;
pub mod dataset;
pub mod dedup;
pub mod error;
pub mod facts;
pub mod files;
pub mod hash;
pub mod locate;
pub mod page;
pub mod partition;
pub mod payload;
pub mod policy;
pub mod quality;
pub mod read;
pub mod sql;
pub mod threads;
pub mod trip;
pub mod tuple;
pub mod versions;

#[cfg(test)]
mod purity {
    /// The core and the generator must stay buildable and testable without PostgreSQL, and
    /// without the network stack of remote sources: neither depends on pgrx, on taxi_remote or
    /// on the crates it brings (directly; `cargo tree -e normal -p taxi_core` shows none of them
    /// either).
    #[test]
    fn core_and_generator_depend_on_neither_pgrx_nor_the_network() {
        for manifest in [
            concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"),
            concat!(env!("CARGO_MANIFEST_DIR"), "/../taxi_gen/Cargo.toml"),
        ] {
            let text = std::fs::read_to_string(manifest).unwrap();
            assert!(text.contains("[dependencies]"), "{manifest}");
            let mut section = "";
            let mut deps = Vec::new();
            for line in text.lines().map(str::trim) {
                if line.starts_with('[') {
                    section = line;
                } else if section.contains("dependencies")
                    && ["pgrx", "taxi_remote", "tokio", "reqwest", "object_store"]
                        .iter()
                        .any(|d| line.starts_with(d))
                {
                    deps.push(line);
                }
            }
            assert!(deps.is_empty(), "{manifest} depends on {deps:?}");
        }
    }
}
