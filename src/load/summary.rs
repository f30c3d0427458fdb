//! What a load reports: its result row, and what the history records of a success.

use taxi_core::dataset::Dataset;
use taxi_core::partition::Partition;
use taxi_core::policy::Mode;

pub struct Summary {
    /// The file's dataset.
    pub dataset: &'static Dataset,
    /// How the rows were written; for tests and the DEBUG1 message.
    pub mode: Mode,
    /// Threads of the worker pool during the load; for tests and the DEBUG1 message.
    pub workers: usize,
    pub load_id: i64,
    pub rows_read: i64,
    pub rows_inserted: i64,
    pub rows_duplicate: i64,
    pub rows_rejected: i64,
    /// Trips of the file's earlier versions removed (replace).
    pub rows_removed: i64,
    /// The partitions it sent new trips to, in order: where a later replacement looks for them.
    pub months: Vec<Partition>,
    pub seconds: f64,
}
