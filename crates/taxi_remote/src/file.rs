//! One remote object opened for reading, downloaded once. Its size and version are fixed at open;
//! on the first read a thread of its own downloads it, in order, into an unlinked file of the
//! spool folder (the database's temporary files' folder), hashing the bytes as they arrive. The
//! parquet reader's reads wait until the download has their bytes, then read the spool file.
//!
//! Why a spool and not range reads through a cache (0.6.0–0.9.0): a load reads the pickup column
//! of every row group before the rest (its months), and its checksum (the file's identity in the
//! history, needed before the load when a folder or month range asks whether the content is new)
//! read the object once more: 2× the file's bytes over the network. Downloaded once, the file
//! costs its own size, memory stays bounded (the bytes are on disk, not in a cache), and the
//! download runs ahead of the reader in few large requests instead of one 1 MB request at a time.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::client::{Client, Meta};
use crate::error::RemoteError;
use crate::location::RemoteUrl;

/// Bytes of one request of the download.
pub const CHUNK: u64 = 8 << 20;
/// The end of a file longer than [`CHUNK`] is downloaded first: its footer is what a reader reads
/// first. A footer longer than this is read when the download reaches it.
pub const TAIL: u64 = 1 << 20;

pub struct RemoteFile {
    client: Client,
    url: RemoteUrl,
    meta: Meta,
    spool_dir: PathBuf,
    download: OnceLock<Result<Arc<Download>, RemoteError>>,
    /// The first failure of a read: the parquet reader turns it into text, the load reports it
    /// as what it is.
    failure: Mutex<Option<RemoteError>>,
}

/// A download in progress or done, shared by the object and its thread.
struct Download {
    spool: File,
    state: Mutex<State>,
    progressed: Condvar,
    /// Set when the object is dropped: the thread stops after its current request.
    stop: AtomicBool,
}

struct State {
    /// Bytes `0..front` are in the spool.
    front: u64,
    /// Bytes `tail_from..size` are in the spool once `tail_done` (`tail_from` = size: no tail).
    tail_from: u64,
    tail_done: bool,
    digest: Option<[u8; 32]>,
    failed: Option<RemoteError>,
}

impl State {
    fn has(&self, start: u64, end: u64) -> bool {
        end <= self.front || (self.tail_done && start.max(self.front) >= self.tail_from)
    }
}

static SPOOLED: AtomicU64 = AtomicU64::new(0);

impl RemoteFile {
    pub fn open(client: &Client, url: &RemoteUrl) -> Result<RemoteFile, RemoteError> {
        let meta = client.head(url)?;
        Ok(RemoteFile {
            client: client.clone(),
            url: url.clone(),
            meta,
            spool_dir: client.spool_dir(),
            download: OnceLock::new(),
            failure: Mutex::default(),
        })
    }

    pub fn size(&self) -> u64 {
        self.meta.size
    }

    pub fn url(&self) -> &RemoteUrl {
        &self.url
    }

    pub fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Makes every wait for this object, now and later, give up (the load it serves ends).
    pub fn abort(&self) {
        self.client.abort();
    }

    /// The first read that failed, if one did.
    pub fn failure(&self) -> Option<RemoteError> {
        self.failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Bytes `start..start + len`, which must lie within the file.
    pub fn read_at(&self, start: u64, len: u64) -> Result<Bytes, RemoteError> {
        let result = self.read_spooled(start, len);
        if let Err(e) = &result {
            self.failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e.clone());
        }
        result
    }

    fn read_spooled(&self, start: u64, len: u64) -> Result<Bytes, RemoteError> {
        let end = start
            .checked_add(len)
            .filter(|&e| e <= self.meta.size)
            .ok_or_else(|| RemoteError::Other {
                url: self.url.shown(),
                detail: format!(
                    "Bytes {start}..+{len} were asked for, of a {}-byte file.",
                    self.meta.size
                ),
            })?;
        if len == 0 {
            return Ok(Bytes::new());
        }
        let download = self.download()?;
        self.wait(&download, |s| s.has(start, end))?;
        let mut buffer = vec![0u8; len as usize];
        download
            .spool
            .read_exact_at(&mut buffer, start)
            .map_err(|e| self.spool_error("reading", e))?;
        Ok(buffer.into())
    }

    /// SHA-256 of the whole object, of the version opened: the bytes hashed are the bytes
    /// loaded. Waits for the download (which it starts if no read has).
    pub fn sha256(&self) -> Result<[u8; 32], RemoteError> {
        let download = self.download()?;
        self.wait(&download, |s| s.digest.is_some())?;
        let state = download.state.lock().unwrap_or_else(|e| e.into_inner());
        Ok(state.digest.expect("waited for"))
    }

