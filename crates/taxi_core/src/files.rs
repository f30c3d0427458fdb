//! Files of a folder load: which files a pattern selects, in name order, and a file's SHA-256
//! (its identity for taxi_load_dir). pgrx-free.

use crate::error::LoadError;

/// Whether `name` matches `pattern`: `*` any run of characters, `?` one character, everything
/// else itself (as a shell glob without brackets, never matching `/`).
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative wildcard matching with one backtrack point.
    let (mut pi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) && p[pi] != '*' {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The regular files (symlinks followed) of `dir` whose names match `pattern`, sorted by name
/// (byte order, as `ls` in the C locale). Hidden files only when the pattern starts with a dot.
pub fn list(dir: &str, pattern: &str) -> Result<Vec<String>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.into(),
        source,
    };
    let meta = std::fs::metadata(dir).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::NotFound { path: dir.into() },
        std::io::ErrorKind::PermissionDenied => LoadError::Io {
            path: dir.into(),
            source: e,
        },
        _ => io(e),
    })?;
    if !meta.is_dir() {
        return Err(LoadError::NotADirectory { path: dir.into() });
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') && !pattern.starts_with('.') {
            continue;
        }
        if matches(pattern, &name) && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    let dir = dir.trim_end_matches('/');
    Ok(names.into_iter().map(|n| format!("{dir}/{n}")).collect())
}

/// The scheme of a source string that is a URL (`https` of `https://host/x`), None for a server
/// path: the one place that tells them apart. A scheme is a letter, then letters, digits, `+`,
/// `-` or `.`, before `://` (so `/data/a://b` is a path).
pub fn scheme(source: &str) -> Option<&str> {
    let (scheme, _) = source.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// SHA-256 of a server file's bytes, lower-case hex: the one way a file is hashed
/// ([`crate::read::input::LocalFile::sha256`]), opened as a load opens it.
pub fn sha256_hex(path: &str) -> Result<String, crate::error::LoadError> {
    crate::read::input::Source::local(path)?.sha256_hex()
}

/// A file's SHA-256 computed on its own thread while the load reads the file (a server file is
/// then in the page cache): the thread sees only plain Rust data. Joined when finished or dropped.
pub struct Background(
    Option<std::thread::JoinHandle<()>>,
    std::sync::mpsc::Receiver<String>,
);

impl Background {
    /// Runs `checksum` on a thread of its own (a remote source's reads the object again, while
    /// the load reads it).
    pub fn start_with(checksum: impl FnOnce() -> Option<String> + Send + 'static) -> Background {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = crate::threads::spawn_without_signals("taxi_loader-sha256", move || {
            if let Some(hex) = checksum() {
                let _ = tx.send(hex);
            }
        });
        Background(Some(handle), rx)
    }

    /// The checksum, None if the file could not be read.
    pub fn finish(&mut self) -> Option<String> {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
        self.1.try_recv().ok()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schemes_tell_urls_from_paths() {
        use super::scheme;
        assert_eq!(scheme("HTTPS://x/y"), Some("HTTPS"));
        assert_eq!(scheme("s3://b/k"), Some("s3"));
        assert_eq!(scheme("ftp://h/x"), Some("ftp"));
        assert_eq!(scheme("/data/x.parquet"), None);
        assert_eq!(scheme("/data/a://b"), None);
        assert_eq!(scheme("://x"), None);
        assert_eq!(scheme("1http://x"), None);
    }

    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        assert!(matches("*.parquet", "yellow_tripdata_2024-01.parquet"));
        assert!(!matches("*.parquet", "yellow.parquet.tmp"));
        assert!(matches(
            "yellow_*_2024-??.parquet",
            "yellow_tripdata_2024-01.parquet"
        ));
        assert!(!matches(
            "yellow_*_2024-??.parquet",
            "yellow_tripdata_2024-1.parquet"
        ));
        assert!(matches("*", "anything"));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("", ""));
        assert!(!matches("", "x"));
    }

    #[test]
    fn list_sorts_filters_and_hashes() {
        let dir = std::env::temp_dir().join(format!("taxi_files_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub.parquet")).unwrap();
        for (name, body) in [
            ("b.parquet", "x"),
            ("a.parquet", "x"),
            (".h.parquet", "y"),
            ("c.txt", "z"),
        ] {
            std::fs::write(dir.join(name), body).unwrap();
        }
        let d = dir.to_str().unwrap();
        assert_eq!(
            list(d, "*.parquet").unwrap(),
            [format!("{d}/a.parquet"), format!("{d}/b.parquet")]
        );
        let (a, b) = (
            sha256_hex(&format!("{d}/a.parquet")).unwrap(),
            sha256_hex(&format!("{d}/b.parquet")).unwrap(),
        );
        assert_eq!(a, b);
        // sha256("x")
        assert_eq!(
            a,
            "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
        );
        assert!(matches!(
            list(&format!("{d}/a.parquet"), "*"),
            Err(LoadError::NotADirectory { .. })
        ));
        assert!(matches!(
            list(&format!("{d}/none"), "*"),
            Err(LoadError::NotFound { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
