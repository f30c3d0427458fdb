//! Decoding and hashing run ahead of the backend on a thread of their own: while the main thread
//! writes chunk N (or scans the table), chunk N+1 is decoded and hashed. Only plain Rust data
//! crosses over; the channel holds at most `ahead` finished chunks, which bounds the memory.
//! pgrx-free: the caller passes what to do while it waits (check for interrupts).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::TripReader;
use crate::error::LoadError;
use crate::hash::{hash_batch, RowHash};
use crate::threads;
use crate::trip::TripBatch;

/// About what a decoded, hashed row takes in memory while it waits in the pipeline.
pub const BYTES_PER_ROW: usize = 320;

/// How many chunks may wait, decoded, for the consumer: as many as fit in `budget` bytes. While
/// the backend scans the target, reading runs ahead by that much.
pub fn chunks_ahead(chunk_size: usize, budget: usize) -> usize {
    (budget / (chunk_size * BYTES_PER_ROW).max(1)).clamp(1, 16)
}

pub type Chunk = Result<(TripBatch, Vec<RowHash>), LoadError>;

pub struct Pipeline {
    chunks: Option<Receiver<Chunk>>,
    stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts decoding `reader` in the background, at most `ahead` chunks ahead of the consumer.
    pub fn start(reader: TripReader, ahead: usize) -> Pipeline {
        let (tx, rx) = sync_channel::<Chunk>(ahead.max(1));
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let worker = threads::spawn_without_signals("taxi_loader-read", move || {
            for chunk in reader {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let chunk = chunk.map(|batch| {
                    let hashes = threads::pool().install(|| hash_batch(&batch));
                    (batch, hashes)
                });
                let failed = chunk.is_err();
                if tx.send(chunk).is_err() || failed {
                    break;
                }
            }
        });
        Pipeline {
            chunks: Some(rx),
            stop,
            worker: Some(worker),
        }
    }

    /// The next chunk, calling `waiting` every 50 ms while none is ready (the backend checks for
    /// interrupts there: a cancel must not wait for a slow chunk).
    pub fn next(&mut self, mut waiting: impl FnMut()) -> Option<Chunk> {
        let chunks = self.chunks.as_ref()?;
        loop {
            match chunks.recv_timeout(Duration::from_millis(50)) {
                Ok(chunk) => return Some(chunk),
                Err(RecvTimeoutError::Timeout) => waiting(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

impl Drop for Pipeline {
    /// Stops and joins the worker, also when the load fails or is cancelled: no thread outlives
    /// the call.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Dropping the receiver unblocks a worker waiting to send.
        self.chunks.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate, write_parquet, Options, Vintage};

    fn file(rows: usize) -> String {
        let dir = std::env::temp_dir().join(format!("taxi_loader_pipe_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir
            .join(format!("p{rows}.parquet"))
            .to_str()
            .unwrap()
            .to_string();
        let trips = generate(&Options {
            rows,
            ..Options::default()
        });
        write_parquet(&path, &trips, &Vintage::of_year(2024), 1000).unwrap();
        path
    }

    #[test]
    fn delivers_every_chunk_in_order_with_its_hashes() {
        let path = file(2500);
        let mut p = Pipeline::start(TripReader::open(&path, 1000).unwrap(), 1);
        let mut firsts = Vec::new();
        while let Some(chunk) = p.next(|| {}) {
            let (batch, hashes) = chunk.unwrap();
            assert_eq!(hashes, hash_batch(&batch));
            firsts.push((batch.first_row, batch.len()));
        }
        assert_eq!(firsts, [(0, 1000), (1000, 1000), (2000, 500)]);
    }

    #[test]
    fn dropping_early_stops_the_worker() {
        let path = file(5000);
        let mut p = Pipeline::start(TripReader::open(&path, 100).unwrap(), 2);
        assert!(p.next(|| {}).is_some());
        drop(p); // joins; a hang here fails the test run
    }
}
