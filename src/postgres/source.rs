//! What a load reads, decided once per argument: a server path or a remote URL, and whether this
//! role may read it. A folder is resolved once; its files need no second check (they are below
//! it, or listed below an allowed prefix). Remote sources have COPY FROM PROGRAM-like power (the
//! server connects where it is told): only superusers and members of `taxi_remote_reader` may use
//! them, and only below a prefix of `taxi.allowed_sources`. They need the `remote` feature (the
//! default); a library built without it refuses URLs with 0A000.

use pgrx::prelude::*;
use taxi_core::error::LoadError;
use taxi_core::{files, policy};

use crate::postgres::owner;

/// A source argument, checked.
pub enum Location {
    /// An absolute server path, of a role that may read server files.
    Local(String),
    /// A URL this role may read, below an allowed prefix.
    #[cfg(feature = "remote")]
    Remote(taxi_remote::RemoteUrl),
}

/// The checks of a source argument, in this order: whether it is a URL (one look at its scheme);
/// for a path, the privilege to read server files, then the path; for a URL, its syntax, the
/// privilege to read remote sources, then the allow-list.
pub fn resolve(text: &str) -> Result<Location, LoadError> {
    if files::scheme(text).is_some() {
        return remote::resolve(text);
    }
    if !owner::may_read_server_files() {
        return Err(LoadError::NoPrivilege { path: text.into() });
    }
    policy::check_path(text)?;
    Ok(Location::Local(text.into()))
}

/// If `e` is a wait given up for a cancel or terminate, raises that instead (as any other place
/// of a load that checks for interrupts would).
pub fn raise_if_canceled(e: &LoadError) {
    if remote::is_cancel(e) {
        check_for_interrupts!();
    }
}

/// Called from `_PG_init`.
pub fn init() {
    remote::init();
}

/// A remote source's client: its retries are the run's, its abort ends a checksum thread's
/// reads. A library without the `remote` feature has none.
#[cfg(feature = "remote")]
pub use taxi_remote::Client;

#[cfg(not(feature = "remote"))]
pub enum Client {}

#[cfg(not(feature = "remote"))]
impl Client {
    pub fn retries(&self) -> u64 {
        match *self {}
    }

    pub fn abort(&self) {
        match *self {}
    }
}

#[cfg(not(feature = "remote"))]
mod remote {
    use super::*;

    pub fn resolve(text: &str) -> Result<Location, LoadError> {
        Err(LoadError::no_remote_support(text))
    }

    pub fn is_cancel(_: &LoadError) -> bool {
        false
    }

    pub fn init() {}
}

#[cfg(feature = "remote")]
pub use remote::{check, client, open};

#[cfg(feature = "remote")]
mod remote {
    use std::sync::{Arc, OnceLock};

    use taxi_core::read::input::Source;
    use taxi_remote::{Client, RemoteError, RemoteFile, RemoteUrl};

    use super::*;
    use crate::gucs;

    /// The role whose members may read remote sources; created by the extension's script.
    const REMOTE_ROLE: &std::ffi::CStr = c"taxi_remote_reader";

    static MAIN_THREAD: OnceLock<std::thread::ThreadId> = OnceLock::new();

    /// The network waits learn of a cancel or terminate through this.
    pub fn init() {
        let _ = MAIN_THREAD.set(std::thread::current().id());
        taxi_remote::client::set_interrupt_check(stop_pending);
    }

    /// A cancel or terminate is pending. Read on the main thread only (the flags are its signal
    /// handlers'); the network threads are told by their client's abort instead.
    fn stop_pending() -> bool {
        if MAIN_THREAD.get() != Some(&std::thread::current().id()) {
            return false;
        }
        unsafe {
            std::ptr::read_volatile(&raw const pg_sys::QueryCancelPending) != 0
                || std::ptr::read_volatile(&raw const pg_sys::ProcDiePending) != 0
        }
    }

    pub fn is_cancel(e: &LoadError) -> bool {
        matches!(RemoteError::of(e), Some(RemoteError::Canceled { .. }))
    }

    fn may_read_remote() -> bool {
        unsafe {
            if pg_sys::superuser() {
                return true;
            }
            let role = pg_sys::get_role_oid(REMOTE_ROLE.as_ptr(), true);
            role != pg_sys::InvalidOid && pg_sys::has_privs_of_role(pg_sys::GetUserId(), role)
        }
    }

    /// The URL, the caller's privilege, the allow-list. In that order: an unprivileged caller
    /// learns nothing of the list.
    pub fn resolve(text: &str) -> Result<Location, LoadError> {
        check(RemoteUrl::parse(text)?).map(Location::Remote)
    }

    /// The privilege, then the allow-list, for a parsed URL.
    pub fn check(url: RemoteUrl) -> Result<RemoteUrl, LoadError> {
        if !may_read_remote() {
            return Err(LoadError::NoRemotePrivilege { url: url.shown() });
        }
        if !url.allowed_by(&gucs::allowed_sources()) {
            return Err(RemoteError::NotAllowed { url: url.shown() }.into());
        }
        Ok(url)
    }

    /// A client with the session's settings, for one call of taxi_load, taxi_load_dir or
    /// taxi_load_months: its network threads end with it.
    pub fn client() -> Result<Client, LoadError> {
        let mut settings = gucs::remote_settings();
        settings.spool_dir = Some(temp_files_dir());
        Ok(Client::new(settings)?)
    }

    /// Where a remote file is downloaded while it loads: the folder PostgreSQL keeps its own
    /// temporary files in (`base/pgsql_tmp` of the data directory), which it empties at startup.
    fn temp_files_dir() -> std::path::PathBuf {
        // SAFETY: DataDir is set before any backend runs SQL and never changes after.
        let data = unsafe { std::ffi::CStr::from_ptr(pgrx::pg_sys::DataDir) };
        std::path::Path::new(&*data.to_string_lossy()).join("base/pgsql_tmp")
    }

    /// Opens `url`: its size and version, fixed for the load. A cancel while waiting is raised.
    pub fn open(client: &Client, url: &RemoteUrl) -> Result<Source, LoadError> {
        RemoteFile::open(client, url)
            .map(|f| Source::Remote(Arc::new(f)))
            .map_err(LoadError::from)
            .inspect_err(super::raise_if_canceled)
    }
}
