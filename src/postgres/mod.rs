//! PostgreSQL internals the loader uses, each behind a small safe(ish) interface: the heap
//! writer that trips and facts share, Datums built from the core's Rust values, the row-hash
//! scan, locks, owner switching, subtransactions, the history's background worker and progress
//! reporting, and what a source argument is and whether this role may read it ([`source`]).
//! Nothing here decides anything: that is `taxi_core::policy` and `crate::load`.
//! Every function here runs on the backend's main thread.

pub mod datum;
pub mod heap;
pub mod locks;
pub mod owner;
pub mod partitions;
pub mod progress;
pub mod scan;
pub mod source;
pub mod subxact;
pub mod worker;
