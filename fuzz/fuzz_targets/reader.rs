//! Fuzzes the core reader (open, validate, decode, convert) with arbitrary bytes as a parquet
//! file. A panic inside the decoder is caught by the reader and becomes an XX001 error, so the
//! panic hook is silenced: what this hunts is what the reader cannot turn into an error — an
//! abort, a crash, unbounded memory (libFuzzer's -rss_limit_mb) or time (-timeout).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static QUIET: std::sync::Once = std::sync::Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    let path = format!("/dev/shm/taxi_loader_fuzz_{}.parquet", std::process::id());
    std::fs::write(&path, data).unwrap();
    if let Ok(reader) = taxi_core::read::TripReader::open(&path, 1000) {
        for chunk in reader {
            if chunk.is_err() {
                break;
            }
        }
    }
});
