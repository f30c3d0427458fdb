//! Every way a load can fail, in one documented enum. pgrx-free: the glue in `report.rs` maps each
//! [`Class`] to its SQLSTATE exactly once.

use std::sync::Arc;

use thiserror::Error;

/// The SQLSTATE family of an error. The mapping to PostgreSQL's error codes lives in
/// `report.rs`; [`Class::sqlstate`] states it here too so the core's tests and docs can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// 58P01: the file does not exist.
    UndefinedFile,
    /// 42809: the path names a directory or something else that is not a regular file.
    WrongObjectType,
    /// 42501: the operating system or PostgreSQL denies access.
    InsufficientPrivilege,
    /// 58030: reading failed for another operating-system reason.
    IoError,
    /// 22P04: the file is empty, not parquet, or not a yellow trip file.
    BadFileFormat,
    /// XX001: the file starts like parquet but cannot be decoded.
    DataCorrupted,
    /// 42804: a column has a type that cannot be mapped onto the trip schema.
    DatatypeMismatch,
    /// 22003: a number does not fit its column (or is not a whole number where one is needed).
    NumericValueOutOfRange,
    /// 22008: a timestamp PostgreSQL cannot hold (or an impossible date or time of day).
    DatetimeFieldOverflow,
    /// 22007: text that is not a timestamp.
    InvalidDatetimeFormat,
    /// 23502: NULL in a column that requires a value.
    NotNullViolation,
    /// 22021: text PostgreSQL cannot hold (a NUL byte).
    CharacterNotInRepertoire,
    /// 22023: a bad argument to a function.
    InvalidParameterValue,
    /// 55000: the extension's SQL objects are older than its library.
    ObjectNotInPrerequisiteState,
    /// 54000: decoding the file would need more memory than a load may use.
    ProgramLimitExceeded,
    /// 22000: more rows of the file cannot be stored than `taxi.max_rejected_rows` allows.
    DataException,
    /// 22004: a required argument is NULL.
    NullValueNotAllowed,
    /// 40001: a concurrent replacement of the same file committed while this one waited.
    SerializationFailure,
    /// 08001: the server of a remote source cannot be reached (or its TLS handshake fails).
    ConnectionUnavailable,
    /// 08004: the server of a remote source refuses access (HTTP 401/403).
    ConnectionRejected,
    /// 08006: the connection broke mid-file, or the server kept failing after the retries.
    ConnectionFailure,
    /// 08P01: the server answered in a way the loader cannot use (no byte ranges, wrong
    /// lengths, redirects).
    ProtocolViolation,
    /// 57014: a request outlived `taxi.remote_timeout`.
    QueryCanceled,
    /// 0A000: this build of the library leaves out what the call needs (remote sources).
    FeatureNotSupported,
    /// XX000: a statement of the extension's own failed in a way its design rules out (a bug).
    InternalError,
}

impl Class {
    pub const ALL: [Class; 25] = [
        Class::UndefinedFile,
        Class::WrongObjectType,
        Class::InsufficientPrivilege,
        Class::IoError,
        Class::BadFileFormat,
        Class::DataCorrupted,
        Class::DatatypeMismatch,
        Class::NumericValueOutOfRange,
        Class::DatetimeFieldOverflow,
        Class::InvalidDatetimeFormat,
        Class::NotNullViolation,
        Class::CharacterNotInRepertoire,
        Class::InvalidParameterValue,
        Class::ObjectNotInPrerequisiteState,
        Class::ProgramLimitExceeded,
        Class::DataException,
        Class::NullValueNotAllowed,
        Class::SerializationFailure,
        Class::ConnectionUnavailable,
        Class::ConnectionRejected,
        Class::ConnectionFailure,
        Class::ProtocolViolation,
        Class::QueryCanceled,
        Class::FeatureNotSupported,
        Class::InternalError,
    ];

