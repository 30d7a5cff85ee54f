//! OA-25: nothing secret reaches `tracing`. Every event of a whole login, refresh, `UserInfo`
//! fetch and logout, and of the failure paths, is captured at TRACE level and searched for the
//! codes, `state`s, nonces, PKCE verifiers, tokens, the client secret and the cookie values.
//!
//! The subscriber is the test thread's default and the runtime is current-thread, so every
//! event of the client (and of the HTTP stack under it) is captured; the hostile provider runs
//! on its own thread and writes nothing to `tracing` anyway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::StatusCode;
use paved_auth::oidc::OidcLoginBuilder;
use paved_tests::app::{self, AppOptions, Jar, TestClock};
use paved_tests::hostile::{
    AuthorizeFault, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, GrantFilter, HostileAs, IdTokenFault,
    Shots, TokenFault, TransportFault,
};

/// The length of the substrings of a secret that must not appear either: 12 base64url
/// characters (72 bits) do not occur in the capture by chance.
const PART_LEN: usize = 12;

/// The captured output, shared by the writers the subscriber makes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a test collects to search the capture for.
#[derive(Default)]
struct Secrets(Vec<(String, String)>);

impl Secrets {
    fn add(&mut self, what: &str, value: impl Into<String>) {
        let value = value.into();
        // Short values could match by accident and prove nothing.
        assert!(
            value.len() >= 16,
            "{what} is too short to search for: {value:?}"
        );
        self.0.push((what.to_owned(), value));
    }
}

/// A login in `jar` up to the callback; the code, state, nonce and transaction cookie are
/// recorded. Returns the callback reply.
async fn login_recorded(
    idp: &HostileAs,
    app: &Router,
    jar: &Jar,
    secrets: &mut Secrets,
    callback_edit: impl FnOnce(String) -> String,
) -> app::Reply {
    let url = app::start_login(app, jar, None).await;
    secrets.add("state", app::query_param(&url, "state").unwrap());
    secrets.add("nonce", app::query_param(&url, "nonce").unwrap());
    for (_, value) in app::tx_cookies(jar) {
        secrets.add("transaction cookie", value);
    }
    let callback = app::approve(idp, &url).await;
    if let Some(code) = app::query_param(&callback, "code") {
        secrets.add("code", code);
    }
    app::follow_callback(app, jar, &callback_edit(callback)).await
}

#[tokio::test]
async fn oa_25_no_secret_in_traces() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(Duration::from_secs(120));
    let t = app::hostile_app_with(
        &idp,
        &clock,
        AppOptions::default(),
        |b| b,
        OidcLoginBuilder::fetch_userinfo,
    )
    .await
    .unwrap();
    let mut secrets = Secrets::default();
    secrets.add("client secret", DEFAULT_CLIENT_SECRET);
    let encoded: String =
        url::form_urlencoded::byte_serialize(DEFAULT_CLIENT_SECRET.as_bytes()).collect();
    secrets.add("client secret (form-encoded)", encoded.clone());
    secrets.add(
        "client credentials (Basic)",
        STANDARD.encode(format!("{DEFAULT_CLIENT_ID}:{encoded}")),
    );

    honest_flows(&idp, &t.app, &clock, &mut secrets).await;
    failing_flows(&idp, &t.app, &mut secrets).await;

    // What the provider saw: verifiers, refresh tokens, codes, bearer tokens.
    for record in idp.token_requests() {
        for name in ["code_verifier", "refresh_token", "code"] {
            if let Some(value) = record.field(name) {
                secrets.add(name, value);
            }
        }
    }
    for record in idp.userinfo_requests() {
        let bearer = record.authorization.unwrap();
        secrets.add("userinfo bearer", bearer.trim_start_matches("Bearer "));
    }
    assert!(secrets.0.len() >= 30, "{}", secrets.0.len());
    check_capture(&capture.text(), &secrets);
}

