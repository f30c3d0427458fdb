//! Table locks taken directly (not with LOCK TABLE, which also asks for UPDATE or DELETE rights
//! a loading role need not have), held until the transaction ends.

use pgrx::pg_sys;

/// SHARE ROW EXCLUSIVE: conflicts with the ROW EXCLUSIVE every load takes, so a star rebuild
/// waits for running loads and they wait for it; readers do not wait.
pub fn lock_against_loads(oid: pg_sys::Oid) {
    unsafe { pg_sys::LockRelationOid(oid, pg_sys::ShareRowExclusiveLock as pg_sys::LOCKMODE) };
}

/// ROW EXCLUSIVE, as INSERT takes: no index or trigger can appear on the table meanwhile.
pub fn lock_for_insert(oid: pg_sys::Oid) {
    unsafe { pg_sys::LockRelationOid(oid, pg_sys::RowExclusiveLock as pg_sys::LOCKMODE) };
}

/// ACCESS EXCLUSIVE: for a partition written straight into its heap while its indexes lag
/// behind, until they are rebuilt and the transaction ends.
pub fn lock_exclusive(oid: pg_sys::Oid) {
    unsafe { pg_sys::LockRelationOid(oid, pg_sys::AccessExclusiveLock as pg_sys::LOCKMODE) };
}

/// An oid read back from SQL (`regclass::oid::int8`).
pub fn oid(n: i64) -> pg_sys::Oid {
    pg_sys::Oid::from(n as u32)
}
