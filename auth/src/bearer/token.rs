//! Finding the one bearer token of a request (JW-25, JW-26).

use http::header::AUTHORIZATION;
use http::{HeaderMap, Uri};

/// The longest `Authorization` value read: the validator's largest token cap plus the scheme.
pub(crate) const MAX_AUTHORIZATION_LEN: usize = crate::jwt::MAX_TOKEN_LEN_CEILING + 16;

/// Why no token could be taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExtractError {
    /// No `Authorization` header: the client did not try (401, no error code).
    Missing,
    /// Another scheme, e.g. `Basic` (401, no error code: RFC 6750 §3.1).
    OtherScheme,
    /// Several `Authorization` headers (400 `invalid_request`).
    Multiple,
    /// `Bearer` with no token, extra spaces or characters outside token68 (400).
    Malformed,
    /// `access_token` in the query string (400; OAuth 2.1 forbids it).
    QueryToken,
}

impl ExtractError {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Missing => "no Authorization header",
            Self::OtherScheme => "Authorization header with another scheme than Bearer",
            Self::Multiple => "several Authorization headers",
            Self::Malformed => "malformed Bearer credentials (not one space + token68)",
            Self::QueryToken => "access_token in the query string",
        }
    }
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// The token of one `Authorization` value: `Bearer` (any case), one space, token68.
pub(crate) fn parse_authorization(value: &[u8]) -> Result<&str, ExtractError> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(ExtractError::Malformed);
    }
    let (scheme, rest) = match value.iter().position(|b| *b == b' ') {
        Some(i) => (&value[..i], Some(&value[i + 1..])),
        None => (value, None),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Err(ExtractError::OtherScheme);
    }
    let token = rest.ok_or(ExtractError::Malformed)?;
    let body_len = token.iter().take_while(|b| is_token68_char(**b)).count();
    let valid = body_len > 0 && token[body_len..].iter().all(|b| *b == b'=');
    if !valid {
        return Err(ExtractError::Malformed);
    }
    // token68 is ASCII by construction.
    std::str::from_utf8(token).map_err(|_| ExtractError::Malformed)
}

fn percent_decoded_eq(name: &str, expected: &str) -> bool {
    let bytes = name.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                decoded.push(v);
                i += 3;
                continue;
            }
        }
        decoded.push(if b == b'+' { b' ' } else { b });
        i += 1;
    }
    decoded == expected.as_bytes()
}

/// The request's bearer token, if it has exactly one, in the one place it may be.
pub(crate) fn bearer_token<'h>(headers: &'h HeaderMap, uri: &Uri) -> Result<&'h str, ExtractError> {
    if let Some(query) = uri.query() {
        let in_query = query
            .split('&')
            .any(|pair| percent_decoded_eq(pair.split('=').next().unwrap_or(""), "access_token"));
        if in_query {
            return Err(ExtractError::QueryToken);
        }
    }
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(ExtractError::Missing);
    };
    if values.next().is_some() {
        return Err(ExtractError::Multiple);
    }
    parse_authorization(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_bearer_syntax() {
        assert_eq!(
            parse_authorization(b"Bearer abc.def-_~+/=="),
            Ok("abc.def-_~+/==")
        );
        assert_eq!(parse_authorization(b"bEaReR x"), Ok("x"));
        assert_eq!(parse_authorization(b"Bearer"), Err(ExtractError::Malformed));
        assert_eq!(
            parse_authorization(b"Bearer "),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Bearer  x"),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Bearer x "),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Bearer x=y"),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Bearer =="),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Bearer a,b"),
            Err(ExtractError::Malformed)
        );
        assert_eq!(
            parse_authorization(b"Basic dXNlcjpwYXNz"),
            Err(ExtractError::OtherScheme)
        );
        assert_eq!(
            parse_authorization(b"Bearerx y"),
            Err(ExtractError::OtherScheme)
        );
        assert_eq!(parse_authorization(b""), Err(ExtractError::OtherScheme));
    }

    #[test]
    fn query_tokens_are_found_even_when_encoded() {
        let headers = HeaderMap::new();
        for uri in [
            "/x?access_token=a",
            "/x?a=1&access%5Ftoken=b",
            "/x?access%5ftoken",
        ] {
            let uri: Uri = uri.parse().unwrap();
            assert_eq!(
                bearer_token(&headers, &uri),
                Err(ExtractError::QueryToken),
                "{uri}"
            );
        }
        let uri: Uri = "/x?token=a&access_tokens=1&%".parse().unwrap();
        assert_eq!(bearer_token(&headers, &uri), Err(ExtractError::Missing));
    }
}
