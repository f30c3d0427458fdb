//! The one place a [`LoadError`] becomes a PostgreSQL ERROR with SQLSTATE, detail and hint, and
//! the one place PostgreSQL's packed SQLSTATEs are read back as text.

use pgrx::pg_sys::errcodes::PgSqlErrorCode;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::PgLogLevel;
use taxi_core::error::{Class, LoadError};

fn sqlstate(class: Class) -> PgSqlErrorCode {
    use PgSqlErrorCode::*;
    match class {
        Class::UndefinedFile => ERRCODE_UNDEFINED_FILE,
        Class::WrongObjectType => ERRCODE_WRONG_OBJECT_TYPE,
        Class::InsufficientPrivilege => ERRCODE_INSUFFICIENT_PRIVILEGE,
        Class::IoError => ERRCODE_IO_ERROR,
        Class::BadFileFormat => ERRCODE_BAD_COPY_FILE_FORMAT,
        Class::DataCorrupted => ERRCODE_DATA_CORRUPTED,
        Class::DatatypeMismatch => ERRCODE_DATATYPE_MISMATCH,
        Class::NumericValueOutOfRange => ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        Class::DatetimeFieldOverflow => ERRCODE_DATETIME_FIELD_OVERFLOW,
        Class::InvalidDatetimeFormat => ERRCODE_INVALID_DATETIME_FORMAT,
        Class::NotNullViolation => ERRCODE_NOT_NULL_VIOLATION,
        Class::CharacterNotInRepertoire => ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
        Class::InvalidParameterValue => ERRCODE_INVALID_PARAMETER_VALUE,
        Class::ObjectNotInPrerequisiteState => ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
        Class::ProgramLimitExceeded => ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        Class::DataException => ERRCODE_DATA_EXCEPTION,
        Class::NullValueNotAllowed => ERRCODE_NULL_VALUE_NOT_ALLOWED,
        Class::SerializationFailure => ERRCODE_T_R_SERIALIZATION_FAILURE,
        Class::ConnectionUnavailable => ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION,
        Class::ConnectionRejected => ERRCODE_SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION,
        Class::ConnectionFailure => ERRCODE_CONNECTION_FAILURE,
        Class::ProtocolViolation => ERRCODE_PROTOCOL_VIOLATION,
        Class::QueryCanceled => ERRCODE_QUERY_CANCELED,
        Class::FeatureNotSupported => ERRCODE_FEATURE_NOT_SUPPORTED,
        Class::InternalError => ERRCODE_INTERNAL_ERROR,
    }
}

/// Raises `error` as an ERROR. Rust frames unwind (files close, buffers free) and PostgreSQL
/// aborts the transaction, so nothing the load wrote remains.
pub fn raise(error: LoadError, function: &'static str) -> ! {
    let mut report = ErrorReport::new(sqlstate(error.class()), error.to_string(), function);
    if let Some(detail) = error.detail() {
        report = report.set_detail(detail);
    }
    if let Some(hint) = error.hint() {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("ereport(ERROR) returned")
}

/// Sends a NOTICE with a hint: something the caller should know, not an error.
pub fn notice(message: String, hint: &str) {
    ErrorReport::new(
        PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
        message,
        "taxi_load",
    )
    .set_hint(hint)
    .report(PgLogLevel::NOTICE);
}

/// PostgreSQL's packed SQLSTATE (MAKE_SQLSTATE: five characters, six bits each) as its text.
pub fn sqlstate_text(code: PgSqlErrorCode) -> String {
    let code = code as i32;
    (0..5)
        .map(|i| (((code >> (6 * i)) & 0x3F) as u8 + b'0') as char)
        .collect()
}

/// A failed SPI call of one of the extension's own statements, as [`LoadError::Internal`].
pub trait OrInternal<T> {
    fn or_internal(self, doing: &'static str) -> Result<T, LoadError>;
}

impl<T> OrInternal<T> for Result<T, pgrx::spi::Error> {
    fn or_internal(self, doing: &'static str) -> Result<T, LoadError> {
        self.map_err(|e| LoadError::Internal {
            doing,
            detail: e.to_string(),
        })
    }
}

#[cfg(test)]
mod sqlstates {
    use super::*;

    #[test]
    fn core_sqlstates_match_postgres_codes() {
        for class in Class::ALL {
            assert_eq!(
                sqlstate_text(sqlstate(class)),
                class.sqlstate(),
                "{class:?}"
            );
        }
    }
}
