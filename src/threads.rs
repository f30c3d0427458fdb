//! The loader's rayon pool. pgrx-free.
//!
//! It is built lazily on first use, not in `_PG_init`, so a backend that never loads pays nothing.
//! Its threads block every signal: PostgreSQL's handlers (SIGINT for cancel, SIGTERM, SIGUSR1 …)
//! must only ever run on the backend's main thread, which is the one that checks for interrupts.

use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

static POOL: OnceLock<ThreadPool> = OnceLock::new();

/// The shared pool, with one thread per core (at most 8: hashing saturates memory long before).
pub fn pool() -> &'static ThreadPool {
    POOL.get_or_init(|| {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(8);
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("taxi_loader-{i}"))
            .start_handler(|_| block_all_signals())
            .build()
            .expect("could not start the taxi_loader worker threads")
    })
}

fn block_all_signals() {
    // SAFETY: sigfillset initialises the set; pthread_sigmask only changes this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn worker_threads_block_sigint() {
        let blocked = super::pool().install(|| {
            rayon::broadcast(|_| unsafe {
                let mut current: libc::sigset_t = std::mem::zeroed();
                libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut current);
                libc::sigismember(&current, libc::SIGINT) == 1
                    && libc::sigismember(&current, libc::SIGTERM) == 1
            })
        });
        assert!(blocked.iter().all(|&b| b), "{blocked:?}");
    }
}
