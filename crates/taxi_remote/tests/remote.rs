//! The client against the in-process test server: bytes, checksums, every fault, retries,
//! timeouts and cancellation.

use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::time::Duration;

use taxi_remote::testing::Server;
use taxi_remote::{Client, RemoteError, RemoteFile, RemoteUrl, Settings};

/// More than one download request ([`taxi_remote::file::CHUNK`]), with a tail of its own.
const SIZE: usize = 20 * (1 << 20) + 12_345;

fn content() -> Vec<u8> {
    // Not a repeating pattern: a block served at the wrong offset would show.
    let mut x = 0x9e3779b97f4a7c15u64;
    (0..SIZE)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn server() -> &'static (Server, Vec<u8>) {
    static SERVER: OnceLock<(Server, Vec<u8>)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("taxi_remote_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = content();
        std::fs::write(dir.join("f.bin"), &bytes).unwrap();
        (Server::start(&dir, 0).unwrap(), bytes)
    })
}

fn client(timeout_ms: u64, retries: u32) -> Client {
    Client::new(Settings {
        timeout: Duration::from_millis(timeout_ms),
        retries,
        backoff: Duration::from_millis(10),
        ..Settings::default()
    })
    .unwrap()
}

fn url(prefix: &str) -> RemoteUrl {
    RemoteUrl::parse(&server().0.url(prefix, "f.bin")).unwrap()
}

#[test]
fn reads_ranges_and_checksum() {
    let (_, bytes) = server();
    let c = client(5000, 0);
    let f = RemoteFile::open(&c, &url("ok")).unwrap();
    assert_eq!(f.size(), SIZE as u64);
    assert!(f.meta().version.is_some());
    for (start, len) in [
        (0u64, 4u64),
        (SIZE as u64 - 8, 8),
        (1_048_570, 20),
        (5, 2_500_000),
        (0, SIZE as u64),
        (77, 0),
    ] {
        let got = f.read_at(start, len).unwrap();
        assert_eq!(
            &got[..],
            &bytes[start as usize..(start + len) as usize],
            "{start}+{len}"
        );
    }
    assert!(f.read_at(SIZE as u64 - 1, 2).is_err());
    use sha2::{Digest, Sha256};
    let want: [u8; 32] = Sha256::digest(bytes).into();
    assert_eq!(f.sha256().unwrap(), want);
    assert_eq!(c.retries(), 0);
    // Downloaded once, whatever was read and in whatever order; hashed from the same bytes.
    assert_eq!(c.stats().bytes.load(Ordering::Relaxed), SIZE as u64);
}

#[test]
fn the_checksum_first_then_reads_cost_one_download() {
    let (_, bytes) = server();
    let c = client(5000, 0);
    let f = RemoteFile::open(&c, &url("ok")).unwrap();
    use sha2::{Digest, Sha256};
    let want: [u8; 32] = Sha256::digest(bytes).into();
    assert_eq!(f.sha256().unwrap(), want);
    assert_eq!(
        &f.read_at(9_000_000, 5).unwrap()[..],
        &bytes[9_000_000..9_000_005]
    );
    assert_eq!(f.sha256().unwrap(), want);
    assert_eq!(c.stats().bytes.load(Ordering::Relaxed), SIZE as u64);
    // The tail first (a reader's footer), then the rest in CHUNK requests.
    let chunks = (SIZE as u64 - taxi_remote::file::TAIL).div_ceil(taxi_remote::file::CHUNK);
    assert_eq!(c.stats().requests.load(Ordering::Relaxed), 1 + 1 + chunks);
}

#[test]
fn a_spool_that_cannot_be_written_is_named() {
    let c = Client::new(Settings {
        spool_dir: Some("/proc/self/taxi_loader_cannot".into()),
        ..Settings::default()
    })
    .unwrap();
    let f = RemoteFile::open(&c, &url("ok")).unwrap();
    let e = f.read_at(0, 10).unwrap_err();
    assert!(matches!(e, RemoteError::Spool { .. }), "{e:?}");
    assert!(e.detail().unwrap().contains("/proc/self"), "{e:?}");
}

#[test]
fn faults_are_named() {
    let c = client(1500, 0);
    let open = |p: &str| RemoteFile::open(&c, &url(p)).err();
    assert!(matches!(
        open("missing"),
        Some(RemoteError::NotFound { status: 404, .. })
    ));
    assert!(matches!(
        open("forbidden"),
        Some(RemoteError::Forbidden { status: 403, .. })
    ));
    assert!(matches!(
        open("down"),
        Some(RemoteError::ServerError { status: 503, .. })
    ));
    assert!(matches!(
        open("norange"),
        Some(RemoteError::IgnoredRange { .. })
    ));
    let read = |p: &str| {
        RemoteFile::open(&c, &url(p))
            .unwrap()
            .read_at(0, 100_000)
            .unwrap_err()
    };
    assert!(
        matches!(read("close"), RemoteError::Dropped { .. }),
        "{:?}",
        read("close")
    );
    assert!(
        matches!(
            read("short"),
            RemoteError::WrongLength {
                expected: 1_048_576,
                got: 524_288,
                ..
            }
        ),
        "{:?}",
        read("short")
    );
    assert!(matches!(read("changing"), RemoteError::Changed { .. }));
    // The server never answers: the request's timeout ends it, as a timeout.
    assert!(matches!(open("hang"), Some(RemoteError::Timeout { .. })));
    let refused = RemoteFile::open(&c, &RemoteUrl::parse("http://127.0.0.1:9/x").unwrap()).err();
    assert!(
        matches!(refused, Some(RemoteError::Unreachable { .. })),
        "{refused:?}"
    );
}

#[test]
fn transient_failures_are_retried_and_counted() {
    let (_, bytes) = server();
    let c = client(5000, 2);
    let f = RemoteFile::open(&c, &url("flaky")).unwrap();
    assert_eq!(&f.read_at(10, 10).unwrap()[..], &bytes[10..20]);
    f.sha256().unwrap();
    // Each distinct request failed once: the open, the tail, then each chunk of the download.
    let chunks = (SIZE as u64 - taxi_remote::file::TAIL).div_ceil(taxi_remote::file::CHUNK);
    assert_eq!(c.retries(), 2 + chunks);
    // Retries are bounded: a server that keeps failing fails the read after 1 + 2 attempts
    // (counted by the client: the other tests share the server).
    let before = c.stats().requests.load(Ordering::Relaxed);
    assert!(matches!(
        RemoteFile::open(&c, &url("down")),
        Err(RemoteError::ServerError { .. })
    ));
    assert_eq!(c.stats().requests.load(Ordering::Relaxed) - before, 3);
    assert_eq!(c.retries(), 4 + chunks);
}

#[test]
fn a_wait_ends_when_aborted() {
    let c = client(60_000, 0);
    let aborter = c.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        aborter.abort();
    });
    // The request's timeout is a minute away: only the abort can end the wait, as a cancel.
    let e = RemoteFile::open(&c, &url("hang")).err();
    t.join().unwrap();
    assert!(matches!(e, Some(RemoteError::Canceled { .. })), "{e:?}");
}
