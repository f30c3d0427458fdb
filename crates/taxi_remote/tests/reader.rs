//! A file read over HTTP (the in-process test server) decodes to exactly what the same file
//! read from disk does, partitions and checksum included; a failed remote read is reported as
//! what it was, not as a corrupt file.

use std::sync::Arc;
use std::time::Duration;

use taxi_core::error::{Class, LoadError};
use taxi_core::read::input::Source;
use taxi_core::read::{self, limits::Work, TripReader};
use taxi_remote::testing::Server;
use taxi_remote::{Client, RemoteError, RemoteFile, RemoteUrl, Settings};

const FIXTURE: &str = "yellow_tripdata_2025-02_sample5000.parquet";

fn fixtures() -> String {
    format!("{}/../../tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

fn remote(server: &Server, prefix: &str, client: &Client) -> Result<Source, RemoteError> {
    let url = RemoteUrl::parse(&server.url(prefix, FIXTURE))?;
    Ok(Source::Remote(Arc::new(RemoteFile::open(client, &url)?)))
}

fn all(source: &Source, chunk: usize) -> Result<taxi_core::trip::TripBatch, LoadError> {
    let reader = TripReader::open_source(source, None, chunk, &mut Work::default())?;
    let mut out = taxi_core::trip::TripBatch::empty(reader.dataset(), 0);
    for b in reader {
        let b = b?;
        out.extend_rows(&b, 0..b.len());
    }
    Ok(out)
}

#[test]
fn over_http_equals_from_disk() {
    let server = Server::start(fixtures(), 0).unwrap();
    let client = Client::new(Settings::default()).unwrap();
    let local = Source::local(&format!("{}/{FIXTURE}", fixtures())).unwrap();
    let http = remote(&server, "ok", &client).unwrap();
    let (a, b) = (all(&local, 1000).unwrap(), all(&http, 1000).unwrap());
    assert_eq!(a.len(), 5000);
    assert_eq!(
        taxi_core::hash::hash_batch(&a),
        taxi_core::hash::hash_batch(&b)
    );
    assert_eq!(
        read::partitions_of(&local).unwrap(),
        read::partitions_of(&http).unwrap()
    );
    assert_eq!(local.sha256_hex().unwrap(), http.sha256_hex().unwrap());
    assert_eq!(http.name(), server.url("ok", FIXTURE));
    assert_eq!(client.retries(), 0);
}

#[test]
fn remote_failures_keep_their_class() {
    let server = Server::start(fixtures(), 0).unwrap();
    let client = Client::new(Settings {
        timeout: Duration::from_secs(2),
        retries: 1,
        backoff: Duration::from_millis(5),
        ..Settings::default()
    })
    .unwrap();
    for (prefix, class) in [
        ("close", Class::ConnectionFailure),
        ("short", Class::ProtocolViolation),
    ] {
        let source = remote(&server, prefix, &client).unwrap();
        let e = all(&source, 1000).unwrap_err();
        assert_eq!(e.class(), class, "{prefix}: {e}");
        assert!(matches!(e, LoadError::Remote(_)), "{prefix}: {e:?}");
    }
    // The 500s are retried: the file reads in full.
    let flaky = remote(&server, "flaky", &client).unwrap();
    assert_eq!(all(&flaky, 1000).unwrap().len(), 5000);
    assert!(client.retries() >= 3, "{}", client.retries());
}
