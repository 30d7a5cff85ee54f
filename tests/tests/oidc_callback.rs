//! The authorization request and the callback of the paved OIDC login against the hostile
//! provider: response type (OA-01), `state` (OA-03), the transaction cookie (OA-04), `nonce`
//! (OA-05), RFC 9207 `iss` (OA-06), error responses (OA-08), cache and referrer headers
//! (OA-10), return-to (OA-11), login CSRF (OA-23) and the failure pages (OA-26).
//!
//! Every refused callback is checked for its status *and* for the absence of a session, and,
//! where the control sits before the code exchange, for the absence of a token request (so a
//! test cannot pass because the provider happened to refuse the code instead).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use http::{StatusCode, header};
use paved_auth::oidc::{MetadataError, OidcError};
use paved_tests::app::{self, HostileApp, Jar, Reply, TestClock};
use paved_tests::hostile::{
    AuthorizeFault, DEFAULT_CLIENT_ID, GrantFilter, HostileAs, IdTokenFault, Shots, TokenFault,
    TransportFault,
};
use serde_json::json;

const TX_PREFIX: &str = "__Host-paved-tx-";

// ---------------------------------------------------------------------------------------------
// Helpers.

/// An honest provider and an app logged in through it, sharing one clock.
async fn setup() -> (HostileAs, HostileApp) {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    (idp, t)
}

/// The jar holds no session and `/me` does not let it in.
async fn assert_no_session(app: &Router, jar: &Jar) {
    assert!(
        jar.get("__Host-session").is_none(),
        "a session cookie was set: {:?}",
        jar.names()
    );
    assert!(!app::logged_in(app, jar).await, "/me let the browser in");
}

/// `url` with the query parameter `name` set to `value` (appended if absent).
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let mut replaced = false;
    {
        let mut query = parsed.query_pairs_mut();
        query.clear();
        for (k, v) in &pairs {
            if k == name {
                query.append_pair(k, value);
                replaced = true;
            } else {
                query.append_pair(k, v);
            }
        }
        if !replaced {
            query.append_pair(name, value);
        }
    }
    parsed.to_string()
}

/// `value` with the character at `index` replaced by another base64url character (the result
/// is still well-formed).
fn flip_char(value: &str, index: usize) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The `Set-Cookie` of `reply` for cookie `name`, if any.
fn set_cookie_for(reply: &Reply, name: &str) -> Option<String> {
    reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn header_value(reply: &Reply, name: header::HeaderName) -> &str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A way to make the provider misbehave.
type Arm<'a> = &'a dyn Fn(&HostileAs);

/// The headers every login-endpoint response carries (OA-10).
fn assert_no_store_no_referrer(reply: &Reply) {
    assert_eq!(header_value(reply, header::CACHE_CONTROL), "no-store");
    assert_eq!(header_value(reply, header::REFERRER_POLICY), "no-referrer");
}

/// A generic failure page (OA-26): HTML, a CSP that allows nothing, no caching.
fn assert_generic_page(reply: &Reply) {
    assert!(
        header_value(reply, header::CONTENT_TYPE).starts_with("text/html"),
        "{:?}",
        reply.headers
    );
    assert!(
        header_value(reply, header::CONTENT_SECURITY_POLICY).contains("default-src 'none'"),
        "{:?}",
        reply.headers
    );
    assert_no_store_no_referrer(reply);
}

// ---------------------------------------------------------------------------------------------
// OA-01: authorization code grant only.

#[tokio::test]
async fn oa_01_authorization_request_asks_for_a_code_only() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let response_types: Vec<String> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| k == "response_type")
        .map(|(_, v)| v.into_owned())
        .collect();
    assert_eq!(response_types, ["code"], "{url}");
    assert_eq!(app::query_param(&url, "response_mode"), None);
    let callback = app::approve(&idp, &url).await;
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    // What the provider acted on, and the only grant the client used.
    let authorize = idp.authorize_requests();
    assert_eq!(authorize.len(), 1);
    assert_eq!(authorize[0].param("response_type"), Some("code"));
    assert_eq!(authorize[0].error, None);
    let grants: Vec<Option<String>> = idp
        .token_requests()
        .into_iter()
        .map(|r| r.grant_type)
        .collect();
    assert_eq!(grants, [Some("authorization_code".to_owned())]);
    assert!(app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_01_provider_without_the_code_flow_is_refused() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_metadata_patch(json!({"response_types_supported": ["token", "id_token"]}));
    let err = app::hostile_app(&idp, &clock, |b| b, |b| b)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        OidcError::Metadata(MetadataError::CodeFlowNotSupported)
    );
}