/// A full login with `UserInfo`, an API call, a refresh, a logout; then a login whose refresh
/// the provider refuses.
async fn honest_flows(idp: &HostileAs, app: &Router, clock: &TestClock, secrets: &mut Secrets) {
    let jar = Jar::default();
    let reply = login_recorded(idp, app, &jar, secrets, |c| c).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    secrets.add("session cookie", jar.get("__Host-session").unwrap());
    assert_eq!(idp.userinfo_calls(), 1);
    let first = app::fetch(app, &jar, "/token").await;
    assert_eq!(first.status, StatusCode::OK);
    secrets.add("access token", first.body);
    clock.advance(Duration::from_secs(70));
    let second = app::fetch(app, &jar, "/token").await;
    assert_eq!(second.status, StatusCode::OK);
    secrets.add("refreshed access token", second.body);
    assert_eq!(idp.refresh_calls(), 1);
    let out = app::logout(app, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    secrets.add(
        "ID token",
        app::query_param(out.location(), "id_token_hint").unwrap(),
    );
    secrets.add(
        "logout state",
        app::query_param(out.location(), "state").unwrap(),
    );

    let jar = Jar::default();
    let reply = login_recorded(idp, app, &jar, secrets, |c| c).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    secrets.add("session cookie", jar.get("__Host-session").unwrap());
    clock.advance(Duration::from_secs(70));
    idp.set_token_fault(
        TokenFault::InvalidGrant,
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    let refused = app::fetch(app, &jar, "/token").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

/// A bad callback (altered state), a provider error, the token endpoint refusing, failing and
/// answering garbage, an ID token refused.
async fn failing_flows(idp: &HostileAs, app: &Router, secrets: &mut Secrets) {
    let jar = Jar::default();
    let reply = login_recorded(idp, app, &jar, secrets, |c| {
        let state = app::query_param(&c, "state").unwrap();
        // Another last character (it carries 4 bits: one in 16 states already ends in `A`).
        let other = if state.ends_with('A') { 'E' } else { 'A' };
        c.replace(&state, &format!("{}{other}", &state[..42]))
    })
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let description = "secret-looking-description-0123456789";
    idp.set_authorize_fault(
        AuthorizeFault::Error {
            error: "access_denied".into(),
            description: description.into(),
        },
        Shots::ONCE,
    );
    let reply = login_recorded(idp, app, &Jar::default(), secrets, |c| c).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    secrets.add("error description", description);
    for (fault, status) in [
        (TokenFault::InvalidGrant, StatusCode::BAD_REQUEST),
        (
            TokenFault::Transport(TransportFault::Status(500)),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            TokenFault::Transport(TransportFault::NonJson),
            StatusCode::BAD_GATEWAY,
        ),
    ] {
        idp.set_token_fault(fault, GrantFilter::AuthorizationCode, Shots::ONCE);
        let reply = login_recorded(idp, app, &Jar::default(), secrets, |c| c).await;
        assert_eq!(reply.status, status);
    }
    idp.set_id_token_fault(IdTokenFault::WrongNonce, Shots::ONCE);
    let reply = login_recorded(idp, app, &Jar::default(), secrets, |c| c).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
}

/// The capture holds the expected events and none of the secrets, whole or in part.
fn check_capture(text: &str, secrets: &Secrets) {
    // The capture is real: it holds the events of the flows above.
    for expected in [
        "paved-auth: login started",
        "paved-auth: login completed",
        "paved-auth: tokens refreshed",
        "paved-auth: refresh refused, session ended",
        "paved-auth: logged out",
        "paved-auth: login endpoint refused the request",
        "paved-auth: login endpoint failed",
        "paved-auth: JWKS fetched",
        "paved_oidc_login",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} not captured:\n{text}"
        );
    }
    assert!(text.lines().count() >= 20, "{text}");
    for (what, value) in &secrets.0 {
        assert!(
            !text.contains(value.as_str()),
            "the {what} is in the traces"
        );
        // Nor a part of one (a prefix "for correlation", a truncated value).
        for window in value.as_bytes().windows(PART_LEN) {
            let part = String::from_utf8_lossy(window);
            assert!(
                !text.contains(&*part),
                "part of the {what} is in the traces: {part}"
            );
        }
    }
    // No JWT of any kind (ID tokens, client assertions): `{"` base64url-encoded.
    assert!(!text.contains("eyJ"), "a JWT is in the traces");
}
