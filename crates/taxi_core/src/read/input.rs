//! What a load reads: a server file or a remote object, both as bytes at offsets for the parquet
//! reader and the checks before it. A remote object is a [`RemoteObject`]: the extension opens it
//! with its network crate (behind its `remote` feature) and the core reads it through this trait,
//! so nothing that uses the core links a network stack. The parquet crate turns a failed read into
//! text, so the object keeps the failure and [`Input::failure`] gives it back.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::error::{LoadError, SourceError};
use bytes::Bytes;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

/// A remote object opened for one load: its size and version are fixed when it is opened, its
/// bytes are read at offsets (from a cache filled by network threads of its own).
pub trait RemoteObject: Send + Sync {
    /// The URL as the history and errors show it (no query string, no user info).
    fn shown(&self) -> String;
    fn size(&self) -> u64;
    /// The version the server gave the object (an ETag), if it gave one.
    fn version(&self) -> Option<String>;
    fn read_at(&self, at: u64, len: u64) -> Result<Bytes, SourceError>;
    /// The first read that failed, if one did.
    fn failure(&self) -> Option<SourceError>;
    /// SHA-256 of the whole object, of the version opened.
    fn sha256(&self) -> Result<[u8; 32], SourceError>;
    /// Gives up every network wait of the object (a load that failed or was cancelled).
    fn abort(&self);
}

/// Where a load's bytes come from; cheap to clone (a remote object is opened, its size and
/// version fixed, once per load).
#[derive(Clone)]
pub enum Source {
    Local(Arc<LocalFile>),
    Remote(Arc<dyn RemoteObject>),
}

/// A server file opened once for a load: one descriptor, its size from one `fstat`. Every read
/// of it is positioned (`pread`), so the reader's thread, the month count on the main thread and
/// the checksum thread share the descriptor without sharing a file offset.
pub struct LocalFile {
    path: String,
    file: File,
    size: u64,
}

impl LocalFile {
    /// Opens `path` for reading if it is a regular file. Opened without blocking (a FIFO would
    /// block an ordinary open until a writer comes), then asked what it is.
    pub fn open(path: &str) -> Result<LocalFile, LoadError> {
        use std::os::unix::fs::OpenOptionsExt;
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
        let file = match opened {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LoadError::NotFound { path: path.into() })
            }
            // A socket cannot be opened at all: say what it is, as for a FIFO.
            Err(e) => match std::fs::metadata(path) {
                Ok(m) if !m.is_file() && !m.is_dir() => {
                    return Err(LoadError::NotRegularFile { path: path.into() })
                }
                _ => return Err(super::io(path, e)),
            },
        };
        let meta = file.metadata().map_err(|e| super::io(path, e))?;
        if meta.is_dir() {
            return Err(LoadError::IsDirectory { path: path.into() });
        }
        if !meta.is_file() {
            return Err(LoadError::NotRegularFile { path: path.into() });
        }
        Ok(LocalFile {
            path: path.into(),
            file,
            size: meta.len(),
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// SHA-256 of the file's bytes, read with positioned reads.
    pub fn sha256(&self) -> std::io::Result<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0u64;
        loop {
            let n = self.file.read_at(&mut buf, at)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            at += n as u64;
        }
        Ok(hasher.finalize().into())
    }
}

impl Source {
    /// Opens a server file (see [`LocalFile::open`]).
    pub fn local(path: &str) -> Result<Source, LoadError> {
        LocalFile::open(path).map(|f| Source::Local(Arc::new(f)))
    }

    /// The path, or the URL as the history shows it.
    pub fn name(&self) -> String {
        match self {
            Source::Local(f) => f.path.clone(),
            Source::Remote(f) => f.shown(),
        }
    }

    pub fn is_remote(&self) -> bool {
        matches!(self, Source::Remote(_))
    }

    /// The remote object's version (ETag); None for a server file.
    pub fn version(&self) -> Option<String> {
        match self {
            Source::Local(_) => None,
            Source::Remote(f) => f.version(),
        }
    }

    pub fn size(&self) -> u64 {
        match self {
            Source::Local(f) => f.size,
            Source::Remote(f) => f.size(),
        }
    }

    /// SHA-256 of the bytes, lower-case hex.
    pub fn sha256_hex(&self) -> Result<String, LoadError> {
        match self {
            Source::Local(f) => f
                .sha256()
                .map(|d| crate::hash::hex(&d))
                .map_err(|e| super::io(&f.path, e)),
            Source::Remote(f) => f
                .sha256()
                .map(|d| crate::hash::hex(&d))
                .map_err(LoadError::Remote),
        }
    }

