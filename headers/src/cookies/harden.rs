use std::collections::HashSet;
use std::sync::Mutex;

use bytes::{BufMut, BytesMut};
use http::HeaderValue;

use crate::error::ConfigError;
use crate::util::Clipped;

/// How many distinct cookie names the layer remembers having warned about (bounds memory).
const MAX_WARNED_NAMES: usize = 128;

/// Name fragments that mark a cookie as carrying a session or credential.
const SESSION_HINTS: &[&str] = &[
    "sess", "sid", "auth", "token", "jwt", "login", "remember", "csrf", "xsrf",
];

/// The `SameSite` value added to cookies that have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SameSite {
    /// `SameSite=Lax`: sent on top-level cross-site navigations, not on cross-site subrequests
    /// or form POSTs (the default; OAuth callbacks still work).
    #[default]
    Lax,
    /// `SameSite=Strict`: never sent cross-site.
    Strict,
}

#[derive(Debug, Default)]
pub(crate) struct Config {
    pub(crate) untouched: Vec<String>,
    pub(crate) no_http_only: Vec<String>,
    pub(crate) no_secure: Vec<String>,
    pub(crate) same_site: SameSite,
    warned: Mutex<HashSet<String>>,
}

impl Clone for Config {
    fn clone(&self) -> Self {
        Self {
            untouched: self.untouched.clone(),
            no_http_only: self.no_http_only.clone(),
            no_secure: self.no_secure.clone(),
            same_site: self.same_site,
            warned: Mutex::new(HashSet::new()),
        }
    }
}

/// RFC 6265 `cookie-name` = token.
pub(crate) fn validate_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name.bytes().all(|b| {
            (0x21..=0x7e).contains(&b)
                && !matches!(
                    b,
                    b'(' | b')'
                        | b'<'
                        | b'>'
                        | b'@'
                        | b','
                        | b';'
                        | b':'
                        | b'\\'
                        | b'"'
                        | b'/'
                        | b'['
                        | b']'
                        | b'?'
                        | b'='
                        | b'{'
                        | b'}'
                )
        });
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidCookieName {
            name: name.to_owned(),
        })
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

#[derive(Default)]
#[allow(clippy::struct_excessive_bools)]
struct Seen {
    secure: bool,
    http_only: bool,
    same_site: bool,
    domain: bool,
    path_root: bool,
}

impl Config {
    /// Returns the hardened value, or `None` when nothing needs adding.
    pub(crate) fn harden(&self, value: &HeaderValue) -> Option<HeaderValue> {
        let bytes = value.as_bytes();
        let mut parts = bytes.split(|&b| b == b';');
        let pair = parts.next().unwrap_or_default();
        let name = match pair.iter().position(|&b| b == b'=') {
            Some(i) => trim(&pair[..i]),
            None => &[][..],
        };
        if self.untouched.iter().any(|n| n.as_bytes() == name) {
            return None;
        }
        let mut seen = Seen::default();
        for attr in parts {
            let (key, val) = match attr.iter().position(|&b| b == b'=') {
                Some(i) => (trim(&attr[..i]), trim(&attr[i + 1..])),
                None => (trim(attr), &[][..]),
            };
            if key.eq_ignore_ascii_case(b"secure") {
                seen.secure = true;
            } else if key.eq_ignore_ascii_case(b"httponly") {
                seen.http_only = true;
            } else if key.eq_ignore_ascii_case(b"samesite") {
                seen.same_site = true;
            } else if key.eq_ignore_ascii_case(b"domain") {
                seen.domain = true;
            } else if key.eq_ignore_ascii_case(b"path") {
                seen.path_root = val == b"/";
            }
        }
        self.maybe_warn(name, &seen);
        let named = |list: &[String]| list.iter().any(|n| n.as_bytes() == name);
        let add_secure = !seen.secure && !named(&self.no_secure);
        let add_http_only = !seen.http_only && !named(&self.no_http_only);
        let add_same_site = !seen.same_site;
        if !(add_secure || add_http_only || add_same_site) {
            return None;
        }
        let mut out = BytesMut::with_capacity(bytes.len() + 40);
        out.put_slice(bytes);
        if add_secure {
            out.put_slice(b"; Secure");
        }
        if add_http_only {
            out.put_slice(b"; HttpOnly");
        }
        if add_same_site {
            out.put_slice(match self.same_site {
                SameSite::Lax => b"; SameSite=Lax",
                SameSite::Strict => b"; SameSite=Strict",
            });
        }
        HeaderValue::from_maybe_shared(out.freeze()).ok()
    }

