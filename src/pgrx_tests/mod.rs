//! Every `#[pg_test]`, one file per feature, run against a real server by `cargo pgrx test`
//! (each test in a transaction that is rolled back). Shared helpers are in `fixtures`.

mod datasets;
mod datum;
mod errors;
pub mod fixtures;
mod history;
mod indexes;
mod legacy;
mod load;
mod pages;
mod partitions;
#[cfg(feature = "remote")]
mod remote;
mod replace;
mod shards;
mod star;
