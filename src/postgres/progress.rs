//! Live progress of a load, for other sessions and for the loading one.
//!
//! Other sessions: PostgreSQL's own progress reporting, in the COPY command's slots, so a load
//! shows in `pg_stat_progress_copy` like a `COPY FROM` file (bytes are estimated from the rows
//! done), with more in slots COPY leaves unused, which the view `taxi.load_progress` reads: rows of
//! the file, chunk, rows inserted, start time. The loading session: a NOTICE every
//! `taxi.progress_every` chunks.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pgrx::prelude::*;
use taxi_core::policy::{progress_interval, ProgressEvery};

/// Progress slots (`pg_stat_get_progress_info('COPY')` column `param<N>` is slot N-1). 0-5 are
/// COPY's own; sql/progress.sql reads the rest.
mod slot {
    pub const BYTES_DONE: i32 = 0;
    pub const BYTES_TOTAL: i32 = 1;
    pub const ROWS_DONE: i32 = 2;
    pub const ROWS_DUPLICATE: i32 = 3;
    pub const COMMAND: i32 = 4;
    pub const TYPE: i32 = 5;
    pub const ROWS_TOTAL: i32 = 10;
    pub const CHUNK: i32 = 11;
    pub const CHUNKS_TOTAL: i32 = 12;
    pub const ROWS_INSERTED: i32 = 13;
    pub const STARTED_UNIX_US: i32 = 14;
    pub const MARKER: i32 = 15;
}

/// Tells taxi_load's progress rows apart from a real COPY's ("TAXI").
pub const MARKER: i64 = 0x5441_5849;

pub struct Progress {
    /// The function reporting, for its NOTICEs.
    command: &'static str,
    target: pg_sys::Oid,
    started_us: i64,
    rows_done: u64,
    inserted: u64,
    started: Instant,
    rows_total: u64,
    bytes_total: u64,
    chunks_total: u64,
    every: Option<u64>,
    chunk: u64,
}

impl Progress {
    /// `every`: `taxi.progress_every`, decoded. `command` names the function in the NOTICEs.
    pub fn start(
        command: &'static str,
        target: pg_sys::Oid,
        rows_total: u64,
        bytes_total: u64,
        chunk_size: u64,
        every: ProgressEvery,
    ) -> Self {
        let chunks_total = rows_total.div_ceil(chunk_size).max(1);
        let started_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        let progress = Progress {
            command,
            target,
            started_us,
            rows_done: 0,
            inserted: 0,
            started: Instant::now(),
            rows_total,
            bytes_total,
            chunks_total,
            every: progress_interval(every, chunks_total),
            chunk: 0,
        };
        progress.resume();
        progress
    }

    /// (Re)announces the load. A backend reports one command at a time, and DDL run during the
    /// load (creating a fact partition) reports its own and ends it.
    pub fn resume(&self) {
        unsafe {
            pg_sys::pgstat_progress_start_command(
                pg_sys::ProgressCommandType::PROGRESS_COMMAND_COPY,
                self.target,
            );
        }
        set(&[
            (slot::COMMAND, pg_sys::PROGRESS_COPY_COMMAND_FROM as i64),
            (slot::TYPE, pg_sys::PROGRESS_COPY_TYPE_FILE as i64),
            (slot::BYTES_TOTAL, self.bytes_total as i64),
            (slot::ROWS_TOTAL, self.rows_total as i64),
            (slot::CHUNKS_TOTAL, self.chunks_total as i64),
            (slot::STARTED_UNIX_US, self.started_us),
            (slot::MARKER, MARKER),
        ]);
        self.report();
    }

    fn report(&self) {
        let bytes_done = (self.bytes_total as u128 * self.rows_done as u128
            / self.rows_total.max(1) as u128) as i64;
        set(&[
            (slot::BYTES_DONE, bytes_done),
            (slot::ROWS_DONE, self.rows_done as i64),
            (
                slot::ROWS_DUPLICATE,
                (self.rows_done - self.inserted) as i64,
            ),
            (slot::ROWS_INSERTED, self.inserted as i64),
            (slot::CHUNK, self.chunk as i64),
        ]);
    }

    /// After each chunk: `rows_done` rows of the file read, `inserted` of them new.
    pub fn chunk_done(&mut self, rows_done: u64, inserted: u64) {
        self.advance(rows_done, Some(inserted));
    }

    /// After each block of rows a check has read (`rows_done` in all).
    pub fn rows_checked(&mut self, rows_done: u64) {
        self.advance(rows_done, None);
    }

    /// A last NOTICE, `what` was done, when progress NOTICEs were due for this work (see
    /// `taxi.progress_every`).
    pub fn summary(&mut self, what: String, rows_done: u64) {
        self.rows_done = rows_done;
        self.report();
        if self.every.is_some() {
            let seconds = self.started.elapsed().as_secs_f64();
            ereport!(
                NOTICE,
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                format!("{}: {what}", self.command),
                format!(
                    "{:.0} rows/s, {seconds:.1} s",
                    self.rows_done as f64 / seconds.max(1e-3)
                )
            );
        }
    }

    fn advance(&mut self, rows_done: u64, inserted: Option<u64>) {
        self.chunk += 1;
        self.rows_done = rows_done;
        self.inserted = inserted.unwrap_or(rows_done);
        self.report();
        if self
            .every
            .is_some_and(|every| self.chunk.is_multiple_of(every))
        {
            let seconds = self.started.elapsed().as_secs_f64();
            let percent = 100 * rows_done / self.rows_total.max(1);
            let inserted = inserted.map_or(String::new(), |n| format!(", {n} inserted so far"));
            ereport!(
                NOTICE,
                PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
                format!(
                    "{}: {rows_done} of {} rows ({percent}%), chunk {} of {}",
                    self.command, self.rows_total, self.chunk, self.chunks_total
                ),
                format!(
                    "{:.0} rows/s{inserted}, {seconds:.1} s",
                    rows_done as f64 / seconds.max(1e-3)
                )
            );
        }
    }
}

impl Drop for Progress {
    /// On success and on error alike (an error inside a subtransaction would otherwise leave
    /// the row behind until the backend's next command).
    fn drop(&mut self) {
        unsafe { pg_sys::pgstat_progress_end_command() };
    }
}

fn set(values: &[(i32, i64)]) {
    let index: Vec<i32> = values.iter().map(|v| v.0).collect();
    let value: Vec<i64> = values.iter().map(|v| v.1).collect();
    unsafe {
        pg_sys::pgstat_progress_update_multi_param(
            values.len() as i32,
            index.as_ptr(),
            value.as_ptr(),
        );
    }
}

#[cfg(test)]
mod sql_agreement {
    /// taxi.load_progress finds taxi_load's rows by this marker.
    #[test]
    fn the_view_knows_the_marker() {
        let sql = include_str!("../../sql/progress.sql");
        assert!(sql.contains(&format!("s.param16 = {}", super::MARKER)));
    }
}
