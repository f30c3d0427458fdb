//! A remote URL (http(s):// or s3://bucket/key) parsed once, and the checks on it that need no
//! network: the allow-list, and paths that hide a separator or a dot segment in percent-encoding.
//! Whether a source string is a URL at all is `taxi_core::files::scheme`'s to say.

use url::Url;

use crate::error::RemoteError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    S3,
}

/// A parsed remote URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    url: Url,
    scheme: Scheme,
}

impl RemoteUrl {
    pub fn parse(text: &str) -> Result<RemoteUrl, RemoteError> {
        let invalid = |why: &str| RemoteError::InvalidUrl {
            text: shown_text(text),
            why: why.into(),
        };
        let url = Url::parse(text).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match url.scheme() {
            "http" | "https" => Scheme::Http,
            "s3" => Scheme::S3,
            other => {
                return Err(invalid(&format!(
                    "the scheme {other}:// is not one of http, https and s3"
                )))
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("credentials in the URL are not accepted"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid(if scheme == Scheme::S3 {
                "it names no bucket"
            } else {
                "it names no host"
            }));
        }
        if url.fragment().is_some() {
            return Err(invalid("it has a #fragment"));
        }
        // The parser resolves dot segments, plain or encoded (%2e%2e), before any prefix is
        // compared; an encoded / or \\ it leaves alone. A server that decodes it before resolving
        // dot segments (nginx does) would serve /secret/m for /ok/..%2fsecret/m: a path outside the
        // prefix that taxi.allowed_sources allowed.
        // Decoded until nothing changes, for servers or proxies that decode twice.
        let hidden = url.path_segments().into_iter().flatten().any(|segment| {
            let mut text = segment.to_string();
            for _ in 0..4 {
                let decoded = percent_encoding::percent_decode_str(&text)
                    .decode_utf8_lossy()
                    .into_owned();
                if decoded == text {
                    return false;
                }
                if decoded.contains(['/', '\\']) || decoded == "." || decoded == ".." {
                    return true;
                }
                text = decoded;
            }
            true
        });
        if hidden {
            return Err(invalid(
                "its path hides a /, a \\ or a dot segment in percent-encoding (%2F, %5C, %2E)",
            ));
        }
        Ok(RemoteUrl { url, scheme })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The URL as requested (with its query: a presigned URL needs it).
    pub fn as_url(&self) -> &Url {
        &self.url
    }

    /// The URL as the history and errors show it: without a query string, whose values may be
    /// signatures.
    pub fn shown(&self) -> String {
        let mut u = self.url.clone();
        if u.query().is_some() {
            u.set_query(None);
            return format!("{u}?…");
        }
        u.to_string()
    }

    /// The bucket (S3) or the scheme, host and port (http): what one client serves.
    pub fn base(&self) -> String {
        match self.scheme {
            Scheme::S3 => self.url.host_str().unwrap_or_default().to_string(),
            Scheme::Http => self.url.origin().ascii_serialization(),
        }
    }

    /// The object's key below [`RemoteUrl::base`], percent-decoded.
    pub fn key(&self) -> String {
        let path = self.url.path().trim_start_matches('/');
        percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned()
    }

    /// This URL with `name` in place of its last path component's successors: for listing an
    /// S3 prefix, the URL of one of its objects.
    pub fn with_key(&self, key: &str) -> RemoteUrl {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_path(&format!("/{key}"));
        RemoteUrl {
            url,
            scheme: self.scheme,
        }
    }

    /// Whether one of `prefixes` (taxi.allowed_sources) covers this URL. A prefix is parsed as a
    /// URL too, and compared part by part: scheme, host (without case) and port (a default port
    /// written or not) equal, and the path at a boundary: `https://example.org/data` covers
    /// `https://example.org/data/x` but not `https://example.org/database/x`. A prefix that does
    /// not parse, or that has a query or a fragment, covers nothing.
    pub fn allowed_by(&self, prefixes: &[String]) -> bool {
        prefixes.iter().any(|p| {
            let Ok(prefix) = Url::parse(p.trim()) else {
                return false;
            };
            if prefix.scheme() != self.url.scheme()
                || prefix.query().is_some()
                || prefix.fragment().is_some()
                || !prefix.username().is_empty()
                || prefix.password().is_some()
                || prefix.port_or_known_default() != self.url.port_or_known_default()
            {
                return false;
            }
            match (prefix.host_str(), self.url.host_str()) {
                (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => {}
                _ => return false,
            }
            let (want, path) = (prefix.path(), self.url.path());
            // A prefix ending in / covers what is below it; one that does not, also itself.
            // (An s3://bucket prefix has an empty path, an https://host one "/".)
            match path.strip_prefix(want) {
                None => false,
                Some(rest) => {
                    want.is_empty()
                        || want.ends_with('/')
                        || rest.is_empty()
                        || rest.starts_with('/')
                }
            }
        })
    }
}

/// A source string as errors may show it when it did not even parse: up to its query.
pub fn shown_text(text: &str) -> String {
    let base = text.split(['?', '#']).next().unwrap_or_default();
    // Drop user info, if any, between the scheme and the host.
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = authority.rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{path}")
        }
        None => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_and_refusals() {
        let u =
            RemoteUrl::parse("https://Example.org/trip%20data/y.parquet?X-Amz-Signature=s3cr3t")
                .unwrap();
        assert_eq!(u.scheme(), Scheme::Http);
        assert_eq!(u.base(), "https://example.org");
        assert_eq!(u.key(), "trip data/y.parquet");
        assert_eq!(u.shown(), "https://example.org/trip%20data/y.parquet?…");
        assert!(!u.shown().contains("s3cr3t"));
        let s3 = RemoteUrl::parse("s3://bucket/2024/yellow.parquet").unwrap();
        assert_eq!(
            (s3.scheme(), s3.base(), s3.key()),
            (Scheme::S3, "bucket".into(), "2024/yellow.parquet".into())
        );
        for bad in [
            "https://user:pw@example.org/x",
            "ftp://example.org/x",
            "s3:///key",
            "https://h/x#f",
        ] {
            let e = RemoteUrl::parse(bad).unwrap_err();
            assert!(matches!(e, RemoteError::InvalidUrl { .. }), "{bad}");
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
        assert_eq!(shown_text("https://u:secret@h/p?sig=1"), "https://h/p");
    }

    #[test]
    fn prefixes_match_at_boundaries() {
        let allow = |prefixes: &[&str], url: &str| {
            let p: Vec<String> = prefixes.iter().map(|s| s.to_string()).collect();
            RemoteUrl::parse(url).unwrap().allowed_by(&p)
        };
        assert!(!allow(&[], "https://example.org/x"));
        assert!(!allow(&[""], "https://example.org/x"));
        assert!(allow(&["https://example.org"], "https://example.org/x"));
        assert!(allow(&["HTTPS://EXAMPLE.org/"], "https://example.org/x"));
        assert!(allow(
            &["https://example.org:443/data/"],
            "https://example.org/data/y"
        ));
        assert!(!allow(
            &["https://example.org"],
            "https://example.org.evil.net/x"
        ));
        assert!(!allow(
            &["https://example.org/data"],
            "https://example.org/database/x"
        ));
        assert!(allow(
            &["https://example.org/data"],
            "https://example.org/data/x"
        ));
        assert!(!allow(&["https://example.org/"], "http://example.org/x"));
        assert!(!allow(
            &["http://127.0.0.1:8080/"],
            "http://127.0.0.1:8081/x"
        ));
        assert!(allow(
            &["a", " s3://bucket/trips/ "],
            "s3://bucket/trips/2024.parquet"
        ));
        // Path case matters: keys are case-sensitive.
        assert!(!allow(&["s3://bucket/Trips/"], "s3://bucket/trips/x"));
        assert!(allow(&["s3://bucket"], "s3://bucket/trips/x"));
        assert!(!allow(&["s3://bucket"], "s3://bucket2/trips/x"));
        assert!(!allow(&["not a url"], "https://example.org/x"));
        assert!(!allow(&["https://example.org/?q"], "https://example.org/x"));
    }

    /// The escapes a new user tried against `http://127.0.0.1:PORT/ok/`: each is refused, by
    /// the parser (an encoded separator) or by the allow-list (the path it resolves to).
    #[test]
    fn encodings_do_not_walk_around_the_allow_list() {
        let ok = ["http://127.0.0.1:8080/ok/".to_string()];
        let allowed = |url: &str| RemoteUrl::parse(url).map(|u| u.allowed_by(&ok));
        assert_eq!(allowed("http://127.0.0.1:8080/ok/m.parquet"), Ok(true));
        assert_eq!(allowed("http://127.0.0.1:8080/ok/a%20b.parquet"), Ok(true));
        for escaped in [
            "http://127.0.0.1:8080/ok/../secret/m.parquet",
            "http://127.0.0.1:8080/ok/%2e%2e/secret/m.parquet",
            "http://127.0.0.1:8080/ok/%2E%2E/secret/m.parquet",
            "http://127.0.0.1:8080/ok/.%2e/secret/m.parquet",
            "http://127.0.0.1:8080/ok/..\\secret/m.parquet",
            "http://127.0.0.1:8080/okay/m.parquet",
            "http://127.0.0.1:8080/ok",
        ] {
            assert_eq!(allowed(escaped), Ok(false), "{escaped}");
        }
        for hidden in [
            "http://127.0.0.1:8080/ok/..%2fsecret/m.parquet",
            "http://127.0.0.1:8080/ok/..%2Fsecret/m.parquet",
            "http://127.0.0.1:8080/ok/..%5csecret/m.parquet",
            "http://127.0.0.1:8080/ok/x%2f..%2f..%2fsecret/m.parquet",
            "http://127.0.0.1:8080/ok/%252e%252e/m.parquet",
            "s3://bucket/ok/..%2fsecret/m.parquet",
        ] {
            let refused = RemoteUrl::parse(hidden);
            assert!(
                matches!(refused, Err(RemoteError::InvalidUrl { .. })),
                "{hidden}: {refused:?}"
            );
        }
        for refused in [
            "http://u@127.0.0.1:8080/ok/m.parquet",
            "http://127.0.0.1:8080/ok/m.parquet#x",
        ] {
            assert!(RemoteUrl::parse(refused).is_err(), "{refused}");
        }
    }
}
