//! The few cookie operations the login endpoints need: reading pairs from `Cookie` headers and
//! writing `__Host-` cookies with fixed attributes.

use http::{HeaderMap, HeaderValue, header};

use crate::oidc::error::LoginError;

/// Every `name=value` pair of every `Cookie` header (RFC 6265 §5.4 joins with `; `; HTTP/2
/// may split them into several headers, RFC 9113 §8.2.3). Pairs without `=` are skipped.
///
/// The header is split as bytes and each pair decoded on its own: one cookie with a non-ASCII
/// byte (a UTF-8 value set by a sibling subdomain or an analytics script) skips only itself,
/// not every cookie sent with it.
pub(crate) fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .filter_map(|pair| {
            let at = pair.iter().position(|b| *b == b'=')?;
            let name = std::str::from_utf8(&pair[..at]).ok()?;
            let value = std::str::from_utf8(&pair[at + 1..]).ok()?;
            Some((name.trim(), value.trim()))
        })
}

/// The value of cookie `name` if it is present exactly once. Twice is treated as absent: a
/// sibling subdomain can toss a second cookie of the same name, and the server cannot tell
/// which one it set.
pub(crate) fn unique<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut found = None;
    for (n, v) in pairs(headers) {
        if n == name {
            if found.is_some() {
                return None;
            }
            found = Some(v);
        }
    }
    found
}

/// A `__Host-` cookie: `Secure`, `Path=/`, no `Domain` (required by the prefix, RFC 6265bis
/// §4.1.3.2), `HttpOnly` (no script reads it), `SameSite=Lax` (sent on the provider's
/// top-level redirect back to the callback).
pub(crate) fn set_cookie(name: &str, value: &str, max_age: u64) -> Result<HeaderValue, LoginError> {
    HeaderValue::try_from(format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .map_err(|_| LoginError::Internal("cookie header"))
}

/// Deletes cookie `name` (same attributes, empty value, `Max-Age=0`).
pub(crate) fn delete_cookie(name: &str) -> Result<HeaderValue, LoginError> {
    set_cookie(name, "", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_refuses_duplicates_across_headers() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b=2"));
        assert_eq!(unique(&headers, "a"), Some("1"));
        headers.append(header::COOKIE, HeaderValue::from_static("a=3"));
        assert_eq!(unique(&headers, "a"), None);
        assert_eq!(unique(&headers, "b"), Some("2"));
        assert_eq!(unique(&headers, "c"), None);
    }

    #[test]
    fn a_non_ascii_neighbour_hides_nothing_but_itself() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_bytes(b"x=caf\xc3\xa9; a=1; y=\xff; b=2").unwrap(),
        );
        assert_eq!(unique(&headers, "a"), Some("1"));
        assert_eq!(unique(&headers, "b"), Some("2"));
        assert_eq!(unique(&headers, "y"), None);
    }
}
