//! `/authorize` and `/par` (RFC 6749 §4.1.1, RFC 7636, RFC 9126, RFC 9207).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::response::Response;
use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, StatusCode};
use serde_json::json;

use super::client_auth::{authenticate, invalid_client};
use super::{
    CODE_LIFETIME_SECS, PAR_LIFETIME_SECS, Pairs, field, has_duplicates, header_string,
    internal_error, is_form, new_token, parse_pairs, with_query,
};
use crate::hostile::body::{Plan, json_response, oauth_error, redirect, text_response};
use crate::hostile::faults::{Armed, AuthorizeFault};
use crate::hostile::records::{AuthorizeRecord, ParRecord};
use crate::hostile::state::{CodeGrant, PushedRequest, Shared, State, push_record};

/// A checked authorization request.
struct AuthzRequest {
    client_id: String,
    redirect_uri: String,
    code_challenge: String,
    state: Option<String>,
    nonce: Option<String>,
    scope: String,
}

/// Why an authorization request is refused.
enum AuthzError {
    /// The client or redirect URI cannot be trusted: answer here, never redirect (RFC 6749
    /// §4.1.2.1).
    Local(&'static str),
    /// Redirect back with `error` (RFC 6749 §4.1.2.1).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

/// A PKCE `code_challenge` for S256: BASE64URL of a SHA-256, 43 characters (RFC 7636 §4.2).
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_authz(st: &State, params: &[(String, String)]) -> Result<AuthzRequest, AuthzError> {
    let client_id = field(params, "client_id").ok_or(AuthzError::Local("client_id missing"))?;
    let client = st
        .clients
        .get(client_id)
        .ok_or(AuthzError::Local("unknown client_id"))?;
    let redirect_uri = field(params, "redirect_uri").ok_or(AuthzError::Local(
        "redirect_uri missing (this server requires it)",
    ))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(AuthzError::Local("redirect_uri is not registered"));
    }
    let state = field(params, "state").map(str::to_owned);
    let refuse = |error, description| AuthzError::Redirect {
        redirect_uri: redirect_uri.to_owned(),
        state: state.clone(),
        error,
        description,
    };
    if field(params, "response_type") != Some("code") {
        return Err(refuse(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if field(params, "request").is_some() {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    let challenge = field(params, "code_challenge").unwrap_or_default();
    if field(params, "code_challenge_method") != Some("S256") || !is_s256_challenge(challenge) {
        return Err(refuse(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required",
        ));
    }
    Ok(AuthzRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        code_challenge: challenge.to_owned(),
        state,
        nonce: field(params, "nonce").map(str::to_owned),
        scope: field(params, "scope").unwrap_or_default().to_owned(),
    })
}

struct AuthorizeOutcome {
    params: Pairs,
    via_par: bool,
    error: Option<String>,
    location: Option<String>,
    response: Response,
}

impl AuthorizeOutcome {
    fn local(params: Pairs, via_par: bool, error: &str, description: &str) -> Self {
        Self {
            params,
            via_par,
            error: Some(error.to_owned()),
            location: None,
            response: text_response(StatusCode::BAD_REQUEST, &format!("{error}: {description}")),
        }
    }

    fn redirect(params: Pairs, via_par: bool, error: Option<String>, location: String) -> Self {
        Self {
            response: redirect(&location),
            params,
            via_par,
            error,
            location: Some(location),
        }
    }
}

pub(super) async fn authorize(
    AxumState(s): AxumState<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = parse_pairs(query.unwrap_or_default().as_bytes());
    let mut st = s.lock();
    st.counters.authorize += 1;
    let outcome = authorize_inner(&s, &mut st, &query);
    push_record(
        &mut st.records.authorize,
        AuthorizeRecord {
            query,
            params: outcome.params,
            via_par: outcome.via_par,
            error: outcome.error,
            location: outcome.location,
        },
    );
    outcome.response
}

/// The parameters to act on: the pushed ones for a `request_uri` (used up here), else the query.
fn resolve_request_uri(
    st: &mut State,
    query: &Pairs,
    now: u64,
) -> Result<(Pairs, bool), Box<AuthorizeOutcome>> {
    let Some(request_uri) = field(query, "request_uri") else {
        return Ok((query.clone(), false));
    };
    let Some(pushed) = st.pushed.remove(request_uri) else {
        return Err(Box::new(AuthorizeOutcome::local(
            query.clone(),
            true,
            "invalid_request_uri",
            "unknown or already used request_uri",
        )));
    };
    // RFC 9126 §4: the client_id in the query must match the pushed request's.
    if pushed.expires_at < now || field(query, "client_id") != Some(&pushed.client_id) {
        return Err(Box::new(AuthorizeOutcome::local(
            pushed.params,
            true,
            "invalid_request_uri",
            "expired request_uri or client_id mismatch",
        )));
    }
    Ok((pushed.params, true))
}

fn authorize_inner(s: &Shared, st: &mut State, query: &Pairs) -> AuthorizeOutcome {
    let now = s.now();
    if has_duplicates(query) {
        return AuthorizeOutcome::local(
            query.clone(),
            false,
            "invalid_request",
            "a parameter is repeated",
        );
    }
    let (params, via_par) = match resolve_request_uri(st, query, now) {
        Ok(resolved) => resolved,
        Err(outcome) => return *outcome,
    };
    let request = match check_authz(st, &params) {
        Ok(request) => request,
        Err(AuthzError::Local(description)) => {
            return AuthorizeOutcome::local(params, via_par, "invalid_request", description);
        }
        Err(AuthzError::Redirect {
            redirect_uri,
            state,
            error,
            description,
        }) => {
            let location = error_location(
                &s.issuer,
                &redirect_uri,
                state.as_deref(),
                error,
                description,
            );
            return AuthorizeOutcome::redirect(params, via_par, Some(error.to_owned()), location);
        }
    };
    if st.require_par && !via_par {
        let location = error_location(
            &s.issuer,
            &request.redirect_uri,
            request.state.as_deref(),
            "invalid_request",
            "pushed authorization requests are required",
        );
        return AuthorizeOutcome::redirect(
            params,
            via_par,
            Some("invalid_request".to_owned()),
            location,
        );
    }
    let fault = Armed::take(&mut st.faults.authorize, |_| true);
    if let Some(AuthorizeFault::Error { error, description }) = &fault {
        let location = error_location(
            &s.issuer,
            &request.redirect_uri,
            request.state.as_deref(),
            error,
            description,
        );
        return AuthorizeOutcome::redirect(params, via_par, Some(error.clone()), location);
    }
    let Ok(code) = new_token() else {
        return AuthorizeOutcome::local(params, via_par, "server_error", "no randomness");
    };
    st.codes.insert(
        code.clone(),
        CodeGrant {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            code_challenge: request.code_challenge.clone(),
            nonce: request.nonce.clone(),
            scope: request.scope.clone(),
            sub: st.subject.clone(),
            auth_time: now,
            expires_at: now + CODE_LIFETIME_SECS,
            used: false,
            family: None,
        },
    );
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    if fault != Some(AuthorizeFault::OmitCode) {
        pairs.push(("code", &code));
    }
    match (&fault, request.state.as_deref()) {
        (Some(AuthorizeFault::DropState), _) | (_, None) => {}
        (Some(AuthorizeFault::ReplaceState(other)), Some(_)) => pairs.push(("state", other)),
        (_, Some(state)) => pairs.push(("state", state)),
    }
    match &fault {
        Some(AuthorizeFault::OmitIss) => {}
        Some(AuthorizeFault::WrongIss(other)) => pairs.push(("iss", other)),
        _ => pairs.push(("iss", &s.issuer)),
    }
    let location = with_query(&request.redirect_uri, &pairs);
    AuthorizeOutcome::redirect(params, via_par, None, location)
}

fn error_location(
    issuer: &str,
    redirect_uri: &str,
    state: Option<&str>,
    error: &str,
    description: &str,
) -> String {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    with_query(redirect_uri, &pairs)
}

/// The form fields that authenticate the client, which a pushed request does not keep.
const CLIENT_AUTH_FIELDS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

pub(super) async fn par(
    AxumState(s): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = parse_pairs(&body);
    let authorization = header_string(&headers, AUTHORIZATION);
    let plan = {
        let mut st = s.lock();
        st.counters.par += 1;
        let plan = Plan::for_fault(Armed::take(&mut st.faults.par, |_| true), &s.streams);
        if plan.replaces() {
            push_record(
                &mut st.records.par,
                ParRecord {
                    form: form.clone(),
                    authorization: authorization.clone(),
                    auth_method: None,
                    error: None,
                    request_uri: None,
                },
            );
        }
        plan
    };
    plan.run(|| {
        let mut st = s.lock();
        let mut record = ParRecord {
            form: form.clone(),
            authorization,
            auth_method: None,
            error: None,
            request_uri: None,
        };
        let response = par_inner(&s, &mut st, &headers, &form, &mut record);
        push_record(&mut st.records.par, record);
        response
    })
    .await
}

fn par_inner(
    s: &Shared,
    st: &mut State,
    headers: &HeaderMap,
    form: &Pairs,
    record: &mut ParRecord,
) -> Response {
    let mut fail = |status, error: &str, description: &str| {
        record.error = Some(error.to_owned());
        oauth_error(status, error, description)
    };
    if !is_form(headers) || has_duplicates(form) {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "a form body without repeated parameters is required",
        );
    }
    let (client_id, method) = match authenticate(s, st, headers, form, &s.endpoint("/par")) {
        Ok(ok) => ok,
        Err(description) => {
            record.error = Some("invalid_client".to_owned());
            return invalid_client(headers, description);
        }
    };
    record.auth_method = Some(method);
    if field(form, "request_uri").is_some() {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "request_uri is not allowed in a pushed request",
        );
    }
    if field(form, "client_id").is_some_and(|id| id != client_id) {
        return fail(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id differs from the authenticated client",
        );
    }
    let mut params: Pairs = form
        .iter()
        .filter(|(k, _)| !CLIENT_AUTH_FIELDS.contains(&k.as_str()) && k != "client_id")
        .cloned()
        .collect();
    params.insert(0, ("client_id".to_owned(), client_id.clone()));
    match check_authz(st, &params) {
        Ok(_) => {}
        Err(AuthzError::Local(description)) => {
            return fail(StatusCode::BAD_REQUEST, "invalid_request", description);
        }
        Err(AuthzError::Redirect {
            error, description, ..
        }) => return fail(StatusCode::BAD_REQUEST, error, description),
    }
    let Ok(token) = new_token() else {
        return internal_error();
    };
    let request_uri = format!("urn:ietf:params:oauth:request_uri:{token}");
    st.pushed.insert(
        request_uri.clone(),
        PushedRequest {
            client_id,
            params,
            expires_at: s.now() + PAR_LIFETIME_SECS,
        },
    );
    record.request_uri = Some(request_uri.clone());
    json_response(
        StatusCode::CREATED,
        &json!({ "request_uri": request_uri, "expires_in": PAR_LIFETIME_SECS }),
    )
}
