//! Client authentication at `/token` and `/par` (RFC 6749 §2.3, RFC 7523 §3).

use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::Value;

use super::{MAX_ASSERTION_LIFETIME_SECS, field};
use crate::hostile::body::oauth_error;
use crate::hostile::config::{AuthMethod, ClientAuth, ClientRegistration};
use crate::hostile::keys::{Jws, JwsError};
use crate::hostile::state::{Shared, State};

/// The clock skew tolerated on an assertion's `iat` (the paved validator's default leeway).
const ASSERTION_IAT_SKEW_SECS: u64 = 60;

/// The `client_assertion_type` of RFC 7523 §2.2.
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub(super) fn invalid_client(headers: &HeaderMap, description: &str) -> Response {
    let mut response = oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description);
    // RFC 6749 §5.2: a 401 to a client that tried Basic carries the matching challenge.
    if headers.contains_key(AUTHORIZATION) {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"hostile\""),
        );
    }
    response
}

/// `application/x-www-form-urlencoded` decoding of one component (`+` is a space, `%XX` a
/// byte; a `%` without two hex digits stays as it is, like the WHATWG decoder).
fn form_decode(component: &str) -> Option<String> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).and_then(|c| char::from(*c).to_digit(16));
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) {
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The authenticated client id and method, or why authentication failed.
pub(super) fn authenticate(
    s: &Shared,
    st: &mut State,
    headers: &HeaderMap,
    form: &[(String, String)],
    endpoint: &str,
) -> Result<(String, AuthMethod), &'static str> {
    let mut authorizations = headers.get_all(AUTHORIZATION).iter();
    let basic = match (authorizations.next(), authorizations.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => return Err("more than one Authorization header"),
        (Some(value), None) => {
            let value = value
                .to_str()
                .map_err(|_| "the Authorization header is not ASCII")?;
            let (scheme, credentials) = value.split_once(' ').ok_or("malformed Authorization")?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err("the Authorization scheme is not Basic");
            }
            Some(credentials.trim())
        }
    };
    let post = field(form, "client_secret");
    let assertion = field(form, "client_assertion");
    let methods = usize::from(basic.is_some())
        + usize::from(post.is_some())
        + usize::from(assertion.is_some());
    if methods > 1 {
        return Err("more than one client authentication method (RFC 6749 §2.3)");
    }
    let form_client_id = field(form, "client_id");
    let registered = |id: &str| st.clients.get(id).cloned().ok_or("unknown client");
    if let Some(credentials) = basic {
        let decoded = STANDARD
            .decode(credentials)
            .ok()
            .and_then(|d| String::from_utf8(d).ok())
            .ok_or("Basic credentials are not base64 of UTF-8")?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or("Basic credentials have no ':'")?;
        let id = form_decode(id).ok_or("the client id is not form-urlencoded UTF-8")?;
        let secret = form_decode(secret).ok_or("the secret is not form-urlencoded UTF-8")?;
        let client = registered(&id)?;
        let ClientAuth::SecretBasic(expected) = &client.auth else {
            return Err("the client is not registered for client_secret_basic");
        };
        if *expected != secret {
            return Err("wrong client secret (was it form-urlencoded before base64?)");
        }
        if form_client_id.is_some_and(|f| f != id) {
            return Err("client_id in the form differs from the Basic credentials");
        }
        return Ok((id, AuthMethod::ClientSecretBasic));
    }
    if let Some(secret) = post {
        let id = form_client_id.ok_or("client_id missing")?;
        let client = registered(id)?;
        let ClientAuth::SecretPost(expected) = &client.auth else {
            return Err("the client is not registered for client_secret_post");
        };
        if expected != secret {
            return Err("wrong client secret");
        }
        return Ok((id.to_owned(), AuthMethod::ClientSecretPost));
    }
    if let Some(assertion) = assertion {
        let id = check_assertion(s, st, form, assertion, endpoint)?;
        return Ok((id, AuthMethod::PrivateKeyJwt));
    }
    let id = form_client_id.ok_or("no client authentication")?;
    let client = registered(id)?;
    if client.auth != ClientAuth::None {
        return Err("the client is confidential and did not authenticate");
    }
    Ok((id.to_owned(), AuthMethod::None))
}

/// RFC 7523 §3: signature by the registered key, `iss` = `sub` = client id, `aud` naming this
/// server, a short unexpired `exp`, a `jti` never seen before.
fn check_assertion(
    s: &Shared,
    st: &mut State,
    form: &[(String, String)],
    assertion: &str,
    endpoint: &str,
) -> Result<String, &'static str> {
    if field(form, "client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
        return Err("client_assertion_type is not jwt-bearer");
    }
    let jws = Jws::parse(assertion).map_err(JwsError::describe)?;
    let claim = |name: &str| jws.claims.get(name);
    let iss = claim("iss")
        .and_then(Value::as_str)
        .ok_or("the assertion has no iss")?;
    if claim("sub").and_then(Value::as_str) != Some(iss) {
        return Err("the assertion's sub differs from its iss");
    }
    if field(form, "client_id").is_some_and(|id| id != iss) {
        return Err("client_id differs from the assertion's iss");
    }
    let client: ClientRegistration = st.clients.get(iss).cloned().ok_or("unknown client")?;
    let ClientAuth::PrivateKeyJwt(jwk) = &client.auth else {
        return Err("the client is not registered for private_key_jwt");
    };
    jws.verify(assertion, jwk).map_err(JwsError::describe)?;
    let accepted = [s.issuer.clone(), s.endpoint("/token"), endpoint.to_owned()];
    let aud_ok = match claim("aud") {
        Some(Value::String(aud)) => accepted.contains(aud),
        Some(Value::Array(auds)) => auds
            .iter()
            .filter_map(Value::as_str)
            .any(|a| accepted.iter().any(|x| x == a)),
        _ => false,
    };
    if !aud_ok {
        return Err("the assertion's aud does not name this server");
    }
    let now = s.now();
    let exp = claim("exp")
        .and_then(Value::as_u64)
        .ok_or("the assertion has no numeric exp")?;
    if exp <= now {
        return Err("the assertion has expired");
    }
    if exp - now > MAX_ASSERTION_LIFETIME_SECS {
        return Err("the assertion's exp is too far in the future");
    }
    if let Some(iat) = claim("iat") {
        let iat = iat.as_u64().ok_or("the assertion's iat is not a number")?;
        if iat > now + ASSERTION_IAT_SKEW_SECS {
            return Err("the assertion's iat is in the future");
        }
    }
    let jti = claim("jti")
        .and_then(Value::as_str)
        .ok_or("the assertion has no jti")?;
    if !st.assertion_jtis.insert(jti.to_owned()) {
        return Err("the assertion's jti was already used");
    }
    Ok(iss.to_owned())
}
