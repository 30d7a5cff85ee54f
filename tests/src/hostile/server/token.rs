//! The token endpoint: authorization code and refresh grants (RFC 6749 §4.1.3, §6).

use std::sync::Arc;

use axum::extract::State as AxumState;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::client_auth::{authenticate, invalid_client};
use super::id_token::mint_id_token;
use super::{
    Pairs, field, has_duplicates, header_string, is_form, merge_patch, new_token, parse_pairs,
};
use crate::hostile::body::{Plan, json_response, oauth_error};
use crate::hostile::error::HostileError;
use crate::hostile::faults::{Armed, TokenFault};
use crate::hostile::records::TokenRecord;
use crate::hostile::state::{AccessGrant, RefreshGrant, Shared, State, push_record};

/// An OAuth error from a grant.
struct GrantError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
}

fn invalid_grant(description: &'static str) -> GrantError {
    GrantError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_grant",
        description,
    }
}

fn invalid_request(description: &'static str) -> GrantError {
    GrantError {
        status: StatusCode::BAD_REQUEST,
        error: "invalid_request",
        description,
    }
}

fn server_error(_: HostileError) -> GrantError {
    GrantError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        description: "the hostile server failed",
    }
}

pub(super) async fn token(
    AxumState(s): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_pairs(&body);
    let grant_type = field(&form, "grant_type").map(str::to_owned);
    let record = TokenRecord {
        grant_type: grant_type.clone(),
        form: form.clone(),
        authorization: header_string(&headers, AUTHORIZATION),
        content_type: header_string(&headers, CONTENT_TYPE),
        auth_method: None,
        error: None,
        faulted: false,
    };
    let (plan, shape) = {
        let mut st = s.lock();
        st.counters.token += 1;
        match grant_type.as_deref() {
            Some("authorization_code") => st.counters.code_exchange += 1,
            Some("refresh_token") => st.counters.refresh += 1,
            _ => {}
        }
        let fault = Armed::take(&mut st.faults.token, |(_, filter)| {
            filter.matches(grant_type.as_deref())
        })
        .map(|(fault, _)| fault);
        let (plan, shape, error) = match fault {
            None => (Plan::Honest, None, None),
            Some(TokenFault::Transport(transport)) => {
                (Plan::for_fault(Some(transport), &s.streams), None, None)
            }
            Some(TokenFault::InvalidGrant) => (
                Plan::Replace(oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "the grant is invalid (hostile fault)",
                )),
                None,
                Some("invalid_grant".to_owned()),
            ),
            Some(TokenFault::OAuthError { status, error }) => (
                Plan::Replace(oauth_error(
                    StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
                    &error,
                    "hostile fault",
                )),
                None,
                Some(error),
            ),
            Some(shape) => (Plan::Honest, Some(shape), None),
        };
        if plan.replaces() {
            push_record(
                &mut st.records.token,
                TokenRecord {
                    error,
                    faulted: true,
                    ..record.clone()
                },
            );
        }
        (plan, shape)
    };
    let faulted = !matches!(plan, Plan::Honest) || shape.is_some();
    plan.run(|| {
        let mut st = s.lock();
        let mut record = TokenRecord { faulted, ..record };
        let response = match token_inner(&s, &mut st, &headers, &form, &mut record) {
            Ok(mut body) => {
                if let Some(shape) = &shape {
                    apply_shape(&mut body, shape);
                }
                if let Some(patch) = &st.token_response_patch {
                    merge_patch(&mut body, patch);
                }
                json_response(StatusCode::OK, &body)
            }
            Err(TokenError::Client(description)) => {
                record.error = Some("invalid_client".to_owned());
                invalid_client(&headers, description)
            }
            Err(TokenError::Grant(e)) => {
                record.error = Some(e.error.to_owned());
                oauth_error(e.status, e.error, e.description)
            }
        };
        push_record(&mut st.records.token, record);
        response
    })
    .await
}

