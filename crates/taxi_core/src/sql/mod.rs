//! Every statement the extension runs, as text with bound parameters (`$1`…) and identifiers
//! quoted by PostgreSQL itself (`regclass`, `format('%I')`). Executed by the extension crate;
//! nothing here builds SQL from values.

pub mod history;
pub mod indexes;
pub mod partitions;
pub mod replace;
pub mod star;
pub mod trips;
