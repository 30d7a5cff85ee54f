//! A strict builder for tower-http's [`CorsLayer`].
//!
//! tower-http's `CorsLayer` panics at start-up for some unsafe combinations and accepts others
//! (a mirrored origin with credentials, `http://` origins, origins that can never match).
//! [`StrictCors`] refuses all of them with a [`ConfigError`] when it is built:
//!
//! - `*` (any origin) together with credentials — never, not even through `dangerous()`;
//! - wildcard-subdomain origins (`https://*.example.com`) together with credentials;
//! - `*` as an allowed or exposed header together with credentials;
//! - `*` without credentials unless opted in with `dangerous().allow_any_origin()`;
//! - origins not in the exact browser form (`https://host[:port]`, lower case, no default port,
//!   no path or trailing slash), `null`, and plain `http://` origins on non-loopback hosts
//!   (unless `dangerous().allow_insecure_origin()`);
//! - a layer with no origin at all.
//!
//! Defaults: methods `GET, HEAD, POST`, request header `Content-Type`, no exposed headers,
//! preflight cached for 10 minutes, no credentials. `Vary: Origin` and the preflight handling
//! are tower-http's.
//!
//! # Example
//! ```
//! use http::Method;
//! use paved_headers::ConfigError;
//! use paved_headers::cors::StrictCors;
//!
//! let cors = StrictCors::new()
//!     .allow_origin("https://app.example.com")
//!     .allow_credentials()
//!     .allow_methods([Method::GET, Method::POST, Method::DELETE])
//!     .build()?;
//!
//! let refused = StrictCors::new()
//!     .allow_origin("https://*.example.com")
//!     .allow_credentials()
//!     .build();
//! assert!(matches!(refused, Err(ConfigError::CorsWildcardWithCredentials { .. })));
//! # let _ = cors;
//! # Ok::<_, ConfigError>(())
//! ```

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ConfigError;
use crate::origin::{is_loopback_host, validate_origin};

/// Default preflight cache lifetime (Chromium caps it at two hours, Firefox at one day).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// `scheme://*.suffix[:port]`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OriginPattern {
    /// `https://`
    scheme_prefix: String,
    /// `.example.com`
    suffix: String,
    /// `:8443` or empty.
    port: String,
}

impl OriginPattern {
    fn parse(pattern: &str) -> Result<Self, ConfigError> {
        let (scheme_prefix, rest) = if let Some(r) = pattern.strip_prefix("https://*.") {
            ("https://", r)
        } else if let Some(r) = pattern.strip_prefix("http://*.") {
            ("http://", r)
        } else {
            return Err(ConfigError::InvalidOrigin {
                origin: pattern.to_owned(),
                reason: "a wildcard origin is written `https://*.example.com` (the `*` only as \
                         the whole first label)",
            });
        };
        // Validate the concrete form with a sample label.
        let sample = format!("{scheme_prefix}x.{rest}");
        let parsed = validate_origin(&sample).map_err(|_| ConfigError::InvalidOrigin {
            origin: pattern.to_owned(),
            reason: "after `*.` comes a lower-case host with at least one dot (no path, no \
                     default port)",
        })?;
        if rest.contains('*') || parsed.host.starts_with('[') || !parsed.host[2..].contains('.') {
            return Err(ConfigError::InvalidOrigin {
                origin: pattern.to_owned(),
                reason: "a wildcard covers subdomains of one registrable domain, like \
                         `https://*.example.com`",
            });
        }
        let host_len = parsed.host.len() - 2; // without "x."
        let (suffix_host, port) = rest.split_at(host_len);
        Ok(Self {
            scheme_prefix: scheme_prefix.to_owned(),
            suffix: format!(".{suffix_host}"),
            port: port.to_owned(),
        })
    }

    fn matches(&self, origin: &[u8]) -> bool {
        let Some(rest) = origin.strip_prefix(self.scheme_prefix.as_bytes()) else {
            return false;
        };
        let Some(host) = rest.strip_suffix(self.port.as_bytes()) else {
            return false;
        };
        let Some(label) = host.strip_suffix(self.suffix.as_bytes()) else {
            return false;
        };
        !label.is_empty()
            && !label.starts_with(b".")
            && !label.ends_with(b".")
            && !label.windows(2).any(|w| w == b"..")
            && label
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'))
    }
}

