//! Decoding and hashing run ahead of the backend on a thread of their own: while the main thread
//! writes chunk N (or scans the table), chunk N+1 is decoded and hashed. Only plain Rust data
//! crosses over; the channel holds at most `ahead` finished chunks, which bounds the memory.
//! pgrx-free: the caller passes what to do while it waits (check for interrupts).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use super::TripReader;
use crate::dedup::{not_stored, KeyTable};
use crate::error::LoadError;
use crate::hash::{hash_batch, RowHash};
use crate::threads;
use crate::trip::TripBatch;

/// About what a decoded, hashed row takes in memory while it waits in the pipeline.
pub const BYTES_PER_ROW: usize = 320;

/// How many chunks may wait, decoded, for the consumer: as many as fit in `budget` bytes. While
/// the backend reads the target's stored trips, reading runs ahead by that much; afterwards by
/// [`STEADY_AHEAD`] only, to keep memory down while rows are being written.
pub fn chunks_ahead(chunk_size: usize, budget: usize) -> usize {
    (budget / (chunk_size * BYTES_PER_ROW).max(1)).clamp(1, 16)
}

pub const STEADY_AHEAD: usize = 2;

/// Chunks handed over but not yet taken, and how many may be.
struct Gate {
    state: Mutex<(usize, usize)>,
    changed: Condvar,
}

impl Gate {
    /// Waits for room; false if the pipeline is stopping.
    fn enter(&self, stop: &AtomicBool) -> bool {
        let mut state = self.state.lock().unwrap();
        while state.0 >= state.1 {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(50))
                .unwrap()
                .0;
        }
        state.0 += 1;
        true
    }

    fn leave(&self) {
        self.state.lock().unwrap().0 -= 1;
        self.changed.notify_all();
    }

    fn limit(&self, limit: usize) {
        self.state.lock().unwrap().1 = limit.max(1);
        self.changed.notify_all();
    }
}

/// A decoded chunk, its row hashes and, once the stored trips are known ([`Pipeline::publish`]),
/// the positions of its rows that are not stored.
pub struct Decoded {
    pub batch: TripBatch,
    pub hashes: Vec<RowHash>,
    /// Each row's quality flags ([`crate::quality`]).
    pub flags: Vec<i16>,
    pub not_stored: Option<Vec<usize>>,
}

pub type Chunk = Result<Decoded, LoadError>;

pub struct Pipeline {
    chunks: Option<Receiver<Chunk>>,
    stop: Arc<AtomicBool>,
    gate: Arc<Gate>,
    stored: Arc<OnceLock<KeyTable>>,
    worker: Option<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts decoding `reader` in the background, at most `ahead` chunks ahead of the consumer.
    pub fn start(reader: TripReader, ahead: usize) -> Pipeline {
        let (tx, rx) = channel::<Chunk>();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let halt = stop.clone();
        let gate = Arc::new(Gate {
            state: Mutex::new((0, ahead.max(1))),
            changed: Condvar::new(),
        });
        let room = gate.clone();
        let stored = Arc::new(OnceLock::<KeyTable>::new());
        let known = stored.clone();
        let month = crate::quality::file_month(reader.path());
        // Two stages, so decoding chunk N+1 (one thread) overlaps hashing chunk N (the pool).
        let (decoded_tx, decoded_rx) = sync_channel::<Result<TripBatch, LoadError>>(1);
        let worker = threads::spawn_without_signals("taxi_loader-hash", move || {
            let decoder = threads::spawn_without_signals("taxi_loader-read", move || {
                for chunk in reader {
                    if stopped.load(Ordering::Relaxed) {
                        break;
                    }
                    let failed = chunk.is_err();
                    if decoded_tx.send(chunk).is_err() || failed {
                        break;
                    }
                }
            });
            for chunk in decoded_rx.iter() {
                let chunk = chunk.map(|batch| {
                    threads::pool().install(|| {
                        let hashes = hash_batch(&batch);
                        let flags = crate::quality::flags(&batch, month);
                        let not_stored = known.get().map(|set| not_stored(set, &hashes));
                        Decoded {
                            batch,
                            hashes,
                            flags,
                            not_stored,
                        }
                    })
                });
                let failed = chunk.is_err();
                if !room.enter(&halt) || tx.send(chunk).is_err() || failed {
                    break;
                }
            }
            // Unblocks a decoder waiting to send, then waits for it.
            drop(decoded_rx);
            let _ = decoder.join();
        });
        Pipeline {
            chunks: Some(rx),
            stop,
            gate,
            stored,
            worker: Some(worker),
        }
    }

    /// Hands the worker the stored trips: from then on it marks, in parallel, which rows of each
    /// chunk are not stored, and the backend only deduplicates those.
    pub fn publish(&self, stored: KeyTable) {
        let _ = self.stored.set(stored);
        self.steady();
    }

    /// From now on, run only [`STEADY_AHEAD`] chunks ahead.
    pub fn steady(&self) {
        self.gate.limit(STEADY_AHEAD);
    }

    /// The published stored trips, for chunks decoded before they were published.
    pub fn stored(&self) -> Option<&KeyTable> {
        self.stored.get()
    }

    /// The next chunk, calling `waiting` every 50 ms while none is ready (the backend checks for
    /// interrupts there: a cancel must not wait for a slow chunk).
    pub fn next(&mut self, mut waiting: impl FnMut()) -> Option<Chunk> {
        let chunks = self.chunks.as_ref()?;
        loop {
            match chunks.recv_timeout(Duration::from_millis(50)) {
                Ok(chunk) => {
                    self.gate.leave();
                    return Some(chunk);
                }
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
        self.gate.changed.notify_all();
        // Dropping the receiver makes the worker's next send fail.
        self.chunks.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
