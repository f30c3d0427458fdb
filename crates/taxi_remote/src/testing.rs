//! A small HTTP/1.1 file server for the tests, with byte ranges, ETags and If-Match, and faults
//! chosen by the URL's first path segment. Serves the files of one folder: `/ok/NAME` is the file
//! NAME as a good server serves it; the other prefixes break it:
//!
//! | prefix        | what the server does                                                   |
//! |---------------|------------------------------------------------------------------------|
//! | `/ok/`        | nothing wrong                                                          |
//! | `/flaky/`     | answers 500 to each request the first time it is made, then serves it  |
//! | `/down/`      | answers 503 to everything                                              |
//! | `/close/`     | sends half the body of a range longer than a byte, then hangs up       |
//! | `/short/`     | sends half the body of such a range, with a Content-Length saying so   |
//! | `/hang/`      | reads the request and never answers                                    |
//! | `/stall/`     | answers the first byte (a client's probe), never a longer range        |
//! | `/norange/`   | ignores Range: 200 and the whole file                                  |
//! | `/changing/`  | gives the file a new ETag after the first request (a re-publication)   |
//! | `/forbidden/` | 403                                                                    |
//! | anything else | 404                                                                    |
//!
//! `GET /requests` answers the number of requests served so far (itself not counted), `GET /bytes`
//! the bytes of file content sent. Used by
//! taxi_remote's tests and the extension's #[pg_test]s (in-process), and as the `taxi_testserver`
//! program by the SQL-level tests.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct State {
    dir: PathBuf,
    requests: AtomicU64,
    /// Bytes of file content sent (ranges and whole files).
    sent: AtomicU64,
    /// Requests for `/changing/` files so far.
    changing: AtomicU64,
    /// `/flaky/` requests already failed once.
    failed: Mutex<HashSet<String>>,
}

/// A running server; it serves until the process ends.
pub struct Server {
    port: u16,
    state: Arc<State>,
}

