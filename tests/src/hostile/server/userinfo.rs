//! `/userinfo` (OIDC Core §5.3) and `/end_session` (RP-Initiated Logout 1.0).

use std::sync::Arc;

use axum::extract::{RawQuery, State as AxumState};
use axum::response::Response;
use bytes::Bytes;
use http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use super::{Pairs, field, header_string, parse_pairs, with_query};
use crate::hostile::body::{Plan, json_response, redirect, text_response};
use crate::hostile::faults::{Armed, UserinfoFault};
use crate::hostile::keys::Jws;
use crate::hostile::records::{EndSessionRecord, UserinfoRecord};
use crate::hostile::state::{Shared, State, push_record};

pub(super) async fn userinfo_get(
    AxumState(s): AxumState<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    userinfo(s, "GET", headers).await
}

pub(super) async fn userinfo_post(
    AxumState(s): AxumState<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    userinfo(s, "POST", headers).await
}

async fn userinfo(s: Arc<Shared>, method: &str, headers: HeaderMap) -> Response {
    let (plan, different_sub) = {
        let mut st = s.lock();
        st.counters.userinfo += 1;
        match Armed::take(&mut st.faults.userinfo, |_| true) {
            Some(UserinfoFault::Transport(t)) => (Plan::for_fault(Some(t), &s.streams), None),
            Some(UserinfoFault::DifferentSub(sub)) => (Plan::Honest, Some(sub)),
            None => (Plan::Honest, None),
        }
    };
    let mut record = UserinfoRecord {
        method: method.to_owned(),
        authorization: header_string(&headers, AUTHORIZATION),
        error: None,
    };
    if plan.replaces() {
        push_record(&mut s.lock().records.userinfo, record);
        return plan.run(Response::default).await;
    }
    plan.run(|| {
        let mut st = s.lock();
        let response = match bearer_subject(&s, &st, &headers) {
            Ok(sub) => json_response(
                StatusCode::OK,
                &json!({
                    "sub": different_sub.unwrap_or(sub),
                    "name": "Hostile User",
                    "email": "user@hostile.test",
                    "email_verified": true,
                }),
            ),
            Err(error) => {
                record.error = error.map(str::to_owned);
                let challenge = match error {
                    Some(error) => format!("Bearer error=\"{error}\""),
                    None => "Bearer".to_owned(),
                };
                let mut response = json_response(
                    StatusCode::UNAUTHORIZED,
                    &json!({ "error": error.unwrap_or("invalid_request") }),
                );
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(WWW_AUTHENTICATE, value);
                }
                response
            }
        };
        push_record(&mut st.records.userinfo, record);
        response
    })
    .await
}

/// The `sub` of a valid bearer token, or the RFC 6750 §3.1 error (`None`: no credentials).
fn bearer_subject(
    s: &Shared,
    st: &State,
    headers: &HeaderMap,
) -> Result<String, Option<&'static str>> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(None),
        (Some(_), Some(_)) => return Err(Some("invalid_request")),
        (Some(value), None) => value.to_str().map_err(|_| Some("invalid_request"))?,
    };
    let (scheme, token) = value.split_once(' ').ok_or(Some("invalid_request"))?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Some("invalid_request"));
    }
    let grant = st.access.get(token).ok_or(Some("invalid_token"))?;
    if grant.expires_at < s.now() || st.revoked_families.contains(&grant.family) {
        return Err(Some("invalid_token"));
    }
    Ok(grant.sub.clone())
}

pub(super) async fn end_session_get(
    AxumState(s): AxumState<Arc<Shared>>,
    RawQuery(query): RawQuery,
) -> Response {
    end_session(&s, "GET", parse_pairs(query.unwrap_or_default().as_bytes()))
}

pub(super) async fn end_session_post(
    AxumState(s): AxumState<Arc<Shared>>,
    body: Bytes,
) -> Response {
    end_session(&s, "POST", parse_pairs(&body))
}

fn end_session(s: &Shared, method: &str, params: Pairs) -> Response {
    let mut st = s.lock();
    st.counters.end_session += 1;
    let hint = field(&params, "id_token_hint").and_then(|h| Jws::parse(h).ok().map(|j| (h, j)));
    let id_token_hint_valid = field(&params, "id_token_hint").map(|_| {
        hint.as_ref().is_some_and(|(token, jws)| {
            let kid = jws.header.get("kid").and_then(Value::as_str);
            jws.claims.get("iss").and_then(Value::as_str) == Some(s.issuer.as_str())
                && st
                    .keys
                    .iter()
                    .filter(|e| kid.is_none_or(|k| e.key.kid() == k))
                    .any(|e| jws.verify(token, &e.key.public_jwk()).is_ok())
        })
    });
    let client_id = field(&params, "client_id").map(str::to_owned).or_else(|| {
        hint.as_ref()
            .and_then(|(_, jws)| match jws.claims.get("aud") {
                Some(Value::String(aud)) => Some(aud.clone()),
                Some(Value::Array(auds)) => auds.first().and_then(Value::as_str).map(str::to_owned),
                _ => None,
            })
    });
    let target = field(&params, "post_logout_redirect_uri");
    let registered = target.is_some_and(|uri| {
        client_id
            .as_deref()
            .and_then(|id| st.clients.get(id))
            .is_some_and(|c| c.post_logout_redirect_uris.iter().any(|r| r == uri))
    });
    let response = match target {
        Some(uri) if registered => {
            let state: Vec<(&str, &str)> = field(&params, "state")
                .map(|v| ("state", v))
                .into_iter()
                .collect();
            redirect(&with_query(uri, &state))
        }
        Some(_) => text_response(
            StatusCode::BAD_REQUEST,
            "post_logout_redirect_uri is not registered for this client",
        ),
        None => text_response(StatusCode::OK, "You are signed out."),
    };
    push_record(
        &mut st.records.end_session,
        EndSessionRecord {
            method: method.to_owned(),
            params,
            id_token_hint_valid,
            redirected: registered,
        },
    );
    response
}
