//! The loader's rayon pool. pgrx-free.
//!
//! It is built for each load with `taxi.workers` threads (building one takes well under a
//! millisecond) and let go of when the load ends, so a backend keeps no threads between loads.
//! Its threads block every signal: PostgreSQL's handlers (SIGINT for cancel, SIGTERM, SIGUSR1 …)
//! must only ever run on the backend's main thread, which is the one that checks for interrupts.

use std::sync::{Arc, Mutex};

use rayon::{ThreadPool, ThreadPoolBuilder};

/// The pool and its number of threads.
static POOL: Mutex<Option<(usize, Arc<ThreadPool>)>> = Mutex::new(None);

/// One thread per core, at most 8: hashing saturates memory long before.
pub fn default_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(8)
}

/// Makes the pool `workers` threads strong (at least one) for what follows: the setting's 0 is
/// decoded by its reader. A pool of another size is replaced; its threads end once the last user
/// lets go of it.
pub fn configure(workers: usize) {
    let workers = workers.max(1);
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if pool.as_ref().is_none_or(|(n, _)| *n != workers) {
        *pool = Some((workers, Arc::new(build(workers))));
    }
}

/// The current pool (built with [`default_workers`] threads if none was configured).
pub fn pool() -> Arc<ThreadPool> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let (_, p) = pool.get_or_insert_with(|| {
        let n = default_workers();
        (n, Arc::new(build(n)))
    });
    Arc::clone(p)
}

/// The number of threads of the current pool, if one exists.
pub fn workers() -> Option<usize> {
    POOL.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|(n, _)| *n)
}

/// Lets go of the pool: its threads end as soon as nothing uses it any more (a load's pipeline
/// threads are joined before this is called). Called when a load ends, however it ends, so an
/// idle backend keeps no worker threads.
pub fn release() {
    *POOL.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Releases the pool when dropped (also when a load unwinds from an error or a cancel).
pub struct PoolGuard;

impl Drop for PoolGuard {
    fn drop(&mut self) {
        release();
    }
}

fn build(threads: usize) -> ThreadPool {
    with_signals_blocked(|| {
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("taxi_loader-{i}"))
            .start_handler(|_| block_all_signals())
            .build()
            .expect("could not start the taxi_loader worker threads")
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
/// signal meant for the backend could land on them. Also starts the remote sources' network
/// threads (crate taxi_remote).
pub fn with_signals_blocked<T>(f: impl FnOnce() -> T) -> T {
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

/// Gives the memory the allocator holds free back to the operating system. Chunks are decoded on
/// the pool's threads, in their own malloc arenas, and freed on the backend's thread; the key
/// sets grow and merge in pieces below glibc's mmap threshold. glibc keeps all of that as the
/// process's memory until it is trimmed: on a 24M-row month, 536 MB were still held after the
/// last chunk, under the index rebuild's sort.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages; it is safe on any thread at any time.
    unsafe {
        libc::malloc_trim(0);
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

    #[test]
    fn configure_resizes_the_pool() {
        super::configure(3);
        assert_eq!(super::pool().current_num_threads(), 3);
        assert_eq!(super::workers(), Some(3));
        super::configure(super::default_workers());
        assert_eq!(
            super::pool().current_num_threads(),
            super::default_workers()
        );
    }
}
