//! Sessions, refresh and logout of the paved OIDC login against the hostile provider: tokens
//! stay on the server (OA-12), session fixation and timeouts (OA-13), single-flight refresh with
//! rotation (OA-17), refreshed ID tokens (OA-18), the JWKS cache (OA-21) and logout (OA-22).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use paved_tests::app::{self, AppOptions, HostileApp, Jar, Reply, TestClock};
use paved_tests::hostile::{
    DEFAULT_CLIENT_ID, DEFAULT_SUBJECT, GrantFilter, HostileAs, IdTokenFault, Publication, Shots,
    SigningAlg, TokenFault, TransportFault,
};

/// The access-token lifetime in these tests; with the default 60 s refresh margin a token needs
/// a refresh 60 s after it was issued.
const ACCESS_LIFETIME: Duration = Duration::from_secs(120);

/// Moves the clock past the refresh point of a token issued now.
const PAST_REFRESH_POINT: Duration = Duration::from_secs(70);

// ---------------------------------------------------------------------------------------------
// Helpers.

/// An honest provider issuing short-lived access tokens, and an app on the same clock.
async fn setup() -> (HostileAs, HostileApp) {
    setup_with(AppOptions::default()).await
}

async fn setup_with(options: AppOptions) -> (HostileAs, HostileApp) {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(ACCESS_LIFETIME);
    let t = app::hostile_app_with(&idp, &clock, options, |b| b, |b| b)
        .await
        .unwrap();
    (idp, t)
}

/// A complete login in a fresh jar that must succeed; the jar.
async fn login_ok(idp: &HostileAs, app: &Router) -> Jar {
    let jar = Jar::default();
    let reply = app::hostile_login(idp, app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(app, &jar).await);
    jar
}

/// The access token the app hands to a downstream call (`/token`).
async fn access_token(app: &Router, jar: &Jar) -> String {
    let reply = app::fetch(app, jar, "/token").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!reply.body.is_empty());
    reply.body
}

/// `POST /logout` with the given headers.
async fn post_logout(app: &Router, jar: &Jar, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::post("/logout");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app::send(app, jar, request.body(Body::empty()).unwrap()).await
}

fn header_value<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// OA-12: tokens never reach the browser.

