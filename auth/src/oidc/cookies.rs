//! The few cookie operations the login endpoints need: reading pairs from `Cookie` headers and
//! writing `__Host-` cookies with fixed attributes.

use http::{HeaderMap, HeaderValue};

use crate::oidc::error::LoginError;
use crate::session::cookie;

/// Every `name=value` pair of every `Cookie` header whose name and value are UTF-8 (the
/// session module's byte-level parser: one cookie with a non-ASCII byte, set by a sibling
/// subdomain or an analytics script, skips only itself, not every cookie sent with it).
pub(crate) fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    cookie::cookie_pairs(headers).filter_map(|(name, value)| {
        Some((
            std::str::from_utf8(name).ok()?,
            std::str::from_utf8(value).ok()?,
        ))
    })
}

/// The value of cookie `name` if the name is present exactly once. Twice is treated as
/// absent: a sibling subdomain can toss a second cookie of the same name, and the server
/// cannot tell which one it set.
pub(crate) fn unique<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    std::str::from_utf8(cookie::unique_cookie(headers, name)?).ok()
}

/// A `__Host-` cookie with the session cookie's attributes: `Secure`, `Path=/`, no `Domain`
/// (required by the prefix, RFC 6265bis §4.1.3.2), `HttpOnly`, `SameSite=Lax` (sent on the
/// provider's top-level redirect back to the callback).
pub(crate) fn set_cookie(name: &str, value: &str, max_age: u64) -> Result<HeaderValue, LoginError> {
    cookie::set_cookie(name, value, max_age).map_err(|_| LoginError::Internal("cookie header"))
}

/// Deletes cookie `name` (same attributes, empty value, `Max-Age=0`).
pub(crate) fn delete_cookie(name: &str) -> Result<HeaderValue, LoginError> {
    set_cookie(name, "", 0)
}

#[cfg(test)]
mod tests {
    use http::header;

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

    #[test]
    fn a_tossed_copy_counts_even_when_it_is_not_utf8() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_bytes(b"a=1; a=\xff").unwrap(),
        );
        assert_eq!(unique(&headers, "a"), None);
    }
}