// ---------------------------------------------------------------------------------------------
// OA-03: state.

#[tokio::test]
async fn oa_03_replayed_callback_is_refused_before_the_provider() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let captured = app::tx_cookies(&jar);
    assert_eq!(captured.len(), 1);
    let callback = app::approve(&idp, &url).await;
    let first = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    assert!(app::logged_in(&t.app, &jar).await);

    // The same URL and the same cookie, captured together, played again.
    let replay = Jar::default();
    replay.set(&captured[0].0, &captured[0].1);
    let second = app::follow_callback(&t.app, &replay, &callback).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST, "{}", second.body);
    assert_no_session(&t.app, &replay).await;
    // Single use is the client's own: the replay never reached the token endpoint.
    assert_eq!(idp.code_exchange_calls(), 1);
}

#[tokio::test]
async fn oa_03_missing_state_is_refused() {
    let (idp, t) = setup().await;
    idp.set_authorize_fault(AuthorizeFault::DropState, Shots::ONCE);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

#[tokio::test]
async fn oa_03_altered_state_is_refused() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let callback = app::approve(&idp, &url).await;
    let state = app::query_param(&callback, "state").unwrap();
    for index in [0, 21, 42] {
        let altered = flip_char(&state, index);
        assert_ne!(altered, state);
        let reply =
            app::follow_callback(&t.app, &jar, &with_param(&callback, "state", &altered)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_no_session(&t.app, &jar).await;
    }
    assert_eq!(idp.code_exchange_calls(), 0);
    // The genuine callback still works: the altered ones did not consume the transaction.
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

/// Tab B's transaction cookie renamed to tab A's state: the name is not authenticated, the
/// sealed state inside is, and it must equal the callback's.
#[tokio::test]
async fn oa_03_state_must_match_the_sealed_transaction() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url_a = app::start_login(&t.app, &jar, None).await;
    let state_a = app::query_param(&url_a, "state").unwrap();
    let url_b = app::start_login(&t.app, &jar, None).await;
    let state_b = app::query_param(&url_b, "state").unwrap();
    let cookie_b = jar.get(&format!("{TX_PREFIX}{state_b}")).unwrap();
    let callback_a = app::approve(&idp, &url_a).await;

    let attacker = Jar::default();
    attacker.set(&format!("{TX_PREFIX}{state_a}"), &cookie_b);
    let reply = app::follow_callback(&t.app, &attacker, &callback_a).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &attacker).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

/// The callback of tab A carrying tab B's state (both tabs in one browser): B's transaction
/// opens, but A's code is bound to A's PKCE challenge and nonce, so no session results.
#[tokio::test]
async fn oa_03_callback_with_another_tabs_state_is_refused() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url_a = app::start_login(&t.app, &jar, None).await;
    let url_b = app::start_login(&t.app, &jar, None).await;
    let state_b = app::query_param(&url_b, "state").unwrap();
    idp.set_authorize_fault(AuthorizeFault::ReplaceState(state_b), Shots::ONCE);
    let callback_a = app::approve(&idp, &url_a).await;
    let reply = app::follow_callback(&t.app, &jar, &callback_a).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    // The provider refused B's verifier for A's code.
    let tokens = idp.token_requests();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].error.as_deref(), Some("invalid_grant"));
}

#[tokio::test]
async fn oa_03_expired_transaction_is_refused() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let callback = app::approve(&idp, &url).await;
    t.clock.advance(Duration::from_secs(601));
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    // Refused by the transaction's own expiry, not by the provider's code lifetime.
    assert_eq!(idp.code_exchange_calls(), 0);
}

