//! The differences between the PostgreSQL versions taxi_loader supports (14 to 18), in one
//! place, behind cfg aliases.

use std::ffi::CStr;

use pgrx::pg_sys;

/// Reserves a GUC prefix: PostgreSQL 15 added MarkGUCPrefixReserved, 14 only warns about
/// unknown placeholders.
pub fn reserve_guc_prefix(prefix: &'static CStr) {
    #[cfg(feature = "pg14")]
    unsafe {
        pg_sys::EmitWarningsOnPlaceholders(prefix.as_ptr())
    }
    #[cfg(not(feature = "pg14"))]
    unsafe {
        pg_sys::MarkGUCPrefixReserved(prefix.as_ptr())
    }
}
