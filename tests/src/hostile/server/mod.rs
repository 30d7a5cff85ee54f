//! The endpoints: honest OIDC provider behaviour, with the armed faults applied.

mod authorize;
mod client_auth;
mod id_token;
mod token;
mod userinfo;

use std::sync::Arc;

use axum::Router;
use axum::extract::State as AxumState;
use axum::response::Response;
use axum::routing::{get, post};
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

use super::body::{Plan, json_response, oauth_error};
use super::error::HostileError;
use super::faults::Armed;
use super::state::{MetadataOverride, Shared};

/// How long an authorization code lives (RFC 6749 §4.1.2 recommends at most ten minutes; one
/// is plenty for a redirect that no user interaction delays).
pub const CODE_LIFETIME_SECS: u64 = 60;

/// How long a pushed `request_uri` lives (RFC 9126 §2.2's example value).
pub const PAR_LIFETIME_SECS: u64 = 60;

/// The longest `exp - now` accepted in a `private_key_jwt` assertion: RFC 7523 §3 lets the
/// server bound it, and the checklist (OA-14) asks clients for a short `exp`.
pub const MAX_ASSERTION_LIFETIME_SECS: u64 = 600;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/authorize", get(authorize::authorize))
        .route("/par", post(authorize::par))
        .route("/token", post(token::token))
        .route("/jwks", get(jwks))
        .route(
            "/userinfo",
            get(userinfo::userinfo_get).post(userinfo::userinfo_post),
        )
        .route(
            "/end_session",
            get(userinfo::end_session_get).post(userinfo::end_session_post),
        )
        .with_state(shared)
}

type Pairs = Vec<(String, String)>;

fn parse_pairs(input: &[u8]) -> Pairs {
    url::form_urlencoded::parse(input).into_owned().collect()
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// RFC 6749 §3.1/§3.2: request and token parameters MUST NOT be included more than once.
fn has_duplicates(pairs: &[(String, String)]) -> bool {
    pairs
        .iter()
        .enumerate()
        .any(|(i, (k, _))| pairs[..i].iter().any(|(earlier, _)| earlier == k))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

fn header_string(headers: &HeaderMap, name: http::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn new_token() -> Result<String, HostileError> {
    paved_crypto::random_token(32).map_err(|_| HostileError::Crypto)
}

fn internal_error() -> Response {
    oauth_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "the hostile server failed",
    )
}

/// `uri` with `pairs` appended to its query.
fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            if !pairs.is_empty() {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            url.to_string()
        }
        Err(_) => uri.to_owned(),
    }
}

/// RFC 7396 JSON merge patch: `null` members remove, objects merge, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(members) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (name, value) in members {
            if value.is_null() {
                target.remove(name);
            } else {
                merge_patch(target.entry(name.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery and JWKS.

/// The honest discovery document (OIDC Discovery 1.0 §3, RFC 8414 §2, RFC 9126 §5, RFC 9207 §3).
pub(crate) fn honest_metadata(issuer: &str, require_par: bool) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "end_session_endpoint": format!("{issuer}/end_session"),
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "require_pushed_authorization_requests": require_par,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp",
            "name", "email", "email_verified"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": true,
        "id_token_signing_alg_values_supported": ["ES256", "EdDSA"],
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported":
            ["ES256", "ES384", "EdDSA", "PS256", "RS256"],
        "request_parameter_supported": false,
    })
}

async fn discovery(AxumState(s): AxumState<Arc<Shared>>) -> Response {
    let (plan, honest) = {
        let mut st = s.lock();
        st.counters.discovery += 1;
        let fault = Armed::take(&mut st.faults.discovery, |_| true);
        let honest = match &st.metadata {
            MetadataOverride::None => {
                json_response(StatusCode::OK, &honest_metadata(&s.issuer, st.require_par))
            }
            MetadataOverride::Patch(patch) => {
                let mut doc = honest_metadata(&s.issuer, st.require_par);
                merge_patch(&mut doc, patch);
                json_response(StatusCode::OK, &doc)
            }
            MetadataOverride::Raw { body, content_type } => {
                let mut response = Response::new(axum::body::Body::from(body.clone()));
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    response.headers_mut().insert(CONTENT_TYPE, value);
                }
                response
            }
        };
        (Plan::for_fault(fault, &s.streams), honest)
    };
    plan.run(|| honest).await
}

async fn jwks(AxumState(s): AxumState<Arc<Shared>>) -> Response {
    let (plan, doc) = {
        let mut st = s.lock();
        st.counters.jwks += 1;
        let fetch = st.counters.jwks;
        let fault = Armed::take(&mut st.faults.jwks, |_| true);
        (Plan::for_fault(fault, &s.streams), st.jwks_document(fetch))
    };
    plan.run(|| json_response(StatusCode::OK, &doc)).await
}