    pub fn open(&self) -> Result<Input, LoadError> {
        match self {
            Source::Local(f) => Ok(Input::Local(f.clone())),
            Source::Remote(f) => Ok(Input::Remote(f.clone())),
        }
    }
}

/// While armed, gives up every network wait of a remote source when dropped: a load that fails
/// or is cancelled must not wait for its reader thread's request to time out before it can join
/// it. Disarmed when the load succeeded (its checksum thread may still be reading).
pub struct AbortOnDrop(Option<Arc<dyn RemoteObject>>);

impl AbortOnDrop {
    pub fn new(source: &Source) -> AbortOnDrop {
        AbortOnDrop(match source {
            Source::Remote(f) => Some(f.clone()),
            Source::Local(_) => None,
        })
    }

    pub fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            f.abort();
        }
    }
}

/// An opened [`Source`]; a clone shares the descriptor or the remote object (reads are
/// positioned, so clones never share an offset).
#[derive(Clone)]
pub enum Input {
    Local(Arc<LocalFile>),
    Remote(Arc<dyn RemoteObject>),
}

impl Input {
    pub fn read_exact_at(&self, buf: &mut [u8], at: u64) -> std::io::Result<()> {
        match self {
            Input::Local(f) => f.file.read_exact_at(buf, at),
            Input::Remote(r) => {
                let bytes = r
                    .read_at(at, buf.len() as u64)
                    .map_err(std::io::Error::other)?;
                buf.copy_from_slice(&bytes);
                Ok(())
            }
        }
    }

    /// The first remote read that failed: what a load reports instead of the reader's text.
    pub fn failure(&self) -> Option<SourceError> {
        match self {
            Input::Local(_) => None,
            Input::Remote(r) => r.failure(),
        }
    }
}

impl Length for Input {
    fn len(&self) -> u64 {
        match self {
            Input::Local(f) => f.size,
            Input::Remote(r) => r.size(),
        }
    }
}

/// A remote object read forwards from an offset, a window at a time through its cache.
pub struct RemoteRead {
    file: Arc<dyn RemoteObject>,
    at: u64,
    held: Bytes,
}

impl Read for RemoteRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.held.is_empty() {
            let left = self.file.size().saturating_sub(self.at);
            if left == 0 {
                return Ok(0);
            }
            let want = left.min(64 * 1024);
            self.held = self
                .file
                .read_at(self.at, want)
                .map_err(std::io::Error::other)?;
            self.at += want;
        }
        let n = buf.len().min(self.held.len());
        buf[..n].copy_from_slice(&self.held[..n]);
        self.held = self.held.slice(n..);
        Ok(n)
    }
}

/// A server file read forwards from an offset with positioned reads (the descriptor is shared;
/// its file offset is never used).
pub struct LocalRead {
    file: Arc<LocalFile>,
    at: u64,
}

impl Read for LocalRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.file.read_at(buf, self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

pub enum InputRead {
    Local(std::io::BufReader<LocalRead>),
    Remote(RemoteRead),
}

impl Read for InputRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            InputRead::Local(r) => r.read(buf),
            InputRead::Remote(r) => r.read(buf),
        }
    }
}

impl ChunkReader for Input {
    type T = InputRead;

    fn get_read(&self, start: u64) -> parquet::errors::Result<InputRead> {
        match self {
            Input::Local(f) => Ok(InputRead::Local(std::io::BufReader::new(LocalRead {
                file: f.clone(),
                at: start,
            }))),
            Input::Remote(r) => Ok(InputRead::Remote(RemoteRead {
                file: r.clone(),
                at: start.min(r.size()),
                held: Bytes::new(),
            })),
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            Input::Local(f) => {
                // As the parquet crate's own File reader does, with a positioned read.
                let mut buffer = vec![0u8; length];
                let mut read = 0;
                while read < length {
                    match f.file.read_at(&mut buffer[read..], start + read as u64) {
                        Ok(0) => break,
                        Ok(n) => read += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                if read != length {
                    return Err(ParquetError::EOF(format!(
                        "Expected to read {length} bytes, read only {read}"
                    )));
                }
                Ok(buffer.into())
            }
            Input::Remote(r) => r
                .read_at(start, length as u64)
                .map_err(|e| ParquetError::External(Box::new(e))),
        }
    }
}
