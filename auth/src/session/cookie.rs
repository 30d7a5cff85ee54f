//! The session cookie: writing `Set-Cookie`, finding the session id in `Cookie` headers.

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

use super::{SessionError, SessionId};

/// The prefix every session cookie name carries. Browsers accept a `__Host-` cookie only with
/// `Secure`, `Path=/`, no `Domain`, from a secure origin (RFC 6265bis §4.1.3.2): a sibling or
/// parent domain cannot set it, and it is never sent to another host.
pub const HOST_PREFIX: &str = "__Host-";

/// The default session cookie name.
pub const DEFAULT_COOKIE_NAME: &str = "__Host-session";

/// The longest cookie name accepted: names travel in every request, and browsers cap a cookie's
/// name plus value at 4096 bytes (RFC 6265bis §5.4 / §6.1).
pub const MAX_COOKIE_NAME_LEN: usize = 64;

/// Checks a custom cookie name: `__Host-` prefix, then an RFC 9110 §5.6.2 token (RFC 6265
/// §4.1.1 `cookie-name`), at most [`MAX_COOKIE_NAME_LEN`] bytes.
pub(crate) fn validate_cookie_name(name: &str) -> Result<(), SessionError> {
    if !name.starts_with(HOST_PREFIX) {
        return Err(SessionError::Config(
            "the cookie name must start with __Host- (OA-12)",
        ));
    }
    if name.len() == HOST_PREFIX.len() || name.len() > MAX_COOKIE_NAME_LEN {
        return Err(SessionError::Config(
            "the cookie name must have 1 to 57 characters after __Host-",
        ));
    }
    if !name.bytes().all(is_tchar) {
        return Err(SessionError::Config(
            "the cookie name must be an HTTP token (letters, digits, !#$%&'*+-.^_`|~)",
        ));
    }
    Ok(())
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `Set-Cookie` for a session: `<name>=<value>; Path=/; Secure; HttpOnly; SameSite=Lax;
/// Max-Age=<secs>`. No `Domain` ever: with one the cookie would reach every subdomain (and
/// browsers drop a `__Host-` cookie that has one).
///
/// `HttpOnly` keeps the id from scripts (an XSS cannot read it, OA-12); `SameSite=Lax` keeps it
/// off cross-site subrequests and POSTs while a top-level navigation back from the identity
/// provider still carries it (`Strict` would make the login callback arrive without it).
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: u64,
) -> Result<HeaderValue, SessionError> {
    let text = format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}");
    let mut header = HeaderValue::from_str(&text)
        // The name is a validated token and the value base64url or empty: cannot fail.
        .map_err(|_| SessionError::Config("the cookie name is not a valid header value"))?;
    // Keeps the id out of `Debug` output and out of HPACK/QPACK compression tables.
    header.set_sensitive(!value.is_empty());
    Ok(header)
}

/// Finds the session id in the request's `Cookie` headers.
///
/// Pairs are split on `;` across every `Cookie` header (HTTP/2 and HTTP/3 may send several) and
/// names compared byte for byte, case-sensitively (RFC 6265 §5.4 sends names as stored). The id
/// is used only when the name occurs exactly once: if it occurs twice, someone else set one of
/// them (cookie tossing: a nameless cookie whose value is `__Host-session=…`, a whitespace or
/// encoding variant of the name, or an older browser without prefix support lets a sibling
/// subdomain plant a second cookie that the browser sends alongside ours), and nothing tells
/// which is ours, so neither is used. Header bytes are parsed without UTF-8 or ASCII checks, so
/// an unrelated malformed cookie cannot hide the session one.
pub(crate) fn find_session_id(headers: &HeaderMap, name: &str) -> Option<SessionId> {
    SessionId::from_cookie_value(std::str::from_utf8(unique_cookie(headers, name)?).ok()?)
}

/// Every `name=value` pair of every `Cookie` header, as trimmed bytes; pairs without `=` are
/// skipped. Shared by the session cookie and the login's transaction cookies.
pub(crate) fn cookie_pairs(headers: &HeaderMap) -> impl Iterator<Item = (&[u8], &[u8])> {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|header| header.as_bytes().split(|b| *b == b';'))
        .filter_map(|pair| {
            let at = pair.iter().position(|b| *b == b'=')?;
            Some((pair[..at].trim_ascii(), pair[at + 1..].trim_ascii()))
        })
}

/// The value of cookie `name` if the name occurs exactly once (see
/// [`find_session_id`] for why a second occurrence means none).
pub(crate) fn unique_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h [u8]> {
    let mut found = None;
    for (pair_name, value) in cookie_pairs(headers) {
        if pair_name == name.as_bytes() && found.replace(value).is_some() {
            return None;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_names_need_the_host_prefix_and_token_characters() {
        assert!(validate_cookie_name("__Host-app").is_ok());
        assert!(validate_cookie_name(DEFAULT_COOKIE_NAME).is_ok());
        for bad in [
            "session",
            "__Secure-session",
            "__host-session",
            "__Host-",
            "__Host-a b",
            "__Host-a;b",
            "__Host-a=b",
            "__Host-é",
            &format!("__Host-{}", "a".repeat(MAX_COOKIE_NAME_LEN)),
        ] {
            assert!(
                matches!(validate_cookie_name(bad), Err(SessionError::Config(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_malformed_neighbour_cookie_does_not_hide_the_session() {
        let id = SessionId::generate().unwrap();
        let mut headers = HeaderMap::new();
        let raw = format!(
            "junk=\u{00ff}bytes; {DEFAULT_COOKIE_NAME}={}; novalue",
            id.expose_cookie_value()
        );
        headers.append(COOKIE, HeaderValue::from_bytes(raw.as_bytes()).unwrap());
        assert_eq!(find_session_id(&headers, DEFAULT_COOKIE_NAME), Some(id));
    }

    #[test]
    fn name_comparison_is_case_sensitive() {
        let id = SessionId::generate().unwrap();
        let mut headers = HeaderMap::new();
        let raw = format!("__host-session={}", id.expose_cookie_value());
        headers.append(COOKIE, HeaderValue::from_str(&raw).unwrap());
        assert_eq!(find_session_id(&headers, DEFAULT_COOKIE_NAME), None);
    }
}
