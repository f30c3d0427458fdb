//! Every setting of taxi_loader, each a documented static, registered in `_PG_init`. The `taxi`
//! prefix is reserved: a misspelt `taxi.*` setting is reported instead of silently accepted.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting, PostgresGucEnum};

use crate::pg_compat;

/// How `taxi_load` writes rows (`taxi.write_mode`).
#[derive(PostgresGucEnum, Clone, Copy, PartialEq, Eq, Debug)]
pub enum WriteMode {
    /// Choose per load (the default): `bulk` when the loading role owns the target and it is
    /// empty, or holds at most twice as many trips as the file and the file's first chunk is
    /// mostly new; `known` for other targets of at most twice the file; `probe` for larger ones.
    #[name = c"auto"]
    Auto,
    /// Drop the target's indexes, write the heap directly, rebuild the indexes. Falls back to
    /// `known` where it is not allowed (role does not own the target, triggers, row security,
    /// extra columns) and to `probe` when the target holds more than twice the file's trips.
    #[name = c"bulk"]
    Bulk,
    /// Read every stored row hash into memory once, insert only new trips through SPI.
    #[name = c"known"]
    Known,
    /// Look up each chunk's row hashes in the target's primary key, insert new trips through SPI.
    #[name = c"probe"]
    Probe,
}

/// `taxi.write_mode` (user-settable): see [`WriteMode`]. For benchmarks, and for anyone who wants
/// one write path for every load.
pub static WRITE_MODE: GucSetting<WriteMode> = GucSetting::<WriteMode>::new(WriteMode::Auto);

/// `taxi.star` (user-settable, default on): taxi_load writes the fact rows of the trips it
/// inserts. Off only to measure what the star schema costs, or for a backfill followed by
/// `taxi_rebuild_star()`; until then `taxi_check_consistency()` reports the missing facts.
pub static STAR: GucSetting<bool> = GucSetting::<bool>::new(true);

pub fn init() {
    GucRegistry::define_bool_guc(
        c"taxi.star",
        c"Whether taxi_load fills the star schema (taxi.fact_trips) with the trips it inserts.",
        c"Off leaves the star schema behind the normalized table until taxi_rebuild_star() runs; taxi_check_consistency() reports the difference.",
        &STAR,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_enum_guc(
        c"taxi.write_mode",
        c"How taxi_load writes rows: auto, bulk, known or probe.",
        c"auto picks bulk (indexes dropped and rebuilt, heap written directly) when the role owns the target and it is empty or at most twice the file and the file's first chunk is mostly new, known (stored hashes read into memory) for other targets of at most twice the file, probe (primary-key lookups per chunk) otherwise.",
        &WRITE_MODE,
        GucContext::Userset,
        GucFlags::default(),
    );
    pg_compat::reserve_guc_prefix(c"taxi");
}
