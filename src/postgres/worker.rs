//! The background worker that records a load's start and failure in its own transaction, so the
//! row commits although the load's transaction goes on (start) or rolls back (failure). The
//! loading backend hands it a statement number and text parameters through a dynamic shared
//! memory segment and waits for it to finish; the worker connects to the same database as the
//! owner of `taxi.load_runs` and runs that one statement.

use pgrx::bgworkers::{BackgroundWorker, BackgroundWorkerBuilder, SignalWakeFlags};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

use taxi_core::payload;
use taxi_core::sql::history::Statement;

/// Runs `statement` with `params` in a new transaction of a background worker connected as
/// `owner`; waits until it has finished. False if no worker could be started (all of
/// `max_worker_processes` busy) or it ended abnormally; the worker's error is in the server log.
pub fn run(owner: pg_sys::Oid, statement: Statement, params: &[Option<String>]) -> bool {
    let bytes = payload::encode(statement, params);
    unsafe {
        let segment = pg_sys::dsm_create(bytes.len(), 0);
        let address = pg_sys::dsm_segment_address(segment) as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), address, bytes.len());
        let extra = format!(
            "{} {} {} {}",
            u32::from(pg_sys::MyDatabaseId),
            u32::from(owner),
            pg_sys::dsm_segment_handle(segment),
            bytes.len()
        );
        let worker = BackgroundWorkerBuilder::new("taxi_loader run recorder")
            .set_type("taxi_loader run recorder")
            .set_library("taxi_loader")
            .set_function("taxi_run_recorder_main")
            .enable_spi_access()
            .set_restart_time(None)
            .set_extra(&extra)
            .set_notify_pid(pg_sys::MyProcPid)
            .load_dynamic();
        let done = match worker {
            Ok(worker) => worker.wait_for_shutdown().is_ok(),
            Err(_) => false,
        };
        pg_sys::dsm_detach(segment);
        done
    }
}

/// The worker's entry point (`bgw_function_name`).
#[pg_guard]
#[no_mangle]
pub extern "C-unwind" fn taxi_run_recorder_main(_arg: pg_sys::Datum) {
    BackgroundWorker::attach_signal_handlers(SignalWakeFlags::SIGTERM);
    let fields: Vec<u32> = BackgroundWorker::get_extra()
        .split(' ')
        .map(|f| {
            // Never user input: `run` above writes four numbers. Should it ever fail, this is the
            // worker's own log line; the loading backend sees the worker fail and warns.
            f.parse()
                .expect("taxi_loader run recorder: bgw_extra is the four numbers run() wrote")
        })
        .collect();
    let [db, owner, handle, len] = fields[..] else {
        panic!("taxi_loader run recorder: malformed bgw_extra");
    };
    BackgroundWorker::connect_worker_to_spi_by_oid(
        Some(pg_sys::Oid::from(db)),
        Some(pg_sys::Oid::from(owner)),
    );
    BackgroundWorker::transaction(|| {
        let bytes = unsafe {
            let segment = pg_sys::dsm_attach(handle);
            if segment.is_null() {
                error!("taxi_loader run recorder: the loading backend is gone");
            }
            let address = pg_sys::dsm_segment_address(segment) as *const u8;
            let bytes = std::slice::from_raw_parts(address, len as usize).to_vec();
            pg_sys::dsm_detach(segment);
            bytes
        };
        let (statement, params) =
            payload::decode(&bytes).expect("taxi_loader run recorder: the payload run() encoded");
        let args: Vec<DatumWithOid> = params.iter().map(|p| p.as_deref().into()).collect();
        // A failure here (a constraint of taxi.load_runs) is logged by the worker; the loading
        // backend sees the worker fail and warns (see `run`).
        if let Err(e) = Spi::run_with_args(statement.sql(), &args) {
            error!("taxi_loader run recorder: {e}");
        }
    });
}
