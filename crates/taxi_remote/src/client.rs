//! Requests to remote objects. The network runs on a tokio runtime of the client's own, whose
//! threads block every signal (PostgreSQL's handlers must only run on the backend's main thread);
//! the caller's thread waits for plain bytes, a 50 ms tick at a time, so that a cancel is seen
//! while it waits. Every request has `taxi.remote_timeout`; a transient failure is retried with
//! doubling backoff, `retries` times at most, and counted.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt, RetryConfig};
use reqwest::header::{CONTENT_RANGE, ETAG, IF_MATCH, RANGE};
use reqwest::StatusCode;

use crate::error::RemoteError;
use crate::location::{RemoteUrl, Scheme};

/// S3 settings (taxi.s3_*): each falls back to the server's environment (AWS_ENDPOINT_URL,
/// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); without any
/// credentials requests go unsigned (public buckets).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// For one request, connecting and reading its whole body.
    pub timeout: Duration,
    /// Further attempts after a transient failure.
    pub retries: u32,
    /// The wait before the first retry; doubled for each next one.
    pub backoff: Duration,
    pub s3: S3Settings,
    /// Where a remote file is downloaded while it loads (the system's temporary folder if None).
    pub spool_dir: Option<std::path::PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(200),
            s3: S3Settings::default(),
            spool_dir: None,
        }
    }
}

/// Tells a waiting thread that its backend wants to stop (a cancel, a terminate). Set once by the
/// extension; it answers false on any thread but the backend's main one.
static INTERRUPTED: OnceLock<fn() -> bool> = OnceLock::new();

pub fn set_interrupt_check(check: fn() -> bool) {
    let _ = INTERRUPTED.set(check);
}

fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f())
}

/// What a client did: shown in the load's history.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub bytes: AtomicU64,
}

struct Inner {
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
    handle: tokio::runtime::Handle,
    http: reqwest::Client,
    settings: Settings,
    stats: Stats,
    /// Set when the load that owns the client ends: waits return at once.
    abort: AtomicBool,
    buckets: Mutex<Vec<(String, Arc<AmazonS3>)>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(rt) = self
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            // Tasks still in flight (a request abandoned on cancel) are dropped, not awaited.
            rt.shutdown_background();
        }
    }
}

/// A client for one load (or one folder or months load): its threads end when it is dropped,
/// so a backend keeps none between loads. Cheap to clone.
#[derive(Clone)]
pub struct Client(Arc<Inner>);

/// What a server says of an object before it is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub size: u64,
    /// The version the reads are tied to (ETag, else Last-Modified): a change mid-load fails it.
    pub version: Option<String>,
}