/// A CORS configuration that cannot be built unsafe. See the [module docs](self).
#[derive(Clone, Debug)]
#[must_use]
#[allow(clippy::struct_excessive_bools)]
pub struct StrictCors {
    origins: Vec<String>,
    patterns: Vec<String>,
    any_origin: bool,
    insecure_ok: bool,
    credentials: bool,
    methods: Vec<Method>,
    headers: Vec<HeaderName>,
    expose: Vec<HeaderName>,
    max_age: Option<Duration>,
    asked_any: bool,
}

impl Default for StrictCors {
    fn default() -> Self {
        Self::new()
    }
}

impl StrictCors {
    /// No origin yet; defaults as in the [module docs](self).
    pub fn new() -> Self {
        Self {
            origins: Vec::new(),
            patterns: Vec::new(),
            any_origin: false,
            insecure_ok: false,
            credentials: false,
            methods: vec![Method::GET, Method::HEAD, Method::POST],
            headers: vec![header::CONTENT_TYPE],
            expose: Vec::new(),
            max_age: Some(DEFAULT_MAX_AGE),
            asked_any: false,
        }
    }

    /// Allows an exact origin (`https://app.example.com`) or a wildcard-subdomain pattern
    /// (`https://*.example.com`, refused with credentials). `*` is refused here: use
    /// `dangerous().allow_any_origin()`.
    pub fn allow_origin(mut self, origin: &str) -> Self {
        if origin == "*" {
            self.asked_any = true;
        } else if origin.contains('*') {
            self.patterns.push(origin.to_owned());
        } else {
            self.origins.push(origin.to_owned());
        }
        self
    }

    /// Sends `Access-Control-Allow-Credentials: true` (cookies and HTTP auth on cross-origin
    /// requests).
    pub fn allow_credentials(mut self) -> Self {
        self.credentials = true;
        self
    }

    /// Replaces the allowed methods (default `GET, HEAD, POST`).
    pub fn allow_methods<I: IntoIterator<Item = Method>>(mut self, methods: I) -> Self {
        self.methods = methods.into_iter().collect();
        self
    }

    /// Replaces the allowed request headers (default `Content-Type`).
    pub fn allow_headers<I: IntoIterator<Item = HeaderName>>(mut self, headers: I) -> Self {
        self.headers = headers.into_iter().collect();
        self
    }

    /// Sets the response headers scripts may read (default none beyond the safelisted ones).
    pub fn expose_headers<I: IntoIterator<Item = HeaderName>>(mut self, headers: I) -> Self {
        self.expose = headers.into_iter().collect();
        self
    }

    /// How long browsers may cache a preflight (default [`DEFAULT_MAX_AGE`]); `None` sends no
    /// `Access-Control-Max-Age`.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// Settings that weaken the defaults.
    pub fn dangerous(self) -> DangerousStrictCors {
        DangerousStrictCors { inner: self }
    }

