//! The SQL-facing functions, one file per area. Each reads its settings (`crate::gucs`), calls
//! into `crate::load`, and turns an error into an ERROR through `crate::report`.

mod indexes;
mod load;
mod shards;
mod star;
