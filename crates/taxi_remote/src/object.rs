//! A [`RemoteFile`] as the core reads it ([`taxi_core::read::input::RemoteObject`]), and every
//! [`RemoteError`] classified once: its SQLSTATE class, detail and hint, as the load reports it.

use bytes::Bytes;
use taxi_core::error::{Class, LoadError, SourceError};
use taxi_core::read::input::RemoteObject;

use crate::error::RemoteError;
use crate::file::RemoteFile;

impl RemoteError {
    pub fn class(&self) -> Class {
        match self {
            RemoteError::InvalidUrl { .. } => Class::InvalidParameterValue,
            RemoteError::NotAllowed { .. } => Class::InsufficientPrivilege,
            RemoteError::NotFound { .. } => Class::UndefinedFile,
            RemoteError::Forbidden { .. } => Class::ConnectionRejected,
            RemoteError::Unreachable { .. } | RemoteError::Tls { .. } => {
                Class::ConnectionUnavailable
            }
            RemoteError::Dropped { .. } | RemoteError::ServerError { .. } => {
                Class::ConnectionFailure
            }
            RemoteError::IgnoredRange { .. }
            | RemoteError::WrongLength { .. }
            | RemoteError::Redirected { .. }
            | RemoteError::Other { .. } => Class::ProtocolViolation,
            RemoteError::Changed { .. } => Class::SerializationFailure,
            RemoteError::Spool { .. } => Class::IoError,
            RemoteError::Timeout { .. } | RemoteError::Canceled { .. } => Class::QueryCanceled,
        }
    }

    /// The error as the core carries it; [`RemoteError::of`] finds it again.
    pub fn into_source_error(self) -> SourceError {
        SourceError {
            class: self.class(),
            detail: self.detail(),
            hint: self.hint(),
            cause: std::sync::Arc::new(self),
        }
    }

    /// The remote error a load failed with, if it failed with one.
    pub fn of(e: &LoadError) -> Option<&RemoteError> {
        match e {
            LoadError::Remote(s) => s.cause.downcast_ref::<RemoteError>(),
            _ => None,
        }
    }
}

impl From<RemoteError> for LoadError {
    fn from(e: RemoteError) -> LoadError {
        LoadError::Remote(e.into_source_error())
    }
}

impl RemoteObject for RemoteFile {
    fn shown(&self) -> String {
        self.url().shown()
    }

    fn size(&self) -> u64 {
        RemoteFile::size(self)
    }

    fn version(&self) -> Option<String> {
        self.meta().version.clone()
    }

    fn read_at(&self, at: u64, len: u64) -> Result<Bytes, SourceError> {
        RemoteFile::read_at(self, at, len).map_err(RemoteError::into_source_error)
    }

    fn failure(&self) -> Option<SourceError> {
        RemoteFile::failure(self).map(RemoteError::into_source_error)
    }

    fn sha256(&self) -> Result<[u8; 32], SourceError> {
        RemoteFile::sha256(self).map_err(RemoteError::into_source_error)
    }

    fn abort(&self) {
        RemoteFile::abort(self)
    }
}