    pub fn sqlstate(self) -> &'static str {
        match self {
            Class::UndefinedFile => "58P01",
            Class::WrongObjectType => "42809",
            Class::InsufficientPrivilege => "42501",
            Class::IoError => "58030",
            Class::BadFileFormat => "22P04",
            Class::DataCorrupted => "XX001",
            Class::DatatypeMismatch => "42804",
            Class::NumericValueOutOfRange => "22003",
            Class::DatetimeFieldOverflow => "22008",
            Class::InvalidDatetimeFormat => "22007",
            Class::NotNullViolation => "23502",
            Class::CharacterNotInRepertoire => "22021",
            Class::InvalidParameterValue => "22023",
            Class::ObjectNotInPrerequisiteState => "55000",
            Class::ProgramLimitExceeded => "54000",
            Class::DataException => "22000",
            Class::NullValueNotAllowed => "22004",
            Class::SerializationFailure => "40001",
            Class::ConnectionUnavailable => "08001",
            Class::ConnectionRejected => "08004",
            Class::ConnectionFailure => "08006",
            Class::ProtocolViolation => "08P01",
            Class::QueryCanceled => "57014",
            Class::FeatureNotSupported => "0A000",
            Class::InternalError => "XX000",
        }
    }
}

/// A value that cannot be stored in its column. Raised by the converters, which do not know the
/// file; the reader rejects its row (recorded in `taxi.rejected_rows`).
#[derive(Debug, Clone, PartialEq)]
pub struct ValueError {
    /// 1-based row number in the file.
    pub row: u64,
    pub column: &'static str,
    /// The offending value as text.
    pub value: String,
    pub reason: &'static str,
    pub class: Class,
}