/// The other side of the boundary: a login that takes 590 s still completes.
#[tokio::test]
async fn oa_03_transaction_lives_ten_minutes() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    t.clock.advance(Duration::from_secs(590));
    let callback = app::approve(&idp, &url).await;
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_03_state_and_nonce_are_256_bit_and_fresh() {
    let (_idp, t) = setup().await;
    let jar = Jar::default();
    let mut seen = BTreeSet::new();
    for _ in 0..4 {
        let url = app::start_login(&t.app, &jar, None).await;
        for name in ["state", "nonce"] {
            let value = app::query_param(&url, name).unwrap();
            // 43 base64url characters: 32 random bytes (≥ 128 bits asked by RFC 9700 §2.1).
            assert_eq!(value.len(), 43, "{name}={value}");
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{name}={value}"
            );
            assert!(seen.insert(value), "a {name} repeated");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OA-04: the transaction cookie.

#[tokio::test]
async fn oa_04_transaction_cookie_attributes() {
    let (_idp, t) = setup().await;
    let jar = Jar::default();
    let reply = app::navigate(&t.app, &jar, "/login").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let state = app::query_param(reply.location(), "state").unwrap();
    let cookies = reply.set_cookies();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    let cookie = &cookies[0];
    let mut parts = cookie.split(';').map(str::trim);
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, format!("{TX_PREFIX}{state}"));
    assert!(!value.is_empty());
    // The sealed value holds the verifier and nonce: neither appears in clear.
    let nonce = app::query_param(reply.location(), "nonce").unwrap();
    assert!(!value.contains(&nonce));
    let attrs: Vec<&str> = parts.collect();
    for required in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(attrs.contains(&required), "{required} missing: {cookie}");
    }
    assert!(
        !attrs
            .iter()
            .any(|a| a.to_ascii_lowercase().starts_with("domain")),
        "{cookie}"
    );
    let max_age: u64 = attrs
        .iter()
        .find_map(|a| a.strip_prefix("Max-Age="))
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&max_age), "{cookie}");
}

#[tokio::test]
async fn oa_04_tampered_transaction_cookie_is_refused() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let (name, value) = app::tx_cookies(&jar).pop().unwrap();
    let callback = app::approve(&idp, &url).await;
    for index in [0, value.len() / 2, value.len() - 1] {
        jar.set(&name, &flip_char(&value, index));
        let reply = app::follow_callback(&t.app, &jar, &callback).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_no_session(&t.app, &jar).await;
    }
    assert_eq!(idp.code_exchange_calls(), 0);
    // The untampered cookie still completes the login.
    jar.set(&name, &value);
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn oa_04_callback_deletes_the_transaction_cookie_on_success_and_failure() {
    let (idp, t) = setup().await;
    let is_deletion = |cookie: &str| cookie.contains("Max-Age=0") && cookie.contains("=;");

    // Success.
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let name = format!("{TX_PREFIX}{}", app::query_param(&url, "state").unwrap());
    let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    assert!(is_deletion(&set_cookie_for(&reply, &name).unwrap()));
    assert!(app::tx_cookies(&jar).is_empty());

    // Refused at the callback (provider error), at the ID token (502), at the provider (503).
    let failures: [(Arm, StatusCode); 3] = [
        (
            &|idp| {
                idp.set_authorize_fault(
                    AuthorizeFault::Error {
                        error: "access_denied".into(),
                        description: "no".into(),
                    },
                    Shots::ONCE,
                );
            },
            StatusCode::BAD_REQUEST,
        ),
        (
            &|idp| idp.set_id_token_fault(IdTokenFault::WrongNonce, Shots::ONCE),
            StatusCode::BAD_GATEWAY,
        ),
        (
            &|idp| {
                idp.set_token_fault(
                    TokenFault::Transport(TransportFault::Status(500)),
                    GrantFilter::Any,
                    Shots::ONCE,
                );
            },
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ];
    for (arm, status) in failures {
        let jar = Jar::default();
        let url = app::start_login(&t.app, &jar, None).await;
        let name = format!("{TX_PREFIX}{}", app::query_param(&url, "state").unwrap());
        arm(&idp);
        let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
        assert_eq!(reply.status, status, "{}", reply.body);
        let deletion = set_cookie_for(&reply, &name).expect("no deletion on failure");
        assert!(is_deletion(&deletion), "{deletion}");
        assert!(app::tx_cookies(&jar).is_empty());
        assert_no_session(&t.app, &jar).await;
    }
}

#[tokio::test]
async fn oa_04_two_concurrent_logins_in_one_jar_both_succeed() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let url_a = app::start_login(&t.app, &jar, Some("/tab-a")).await;
    let url_b = app::start_login(&t.app, &jar, Some("/tab-b")).await;
    assert_eq!(app::tx_cookies(&jar).len(), 2);
    let callback_a = app::approve(&idp, &url_a).await;
    let callback_b = app::approve(&idp, &url_b).await;
    // Finished in the reverse order of starting.
    let reply_b = app::follow_callback(&t.app, &jar, &callback_b).await;
    assert_eq!(reply_b.status, StatusCode::SEE_OTHER, "{}", reply_b.body);
    assert_eq!(reply_b.location(), "/tab-b");
    assert_eq!(app::tx_cookies(&jar).len(), 1);
    let reply_a = app::follow_callback(&t.app, &jar, &callback_a).await;
    assert_eq!(reply_a.status, StatusCode::SEE_OTHER, "{}", reply_a.body);
    assert_eq!(reply_a.location(), "/tab-a");
    assert!(app::tx_cookies(&jar).is_empty());
    assert!(app::logged_in(&t.app, &jar).await);
}