    /// Validates and builds tower-http's [`CorsLayer`].
    ///
    /// # Errors
    /// [`ConfigError::CorsWildcardWithCredentials`], [`ConfigError::CorsAnyOriginNeedsOptIn`],
    /// [`ConfigError::CorsNoOrigin`], [`ConfigError::CorsInsecureOrigin`] or
    /// [`ConfigError::InvalidOrigin`], as listed in the [module docs](self).
    pub fn build(self) -> Result<CorsLayer, ConfigError> {
        let any = self.any_origin || self.asked_any;
        if any && self.credentials {
            return Err(ConfigError::CorsWildcardWithCredentials {
                what: "origin `*`".to_owned(),
            });
        }
        if self.asked_any && !self.any_origin {
            return Err(ConfigError::CorsAnyOriginNeedsOptIn);
        }
        if self.credentials {
            if let Some(p) = self.patterns.first() {
                return Err(ConfigError::CorsWildcardWithCredentials {
                    what: format!("origin pattern `{p}`"),
                });
            }
            for (list, what) in [
                (&self.headers, "allowed header"),
                (&self.expose, "exposed header"),
            ] {
                if list.iter().any(|h| h.as_str() == "*") {
                    return Err(ConfigError::CorsWildcardWithCredentials {
                        what: format!("{what} `*`"),
                    });
                }
            }
        }
        if !any && self.origins.is_empty() && self.patterns.is_empty() {
            return Err(ConfigError::CorsNoOrigin);
        }
        let mut exact = Vec::with_capacity(self.origins.len());
        for o in &self.origins {
            let parsed = validate_origin(o)?;
            if parsed.scheme == "http" && !is_loopback_host(parsed.host) && !self.insecure_ok {
                return Err(ConfigError::CorsInsecureOrigin { origin: o.clone() });
            }
            exact.push(
                HeaderValue::from_str(o).map_err(|_| ConfigError::InvalidOrigin {
                    origin: o.clone(),
                    reason: "not a valid header value",
                })?,
            );
        }
        let mut patterns = Vec::with_capacity(self.patterns.len());
        for p in &self.patterns {
            let parsed = OriginPattern::parse(p)?;
            if parsed.scheme_prefix == "http://" && !self.insecure_ok {
                return Err(ConfigError::CorsInsecureOrigin { origin: p.clone() });
            }
            patterns.push(parsed);
        }

        let allow_origin = if any {
            AllowOrigin::any()
        } else if patterns.is_empty() {
            AllowOrigin::list(exact)
        } else {
            let exact: Arc<[HeaderValue]> = exact.into();
            let patterns: Arc<[OriginPattern]> = patterns.into();
            AllowOrigin::predicate(move |origin, _parts| {
                exact.iter().any(|e| e == origin)
                    || patterns.iter().any(|p| p.matches(origin.as_bytes()))
            })
        };
        let mut layer = CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods(self.methods)
            .allow_headers(self.headers)
            .allow_credentials(self.credentials);
        if !self.expose.is_empty() {
            layer = layer.expose_headers(self.expose);
        }
        if let Some(max_age) = self.max_age {
            layer = layer.max_age(max_age);
        }
        Ok(layer)
    }
}

/// Escape hatches of [`StrictCors`].
#[derive(Debug)]
#[must_use]
pub struct DangerousStrictCors {
    inner: StrictCors,
}

impl DangerousStrictCors {
    /// `Access-Control-Allow-Origin: *`: every site may read the responses. Only for public
    /// data that never depends on cookies; still refused together with credentials.
    pub fn allow_any_origin(mut self) -> Self {
        self.inner.any_origin = true;
        self
    }

    /// Accepts plain `http://` origins on non-loopback hosts.
    pub fn allow_insecure_origin(mut self) -> Self {
        self.inner.insecure_ok = true;
        self
    }

    /// Back to the ordinary builder.
    pub fn end(self) -> StrictCors {
        self.inner
    }

    /// Validates and builds (see [`StrictCors::build`]).
    ///
    /// # Errors
    /// As [`StrictCors::build`].
    pub fn build(self) -> Result<CorsLayer, ConfigError> {
        self.inner.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = OriginPattern::parse("https://*.example.com").unwrap();
        assert!(p.matches(b"https://a.example.com"));
        assert!(p.matches(b"https://a.b.example.com"));
        assert!(!p.matches(b"https://example.com"));
        assert!(!p.matches(b"https://a.example.com:8443"));
        assert!(!p.matches(b"https://aexample.com"));
        assert!(!p.matches(b"https://evil.com/.example.com"));
        assert!(!p.matches(b"http://a.example.com"));
        assert!(!p.matches(b"https://A.example.com"));
        let p = OriginPattern::parse("https://*.example.com:8443").unwrap();
        assert!(p.matches(b"https://a.example.com:8443"));
        assert!(!p.matches(b"https://a.example.com"));
        for bad in [
            "https://*",
            "https://*.com",
            "https://a*.example.com",
            "*.example.com",
            "https://*.example.com/",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
