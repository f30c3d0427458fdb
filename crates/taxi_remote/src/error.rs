//! Every way reading a remote object can fail. The URLs in these errors are always the shown
//! form ([`crate::RemoteUrl::shown`]): no user info, no query string (a presigned URL's query is
//! a credential).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RemoteError {
    #[error("\"{text}\" is not a URL taxi_loader can read: {why}")]
    InvalidUrl { text: String, why: String },

    #[error("\"{url}\" is not in taxi.allowed_sources")]
    NotAllowed { url: String },

    #[error("\"{url}\" was not found on the server (HTTP {status})")]
    NotFound { url: String, status: u16 },

    #[error("the server refused access to \"{url}\" (HTTP {status})")]
    Forbidden { url: String, status: u16 },

    #[error("could not connect to the server of \"{url}\"")]
    Unreachable { url: String, detail: String },

    #[error("the TLS handshake with the server of \"{url}\" failed")]
    Tls { url: String, detail: String },

    #[error("reading \"{url}\" timed out after {seconds} s (taxi.remote_timeout)")]
    Timeout { url: String, seconds: u64 },

    #[error("the connection to the server of \"{url}\" broke while reading the file")]
    Dropped { url: String, detail: String },

    #[error("the server of \"{url}\" answered HTTP {status}")]
    ServerError { url: String, status: u16 },

    #[error("the server of \"{url}\" does not serve byte ranges")]
    IgnoredRange { url: String },

    #[error("the server of \"{url}\" sent {got} bytes where {expected} were asked for")]
    WrongLength {
        url: String,
        expected: u64,
        got: u64,
    },

    #[error("\"{url}\" changed on the server while it was being read")]
    Changed { url: String },

    #[error(
        "the server redirected \"{url}\" elsewhere (HTTP {status}); redirects are not followed"
    )]
    Redirected { url: String, status: u16 },

    #[error("reading \"{url}\" failed")]
    Other { url: String, detail: String },

    #[error("canceled while waiting for \"{url}\"")]
    Canceled { url: String },

    #[error("could not keep the download of \"{url}\" on the database server")]
    Spool { url: String, detail: String },
}

impl RemoteError {
    /// Worth another attempt: the same request may well succeed a moment later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RemoteError::Unreachable { .. }
                | RemoteError::Timeout { .. }
                | RemoteError::Dropped { .. }
                | RemoteError::ServerError { .. }
                | RemoteError::WrongLength { .. }
        )
    }

    /// A month that is not published (yet): 404, or 403 (S3 and CloudFront answer 403 for a key
    /// that does not exist when listing is not allowed).
    pub fn is_not_published(&self) -> bool {
        matches!(
            self,
            RemoteError::NotFound { .. } | RemoteError::Forbidden { .. }
        )
    }

    /// What went wrong underneath, for the error's DETAIL (never holds credentials: it is built
    /// from error messages of the HTTP stack, which print the shown URL at most).
    pub fn detail(&self) -> Option<String> {
        match self {
            RemoteError::Unreachable { detail, .. }
            | RemoteError::Tls { detail, .. }
            | RemoteError::Dropped { detail, .. }
            | RemoteError::Other { detail, .. }
            | RemoteError::Spool { detail, .. } => Some(detail.clone()),
            _ => None,
        }
    }

    pub fn hint(&self) -> String {
        match self {
            RemoteError::InvalidUrl { .. } => "Use http://, https:// or s3://bucket/key, without user name or password in the URL: S3 credentials come from the taxi.s3_* settings or the server's AWS_* environment.".into(),
            RemoteError::NotAllowed { .. } => "A superuser must list a prefix of the URL in taxi.allowed_sources: LOAD 'taxi_loader'; ALTER SYSTEM SET taxi.allowed_sources = 'https://host/path/'; SELECT pg_reload_conf();".into(),
            RemoteError::NotFound { .. } | RemoteError::Forbidden { .. } => "Check the URL; for S3, check the bucket, the key and the credentials in taxi.s3_* or the server's AWS_* environment. taxi_load_months reports such a month as not_found.".into(),
            RemoteError::Unreachable { .. } => "The URL is read by the database server: check that the server can resolve and reach the host.".into(),
            RemoteError::Tls { .. } => "The server's certificate must be valid for its host name and signed by an authority the database server's system trusts.".into(),
            RemoteError::Timeout { .. } => "Raise taxi.remote_timeout, or try again later.".into(),
            RemoteError::Dropped { .. } | RemoteError::ServerError { .. } | RemoteError::WrongLength { .. } => "The load was retried taxi.remote_retries times; nothing was written. Try again later.".into(),
            RemoteError::IgnoredRange { .. } => "taxi_loader reads a file in byte ranges (its footer first, then the rest in order): the server must answer Range requests with 206.".into(),
            RemoteError::Changed { .. } => "The file was re-published during the load; nothing was written. Load it again.".into(),
            RemoteError::Redirected { .. } => "Use the URL the server redirects to; a redirect could lead outside taxi.allowed_sources.".into(),
            RemoteError::Other { .. } => "Nothing was written.".into(),
            RemoteError::Canceled { .. } => "Nothing was written.".into(),
            RemoteError::Spool { .. } => "A remote file is downloaded once, into the database's temporary files' folder (base/pgsql_tmp of the data directory), while it loads: that folder needs room for the file. Nothing was written.".into(),
        }
    }
}
