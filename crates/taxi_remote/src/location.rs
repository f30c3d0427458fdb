//! What a source string names: a server path, an http(s):// URL or an s3://bucket/key, and the
//! checks on it that need no network (the allow-list).

use url::Url;

use crate::error::RemoteError;

/// Whether `source` names a remote object (by its scheme) rather than a server path.
pub fn is_remote(source: &str) -> bool {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("s3://")
}

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
            _ => return Err(invalid("the scheme must be http, https or s3")),
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

    /// Whether one of `prefixes` (taxi.allowed_sources) covers this URL. A prefix matches at a
    /// boundary only: `https://example.org` covers `https://example.org/x` but not
    /// `https://example.org.evil.net/x`. Scheme and host compare without case.
    pub fn allowed_by(&self, prefixes: &[String]) -> bool {
        let full = normalized(self.url.as_str());
        prefixes.iter().any(|p| {
            let p = p.trim();
            if p.is_empty() {
                return false;
            }
            let p = normalized(p);
            match full.strip_prefix(p.as_str()) {
                None => false,
                Some(rest) => {
                    p.ends_with('/')
                        || rest.is_empty()
                        || rest.starts_with('/')
                        || rest.starts_with('?')
                }
            }
        })
    }
}

/// Lower-cases the scheme and host of a URL or URL prefix, so that prefixes compare as URLs do;
/// the path keeps its case.
fn normalized(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.to_string();
    };
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let authority = authority.to_ascii_lowercase();
    // Url prints a default port never; a prefix might.
    let authority = match (scheme.to_ascii_lowercase().as_str(), authority.as_str()) {
        ("http", a) => a.strip_suffix(":80").unwrap_or(a).to_string(),
        ("https", a) => a.strip_suffix(":443").unwrap_or(a).to_string(),
        (_, a) => a.to_string(),
    };
    let path = if path.is_empty() && !text.ends_with("://") {
        "/"
    } else {
        path
    };
    format!("{}://{authority}{path}", scheme.to_ascii_lowercase())
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
        assert!(is_remote("HTTPS://x/y"));
        assert!(is_remote("s3://b/k"));
        assert!(!is_remote("/data/x.parquet"));
        assert!(!is_remote("file:///x"));
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
    }
}