impl Server {
    /// Serves `dir` on 127.0.0.1 (`port` 0: any free port).
    pub fn start(dir: impl Into<PathBuf>, port: u16) -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let port = listener.local_addr()?.port();
        let state = Arc::new(State {
            dir: dir.into(),
            requests: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            changing: AtomicU64::new(0),
            failed: Mutex::default(),
        });
        let shared = state.clone();
        std::thread::Builder::new()
            .name("taxi_testserver".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = shared.clone();
                    let _ = std::thread::Builder::new().spawn(move || serve(stream, &state));
                }
            })?;
        Ok(Server { port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/PREFIX/NAME`.
    pub fn url(&self, prefix: &str, name: &str) -> String {
        format!("http://127.0.0.1:{}/{prefix}/{name}", self.port)
    }

    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }

    /// Bytes of file content sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.state.sent.load(Ordering::Relaxed)
    }
}

fn serve(stream: TcpStream, state: &State) {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("/").to_string(),
        );
        let mut range = None;
        let mut if_match = None;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "range" => range = Some(v.trim().to_string()),
                    "if-match" => if_match = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        let counter = match target.as_str() {
            "/requests" => Some(&state.requests),
            "/bytes" => Some(&state.sent),
            _ => None,
        };
        if let Some(counter) = counter {
            let n = counter.load(Ordering::Relaxed).to_string();
            if respond(&mut out, "200 OK", &[], n.as_bytes(), method == "HEAD").is_err() {
                return;
            }
            continue;
        }
        state.requests.fetch_add(1, Ordering::Relaxed);
        let path = target
            .split('?')
            .next()
            .unwrap_or("")
            .trim_start_matches('/');
        let (prefix, name) = path.split_once('/').unwrap_or((path, ""));
        // Only the bytes asked for are read: the server must not be what a benchmark measures.
        let file = (!name.contains("..") && !name.is_empty())
            .then(|| std::fs::File::open(state.dir.join(name)).ok())
            .flatten()
            .filter(|f| f.metadata().is_ok_and(|m| m.is_file()));
        let known = [
            "ok",
            "flaky",
            "down",
            "close",
            "short",
            "hang",
            "stall",
            "norange",
            "changing",
            "forbidden",
        ];
        let Some(file) = file.filter(|_| known.contains(&prefix)) else {
            if respond(
                &mut out,
                "404 Not Found",
                &[],
                b"not found",
                method == "HEAD",
            )
            .is_err()
            {
                return;
            }
            continue;
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(_) => return,
        };
        let total = meta.len();
        // Size and modification time: a file re-published (written anew) gets a new ETag.
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let changed = prefix == "changing" && state.changing.fetch_add(1, Ordering::Relaxed) > 0;
        let etag = if changed {
            format!("\"{total}-v2\"")
        } else {
            format!("\"{total}-{modified:x}\"")
        };
        let bytes = |a: u64, b: u64| {
            let mut buf = vec![0u8; (b + 1 - a) as usize];
            file.read_exact_at(&mut buf, a).map(|_| buf)
        };
        let head = method == "HEAD";
        let fault = match prefix {
            "forbidden" => Some("403 Forbidden"),
            "down" => Some("503 Service Unavailable"),
            "flaky" => {
                let key = format!("{target} {range:?}");
                state
                    .failed
                    .lock()
                    .unwrap()
                    .insert(key)
                    .then_some("500 Internal Server Error")
            }
            _ => None,
        };
        if let Some(status) = fault {
            if respond(&mut out, status, &[], b"fault", head).is_err() {
                return;
            }
            continue;
        }
        if prefix == "hang" {
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        if if_match.as_ref().is_some_and(|m| *m != etag && m != "*") {
            if respond(&mut out, "412 Precondition Failed", &[], b"", head).is_err() {
                return;
            }
            continue;
        }
        let span = range
            .filter(|_| prefix != "norange")
            .and_then(|r| parse_range(&r, total));
        let result = match span {
            None => match total
                .checked_sub(1)
                .map_or(Ok(Vec::new()), |last| bytes(0, last))
            {
                Ok(body) => {
                    if !head {
                        state.sent.fetch_add(body.len() as u64, Ordering::Relaxed);
                    }
                    respond(&mut out, "200 OK", &[("ETag", etag)], &body, head)
                }
                Err(_) => return,
            },
            Some((a, b)) => {
                let Ok(body) = bytes(a, b) else { return };
                let slice = &body[..];
                let headers = vec![
                    ("ETag", etag),
                    ("Content-Range", format!("bytes {a}-{b}/{total}")),
                ];
                if slice.len() > 1 && prefix == "stall" {
                    std::thread::sleep(Duration::from_secs(3600));
                    return;
                }
                if slice.len() > 1 && (prefix == "close" || prefix == "short") {
                    let half = &slice[..slice.len() / 2];
                    let length = if prefix == "close" {
                        slice.len()
                    } else {
                        half.len()
                    };
                    let _ = write_head(&mut out, "206 Partial Content", &headers, length);
                    let _ = out.write_all(half);
                    let _ = out.flush();
                    if prefix == "close" {
                        let _ = out.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    continue;
                }
                if !head {
                    state.sent.fetch_add(slice.len() as u64, Ordering::Relaxed);
                }
                respond(&mut out, "206 Partial Content", &headers, slice, head)
            }
        };
        if result.is_err() {
            return;
        }
    }
}

fn write_head(
    out: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    length: usize,
) -> std::io::Result<()> {
    let mut text =
        format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nAccept-Ranges: bytes\r\n");
    for (k, v) in headers {
        text.push_str(&format!("{k}: {v}\r\n"));
    }
    text.push_str("\r\n");
    out.write_all(text.as_bytes())
}

fn respond(
    out: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
    head: bool,
) -> std::io::Result<()> {
    write_head(out, status, headers, body.len())?;
    if !head {
        out.write_all(body)?;
    }
    out.flush()
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` within `total` bytes, as an inclusive span.
fn parse_range(range: &str, total: u64) -> Option<(u64, u64)> {
    let spec = range.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let (a, b) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (total.checked_sub(n)?, total - 1)
        }
        (a, "") => (a.parse().ok()?, total.checked_sub(1)?),
        (a, b) => (
            a.parse().ok()?,
            b.parse::<u64>().ok()?.min(total.checked_sub(1)?),
        ),
    };
    (a <= b && b < total).then_some((a, b))
}