impl Client {
    pub fn new(settings: Settings) -> Result<Client, RemoteError> {
        // The network threads inherit the mask of the thread that starts them: none of them may
        // take a signal meant for the backend.
        let runtime = taxi_core::threads::with_signals_blocked(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .max_blocking_threads(2)
                .thread_name("taxi_loader-net")
                .enable_all()
                .build()
        })
        .map_err(|e| RemoteError::Other {
            url: String::new(),
            detail: format!("starting the network threads: {e}"),
        })?;
        let http = reqwest::Client::builder()
            // A redirect could lead to an address taxi.allowed_sources does not cover.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("taxi_loader/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| RemoteError::Other {
                url: String::new(),
                detail: format!("building the HTTP client: {e}"),
            })?;
        let handle = runtime.handle().clone();
        Ok(Client(Arc::new(Inner {
            runtime: Mutex::new(Some(runtime)),
            handle,
            http,
            settings,
            stats: Stats::default(),
            abort: AtomicBool::new(false),
            buckets: Mutex::new(Vec::new()),
        })))
    }

    pub fn stats(&self) -> &Stats {
        &self.0.stats
    }

    pub fn retries(&self) -> u64 {
        self.0.stats.retries.load(Ordering::Relaxed)
    }

    /// Makes every wait of this client, now and later, fail with [`RemoteError::Canceled`].
    pub fn abort(&self) {
        self.0.abort.store(true, Ordering::Relaxed);
    }

    /// Size and version of `url` (a first ranged request: a server that does not answer ranges
    /// is refused here, before anything is read).
    pub fn head(&self, url: &RemoteUrl) -> Result<Meta, RemoteError> {
        self.retrying(url, || self.head_once(url))
    }

    /// Bytes `start..end` of `url` at version `meta`.
    pub fn read(
        &self,
        url: &RemoteUrl,
        meta: &Meta,
        start: u64,
        end: u64,
    ) -> Result<Bytes, RemoteError> {
        if start >= end {
            return Ok(Bytes::new());
        }
        let bytes = self.retrying(url, || self.read_once(url, meta, start, end))?;
        self.0
            .stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// The objects below an S3 prefix (`s3://bucket/dir/`), with their sizes, in key order.
    pub fn list(&self, prefix: &RemoteUrl) -> Result<Vec<(RemoteUrl, u64)>, RemoteError> {
        if prefix.scheme() != Scheme::S3 {
            return Err(RemoteError::InvalidUrl {
                text: prefix.shown(),
                why: "a folder load reads an s3:// prefix or a server folder; http(s) servers cannot be listed".into(),
            });
        }
        let store = self.bucket(prefix)?;
        let key = prefix.key();
        let dir = key.trim_end_matches('/').to_string();
        let shown = prefix.shown();
        let listed = self.retrying(prefix, || {
            let store = store.clone();
            let dir = dir.clone();
            let shown = shown.clone();
            self.wait(&shown.clone(), async move {
                let path = (!dir.is_empty()).then(|| object_store::path::Path::from(dir.as_str()));
                let result = store.list_with_delimiter(path.as_ref()).await;
                result
                    .map(|l| {
                        l.objects
                            .into_iter()
                            .map(|o| (o.location.to_string(), o.size))
                            .collect::<Vec<_>>()
                    })
                    .map_err(|e| s3_error(&shown, e))
            })
        })?;
        let mut out: Vec<(RemoteUrl, u64)> = listed
            .into_iter()
            .map(|(key, size)| (prefix.with_key(&key), size))
            .collect();
        out.sort_by_key(|a| a.0.key());
        Ok(out)
    }

    fn retrying<T>(
        &self,
        url: &RemoteUrl,
        mut attempt: impl FnMut() -> Result<T, RemoteError>,
    ) -> Result<T, RemoteError> {
        let mut wait = self.0.settings.backoff;
        let mut left = self.0.settings.retries;
        loop {
            self.0.stats.requests.fetch_add(1, Ordering::Relaxed);
            match attempt() {
                Err(e) if e.is_transient() && left > 0 => {
                    left -= 1;
                    self.0.stats.retries.fetch_add(1, Ordering::Relaxed);
                    self.sleep(&url.shown(), wait)?;
                    wait = (wait * 2).min(Duration::from_secs(10));
                }
                other => return other,
            }
        }
    }

    fn sleep(&self, shown: &str, d: Duration) -> Result<(), RemoteError> {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if self.stopping() {
                return Err(RemoteError::Canceled { url: shown.into() });
            }
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
        Ok(())
    }

    /// The folder downloads are spooled to.
    pub(crate) fn spool_dir(&self) -> std::path::PathBuf {
        self.0
            .settings
            .spool_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir)
    }

    pub(crate) fn stopping(&self) -> bool {
        self.0.abort.load(Ordering::Relaxed) || interrupted()
    }

    /// Runs `fut` on the network threads and waits for it, 50 ms at a time, giving up at once
    /// when the load is canceled.
    fn wait<T: Send + 'static>(
        &self,
        shown: &str,
        fut: impl std::future::Future<Output = Result<T, RemoteError>> + Send + 'static,
    ) -> Result<T, RemoteError> {
        let (tx, rx) = channel();
        let task = self.0.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(result) => return result,
                Err(RecvTimeoutError::Timeout) if self.stopping() => {
                    task.abort();
                    return Err(RemoteError::Canceled { url: shown.into() });
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(RemoteError::Canceled { url: shown.into() })
                }
            }
        }
    }

    fn head_once(&self, url: &RemoteUrl) -> Result<Meta, RemoteError> {
        let shown = url.shown();
        match url.scheme() {
            Scheme::Http => {
                let request = self
                    .0
                    .http
                    .get(url.as_url().clone())
                    .header(RANGE, "bytes=0-0");
                let seconds = self.0.settings.timeout.as_secs();
                self.wait(&shown.clone(), async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| http_error(&shown, e, seconds))?;
                    let status = response.status();
                    check_status(&shown, status)?;
                    if status != StatusCode::PARTIAL_CONTENT {
                        return Err(RemoteError::IgnoredRange { url: shown });
                    }
                    let (_, _, total) = content_range(&shown, response.headers())?;
                    let version = version_of(response.headers());
                    // The one byte is read, so that the connection can be reused.
                    response
                        .bytes()
                        .await
                        .map_err(|e| http_error(&shown, e, seconds))?;
                    Ok(Meta {
                        size: total,
                        version,
                    })
                })
            }
            Scheme::S3 => {
                let store = self.bucket(url)?;
                let path = object_store::path::Path::from(url.key().as_str());
                self.wait(&shown.clone(), async move {
                    let meta = store.head(&path).await.map_err(|e| s3_error(&shown, e))?;
                    Ok(Meta {
                        size: meta.size,
                        version: meta.e_tag,
                    })
                })
            }
        }
    }

    fn read_once(
        &self,
        url: &RemoteUrl,
        meta: &Meta,
        start: u64,
        end: u64,
    ) -> Result<Bytes, RemoteError> {
        let shown = url.shown();
        let expected = end - start;
        let bytes = match url.scheme() {
            Scheme::Http => {
                let mut request = self
                    .0
                    .http
                    .get(url.as_url().clone())
                    .header(RANGE, format!("bytes={start}-{}", end - 1));
                if let Some(v) = &meta.version {
                    request = request.header(IF_MATCH, v.as_str());
                }
                let size = meta.size;
                let seconds = self.0.settings.timeout.as_secs();
                self.wait(&shown.clone(), async move {
                    let response = request
                        .send()
                        .await
                        .map_err(|e| http_error(&shown, e, seconds))?;
                    let status = response.status();
                    if status == StatusCode::PRECONDITION_FAILED {
                        return Err(RemoteError::Changed { url: shown });
                    }
                    check_status(&shown, status)?;
                    if status != StatusCode::PARTIAL_CONTENT {
                        return Err(RemoteError::IgnoredRange { url: shown });
                    }
                    let (first, last, total) = content_range(&shown, response.headers())?;
                    if total != size {
                        return Err(RemoteError::Changed { url: shown });
                    }
                    if (first, last + 1) != (start, end) {
                        return Err(RemoteError::WrongLength {
                            url: shown,
                            expected,
                            got: last + 1 - first,
                        });
                    }
                    let mut response = response;
                    let mut body = Body::new(&shown, expected);
                    while let Some(chunk) = response
                        .chunk()
                        .await
                        .map_err(|e| http_error(&shown, e, seconds))?
                    {
                        body.push(&chunk)?;
                    }
                    body.finish()
                })?
            }
            Scheme::S3 => {
                let store = self.bucket(url)?;
                let path = object_store::path::Path::from(url.key().as_str());
                let version = meta.version.clone();
                self.wait(&shown.clone(), async move {
                    let options = GetOptions {
                        range: Some(GetRange::Bounded(start..end)),
                        if_match: version,
                        ..Default::default()
                    };
                    let result = store
                        .get_opts(&path, options)
                        .await
                        .map_err(|e| s3_error(&shown, e))?;
                    let mut stream = result.into_stream();
                    let mut body = Body::new(&shown, expected);
                    while let Some(chunk) = stream.next().await {
                        body.push(&chunk.map_err(|e| s3_error(&shown, e))?)?;
                    }
                    body.finish()
                })?
            }
        };
        Ok(bytes)
    }

    fn bucket(&self, url: &RemoteUrl) -> Result<Arc<AmazonS3>, RemoteError> {
        let bucket = url.base();
        let mut buckets = self.0.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, s)) = buckets.iter().find(|(b, _)| *b == bucket) {
            return Ok(s.clone());
        }
        let s3 = &self.0.settings.s3;
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&bucket)
            .with_retry(RetryConfig {
                max_retries: 0,
                ..Default::default()
            })
            .with_http_connector(Connector(self.0.http.clone()));
        if let Some(e) = &s3.endpoint {
            builder = builder
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"));
        } else if let Ok(e) = std::env::var("AWS_ENDPOINT_URL") {
            builder = builder.with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = &s3.region {
            builder = builder.with_region(r);
        }
        if let Some(k) = &s3.access_key_id {
            builder = builder.with_access_key_id(k);
        }
        if let Some(k) = &s3.secret_access_key {
            builder = builder.with_secret_access_key(k);
        }
        if let Some(t) = &s3.session_token {
            builder = builder.with_token(t);
        }
        let signed = s3.access_key_id.is_some() || std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
        builder = builder.with_skip_signature(!signed);
        let store = Arc::new(builder.build().map_err(|e| RemoteError::Other {
            url: url.shown(),
            // The builder's errors name settings, never their values.
            detail: format!("configuring S3: {e}"),
        })?);
        buckets.push((bucket, store.clone()));
        Ok(store)
    }
}

