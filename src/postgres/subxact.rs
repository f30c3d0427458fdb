//! Work in a subtransaction, as a PL/pgSQL block with an EXCEPTION clause does it: committed
//! into the caller's transaction if it succeeds, rolled back (every row, lock and index change of
//! it) if it fails or PostgreSQL raises an error inside it.

use std::panic::AssertUnwindSafe;

use pgrx::pg_sys;
use pgrx::pg_sys::panic::CaughtError;
use pgrx::pg_sys::PgTryBuilder;
use pgrx::PgSqlErrorCode;
use taxi_core::error::LoadError;

/// Why work in a subtransaction failed: one of ours, or an error PostgreSQL raised (cancel,
/// timeout, a failed statement) caught at the subtransaction.
pub enum Failure {
    Load(LoadError),
    Caught(Box<CaughtError>),
}

impl Failure {
    /// SQLSTATE, message and detail, as the history records them.
    pub fn report(&self) -> (String, String, Option<String>) {
        match self {
            Failure::Load(e) => (e.class().sqlstate().into(), e.to_string(), e.detail()),
            Failure::Caught(c) => match &**c {
                CaughtError::PostgresError(r)
                | CaughtError::ErrorReport(r)
                | CaughtError::RustPanic { ereport: r, .. } => (
                    crate::report::sqlstate_text(r.sql_error_code()),
                    r.message().to_string(),
                    r.detail().map(str::to_string),
                ),
            },
        }
    }

    /// A Citus node lost mid-load, as one of ours (08006, with a hint). Citus reports it from
    /// its remote-command code, as 08006 when the connection breaks between statements and as
    /// XX000 (the remote result carries no SQLSTATE) when it breaks inside a COPY; any other
    /// failure is left as it was.
    pub fn node_failure(self) -> Failure {
        if let Failure::Caught(c) = &self {
            if let CaughtError::PostgresError(r) | CaughtError::ErrorReport(r) = &**c {
                let lost = matches!(
                    r.sql_error_code(),
                    PgSqlErrorCode::ERRCODE_INTERNAL_ERROR
                        | PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE
                        | PgSqlErrorCode::ERRCODE_CONNECTION_EXCEPTION
                );
                if lost && r.file().ends_with("remote_commands.c") {
                    return Failure::Load(LoadError::NodeFailed {
                        message: r.message().to_string(),
                    });
                }
            }
        }
        self
    }

    /// Raises the failure as the ERROR it was.
    pub fn raise(self, function: &'static str) -> ! {
        match self {
            Failure::Load(e) => crate::report::raise(e, function),
            Failure::Caught(c) => c.rethrow(),
        }
    }
}

/// Runs `f` in a subtransaction of the current transaction.
pub fn in_subtransaction<T>(f: impl FnOnce() -> Result<T, LoadError>) -> Result<T, Failure> {
    unsafe {
        let memory = pg_sys::CurrentMemoryContext;
        let owner = pg_sys::CurrentResourceOwner;
        pg_sys::BeginInternalSubTransaction(std::ptr::null());
        pg_sys::MemoryContextSwitchTo(memory);
        let result = PgTryBuilder::new(AssertUnwindSafe(|| f().map_err(Failure::Load)))
            .catch_others(|e| Err(Failure::Caught(Box::new(e))))
            .catch_rust_panic(|e| Err(Failure::Caught(Box::new(e))))
            .execute();
        if result.is_ok() {
            pg_sys::ReleaseCurrentSubTransaction();
        } else {
            pg_sys::RollbackAndReleaseCurrentSubTransaction();
        }
        pg_sys::MemoryContextSwitchTo(memory);
        pg_sys::CurrentResourceOwner = owner;
        result
    }
}