// ---------------------------------------------------------------------------------------------
// OA-05: nonce.

async fn nonce_fault_is_refused(fault: IdTokenFault) {
    let (idp, t) = setup().await;
    idp.set_id_token_fault(fault, Shots::ONCE);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    // A nonce was sent, and the exchange happened: the ID token check refused.
    let sent = idp.authorize_requests()[0]
        .param("nonce")
        .unwrap()
        .to_owned();
    assert_eq!(sent.len(), 43);
    assert_eq!(idp.code_exchange_calls(), 1);
    // The same app logs in when the provider is honest.
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

#[tokio::test]
async fn oa_05_wrong_nonce_is_refused() {
    nonce_fault_is_refused(IdTokenFault::WrongNonce).await;
}

#[tokio::test]
async fn oa_05_missing_nonce_is_refused() {
    nonce_fault_is_refused(IdTokenFault::MissingNonce).await;
}

// ---------------------------------------------------------------------------------------------
// OA-06: RFC 9207 iss.

#[tokio::test]
async fn oa_06_wrong_iss_is_refused() {
    let (idp, t) = setup().await;
    for wrong in [
        "https://evil.example".to_owned(),
        format!("{}/", idp.issuer()),
        String::new(),
    ] {
        idp.set_authorize_fault(AuthorizeFault::WrongIss(wrong.clone()), Shots::ONCE);
        let jar = Jar::default();
        let reply = app::hostile_login(&idp, &t.app, &jar).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "iss={wrong:?}");
        assert_no_session(&t.app, &jar).await;
    }
    // Compared before the code is used.
    assert_eq!(idp.code_exchange_calls(), 0);
}