    fn maybe_warn(&self, name: &[u8], seen: &Seen) {
        let host_prefixed = name.starts_with(b"__Host-");
        let lower = name.to_ascii_lowercase();
        let session_like = SESSION_HINTS
            .iter()
            .any(|h| lower.windows(h.len()).any(|w| w == h.as_bytes()));
        let problem = if host_prefixed && (seen.domain || !seen.path_root) {
            Some(
                "__Host- cookie with a Domain attribute or a Path other than / is dropped by browsers",
            )
        } else if session_like && !host_prefixed {
            Some("session-like cookie without the __Host- prefix (ASVS 5.0 V3.3.1, V3.3.3)")
        } else {
            None
        };
        let Some(problem) = problem else { return };
        let Ok(mut warned) = self.warned.lock() else {
            return;
        };
        let key = String::from_utf8_lossy(name).into_owned();
        if warned.len() >= MAX_WARNED_NAMES || !warned.insert(key) {
            return;
        }
        drop(warned);
        tracing::warn!(
            target: "paved_headers::cookies",
            cookie = ?Clipped(name),
            "{problem}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(c: &Config, v: &str) -> String {
        c.harden(&HeaderValue::from_str(v).unwrap())
            .map_or_else(|| v.to_owned(), |v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn adds_missing_attributes() {
        let c = Config::default();
        assert_eq!(h(&c, "a=1"), "a=1; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(
            h(&c, "a=1; secure; HTTPONLY; samesite=none"),
            "a=1; secure; HTTPONLY; samesite=none"
        );
        assert_eq!(h(&c, "a=1;Secure"), "a=1;Secure; HttpOnly; SameSite=Lax");
        assert_eq!(h(&c, "garbage"), "garbage; Secure; HttpOnly; SameSite=Lax");
        assert_eq!(h(&c, ""), "; Secure; HttpOnly; SameSite=Lax");
        // A value containing "secure" is not the Secure attribute.
        assert_eq!(
            h(&c, "note=insecure; Path=/secure"),
            "note=insecure; Path=/secure; Secure; HttpOnly; SameSite=Lax"
        );
    }

    #[test]
    fn opt_outs() {
        let c = Config {
            untouched: vec!["raw".into()],
            no_http_only: vec!["theme".into()],
            no_secure: vec!["legacy".into()],
            same_site: SameSite::Strict,
            ..Config::default()
        };
        assert_eq!(h(&c, "raw=1"), "raw=1");
        assert_eq!(h(&c, "theme=1"), "theme=1; Secure; SameSite=Strict");
        assert_eq!(h(&c, "legacy=1"), "legacy=1; HttpOnly; SameSite=Strict");
        assert_eq!(h(&c, "rawx=1"), "rawx=1; Secure; HttpOnly; SameSite=Strict");
    }

    #[test]
    fn names() {
        assert!(validate_name("__Host-sid").is_ok());
        assert!(validate_name("a b").is_err());
        assert!(validate_name("a=b").is_err());
        assert!(validate_name("").is_err());
    }

    #[test]
    fn warnings_are_bounded() {
        let c = Config::default();
        for i in 0..(MAX_WARNED_NAMES + 50) {
            let _ = h(&c, &format!("session{i}=x"));
        }
        assert_eq!(c.warned.lock().unwrap().len(), MAX_WARNED_NAMES);
    }
}