/// Hands object_store the client built here (redirects refused, our timeouts).
#[derive(Debug)]
struct Connector(reqwest::Client);

impl object_store::client::HttpConnector for Connector {
    fn connect(
        &self,
        _: &object_store::ClientOptions,
    ) -> object_store::Result<object_store::client::HttpClient> {
        Ok(object_store::client::HttpClient::new(self.0.clone()))
    }
}

fn check_status(shown: &str, status: StatusCode) -> Result<(), RemoteError> {
    let url = shown.to_string();
    match status.as_u16() {
        200..=299 => Ok(()),
        404 | 410 => Err(RemoteError::NotFound {
            url,
            status: status.as_u16(),
        }),
        401 | 403 => Err(RemoteError::Forbidden {
            url,
            status: status.as_u16(),
        }),
        300..=399 => Err(RemoteError::Redirected {
            url,
            status: status.as_u16(),
        }),
        416 => Err(RemoteError::Changed { url }),
        408 | 429 | 500..=599 => Err(RemoteError::ServerError {
            url,
            status: status.as_u16(),
        }),
        s => Err(RemoteError::Other {
            url,
            detail: format!("The server answered HTTP {s}."),
        }),
    }
}

/// `Content-Range: bytes FIRST-LAST/TOTAL`.
fn content_range(
    shown: &str,
    headers: &reqwest::header::HeaderMap,
) -> Result<(u64, u64, u64), RemoteError> {
    let bad = || RemoteError::Other {
        url: shown.into(),
        detail: "The server's 206 answer has no valid Content-Range header.".into(),
    };
    let value = headers
        .get(CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(bad)?;
    let rest = value.strip_prefix("bytes ").ok_or_else(bad)?;
    let (span, total) = rest.split_once('/').ok_or_else(bad)?;
    let (first, last) = span.split_once('-').ok_or_else(bad)?;
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    let (first, last, total) = (parse(first)?, parse(last)?, parse(total)?);
    if last < first || last >= total {
        return Err(bad());
    }
    Ok((first, last, total))
}

fn version_of(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get(ETAG)
        .and_then(|v| v.to_str().ok())
        // A weak ETag cannot be used with If-Match.
        .filter(|v| !v.starts_with("W/"))
        .map(str::to_string)
}

/// The chain of an error's messages, for its DETAIL.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

fn looks_like_tls(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    t.contains("certificate") || t.contains("tls") || t.contains("handshake") || t.contains("ssl")
}

fn http_error(shown: &str, e: reqwest::Error, seconds: u64) -> RemoteError {
    let url = shown.to_string();
    // reqwest's messages name the URL it requested, query and all.
    let detail = strip_urls(&chain(&e));
    if e.is_timeout() {
        RemoteError::Timeout { url, seconds }
    } else if e.is_connect() {
        if looks_like_tls(&detail) {
            RemoteError::Tls { url, detail }
        } else {
            RemoteError::Unreachable { url, detail }
        }
    } else if e.is_body() || e.is_decode() || e.is_request() {
        RemoteError::Dropped { url, detail }
    } else {
        RemoteError::Other { url, detail }
    }
}

fn s3_error(shown: &str, e: object_store::Error) -> RemoteError {
    let url = shown.to_string();
    let detail = strip_urls(&chain(&e));
    match &e {
        object_store::Error::NotFound { .. } => return RemoteError::NotFound { url, status: 404 },
        object_store::Error::Precondition { .. } | object_store::Error::NotModified { .. } => {
            return RemoteError::Changed { url }
        }
        _ => {}
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if let Some(h) = s.downcast_ref::<object_store::client::HttpError>() {
            use object_store::client::HttpErrorKind as K;
            return match h.kind() {
                K::Timeout => RemoteError::Timeout { url, seconds: 0 },
                K::Connect if looks_like_tls(&detail) => RemoteError::Tls { url, detail },
                K::Connect => RemoteError::Unreachable { url, detail },
                _ => RemoteError::Dropped { url, detail },
            };
        }
        source = s.source();
    }
    match status_in(&detail) {
        Some(s @ (401 | 403)) => RemoteError::Forbidden { url, status: s },
        Some(s @ (404 | 410)) => RemoteError::NotFound { url, status: s },
        Some(s @ (408 | 429 | 500..=599)) => RemoteError::ServerError { url, status: s },
        Some(s @ 300..=399) => RemoteError::Redirected { url, status: s },
        _ => RemoteError::Other { url, detail },
    }
}

/// The HTTP status in an object_store error's message ("…status code: 403 Forbidden…"): its
/// retry error type is not public.
fn status_in(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

/// Replaces every URL in an error message by its part before any query: messages of the HTTP
/// stack print the URL they requested.
fn strip_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if taxi_core::files::scheme(word.trim_start_matches(['(', '"', '\''])).is_some() {
            out.push_str(&crate::location::shown_text(word));
        } else {
            out.push_str(word);
        }
    }
    out
}