#[tokio::test]
async fn oa_06_missing_iss_is_refused_when_the_provider_announces_it() {
    let (idp, t) = setup().await;
    assert!(
        t.login
            .client()
            .metadata()
            .authorization_response_iss_parameter_supported
    );
    idp.set_authorize_fault(AuthorizeFault::OmitIss, Shots::ONCE);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

/// RFC 9207 §2.4: without the metadata flag a missing `iss` is legal (the rule is conditional).
#[tokio::test]
async fn oa_06_missing_iss_is_accepted_when_not_announced() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_metadata_patch(json!({"authorization_response_iss_parameter_supported": false}));
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    idp.set_authorize_fault(AuthorizeFault::OmitIss, Shots::ONCE);
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let callback = app::approve(&idp, &url).await;
    assert_eq!(app::query_param(&callback, "iss"), None);
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(&t.app, &jar).await);
    // A wrong `iss` is still refused when it is present.
    idp.set_authorize_fault(
        AuthorizeFault::WrongIss("https://evil.example".into()),
        Shots::ONCE,
    );
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_no_session(&t.app, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-08: error responses and a missing code.

#[tokio::test]
async fn oa_08_error_response_is_not_reflected() {
    let (idp, t) = setup().await;
    let payload = "<script>alert(1)</script>";
    idp.set_authorize_fault(
        AuthorizeFault::Error {
            error: "access_denied".into(),
            description: payload.into(),
        },
        Shots::ONCE,
    );
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let callback = app::approve(&idp, &url).await;
    assert_eq!(
        app::query_param(&callback, "error_description").as_deref(),
        Some(payload)
    );
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    for needle in ["<script", "alert(1)", "access_denied", "%3Cscript"] {
        assert!(!reply.body.contains(needle), "{needle} in {}", reply.body);
        for (_, value) in &reply.headers {
            assert!(!String::from_utf8_lossy(value.as_bytes()).contains(needle));
        }
    }
    assert_generic_page(&reply);
    assert_no_session(&t.app, &jar).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

#[tokio::test]
async fn oa_08_missing_code_is_refused() {
    let (idp, t) = setup().await;
    idp.set_authorize_fault(AuthorizeFault::OmitCode, Shots::ONCE);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    assert_eq!(idp.code_exchange_calls(), 0);
    // An empty code is no code either.
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    let callback = with_param(&app::approve(&idp, &url).await, "code", "");
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &jar).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

// ---------------------------------------------------------------------------------------------
// OA-10: no-store, no-referrer, a clean redirect.

#[tokio::test]
async fn oa_10_login_and_callback_are_not_cached_and_redirect_cleanly() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let login = app::navigate(&t.app, &jar, "/login?return_to=%2Forders%2F42").await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    assert_no_store_no_referrer(&login);

    let callback = app::approve(&idp, login.location()).await;
    let code = app::query_param(&callback, "code").unwrap();
    let state = app::query_param(&callback, "state").unwrap();
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_no_store_no_referrer(&reply);
    assert_eq!(reply.location(), "/orders/42");
    assert!(!reply.location().contains(&code) && !reply.location().contains(&state));
    assert!(reply.body.is_empty());

    // A refused callback too.
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    idp.set_id_token_fault(IdTokenFault::WrongAud, Shots::ONCE);
    let callback = app::approve(&idp, &url).await;
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_no_store_no_referrer(&reply);
}

// ---------------------------------------------------------------------------------------------
// OA-11: return-to.

#[tokio::test]
async fn oa_11_hostile_return_to_lands_on_the_default_page() {
    let (idp, t) = setup().await;
    for hostile in [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example",
        "/%252F%252Fevil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie:x=1",
    ] {
        let jar = Jar::default();
        let url = app::start_login(&t.app, &jar, Some(hostile)).await;
        assert!(!url.contains("evil"), "{url}");
        let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{hostile:?}: {}",
            reply.body
        );
        assert_eq!(reply.location(), "/", "{hostile:?}");
        assert!(
            reply.set_cookies().iter().all(|c| c.starts_with("__Host-")),
            "{hostile:?}: {:?}",
            reply.set_cookies()
        );
        assert!(app::logged_in(&t.app, &jar).await);
    }
}

#[tokio::test]
async fn oa_11_same_origin_return_to_is_kept() {
    let (idp, t) = setup().await;
    for path in ["/dashboard?tab=1", "/orders/42#items", "/"] {
        let jar = Jar::default();
        let url = app::start_login(&t.app, &jar, Some(path)).await;
        let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        assert_eq!(reply.location(), path);
    }
}

// ---------------------------------------------------------------------------------------------
// OA-23: login CSRF and no reflection.

#[tokio::test]
async fn oa_23_callback_from_a_fresh_jar_is_refused() {
    let (idp, t) = setup().await;
    // The attacker starts a login in their own browser and sends the callback link on.
    let attacker = Jar::default();
    let url = app::start_login(&t.app, &attacker, None).await;
    let callback = app::approve(&idp, &url).await;
    let victim = Jar::default();
    let reply = app::follow_callback(&t.app, &victim, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &victim).await;
    assert_eq!(idp.code_exchange_calls(), 0);
    // A victim with a pending login of their own is not logged in either.
    let victim = Jar::default();
    let _own = app::start_login(&t.app, &victim, None).await;
    let reply = app::follow_callback(&t.app, &victim, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&t.app, &victim).await;
    assert_eq!(idp.code_exchange_calls(), 0);
}

