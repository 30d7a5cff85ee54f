//! Where to send the browser after login: only back into this application (OA-11, RFC 9700
//! §4.11 open redirectors).
//!
//! The rules are documented on [`safe_return_to`].

/// The longest return-to accepted: 512 bytes. Real paths are far shorter, and the value rides
/// in the login transaction cookie: with JSON escaping (up to twice the bytes), sealing and
/// base64 it must keep the cookie under the 4096 bytes RFC 6265 §6.1 guarantees (ASVS
/// V3.3.5), and a few pending logins must keep the `Cookie` header under the 8 KiB a proxy
/// accepts by default.
pub const MAX_RETURN_TO_LEN: usize = 512;

/// `Some(raw)` if `raw` is a same-origin path to return to after login, `None` otherwise.
///
/// A `return_to` / `next` parameter is attacker-controlled. Browsers resolve `//evil.example`
/// and, in http(s) URLs, `/\evil.example` as a new host; they drop tabs and newlines before
/// parsing, so `/\t/evil.example` is `//evil.example`; and a server or framework that
/// percent-decodes the value before redirecting again turns `/%2F%2Fevil.example` into
/// `//evil.example`. [`safe_return_to`] therefore accepts a deliberately small language:
///
/// - 1 to [`MAX_RETURN_TO_LEN`] bytes of visible ASCII (`!`..`~`): no whitespace, no control
///   characters, no non-ASCII (so no look-alike slashes such as U+FF0F `／`; a path with other
///   characters must arrive percent-encoded, as browsers send it);
/// - no `\` anywhere;
/// - starts with exactly one `/`: a path-absolute reference, never `//host`, never a scheme
///   (`https:…`, `javascript:…`);
/// - every `%` starts a valid escape (`%` and two hex digits);
/// - decoded once, it still starts with one `/` and has no `\`, no control character and no
///   percent-escape left: a value that still decodes after one pass (`%252F`) is refused, so
///   one more decoding by anything downstream yields a path on this origin too.
///
/// `/javascript:alert(1)` is accepted: it is a path on this origin (the browser requests
/// `https://app.example/javascript:alert(1)`), not a URL with a scheme. Dot segments
/// (`/../x`, `/%2E%2E/x`) are accepted too: they resolve within the origin.
///
/// ```
/// use paved_auth::oidc::safe_return_to;
///
/// assert_eq!(safe_return_to("/orders/42?tab=items#top"), Some("/orders/42?tab=items#top"));
/// for hostile in [
///     "//evil.example",
///     "/\\evil.example",
///     "https://evil.example/",
///     "javascript:alert(1)",
///     "/\t/evil.example",
///     "/%2F%2Fevil.example",
///     "/%5Cevil.example",
///     "/%252F%252Fevil.example",
///     "/\u{ff0f}evil.example",
/// ] {
///     assert_eq!(safe_return_to(hostile), None, "{hostile:?}");
/// }
/// ```
#[must_use]
pub fn safe_return_to(raw: &str) -> Option<&str> {
    let bytes = raw.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_RETURN_TO_LEN {
        return None;
    }
    // Visible ASCII only, and no backslash (WHATWG URL parsing treats `\` as `/` in http(s)).
    if !bytes.iter().all(|&b| b.is_ascii_graphic() && b != b'\\') {
        return None;
    }
    if !is_single_slash_start(bytes) {
        return None;
    }
    let decoded = percent_decode(bytes)?;
    if !is_single_slash_start(&decoded)
        || decoded.iter().any(|&b| b.is_ascii_control() || b == b'\\')
        || has_escape(&decoded)
    {
        return None;
    }
    Some(raw)
}

/// `/` followed by anything but another `/` (or nothing).
fn is_single_slash_start(bytes: &[u8]) -> bool {
    match bytes {
        [b'/'] => true,
        [b'/', second, ..] => *second != b'/' && *second != b'\\',
        _ => false,
    }
}

/// One pass of percent-decoding; `None` if a `%` does not start a valid escape.
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = hex(*bytes.get(i + 1)?)?;
            let lo = hex(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

/// Whether `bytes` still holds a percent-escape (`%` and two hex digits).
fn has_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0] == b'%' && hex(w[1]).is_some() && hex(w[2]).is_some())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode(b"/a%2Fb").unwrap(), b"/a/b");
        assert_eq!(
            percent_decode(b"/%e2%82%ac").unwrap(),
            "/\u{20ac}".as_bytes()
        );
        assert!(percent_decode(b"/%").is_none());
        assert!(percent_decode(b"/%4").is_none());
        assert!(percent_decode(b"/%zz").is_none());
    }

    #[test]
    fn single_slash_start() {
        assert!(is_single_slash_start(b"/"));
        assert!(is_single_slash_start(b"/a"));
        assert!(!is_single_slash_start(b"//a"));
        assert!(!is_single_slash_start(b"/\\a"));
        assert!(!is_single_slash_start(b"a/"));
        assert!(!is_single_slash_start(b""));
    }
}
