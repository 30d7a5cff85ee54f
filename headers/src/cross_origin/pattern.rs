//! Bypass patterns: `[METHOD ]/path/{name}/…`, a subset of Go's `ServeMux` patterns.

use http::{Method, Uri};

use crate::error::ConfigError;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `{name}`: exactly one non-empty segment.
    One,
    /// `{name...}`: the rest of the path (must be last).
    Rest,
}

/// A compiled bypass pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BypassPattern {
    text: String,
    method: Option<Method>,
    segments: Vec<Segment>,
    /// Pattern ended with `/`: matches the whole subtree.
    subtree: bool,
}

fn invalid(pattern: &str, reason: &'static str) -> ConfigError {
    ConfigError::InvalidBypassPattern {
        pattern: pattern.to_owned(),
        reason,
    }
}

impl BypassPattern {
    pub(crate) fn parse(pattern: &str) -> Result<Self, ConfigError> {
        let (method, path) = match pattern.split_once(' ') {
            Some((m, p)) => {
                if m.is_empty() || !m.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(invalid(
                        pattern,
                        "the method is an upper-case token like POST",
                    ));
                }
                let method = Method::from_bytes(m.as_bytes())
                    .map_err(|_| invalid(pattern, "the method is not a valid HTTP method"))?;
                (Some(method), p.trim_start())
            }
            None => (None, pattern),
        };
        if !path.starts_with('/') {
            return Err(invalid(
                pattern,
                "the path starts with `/` (host patterns are not supported)",
            ));
        }
        let subtree = path.ends_with('/');
        let body = path.trim_start_matches('/');
        let body = body.strip_suffix('/').unwrap_or(body);
        let mut segments = Vec::new();
        if !body.is_empty() {
            let parts: Vec<&str> = body.split('/').collect();
            for (i, part) in parts.iter().enumerate() {
                if part.is_empty() || *part == "." || *part == ".." {
                    return Err(invalid(pattern, "empty, `.` or `..` segment"));
                }
                if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    let (name, rest) = match name.strip_suffix("...") {
                        Some(n) => (n, true),
                        None => (name, false),
                    };
                    if name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return Err(invalid(pattern, "a wildcard is `{name}` or `{name...}`"));
                    }
                    if rest {
                        if i + 1 != parts.len() || subtree {
                            return Err(invalid(pattern, "`{name...}` must be the last segment"));
                        }
                        segments.push(Segment::Rest);
                    } else {
                        segments.push(Segment::One);
                    }
                    continue;
                }
                let ok = part.bytes().all(|b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'')
                        || matches!(
                            b,
                            b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b':' | b'@'
                        )
                });
                if !ok {
                    return Err(invalid(
                        pattern,
                        "a literal segment is unreserved URL characters (no `%`, `{`, `}`, spaces)",
                    ));
                }
                segments.push(Segment::Literal((*part).to_owned()));
            }
        }
        Ok(Self {
            text: pattern.to_owned(),
            method,
            segments,
            subtree,
        })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    pub(crate) fn matches(&self, method: &Method, uri: &Uri) -> bool {
        if let Some(m) = &self.method
            && m != method
        {
            return false;
        }
        let path = uri.path();
        if !is_clean_path(path) {
            return false;
        }
        let body = &path[1..];
        let mut parts = if body.is_empty() {
            Vec::new()
        } else {
            body.split('/').collect::<Vec<_>>()
        };
        let trailing_slash = parts.last().is_some_and(|p| p.is_empty());
        if trailing_slash {
            parts.pop();
        }
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                // Like Go's ServeMux: `/a/{rest...}` matches `/a/` and below, never `/a` itself.
                Segment::Rest => return i < parts.len() || trailing_slash,
                Segment::One => {
                    if parts.get(i).is_none_or(|p| p.is_empty()) {
                        return false;
                    }
                }
                Segment::Literal(lit) => {
                    if parts.get(i) != Some(&lit.as_str()) {
                        return false;
                    }
                }
            }
            i += 1;
        }
        if self.subtree {
            // `/hooks/` matches `/hooks/` and everything below it, not `/hooks`.
            i < parts.len() || trailing_slash || self.segments.is_empty()
        } else {
            i == parts.len() && !trailing_slash
        }
    }
}

/// A path that a server or proxy could normalise into a different path is never bypassed:
/// `//`, `.`/`..` segments, encoded dots, slashes or backslashes (the class of Go's
/// CVE-2025-47910, where bypass patterns matched paths that routed elsewhere).
fn is_clean_path(path: &str) -> bool {
    if !path.starts_with('/') || path.contains("//") || path.contains('\\') {
        return false;
    }
    if path.split('/').any(|seg| seg == "." || seg == "..") {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    !(lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, method: &str, path: &str) -> bool {
        BypassPattern::parse(p).unwrap().matches(
            &Method::from_bytes(method.as_bytes()).unwrap(),
            &path.parse().unwrap(),
        )
    }

    #[test]
    fn patterns() {
        assert!(m("POST /hooks/{id}", "POST", "/hooks/stripe"));
        assert!(!m("POST /hooks/{id}", "PUT", "/hooks/stripe"));
        assert!(!m("POST /hooks/{id}", "POST", "/hooks/stripe/x"));
        assert!(!m("POST /hooks/{id}", "POST", "/hooks/"));
        assert!(!m("POST /hooks/{id}", "POST", "/hooks"));
        assert!(m("/hooks/", "POST", "/hooks/a/b"));
        assert!(m("/hooks/", "POST", "/hooks/"));
        assert!(!m("/hooks/", "POST", "/hooks"));
        assert!(!m("/hooks/", "POST", "/hooksx/a"));
        assert!(m("/a/{rest...}", "DELETE", "/a/b/c"));
        assert!(m("/a/{rest...}", "DELETE", "/a/"));
        assert!(
            !m("/a/{rest...}", "DELETE", "/a"),
            "the bare prefix is not under it"
        );
        assert!(m("/exact", "POST", "/exact"));
        assert!(!m("/exact", "POST", "/exact/"));
        assert!(m("/", "POST", "/anything"));
    }

    #[test]
    fn unclean_paths_never_match() {
        for p in [
            "/hooks/../admin",
            "/hooks/./x",
            "/hooks//x",
            "/hooks/%2e%2e/admin",
            "/hooks/a%2Fb",
            "/hooks/a%5cb",
        ] {
            assert!(!m("/hooks/", "POST", p), "{p}");
        }
    }

    #[test]
    fn bad_patterns() {
        for p in [
            "hooks",
            "post /x",
            "POST x",
            "/a/{}/b",
            "/a/{x...}/b",
            "/a/../b",
            "/a//b",
            "/a b",
            "/a/%41",
            "/{x-y}",
        ] {
            assert!(BypassPattern::parse(p).is_err(), "{p}");
        }
    }
}