enum TokenError {
    Client(&'static str),
    Grant(GrantError),
}

impl From<GrantError> for TokenError {
    fn from(e: GrantError) -> Self {
        Self::Grant(e)
    }
}

fn token_inner(
    s: &Shared,
    st: &mut State,
    headers: &HeaderMap,
    form: &Pairs,
    record: &mut TokenRecord,
) -> Result<Value, TokenError> {
    if !is_form(headers) {
        return Err(invalid_request("the body must be application/x-www-form-urlencoded").into());
    }
    if has_duplicates(form) {
        return Err(invalid_request("a parameter is repeated").into());
    }
    let (client_id, method) =
        authenticate(s, st, headers, form, &s.endpoint("/token")).map_err(TokenError::Client)?;
    record.auth_method = Some(method);
    match field(form, "grant_type") {
        Some("authorization_code") => Ok(code_grant(s, st, &client_id, form)?),
        Some("refresh_token") => Ok(refresh_grant(s, st, &client_id, form)?),
        Some(_) => Err(GrantError {
            status: StatusCode::BAD_REQUEST,
            error: "unsupported_grant_type",
            description: "only authorization_code and refresh_token",
        }
        .into()),
        None => Err(invalid_request("grant_type missing").into()),
    }
}

/// RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
fn is_code_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// What tokens are minted for.
pub(super) struct Subject {
    pub(super) client_id: String,
    pub(super) sub: String,
    pub(super) scope: String,
    pub(super) nonce: Option<String>,
    pub(super) auth_time: u64,
    pub(super) family: u64,
}

fn revoke_family(st: &mut State, family: u64) {
    st.revoked_families.insert(family);
}

fn code_grant(
    s: &Shared,
    st: &mut State,
    client_id: &str,
    form: &Pairs,
) -> Result<Value, GrantError> {
    let now = s.now();
    let code = field(form, "code").ok_or(invalid_request("code missing"))?;
    let family = st.next_family;
    let grant = st
        .codes
        .get_mut(code)
        .ok_or(invalid_grant("unknown authorization code"))?;
    if grant.used {
        // RFC 6749 §4.1.2: a replayed code revokes what it issued.
        let issued = grant.family;
        if let Some(issued) = issued {
            revoke_family(st, issued);
        }
        return Err(invalid_grant("the authorization code was already used"));
    }
    // Consumed on first presentation, whatever the outcome: a client must never retry (OA-09).
    grant.used = true;
    if grant.client_id != client_id {
        return Err(invalid_grant("the code was issued to another client"));
    }
    if grant.expires_at < now {
        return Err(invalid_grant("the authorization code has expired"));
    }
    if field(form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request",
        ));
    }
    let verifier = field(form, "code_verifier").ok_or(invalid_grant("code_verifier missing"))?;
    if !is_code_verifier(verifier) {
        return Err(invalid_grant("code_verifier is malformed"));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    if URL_SAFE_NO_PAD.encode(digest.as_ref()) != grant.code_challenge {
        return Err(invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    grant.family = Some(family);
    let subject = Subject {
        client_id: grant.client_id.clone(),
        sub: grant.sub.clone(),
        scope: grant.scope.clone(),
        nonce: grant.nonce.clone(),
        auth_time: grant.auth_time,
        family,
    };
    st.next_family += 1;
    issue_tokens(s, st, &subject, false).map_err(server_error)
}

fn refresh_grant(
    s: &Shared,
    st: &mut State,
    client_id: &str,
    form: &Pairs,
) -> Result<Value, GrantError> {
    let token = field(form, "refresh_token").ok_or(invalid_request("refresh_token missing"))?;
    let grant: RefreshGrant = st
        .refresh
        .get(token)
        .cloned()
        .ok_or(invalid_grant("unknown refresh token"))?;
    if st.revoked_families.contains(&grant.family) {
        return Err(invalid_grant("the refresh token was revoked"));
    }
    if !grant.active {
        // RFC 9700 §4.14.2: a rotated refresh token presented again means it leaked (or the
        // client raced itself); the whole family is revoked.
        revoke_family(st, grant.family);
        return Err(invalid_grant(
            "the refresh token was already rotated; its family is revoked",
        ));
    }
    if grant.client_id != client_id {
        return Err(invalid_grant("the refresh token belongs to another client"));
    }
    let scope = match field(form, "scope") {
        Some(requested) => {
            let granted: Vec<&str> = grant.scope.split(' ').collect();
            if !requested.split(' ').all(|s| granted.contains(&s)) {
                return Err(GrantError {
                    status: StatusCode::BAD_REQUEST,
                    error: "invalid_scope",
                    description: "the requested scope exceeds the original grant",
                });
            }
            requested.to_owned()
        }
        None => grant.scope.clone(),
    };
    if let Some(old) = st.refresh.get_mut(token) {
        old.active = false;
    }
    let subject = Subject {
        client_id: grant.client_id,
        sub: grant.sub,
        scope,
        nonce: grant.nonce,
        auth_time: grant.auth_time,
        family: grant.family,
    };
    issue_tokens(s, st, &subject, true).map_err(server_error)
}

fn issue_tokens(
    s: &Shared,
    st: &mut State,
    subject: &Subject,
    refresh: bool,
) -> Result<Value, HostileError> {
    let now = s.now();
    let lifetime = st.access_token_lifetime.as_secs();
    let access_token = new_token()?;
    let refresh_token = new_token()?;
    st.access.insert(
        access_token.clone(),
        AccessGrant {
            sub: subject.sub.clone(),
            expires_at: now + lifetime,
            family: subject.family,
        },
    );
    st.refresh.insert(
        refresh_token.clone(),
        RefreshGrant {
            client_id: subject.client_id.clone(),
            scope: subject.scope.clone(),
            sub: subject.sub.clone(),
            nonce: subject.nonce.clone(),
            auth_time: subject.auth_time,
            family: subject.family,
            active: true,
        },
    );
    let mut body = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "refresh_token": refresh_token,
        "scope": subject.scope,
    });
    if subject.scope.split(' ').any(|s| s == "openid")
        && let Some(id_token) = mint_id_token(s, st, subject, refresh)?
        && let Value::Object(members) = &mut body
    {
        members.insert("id_token".to_owned(), Value::String(id_token));
    }
    Ok(body)
}

fn apply_shape(body: &mut Value, fault: &TokenFault) {
    let Value::Object(members) = body else {
        return;
    };
    match fault {
        TokenFault::ExpiresInString => {
            if let Some(Value::Number(n)) = members.get("expires_in").cloned() {
                members.insert("expires_in".to_owned(), Value::String(n.to_string()));
            }
        }
        TokenFault::TokenTypeLowercase => {
            members.insert("token_type".to_owned(), json!("bearer"));
        }
        TokenFault::TokenTypeMac => {
            members.insert("token_type".to_owned(), json!("mac"));
        }
        TokenFault::NoAccessToken => {
            members.remove("access_token");
        }
        TokenFault::NoRefreshToken => {
            members.remove("refresh_token");
        }
        TokenFault::ExtraFields => {
            members.insert(
                "x_hostile_object".to_owned(),
                json!({ "nested": [1, 2, { "deep": true }] }),
            );
            members.insert("not-before-policy".to_owned(), json!(0));
            members.insert("refresh_expires_in".to_owned(), json!(1800));
        }
        TokenFault::InvalidGrant | TokenFault::OAuthError { .. } | TokenFault::Transport(_) => {}
    }
}