/// A remote source's failure, classified where it happens: the extension's network glue
/// (`src/remote/`, behind the `remote` feature) maps each error of the network crate to its class,
/// detail and hint once. The core carries it without linking a network crate; `cause` keeps the
/// original for the glue to look at again (a cancel, a month not published yet).
#[derive(Debug, Clone, Error)]
#[error("{cause}")]
pub struct SourceError {
    pub class: Class,
    pub detail: Option<String>,
    pub hint: String,
    pub cause: Arc<dyn std::error::Error + Send + Sync>,
}

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("permission denied to read server file \"{path}\"")]
    NoPrivilege { path: String },

    #[error("permission denied for table {table}")]
    NoTablePrivilege { table: &'static str },

    /// Replacing earlier versions removes trips: DELETE on the trips and the facts.
    #[error("permission denied to remove trips of {table}")]
    NoRemovePrivilege { table: &'static str },

    /// Under REPEATABLE READ or SERIALIZABLE, this replacement waited for another of the same
    /// file name, whose outcome its snapshot cannot see.
    #[error("could not serialize the replacement of \"{name}\": another replacement of it ran meanwhile")]
    ReplacedMeanwhile { name: String },

    /// A node of a Citus cluster failed while the load wrote to it (Citus says how, `message`).
    #[error("a node of the Citus cluster failed during the load: {message}")]
    NodeFailed { message: String },

    /// Reading a remote source failed, or the source was refused before any request.
    #[error("{0}")]
    Remote(SourceError),

    /// A remote URL given to a library built without the `remote` feature
    /// ([`LoadError::no_remote_support`]).
    #[error("this build of taxi_loader cannot read remote sources such as \"{url}\"")]
    NoRemoteSupport { url: String },

    /// Remote sources are for superusers and members of taxi_remote_reader.
    #[error("permission denied to read remote source \"{url}\"")]
    NoRemotePrivilege { url: String },

    #[error("relative path not allowed for taxi_load: \"{path}\"")]
    RelativePath { path: String },

    #[error("could not open file \"{path}\" for reading: No such file or directory")]
    NotFound { path: String },

    #[error("\"{path}\" is a directory")]
    IsDirectory { path: String },

    #[error("\"{path}\" is not a regular file")]
    NotRegularFile { path: String },

    #[error("could not read file \"{path}\": {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },

    #[error("file \"{path}\" is empty")]
    Empty { path: String },

    #[error("file \"{path}\" is not a parquet file")]
    NotParquet { path: String, detail: String },

    #[error("parquet file \"{path}\" is truncated or corrupt")]
    Corrupt { path: String, detail: String },

    /// `forced`: the caller named the dataset; otherwise `dataset` is the closest one.
    #[error("file \"{path}\" is not {}", if *forced { format!("a {} trip file", dataset.title) } else { "a trip file of any TLC dataset".into() })]
    WrongDataset {
        path: String,
        dataset: &'static crate::dataset::Dataset,
        missing: Vec<&'static str>,
        forced: bool,
    },

    #[error("file \"{path}\" has the columns of more than one TLC dataset ({})", candidates.join(", "))]
    AmbiguousDataset {
        path: String,
        candidates: Vec<&'static str>,
    },

    #[error("unknown dataset \"{name}\"")]
    UnknownDataset { name: String },

    #[error("file \"{path}\" has more than one column named \"{column}\" (ignoring case)")]
    AmbiguousColumn { path: String, column: &'static str },

    #[error("column \"{column}\" of file \"{path}\" has type {found}, which cannot be read as {expected}")]
    UnsupportedType {
        path: String,
        column: &'static str,
        found: String,
        expected: &'static str,
    },

    #[error("\"{path}\" is not a directory")]
    NotADirectory { path: String },

    #[error("chunk_size must be between 1 and {max}, not {got}")]
    InvalidChunkSize { got: i64, max: usize },

    /// Decoding would need more memory than a load may use (huge values, a dictionary bomb).
    #[error("file \"{path}\" would decode to more memory than taxi_load may use")]
    TooLarge { path: String, detail: String },

    /// More rejected rows than `taxi.max_rejected_rows`.
    #[error("file \"{path}\" has more than {limit} rows that cannot be stored")]
    TooManyRejected {
        path: String,
        limit: u64,
        first: String,
    },

    /// The library was updated, `ALTER EXTENSION … UPDATE` not yet run.
    #[error("taxi_loader's objects are older than its library: {missing} does not exist")]
    NotUpdated { missing: &'static str },

    #[error("{function}: {arguments} must not be NULL")]
    NullArgument {
        function: &'static str,
        arguments: &'static str,
    },

    #[error("{function}: month must be a finite date")]
    InfiniteMonth { function: &'static str },

    /// A table of a fact partition's name that is not one of its partitions.
    #[error("taxi_load: taxi.{table} is not a partition of taxi.fact_trips")]
    NotAPartition { table: String },

    /// A statement of the extension's own failed where its design says it cannot (a bug):
    /// reported with what was being done instead of a panic's message.
    #[error("taxi_loader: internal error while {doing}")]
    Internal { doing: &'static str, detail: String },
}

impl LoadError {
    /// [`LoadError::NoRemoteSupport`] for `text`, shown without its query or fragment (a
    /// presigned URL's query is a credential).
    pub fn no_remote_support(text: &str) -> LoadError {
        LoadError::NoRemoteSupport {
            url: text.split(['?', '#']).next().unwrap_or_default().into(),
        }
    }

    pub fn class(&self) -> Class {
        match self {
            LoadError::NoPrivilege { .. }
            | LoadError::NoTablePrivilege { .. }
            | LoadError::NoRemovePrivilege { .. } => Class::InsufficientPrivilege,
            LoadError::ReplacedMeanwhile { .. } => Class::SerializationFailure,
            LoadError::NodeFailed { .. } => Class::ConnectionFailure,
            LoadError::NoRemotePrivilege { .. } => Class::InsufficientPrivilege,
            LoadError::Remote(e) => e.class,
            LoadError::NoRemoteSupport { .. } => Class::FeatureNotSupported,
            LoadError::NotUpdated { .. } | LoadError::NotAPartition { .. } => {
                Class::ObjectNotInPrerequisiteState
            }
            LoadError::NullArgument { .. } => Class::NullValueNotAllowed,
            LoadError::InfiniteMonth { .. } => Class::InvalidParameterValue,
            LoadError::Internal { .. } => Class::InternalError,
            LoadError::TooLarge { .. } => Class::ProgramLimitExceeded,
            LoadError::TooManyRejected { .. } => Class::DataException,
            LoadError::RelativePath { .. } | LoadError::InvalidChunkSize { .. } => {
                Class::InvalidParameterValue
            }
            LoadError::NotFound { .. } => Class::UndefinedFile,
            LoadError::IsDirectory { .. }
            | LoadError::NotRegularFile { .. }
            | LoadError::NotADirectory { .. } => Class::WrongObjectType,
            LoadError::Io { source, .. } => match source.kind() {
                std::io::ErrorKind::PermissionDenied => Class::InsufficientPrivilege,
                std::io::ErrorKind::NotFound => Class::UndefinedFile,
                _ => Class::IoError,
            },
            LoadError::Empty { .. }
            | LoadError::NotParquet { .. }
            | LoadError::WrongDataset { .. }
            | LoadError::AmbiguousDataset { .. }
            | LoadError::AmbiguousColumn { .. } => Class::BadFileFormat,
            LoadError::UnknownDataset { .. } => Class::InvalidParameterValue,
            LoadError::Corrupt { .. } => Class::DataCorrupted,
            LoadError::UnsupportedType { .. } => Class::DatatypeMismatch,
        }
    }

    pub fn detail(&self) -> Option<String> {
        match self {
            LoadError::NotParquet { detail, .. }
            | LoadError::Corrupt { detail, .. }
            | LoadError::TooLarge { detail, .. }
            | LoadError::Internal { detail, .. } => Some(detail.clone()),
            LoadError::InfiniteMonth { function } if *function == "taxi_load_months" => {
                Some("Pass any day of the first and of the last month to load.".into())
            }
            LoadError::InfiniteMonth { function } if *function == "taxi_check_consistency" => {
                Some("Pass any day of the month to check, or NULL for every month.".into())
            }
            LoadError::InfiniteMonth { .. } => {
                Some("Pass any day of the month to rebuild, or NULL for every month.".into())
            }
            LoadError::WrongDataset {
                dataset,
                missing,
                forced,
                ..
            } => Some(if *forced {
                format!("Missing columns: {}.", missing.join(", "))
            } else {
                format!(
                    "It is closest to a {} trip file ({}), but lacks its columns {}.",
                    dataset.title,
                    dataset.name,
                    missing.join(", ")
                )
            }),
            LoadError::Io { source, .. } => Some(source.to_string()),
            LoadError::TooManyRejected { first, .. } => Some(format!("The first: {first}.")),
            LoadError::Remote(e) => e.detail.clone(),
            _ => None,
        }
    }

    pub fn hint(&self) -> Option<String> {
        let h = match self {
            // The argument's name says it all.
            LoadError::NullArgument { .. } | LoadError::InfiniteMonth { .. } => return None,
            LoadError::NotAPartition { table } => format!(
                "taxi_load creates each month's partition itself: rename or drop taxi.{table}, then load again."
            ),
            LoadError::Internal { .. } => {
                "This is a bug in taxi_loader: nothing was written. Please report it with the message and detail.".to_string()
            }
            LoadError::NoPrivilege { .. } => {
                "Only superusers and roles with privileges of pg_read_server_files may load server files."
                    .to_string()
            }
            LoadError::NoTablePrivilege { table } => format!(
                "{table} is where the file's trips would go. Loading needs SELECT and INSERT on taxi.yellow_taxi_trips, INSERT on taxi.fact_trips, USAGE on schema taxi and on taxi.load_id_seq."
            ),
            LoadError::NoRemovePrivilege { .. } => {
                "replace => true removes the trips of the file's earlier versions that its new version lacks: it needs DELETE on taxi.yellow_taxi_trips, DELETE and SELECT on taxi.fact_trips, besides what loading needs. Without replace, the new version's trips are added beside the old ones.".to_string()
            }
            LoadError::NodeFailed { .. } => {
                "Nothing of this load was kept, on any node. Load the file again once every node is back (SELECT * FROM citus_check_cluster_node_health() shows them).".to_string()
            }
            LoadError::ReplacedMeanwhile { .. } => {
                "Nothing was written. Run the transaction again: it then sees what the other replacement did. Under READ COMMITTED replacements of one file simply take turns.".to_string()
            }
            LoadError::Remote(e) => e.hint.clone(),
            LoadError::NoRemoteSupport { .. } => {
                "Copy the file to the database server and load its path, or install a build of taxi_loader with the remote feature (the default).".to_string()
            }
            LoadError::NoRemotePrivilege { .. } => {
                "Remote sources are read by the database server: only superusers and members of taxi_remote_reader may load them (GRANT taxi_remote_reader TO the role), and only from URLs taxi.allowed_sources lists.".to_string()
            }
            LoadError::RelativePath { .. } => {
                "Give the absolute path of the file on the database server.".to_string()
            }
            LoadError::NotFound { .. } => {
                "The path is read by the database server, not by the client: the file must exist on the server's file system.".to_string()
            }
            LoadError::IsDirectory { .. } | LoadError::NotRegularFile { .. } => {
                "Give the path of a parquet file.".to_string()
            }
            LoadError::Io { .. } => {
                "Check that the server's operating-system user can read the file.".to_string()
            }
            LoadError::Empty { .. } | LoadError::NotParquet { .. } => {
                "taxi_load reads Apache Parquet files such as the TLC's yellow_tripdata_YYYY-MM.parquet.".to_string()
            }
            LoadError::Corrupt { .. } => {
                "Download the file again; nothing of it was loaded.".to_string()
            }
            LoadError::WrongDataset {
                dataset,
                missing,
                forced: true,
                ..
            } => format!(
                "A {} trip file needs the columns {}; this file lacks {}.",
                dataset.title,
                dataset
                    .columns
                    .iter()
                    .filter(|c| c.required)
                    .map(|c| c.source)
                    .collect::<Vec<_>>()
                    .join(", "),
                missing.join(", ")
            ),
            LoadError::WrongDataset { .. } => format!(
                "taxi_load reads the TLC's trip files of the datasets {}, recognized by their columns. To see what a file lacks for one of them, name it: dataset => 'green'.",
                dataset_names()
            ),
            LoadError::AmbiguousDataset { candidates, .. } => format!(
                "Say which it is: dataset => '{}'.",
                candidates[0]
            ),
            LoadError::UnknownDataset { .. } => {
                format!("The datasets are {}.", dataset_names())
            }
            LoadError::AmbiguousColumn { .. } => {
                "Rewrite the file with one column of that name.".to_string()
            }
            LoadError::UnsupportedType { expected, .. } => {
                format!("The column must hold {expected}.")
            }
            LoadError::TooManyRejected { .. } => {
                "Nothing of the file was loaded. Many rejected rows usually mean a file this loader misreads; to load it anyway and record them in taxi.rejected_rows, raise taxi.max_rejected_rows (-1: no limit).".to_string()
            }
            LoadError::NotADirectory { .. } => {
                "taxi_load_dir takes the folder of the files; taxi_load takes one file.".to_string()
            }
            LoadError::InvalidChunkSize { .. } => {
                "chunk_size is the number of rows read, hashed and written at a time; 100000 is a good value.".to_string()
            }
            LoadError::TooLarge { .. } => {
                "A smaller chunk_size needs less memory per chunk. Pages this large need the file rewritten with smaller pages (every writer's default makes pages of about 1 MB); values this large are not trip data.".to_string()
            }
            LoadError::NotUpdated { .. } => {
                "Run ALTER EXTENSION taxi_loader UPDATE (coming from 0.1.0, then SELECT * FROM taxi_rebuild_star() once for the trips loaded before it).".to_string()
            }
        };
        Some(h)
    }
}

fn dataset_names() -> String {
    crate::dataset::ALL
        .iter()
        .map(|d| d.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{GREEN, YELLOW};

    #[test]
    fn no_error_maps_to_internal_error() {
        let errors = [
            LoadError::NotFound { path: "/x".into() },
            LoadError::Empty { path: "/x".into() },
            LoadError::Corrupt {
                path: "/x".into(),
                detail: "d".into(),
            },
            LoadError::WrongDataset {
                path: "/x".into(),
                dataset: &YELLOW,
                missing: vec!["a"],
                forced: false,
            },
            LoadError::Io {
                path: "/x".into(),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            },
            LoadError::NotUpdated {
                missing: "taxi.fact_trips",
            },
        ];
        let states: Vec<_> = errors.iter().map(|e| e.class().sqlstate()).collect();
        assert_eq!(
            states,
            ["58P01", "22P04", "XX001", "22P04", "42501", "55000"]
        );
        assert!(errors.iter().all(|e| e.hint().is_some()));
    }

    #[test]
    fn wrong_dataset_names_missing_columns() {
        let forced = LoadError::WrongDataset {
            path: "/g.parquet".into(),
            dataset: &YELLOW,
            missing: vec!["tpep_pickup_datetime", "tpep_dropoff_datetime"],
            forced: true,
        };
        assert_eq!(
            forced.to_string(),
            "file \"/g.parquet\" is not a yellow taxi trip file"
        );
        let detail = forced.detail().unwrap();
        assert!(
            detail.contains("tpep_pickup_datetime, tpep_dropoff_datetime"),
            "{detail}"
        );
        assert!(forced
            .hint()
            .unwrap()
            .contains("this file lacks tpep_pickup_datetime"));
        let closest = LoadError::WrongDataset {
            path: "/g.parquet".into(),
            dataset: &GREEN,
            missing: vec!["lpep_dropoff_datetime"],
            forced: false,
        };
        assert_eq!(
            closest.to_string(),
            "file \"/g.parquet\" is not a trip file of any TLC dataset"
        );
        assert_eq!(
            closest.detail().unwrap(),
            "It is closest to a green taxi trip file (green), but lacks its columns lpep_dropoff_datetime."
        );
        assert!(closest
            .hint()
            .unwrap()
            .contains("yellow, green, fhv, fhvhv"));
    }
}