#[tokio::test]
async fn oa_12_tokens_never_reach_the_browser() {
    let (idp, t) = setup().await;
    let jar = Jar::default();
    let mut seen: Vec<(String, Reply)> = Vec::new();

    let login = app::navigate(&t.app, &jar, "/login").await;
    let callback = app::approve(&idp, login.location()).await;
    seen.push(("/login".into(), login));
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    seen.push(("/callback".into(), reply));
    seen.push(("/me".into(), app::navigate(&t.app, &jar, "/me").await));

    // `/token` hands the access token to the test on purpose (a downstream API call); it is the
    // source of the access tokens to look for, and the only route excluded from the scan.
    let mut access_tokens = vec![access_token(&t.app, &jar).await];
    for _ in 0..2 {
        t.clock.advance(PAST_REFRESH_POINT);
        access_tokens.push(access_token(&t.app, &jar).await);
        seen.push(("/me".into(), app::navigate(&t.app, &jar, "/me").await));
    }
    assert_eq!(idp.refresh_calls(), 2);
    let refresh_tokens: Vec<String> = idp
        .token_requests()
        .iter()
        .filter_map(|r| r.field("refresh_token").map(str::to_owned))
        .collect();
    assert_eq!(refresh_tokens.len(), 2);

    let logout = app::logout(&t.app, &jar).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    let id_token = app::query_param(logout.location(), "id_token_hint").unwrap();
    seen.push(("/logout".into(), logout));
    seen.push(("/me".into(), app::navigate(&t.app, &jar, "/me").await));

    let mut secrets: Vec<&str> = access_tokens.iter().map(String::as_str).collect();
    secrets.extend(refresh_tokens.iter().map(String::as_str));
    assert!(secrets.iter().all(|s| s.len() >= 32), "{secrets:?}");
    let mut cookie_names = Vec::new();
    for (route, reply) in &seen {
        let mut texts = vec![reply.body.clone()];
        for (name, value) in &reply.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == header::SET_COOKIE {
                cookie_names.push(value.split('=').next().unwrap().to_owned());
            }
            // The logout redirect carries the ID token as `id_token_hint` to the provider by
            // design (RP-Initiated Logout 1.0 §2); no other header or body may carry one.
            if !(route == "/logout" && name == header::LOCATION) {
                assert!(
                    !value.contains(&id_token),
                    "{route}: the ID token in {name}"
                );
                // Any JWT (`{"` base64url-encoded), whichever ID token it is.
                assert!(!value.contains("eyJ"), "{route}: a JWT in {name}: {value}");
            }
            texts.push(value);
        }
        assert!(!reply.body.contains("eyJ"), "{route}: a JWT in the body");
        for text in &texts {
            for secret in &secrets {
                assert!(!text.contains(secret), "{route}: a token in {text}");
            }
        }
    }
    // The scan can see a token where one is: `/token` does show one.
    let shown = app::fetch(&t.app, &login_ok(&idp, &t.app).await, "/token").await;
    assert!(shown.body.len() >= 32 && !shown.body.contains(' '));

    // The only cookies: the session and the login transactions, all HttpOnly.
    assert!(!cookie_names.is_empty());
    for name in &cookie_names {
        assert!(
            name == "__Host-session" || name.starts_with("__Host-paved-tx-"),
            "{name}"
        );
    }
    for (_, reply) in &seen {
        for cookie in reply.set_cookies() {
            for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
                assert!(cookie.contains(attr), "{attr} missing: {cookie}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OA-13: fixation and timeouts.

#[tokio::test]
async fn oa_13_login_replaces_an_earlier_session() {
    let (idp, t) = setup().await;
    // A session the attacker owns, planted in the victim's browser before the victim logs in.
    let attacker = login_ok(&idp, &t.app).await;
    let planted = attacker.get("__Host-session").unwrap();
    let victim = Jar::default();
    victim.set("__Host-session", &planted);
    let reply = app::hostile_login(&idp, &t.app, &victim).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let fresh = victim.get("__Host-session").unwrap();
    assert_ne!(fresh, planted);
    assert!(app::logged_in(&t.app, &victim).await);
    // The planted id was destroyed, so it does not become (or stay) a logged-in session.
    assert!(!app::logged_in(&t.app, &attacker).await);

    // A second login in the same browser gets a new id too, and the old one stops working.
    let reply = app::hostile_login(&idp, &t.app, &victim).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let third = victim.get("__Host-session").unwrap();
    assert_ne!(third, fresh);
    let old = Jar::default();
    old.set("__Host-session", &fresh);
    assert!(!app::logged_in(&t.app, &old).await);
    assert!(app::logged_in(&t.app, &victim).await);
}

#[tokio::test]
async fn oa_13_idle_timeout_ends_the_session() {
    let (idp, t) = setup_with(AppOptions {
        idle_timeout: Some(Duration::from_secs(120)),
        absolute_timeout: Some(Duration::from_secs(3600)),
        ..AppOptions::default()
    })
    .await;
    let jar = login_ok(&idp, &t.app).await;
    // Activity keeps it alive.
    for _ in 0..3 {
        t.clock.advance(Duration::from_secs(100));
        assert!(app::logged_in(&t.app, &jar).await);
    }
    // Idle for longer than 120 s: ended.
    t.clock.advance(Duration::from_secs(121));
    assert!(!app::logged_in(&t.app, &jar).await);
    t.clock.advance(Duration::from_secs(1));
    assert!(!app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_13_absolute_timeout_ends_an_active_session() {
    let (idp, t) = setup_with(AppOptions {
        idle_timeout: Some(Duration::from_secs(120)),
        absolute_timeout: Some(Duration::from_secs(300)),
        ..AppOptions::default()
    })
    .await;
    let jar = login_ok(&idp, &t.app).await;
    for step in [100, 100, 90] {
        t.clock.advance(Duration::from_secs(step));
        assert!(app::logged_in(&t.app, &jar).await);
    }
    t.clock.advance(Duration::from_secs(11));
    assert!(!app::logged_in(&t.app, &jar).await);
}

// ---------------------------------------------------------------------------------------------
// OA-17: refresh.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oa_17_twenty_concurrent_requests_one_refresh() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let first = access_token(&t.app, &jar).await;
    assert_eq!(idp.refresh_calls(), 0);

    t.clock.advance(PAST_REFRESH_POINT);
    // The provider takes a moment to answer, so every request arrives during the refresh.
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::Delay(Duration::from_millis(300))),
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (app, jar) = (t.app.clone(), jar.clone());
        tasks.push(tokio::spawn(async move {
            app::fetch(&app, &jar, "/token").await
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        let reply = task.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokens.push(reply.body);
    }
    assert_eq!(idp.refresh_calls(), 1, "one refresh for 20 requests");
    let second = tokens[0].clone();
    assert_ne!(second, first);
    assert!(tokens.iter().all(|t| *t == second), "{tokens:?}");

    // The rotated refresh token was stored: the next refresh presents it and succeeds (the
    // provider revokes the whole family if a rotated token is presented again).
    t.clock.advance(PAST_REFRESH_POINT);
    let third = access_token(&t.app, &jar).await;
    assert_ne!(third, second);
    assert_eq!(idp.refresh_calls(), 2);
    let refreshes: Vec<_> = idp
        .token_requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .collect();
    assert_eq!(refreshes.len(), 2);
    assert!(refreshes.iter().all(|r| r.error.is_none()), "{refreshes:?}");
    assert_ne!(
        refreshes[0].field("refresh_token"),
        refreshes[1].field("refresh_token")
    );
    assert!(app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_17_token_is_not_refreshed_before_the_margin() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let first = access_token(&t.app, &jar).await;
    t.clock.advance(Duration::from_secs(50));
    assert_eq!(access_token(&t.app, &jar).await, first);
    assert_eq!(idp.refresh_calls(), 0);
}

#[tokio::test]
async fn oa_17_invalid_grant_on_refresh_ends_the_session() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    t.clock.advance(PAST_REFRESH_POINT);
    idp.set_token_fault(
        TokenFault::InvalidGrant,
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    let reply = app::fetch(&t.app, &jar, "/token").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert!(!app::logged_in(&t.app, &jar).await);
    let me = app::navigate(&t.app, &jar, "/me").await;
    assert_eq!(me.status, StatusCode::SEE_OTHER);
    // The page asked for comes back after the login, as one well-formed query parameter.
    assert_eq!(me.location(), "/login?return_to=%2Fme");
    assert_eq!(idp.refresh_calls(), 1);
}

// ---------------------------------------------------------------------------------------------
// OA-18: refreshed ID tokens.

/// The refresh answers with an ID token that has `fault`: 502, and the session is over.
async fn refreshed_id_token_refused(fault: IdTokenFault) {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    t.clock.advance(PAST_REFRESH_POINT);
    idp.set_id_token_fault(fault.clone(), Shots::ONCE);
    let reply = app::fetch(&t.app, &jar, "/token").await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_GATEWAY,
        "{fault:?}: {}",
        reply.body
    );
    assert_eq!(idp.refresh_calls(), 1, "{fault:?}");
    assert!(
        !app::logged_in(&t.app, &jar).await,
        "{fault:?}: session kept"
    );
}

#[tokio::test]
async fn oa_18_changed_sub_on_refresh_ends_the_session() {
    refreshed_id_token_refused(IdTokenFault::ChangedSubOnRefresh).await;
}

#[tokio::test]
async fn oa_18_changed_iss_on_refresh_ends_the_session() {
    refreshed_id_token_refused(IdTokenFault::ChangedIssOnRefresh).await;
}

#[tokio::test]
async fn oa_18_changed_aud_on_refresh_ends_the_session() {
    refreshed_id_token_refused(IdTokenFault::ChangedAudOnRefresh).await;
}

#[tokio::test]
async fn oa_18_different_nonce_on_refresh_ends_the_session() {
    refreshed_id_token_refused(IdTokenFault::DifferentNonceOnRefresh).await;
}

#[tokio::test]
async fn oa_18_changed_auth_time_on_refresh_ends_the_session() {
    refreshed_id_token_refused(IdTokenFault::ChangedAuthTimeOnRefresh).await;
}

#[tokio::test]
async fn oa_18_refresh_without_id_token_or_with_the_same_nonce_is_accepted() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let first = access_token(&t.app, &jar).await;
    t.clock.advance(PAST_REFRESH_POINT);
    idp.set_id_token_fault(IdTokenFault::NoIdTokenOnRefresh, Shots::ONCE);
    let second = access_token(&t.app, &jar).await;
    assert_ne!(second, first);
    // A refreshed ID token repeating the original nonce is legal too.
    idp.set_refresh_repeats_nonce(true);
    t.clock.advance(PAST_REFRESH_POINT);
    let third = access_token(&t.app, &jar).await;
    assert_ne!(third, second);
    assert_eq!(idp.refresh_calls(), 2);
    assert!(app::logged_in(&t.app, &jar).await);
}

// ---------------------------------------------------------------------------------------------
// OA-21: the JWKS cache.

#[tokio::test]
async fn oa_21_unknown_kid_refetches_at_most_once_per_cooldown() {
    let (idp, t) = setup().await;
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 1);
    t.clock.advance(Duration::from_secs(31));
    idp.set_id_token_fault(IdTokenFault::UnpublishedKey, Shots::Next(3));
    for _ in 0..3 {
        let jar = Jar::default();
        let reply = app::hostile_login(&idp, &t.app, &jar).await;
        assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
        assert!(!app::logged_in(&t.app, &jar).await);
    }
    assert_eq!(idp.jwks_fetches(), 2, "three unknown kids, one refetch");
    // After the cooldown, one more.
    t.clock.advance(Duration::from_secs(31));
    idp.set_id_token_fault(IdTokenFault::UnpublishedKey, Shots::ONCE);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert_eq!(idp.jwks_fetches(), 3);
    // Known keys need no fetch.
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 3);
}

#[tokio::test]
async fn oa_21_key_rotated_between_login_and_refresh() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let first = access_token(&t.app, &jar).await;
    idp.rotate_signing_key(SigningAlg::Es256, Publication::Immediately)
        .unwrap();
    t.clock.advance(PAST_REFRESH_POINT);
    // The refreshed ID token is signed with the new key: one refetch, accepted.
    let second = access_token(&t.app, &jar).await;
    assert_ne!(second, first);
    assert_eq!(idp.refresh_calls(), 1);
    assert_eq!(idp.jwks_fetches(), 2);
    assert!(app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_21_last_known_good_keys_survive_a_jwks_outage() {
    let (idp, t) = setup().await;
    login_ok(&idp, &t.app).await;
    // Past the key set's ttl (600 s), the provider's JWKS endpoint fails.
    t.clock.advance(Duration::from_secs(601));
    idp.set_jwks_fault(TransportFault::Status(500), Shots::Always);
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 2, "the refresh was attempted");
    // A rotated key cannot be learnt meanwhile: fail closed.
    idp.rotate_signing_key(SigningAlg::Es256, Publication::Immediately)
        .unwrap();
    t.clock.advance(Duration::from_secs(31));
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY);
    assert!(!app::logged_in(&t.app, &jar).await);
}

// ---------------------------------------------------------------------------------------------
// OA-22: logout.

#[tokio::test]
async fn oa_22_get_logout_is_405() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let reply = app::navigate(&t.app, &jar, "/logout").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header_value(&reply, "allow"), "POST");
    assert!(app::logged_in(&t.app, &jar).await);
    assert_eq!(idp.end_session_calls(), 0);
}

