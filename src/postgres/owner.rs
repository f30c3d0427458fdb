//! Running fixed statements as the extension's owner, as a SECURITY DEFINER function would:
//! the load history, the rejected rows and new fact partitions are written with the owner's
//! rights, so loading roles need no privileges on them and cannot forge them.

use pgrx::pg_sys;
use pgrx::spi::Spi;
use taxi_core::sql::history;

/// The owner of the extension's tables; None before `ALTER EXTENSION … UPDATE` created them.
pub fn extension_owner() -> Option<pg_sys::Oid> {
    Spi::get_one::<pg_sys::Oid>(history::OWNER).ok().flatten()
}

/// Runs `f` with the privileges of `owner`; the caller's role comes back however `f` ends (an
/// error unwinds through the guard, and aborting the transaction restores it too). Only fixed,
/// schema-qualified statements run this way, so a caller's search_path cannot redirect them.
pub fn as_owner<R>(owner: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    struct Restore(pg_sys::Oid, i32);
    impl Drop for Restore {
        fn drop(&mut self) {
            unsafe { pg_sys::SetUserIdAndSecContext(self.0, self.1) };
        }
    }
    let (mut user, mut context) = (pg_sys::Oid::INVALID, 0);
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            context
                | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32
                | pg_sys::SECURITY_RESTRICTED_OPERATION as i32,
        );
    }
    let _restore = Restore(user, context);
    f()
}

/// Like COPY FROM a file: superusers and roles with privileges of pg_read_server_files.
pub fn may_read_server_files() -> bool {
    unsafe {
        pg_sys::has_privs_of_role(
            pg_sys::GetUserId(),
            pg_sys::Oid::from(pg_sys::ROLE_PG_READ_SERVER_FILES),
        )
    }
}