    /// Waits until `ready` holds of the download, or it failed, or the load is canceled (then the
    /// client's other waits give up too, and with them the download).
    fn wait(&self, download: &Download, ready: impl Fn(&State) -> bool) -> Result<(), RemoteError> {
        let mut state = download.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if ready(&state) {
                return Ok(());
            }
            if let Some(e) = &state.failed {
                return Err(e.clone());
            }
            if self.client.stopping() {
                self.client.abort();
                return Err(RemoteError::Canceled {
                    url: self.url.shown(),
                });
            }
            state = download
                .progressed
                .wait_timeout(state, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// The download, started by the first caller.
    fn download(&self) -> Result<Arc<Download>, RemoteError> {
        self.download.get_or_init(|| self.start_download()).clone()
    }

    fn start_download(&self) -> Result<Arc<Download>, RemoteError> {
        let spool = spool_file(&self.spool_dir).map_err(|e| self.spool_error("creating", e))?;
        let size = self.meta.size;
        let tail_from = if size > CHUNK { size - TAIL } else { size };
        let download = Arc::new(Download {
            spool,
            state: Mutex::new(State {
                front: 0,
                tail_from,
                tail_done: tail_from == size,
                digest: None,
                failed: None,
            }),
            progressed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let shared = download.clone();
        let (client, url, meta, dir) = (
            self.client.clone(),
            self.url.clone(),
            self.meta.clone(),
            self.spool_dir.clone(),
        );
        // Detached: it holds no reference to the object, and ends at the next request once the
        // object is dropped.
        taxi_core::threads::spawn_without_signals("taxi_loader-download", move || {
            let result = run_download(&shared, &client, &url, &meta, tail_from);
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            match result {
                Ok(digest) => state.digest = Some(digest),
                Err(Failure::Remote(e)) => state.failed = Some(e),
                Err(Failure::Spool(e)) => {
                    state.failed = Some(spool_error(&url, &dir, "writing", e))
                }
            }
            drop(state);
            shared.progressed.notify_all();
        });
        Ok(download)
    }

    fn spool_error(&self, doing: &str, e: std::io::Error) -> RemoteError {
        spool_error(&self.url, &self.spool_dir, doing, e)
    }
}

impl Drop for RemoteFile {
    fn drop(&mut self) {
        if let Some(Ok(d)) = self.download.get() {
            d.stop.store(true, Ordering::Relaxed);
        }
    }
}

enum Failure {
    Remote(RemoteError),
    Spool(std::io::Error),
}

/// The download's thread: the tail, then the rest in order, each request's bytes written to the
/// spool and the progress announced; the front's bytes are hashed as they come, the tail's last.
fn run_download(
    download: &Download,
    client: &Client,
    url: &RemoteUrl,
    meta: &Meta,
    tail_from: u64,
) -> Result<[u8; 32], Failure> {
    let size = meta.size;
    let fetch = |start: u64, end: u64| -> Result<Bytes, Failure> {
        if download.stop.load(Ordering::Relaxed) {
            return Err(Failure::Remote(RemoteError::Canceled { url: url.shown() }));
        }
        let bytes = client
            .read(url, meta, start, end)
            .map_err(Failure::Remote)?;
        download
            .spool
            .write_all_at(&bytes, start)
            .map_err(Failure::Spool)?;
        Ok(bytes)
    };
    let tail = fetch(tail_from, size)?;
    download.advance(|s| s.tail_done = true);
    let mut hasher = Sha256::new();
    let mut at = 0;
    while at < tail_from {
        let end = (at + CHUNK).min(tail_from);
        hasher.update(&fetch(at, end)?);
        at = end;
        download.advance(|s| s.front = end);
    }
    hasher.update(&tail);
    download.advance(|s| s.front = size);
    Ok(hasher.finalize().into())
}

impl Download {
    fn advance(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()));
        self.progressed.notify_all();
    }
}

/// A new file in `dir`, unlinked at once: it goes with its last descriptor, even if the backend
/// dies. Named as PostgreSQL names its temporary files, which it removes at startup.
fn spool_file(dir: &Path) -> std::io::Result<File> {
    std::fs::create_dir_all(dir)?;
    let n = SPOOLED.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("pgsql_tmp_taxi_loader_{}_{n}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

fn spool_error(url: &RemoteUrl, dir: &Path, doing: &str, e: std::io::Error) -> RemoteError {
    RemoteError::Spool {
        url: url.shown(),
        detail: format!("{doing} the download in {}: {e}", dir.display()),
    }
}