#[tokio::test]
async fn oa_22_cross_site_logout_is_403() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", app::APP_ORIGIN),
        ],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ] {
        let reply = post_logout(&t.app, &jar, &headers).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert!(reply.set_cookies().is_empty(), "{headers:?}");
        assert!(app::logged_in(&t.app, &jar).await, "{headers:?}");
    }
    assert_eq!(idp.end_session_calls(), 0);
}

#[tokio::test]
async fn oa_22_same_origin_logout_ends_the_session_then_the_provider_session() {
    let (idp, t) = setup().await;
    let jar = login_ok(&idp, &t.app).await;
    let cookie = jar.get("__Host-session").unwrap();
    let reply = app::logout(&t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        header_value(&reply, "clear-site-data"),
        "\"cookies\", \"storage\""
    );
    let cleared = reply
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-session="))
        .unwrap();
    assert!(cleared.starts_with("__Host-session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(jar.get("__Host-session"), None);
    // The local session is gone before the provider is visited.
    assert_eq!(idp.end_session_calls(), 0);
    let old = Jar::default();
    old.set("__Host-session", &cookie);
    assert!(!app::logged_in(&t.app, &old).await);

    // RP-initiated logout with the hint, the registered URI, a state and the client id.
    let location = reply.location();
    assert!(
        location.starts_with(&format!("{}?", idp.url("/end_session"))),
        "{location}"
    );
    let state = app::query_param(location, "state").unwrap();
    assert_eq!(state.len(), 43);
    assert_eq!(
        app::query_param(location, "post_logout_redirect_uri").as_deref(),
        Some(app::POST_LOGOUT_URI)
    );
    assert_eq!(
        app::query_param(location, "client_id").as_deref(),
        Some(DEFAULT_CLIENT_ID)
    );
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .unwrap();
    let at_provider = browser.get(location).send().await.unwrap();
    assert_eq!(at_provider.status(), StatusCode::FOUND);
    let back = at_provider.headers()["location"].to_str().unwrap();
    assert_eq!(app::query_param(back, "state"), Some(state));
    let records = idp.end_session_requests();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].id_token_hint_valid, Some(true));
    assert!(records[0].redirected);
    let hint = records[0].param("id_token_hint").unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            hint.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], DEFAULT_SUBJECT);

    // Logging out again without a session still clears the cookie and does not fail.
    let again = app::logout(&t.app, &jar).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(again.location(), app::POST_LOGOUT_URI);
}
