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
        with_signals_blocked(|| {
            ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("taxi_loader-{i}"))
                .start_handler(|_| block_all_signals())
                .build()
                .expect("could not start the taxi_loader worker threads")
        })
    })
}

/// Spawns a thread that never receives signals.
pub fn spawn_without_signals<F>(name: &str, f: F) -> std::thread::JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    with_signals_blocked(|| {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                block_all_signals();
                f()
            })
            .expect("could not start a taxi_loader thread")
    })
}

/// Runs `f` with every signal blocked in the calling thread, then restores its mask. A thread
/// starts with its creator's mask, so threads spawned inside `f` never have a window in which a
/// signal meant for the backend could land on them.
fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: sigfillset initialises the set; pthread_sigmask only changes this thread's mask, and
    // the old mask is put back before returning.
    unsafe {
        let mut all: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_BLOCK, &all, &mut old);
        let out = f();
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        out
    }
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
