//! What a load reads, resolved from its argument: a server path, or a remote URL checked before
//! any connection is made (syntax, the caller's privilege, `taxi.allowed_sources`) and opened with
//! a client of the load's own. Remote sources have COPY FROM PROGRAM-like power (the server
//! connects where it is told): only superusers and members of `taxi_remote_reader` may use them.

use std::sync::{Arc, OnceLock};

use pgrx::prelude::*;
use taxi_core::error::LoadError;
use taxi_core::read::input::Source;
use taxi_remote::{Client, RemoteError, RemoteFile, RemoteUrl};

use crate::gucs;

/// The role whose members may read remote sources; created by the extension's script.
pub const REMOTE_ROLE: &std::ffi::CStr = c"taxi_remote_reader";

static MAIN_THREAD: OnceLock<std::thread::ThreadId> = OnceLock::new();

/// Called from `_PG_init`: the network waits learn of a cancel or terminate through this.
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

/// If `e` is a wait given up for a cancel or terminate, raises that instead (as any other place
/// of a load that checks for interrupts would).
pub fn raise_if_canceled(e: &LoadError) {
    if matches!(e, LoadError::Remote(RemoteError::Canceled { .. })) {
        check_for_interrupts!();
    }
}

pub fn may_read_remote() -> bool {
    unsafe {
        if pg_sys::superuser() {
            return true;
        }
        let role = pg_sys::get_role_oid(REMOTE_ROLE.as_ptr(), true);
        role != pg_sys::InvalidOid && pg_sys::has_privs_of_role(pg_sys::GetUserId(), role)
    }
}

/// Everything that refuses a remote source before a connection: the URL, the caller's
/// privilege, the allow-list. In that order: an unprivileged caller learns nothing of the list.
pub fn check(text: &str) -> Result<RemoteUrl, LoadError> {
    let url = RemoteUrl::parse(text).map_err(LoadError::Remote)?;
    if !may_read_remote() {
        return Err(LoadError::NoRemotePrivilege { url: url.shown() });
    }
    if !url.allowed_by(&gucs::allowed_sources()) {
        return Err(LoadError::Remote(RemoteError::NotAllowed {
            url: url.shown(),
        }));
    }
    Ok(url)
}

/// A client with the session's settings, for one call of taxi_load, taxi_load_dir or
/// taxi_load_months: its network threads end with it.
pub fn client() -> Result<Client, LoadError> {
    Client::new(gucs::remote_settings()).map_err(LoadError::Remote)
}

/// Opens `url`: its size and version, fixed for the load. A cancel while waiting is raised.
pub fn open(client: &Client, url: &RemoteUrl) -> Result<Source, LoadError> {
    RemoteFile::open(client, url)
        .map(|f| Source::Remote(Arc::new(f)))
        .map_err(LoadError::Remote)
        .inspect_err(raise_if_canceled)
}

/// The version (ETag) the server gave a remote source.
pub fn version(source: &Source) -> Option<String> {
    match source {
        Source::Remote(f) => f.meta().version.clone(),
        Source::Local(_) => None,
    }
}