/// A response body gathered into one buffer of the length asked for, allocated once: collecting
/// it frame by frame and then joining the frames would hold every range twice at its peak, and
/// a server that sends more than it announced is stopped at the first byte too many; one that
/// sends less is found at the end.
struct Body<'a> {
    shown: &'a str,
    expected: u64,
    bytes: BytesMut,
}

impl<'a> Body<'a> {
    fn new(shown: &'a str, expected: u64) -> Body<'a> {
        Body {
            shown,
            expected,
            bytes: BytesMut::with_capacity(expected as usize),
        }
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), RemoteError> {
        let got = (self.bytes.len() + chunk.len()) as u64;
        if got > self.expected {
            return Err(RemoteError::WrongLength {
                url: self.shown.to_string(),
                expected: self.expected,
                got,
            });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The body, if it was as long as asked for.
    fn finish(self) -> Result<Bytes, RemoteError> {
        let got = self.bytes.len() as u64;
        if got != self.expected {
            return Err(RemoteError::WrongLength {
                url: self.shown.to_string(),
                expected: self.expected,
                got,
            });
        }
        Ok(self.bytes.freeze())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_ranges() {
        assert_eq!(
            status_in("Server returned non-2xx status code: 403 Forbidden: x"),
            Some(403)
        );
        assert_eq!(status_in("no status"), None);
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(CONTENT_RANGE, "bytes 0-3/100".parse().unwrap());
        assert_eq!(content_range("u", &h).unwrap(), (0, 3, 100));
        h.insert(CONTENT_RANGE, "bytes 5-200/100".parse().unwrap());
        assert!(content_range("u", &h).is_err());
        assert!(matches!(
            check_status("u", StatusCode::NOT_FOUND),
            Err(RemoteError::NotFound { .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::BAD_GATEWAY),
            Err(RemoteError::ServerError { .. })
        ));
        assert!(matches!(
            check_status("u", StatusCode::FOUND),
            Err(RemoteError::Redirected { .. })
        ));
        assert_eq!(
            strip_urls("error sending request for url (http://h/x?sig=secret)"),
            "error sending request for url (http://h/x"
        );
    }
}