#[tokio::test]
async fn oa_23_login_does_not_reflect_request_parameters() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let reply = app::navigate(
        &t.app,
        &jar,
        "/login?client_id=evil&redirect_uri=https%3A%2F%2Fevil.example%2Fcb&scope=admin\
         &prompt=none&response_type=token&code_challenge_method=plain&login_hint=victim",
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let url = reply.location().to_owned();
    assert!(url.starts_with(&idp.url("/authorize?")), "{url}");
    let pairs: Vec<(String, String)> = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let names: BTreeSet<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(pairs.len(), names.len(), "a repeated parameter: {url}");
    assert_eq!(
        names,
        BTreeSet::from([
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method"
        ])
    );
    let get = |name: &str| app::query_param(&url, name).unwrap();
    assert_eq!(get("response_type"), "code");
    assert_eq!(get("client_id"), DEFAULT_CLIENT_ID);
    assert_eq!(get("redirect_uri"), app::REDIRECT_URI);
    assert_eq!(get("scope"), "openid profile email");
    assert_eq!(get("code_challenge_method"), "S256");
    for (_, value) in &pairs {
        assert!(
            !value.contains("evil") && !value.contains("admin") && !value.contains("victim"),
            "{value}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// OA-26: generic failure pages.

/// A login that fails as `arm` makes the provider misbehave.
async fn failed_login(arm: impl FnOnce(&HostileAs)) -> Reply {
    let (idp, t) = setup().await;
    arm(&idp);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_no_session(&t.app, &jar).await;
    reply
}

#[tokio::test]
async fn oa_26_failures_are_generic_pages_with_the_right_status() {
    // Two different causes per status: the page must not depend on the cause.
    let bad_callback = [
        failed_login(|idp| idp.set_authorize_fault(AuthorizeFault::DropState, Shots::ONCE)).await,
        failed_login(|idp| idp.set_authorize_fault(AuthorizeFault::OmitIss, Shots::ONCE)).await,
        failed_login(|idp| {
            idp.set_token_fault(TokenFault::InvalidGrant, GrantFilter::Any, Shots::ONCE);
        })
        .await,
    ];
    let bad_answer = [
        failed_login(|idp| idp.set_id_token_fault(IdTokenFault::WrongAud, Shots::ONCE)).await,
        failed_login(|idp| {
            idp.set_token_fault(TokenFault::NoAccessToken, GrantFilter::Any, Shots::ONCE);
        })
        .await,
    ];
    let unavailable = [
        failed_login(|idp| {
            idp.set_token_fault(
                TokenFault::Transport(TransportFault::Status(500)),
                GrantFilter::Any,
                Shots::ONCE,
            );
        })
        .await,
        failed_login(|idp| {
            idp.set_token_fault(
                TokenFault::OAuthError {
                    status: 503,
                    error: "temporarily_unavailable".into(),
                },
                GrantFilter::Any,
                Shots::ONCE,
            );
        })
        .await,
    ];
    for (replies, status) in [
        (&bad_callback[..], StatusCode::BAD_REQUEST),
        (&bad_answer[..], StatusCode::BAD_GATEWAY),
        (&unavailable[..], StatusCode::SERVICE_UNAVAILABLE),
    ] {
        for reply in replies {
            assert_eq!(reply.status, status, "{}", reply.body);
            assert_generic_page(reply);
            assert_eq!(reply.body, replies[0].body, "the page depends on the cause");
            for detail in [
                "state",
                "iss",
                "aud",
                "nonce",
                "invalid_grant",
                "server_error",
                "temporarily_unavailable",
                "500",
                "access_token",
                "ID token",
            ] {
                assert!(!reply.body.contains(detail), "{detail} in {}", reply.body);
            }
        }
    }
}
