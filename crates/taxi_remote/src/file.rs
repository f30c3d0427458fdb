//! One remote object opened for reading: its size and version fixed at open, its bytes read in
//! aligned blocks by range requests and kept in a small cache of the most recently used, so
//! that the parquet reader's many small reads (page headers, then pages, column after column)
//! become few requests while memory stays bounded whatever the file's size.

use std::sync::Mutex;

use bytes::{Bytes, BytesMut};

use crate::client::{Client, Meta};
use crate::error::RemoteError;
use crate::location::RemoteUrl;

/// Bytes of one block: one range request.
pub const BLOCK: u64 = 1 << 20;
/// Blocks kept: enough for every column chunk of a row group being read at once (the trip
/// schema has 19 columns) and the page headers ahead of them.
pub const BLOCKS: usize = 48;
/// A read longer than this goes to the server directly, not through the cache.
const DIRECT: u64 = 8 * BLOCK;

pub struct RemoteFile {
    client: Client,
    url: RemoteUrl,
    meta: Meta,
    cache: Mutex<Cache>,
    /// The first failure of a read: the parquet reader turns it into text, the load reports it
    /// as what it is.
    failure: Mutex<Option<RemoteError>>,
}

#[derive(Default)]
struct Cache {
    blocks: Vec<(u64, Bytes, u64)>,
    tick: u64,
}

impl Cache {
    fn get(&mut self, block: u64) -> Option<Bytes> {
        self.tick += 1;
        let tick = self.tick;
        self.blocks
            .iter_mut()
            .find(|(b, _, _)| *b == block)
            .map(|(_, bytes, used)| {
                *used = tick;
                bytes.clone()
            })
    }

    fn put(&mut self, block: u64, bytes: Bytes) {
        self.tick += 1;
        if self.blocks.len() >= BLOCKS {
            let oldest = (0..self.blocks.len())
                .min_by_key(|&i| self.blocks[i].2)
                .unwrap_or(0);
            self.blocks.swap_remove(oldest);
        }
        self.blocks.push((block, bytes, self.tick));
    }
}

impl RemoteFile {
    pub fn open(client: &Client, url: &RemoteUrl) -> Result<RemoteFile, RemoteError> {
        let meta = client.head(url)?;
        Ok(RemoteFile {
            client: client.clone(),
            url: url.clone(),
            meta,
            cache: Mutex::default(),
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
        let result = self.read_cached(start, len);
        if let Err(e) = &result {
            self.failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(e.clone());
        }
        result
    }

    fn read_cached(&self, start: u64, len: u64) -> Result<Bytes, RemoteError> {
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
        if len > DIRECT {
            return self.client.read(&self.url, &self.meta, start, end);
        }
        let (first, last) = (start / BLOCK, (end - 1) / BLOCK);
        let mut parts = Vec::with_capacity((last - first + 1) as usize);
        let mut missing_from = None;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for b in first..=last {
            match cache.get(b) {
                Some(bytes) => parts.push(Some(bytes)),
                None => {
                    missing_from.get_or_insert(b);
                    parts.push(None);
                }
            }
        }
        if let Some(from) = missing_from {
            // One request for the blocks from the first missing one to the last asked for.
            let lo = from * BLOCK;
            let hi = ((last + 1) * BLOCK).min(self.meta.size);
            let fetched = self.client.read(&self.url, &self.meta, lo, hi)?;
            let several = last > from;
            for b in from..=last {
                let at = ((b - from) * BLOCK) as usize;
                let to = (at + BLOCK as usize).min(fetched.len());
                // A block of a longer fetch gets a buffer of its own: as a slice it would keep
                // the whole fetch alive until its last block left the cache, and the cache's
                // bound would no longer be BLOCKS megabytes.
                let block = if several {
                    Bytes::copy_from_slice(&fetched[at..to])
                } else {
                    fetched.clone()
                };
                cache.put(b, block.clone());
                parts[(b - first) as usize] = Some(block);
            }
        }
        drop(cache);
        let skip = (start - first * BLOCK) as usize;
        if parts.len() == 1 {
            let block = parts.pop().flatten().expect("read");
            return Ok(block.slice(skip..skip + len as usize));
        }
        let mut out = BytesMut::with_capacity(len as usize);
        let mut want = len as usize;
        for (i, part) in parts.into_iter().enumerate() {
            let part = part.expect("read");
            let from = if i == 0 { skip } else { 0 };
            let take = (part.len() - from).min(want);
            out.extend_from_slice(&part[from..from + take]);
            want -= take;
        }
        Ok(out.freeze())
    }

    /// SHA-256 of the whole object, read in order 8 blocks at a time, tied to the version
    /// opened: the bytes hashed are the bytes loaded.
    pub fn sha256(&self) -> Result<[u8; 32], RemoteError> {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut at = 0;
        while at < self.meta.size {
            let end = (at + DIRECT).min(self.meta.size);
            let bytes = self.client.read(&self.url, &self.meta, at, end)?;
            hasher.update(&bytes);
            at = end;
        }
        Ok(hasher.finalize().into())
    }
}
