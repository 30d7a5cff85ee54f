//! Attacks beyond the single checklist rows: two providers in one application (mix-up across
//! logins), login-cookie bloat, floods of logins, a request cancelled in the middle of a
//! refresh, a refresh margin above the token lifetime, refusals that are not about the grant,
//! and the shape of the 401 and of the layers' order.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::field_reassign_with_default
)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, StatusCode, header};
use paved_auth::oidc::{ClientAuth, OidcClient, OidcLogin, Session};
use paved_auth::session::{MemoryStore, Sessions};
use paved_secrets::{KeyRing, SecretString};
use paved_tests::app::{self, Jar, TestClock};
use paved_tests::hostile::{
    ClientAuth as RegisteredAuth, ClientRegistration, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    GrantFilter, HostileAs, HostileConfig, Shots, TokenFault, TransportFault,
};

const ORIGIN: &str = app::APP_ORIGIN;

/// A provider whose registered redirect URI is `{ORIGIN}{callback}`.
async fn provider(clock: &TestClock, callback: &str) -> HostileAs {
    let mut config = HostileConfig::default();
    config.clients = vec![
        ClientRegistration::new(
            DEFAULT_CLIENT_ID,
            RegisteredAuth::SecretBasic(DEFAULT_CLIENT_SECRET.to_owned()),
        )
        .redirect_uri(format!("{ORIGIN}{callback}")),
    ];
    config.clock = Arc::new(clock.clone());
    HostileAs::start_with(config).await.unwrap()
}

async fn login_for(
    idp: &HostileAs,
    clock: &TestClock,
    sessions: &Sessions,
    keys: &KeyRing,
    suffix: &str,
) -> OidcLogin {
    let auth =
        ClientAuth::client_secret_basic(SecretString::from(DEFAULT_CLIENT_SECRET.to_owned()));
    let client = OidcClient::builder(idp.issuer(), DEFAULT_CLIENT_ID, auth)
        .dev_loopback()
        .clock(clock.clone())
        .discover()
        .await
        .unwrap();
    OidcLogin::builder(client, sessions.clone(), keys)
        .public_origin(ORIGIN)
        .login_path(format!("/login/{suffix}"))
        .callback_path(format!("/callback/{suffix}"))
        .logout_path(format!("/logout/{suffix}"))
        .build()
        .unwrap()
}

async fn subject(session: Session) -> String {
    format!("{} {}", session.issuer(), session.subject())
}

/// Two providers, A and B, in one application: one key ring, one session store, one cookie
/// name — the setup of an app offering "log in with A or B".
async fn two_provider_app(clock: &TestClock) -> (HostileAs, HostileAs, Router) {
    let a = provider(clock, "/callback/a").await;
    let b = provider(clock, "/callback/b").await;
    let sessions = Sessions::builder(MemoryStore::default().with_clock(Arc::new(clock.clone())))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let keys = KeyRing::generate().unwrap();
    let login_a = login_for(&a, clock, &sessions, &keys, "a").await;
    let login_b = login_for(&b, clock, &sessions, &keys, "b").await;
    let router = Router::new()
        .route("/a/me", get(subject).layer(login_a.require_login()))
        .route("/b/me", get(subject).layer(login_b.require_login()))
        .layer(login_a.layer())
        .layer(login_b.layer());
    (a, b, router)
}

/// OA-06 / RFC 9700 §4.4 (mix-up): a malicious provider B learns the state, nonce and PKCE
/// challenge of a login the victim starts at B, gets a code from the honest provider A for the
/// attacker's account with that challenge, and sends the victim to A's callback with B's
/// state. The transaction is B's: A's login refuses it before any code is exchanged, whatever
/// `iss` says.
#[tokio::test]
async fn oa_06_a_login_cannot_finish_another_providers_transaction() {
    let clock = TestClock::now();
    let (a, b, router) = two_provider_app(&clock).await;
    let victim = Jar::default();
    let at_b = app::navigate(&router, &victim, "/login/b").await;
    assert_eq!(at_b.status, StatusCode::SEE_OTHER);
    let b_url = at_b.location().to_owned();
    let state = app::query_param(&b_url, "state").unwrap();
    // The attacker replays B's parameters at A, as A's client with A's redirect URI.
    let mut at_a = url::Url::parse(&a.url("/authorize")).unwrap();
    for (name, value) in url::Url::parse(&b_url).unwrap().query_pairs() {
        let value = if name == "redirect_uri" {
            format!("{ORIGIN}/callback/a")
        } else {
            value.into_owned()
        };
        at_a.query_pairs_mut().append_pair(&name, &value);
    }
    let code_from_a = app::query_param(&app::approve(&a, at_a.as_str()).await, "code").unwrap();
    for iss in [b.issuer(), a.issuer()] {
        let forged = format!(
            "{ORIGIN}/callback/a?code={code_from_a}&state={state}&iss={}",
            url::form_urlencoded::byte_serialize(iss.as_bytes()).collect::<String>()
        );
        let reply = app::follow_callback(&router, &victim, &forged).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "iss {iss}");
        assert!(victim.get("__Host-session").is_none());
    }
    assert_eq!(
        a.code_exchange_calls(),
        0,
        "the code reached A's token endpoint"
    );
}

/// A session made by one provider's login is not a session of another login sharing the
/// store: B's guard does not let A's user in (nor would it refresh A's tokens at B or send
/// A's ID token to B), and it does not end A's session either.
#[tokio::test]
async fn oa_12_a_session_of_another_login_is_not_accepted() {
    let clock = TestClock::now();
    let (a, _b, router) = two_provider_app(&clock).await;
    let jar = Jar::default();
    let start = app::navigate(&router, &jar, "/login/a").await;
    let callback = app::approve(&a, start.location()).await;
    let reply = app::follow_callback(&router, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let me_a = app::navigate(&router, &jar, "/a/me").await;
    assert_eq!(me_a.status, StatusCode::OK);
    assert!(me_a.body.starts_with(a.issuer()));
    let me_b = app::navigate(&router, &jar, "/b/me").await;
    assert_eq!(me_b.status, StatusCode::SEE_OTHER, "B let A's session in");
    assert!(me_b.location().starts_with("/login/b"));
    assert_eq!(
        app::navigate(&router, &jar, "/a/me").await.status,
        StatusCode::OK
    );
}

/// ASVS V3.3.5 / OA-04: a page that starts logins in a loop (each with the longest, most
/// escaped `return_to`) leaves at most three transaction cookies, the newest, each within the
/// 4096 bytes browsers store, so the `Cookie` header stays small.
#[tokio::test]
async fn oa_04_pending_logins_are_bounded_and_each_cookie_fits() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let jar = Jar::default();
    let worst = format!("/{}", "\"".repeat(paved_auth::oidc::MAX_RETURN_TO_LEN - 1));
    let mut states = Vec::new();
    for _ in 0..6 {
        let url = app::start_login(&t.app, &jar, Some(&worst)).await;
        states.push(app::query_param(&url, "state").unwrap());
        clock.advance(Duration::from_secs(1));
        let pending = app::tx_cookies(&jar);
        assert!(pending.len() <= 3, "{} pending", pending.len());
        for (name, value) in &pending {
            assert!(
                name.len() + 1 + value.len() <= 2048,
                "{} bytes",
                name.len() + value.len()
            );
        }
    }
    let kept: Vec<String> = app::tx_cookies(&jar)
        .into_iter()
        .map(|(name, _)| name.trim_start_matches("__Host-paved-tx-").to_owned())
        .collect();
    assert_eq!(kept.len(), 3);
    for newest in &states[3..] {
        assert!(kept.contains(newest), "a newer login was dropped");
    }
    // The newest logins still complete, and land on the escaped path.
    let callback = app::approve(&idp, &app::start_login(&t.app, &jar, Some(&worst)).await).await;
    let reply = app::follow_callback(&t.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), worst);
}

/// A non-ASCII cookie of someone else on the domain (a sibling subdomain, an analytics
/// script) does not hide the transaction cookie from the callback.
#[tokio::test]
async fn oa_04_a_non_ascii_neighbour_cookie_does_not_break_the_callback() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let jar = Jar::default();
    let callback = app::approve(&idp, &app::start_login(&t.app, &jar, None).await).await;
    let url = url::Url::parse(&callback).unwrap();
    let mut cookie = jar.header().unwrap().into_bytes();
    cookie.extend_from_slice(b"; theme=caf\xc3\xa9");
    let request = Request::get(format!("{}?{}", url.path(), url.query().unwrap()))
        .header(
            header::COOKIE,
            http::HeaderValue::from_bytes(&cookie).unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    let reply = app::send(&t.app, &Jar::default(), request).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
}

/// `HEAD /login` (link previews, prefetchers) starts no login: 405 with `Allow: GET`, no
/// cookie, no call to the provider.
#[tokio::test]
async fn head_login_starts_nothing() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_require_par(true);
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let jar = Jar::default();
    let request = Request::head("/login").body(Body::empty()).unwrap();
    let reply = app::send(&t.app, &jar, request).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.headers[header::ALLOW], "GET");
    assert!(jar.names().is_empty());
    assert_eq!(idp.par_calls(), 0);
}

/// A flood of logins against a provider that requires PAR: at most `MAX_CONCURRENT_PAR`
/// pushes are in flight at once; the rest get a 503 page at once instead of queueing calls at
/// the provider.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oa_24_par_calls_in_flight_are_bounded() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_require_par(true);
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    idp.set_par_fault(
        TransportFault::Delay(Duration::from_millis(1500)),
        Shots::Always,
    );
    let max = paved_auth::oidc::MAX_CONCURRENT_PAR;
    let logins = (0..max + 16).map(|_| {
        let router = t.app.clone();
        tokio::spawn(async move {
            app::navigate(&router, &Jar::default(), "/login")
                .await
                .status
        })
    });
    let mut started = 0;
    let mut refused = 0;
    for login in logins.collect::<Vec<_>>() {
        match login.await.unwrap() {
            StatusCode::SEE_OTHER => started += 1,
            StatusCode::SERVICE_UNAVAILABLE => refused += 1,
            other => panic!("{other}"),
        }
    }
    assert!(started <= max, "{started} pushes at once");
    assert!(refused >= 16, "only {refused} refused");
    assert!(idp.par_calls() <= max as u64);
}

/// OA-17: the provider rotates the refresh token, then the browser gives up on the request
/// before the answer arrives. The refresh still completes and is stored: the next request
/// uses the rotated tokens without a second refresh (which would present a spent token and
/// make the provider revoke the grant).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oa_17_a_cancelled_request_does_not_lose_a_rotated_refresh_token() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(Duration::from_secs(120));
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let jar = Jar::default();
    assert_eq!(
        app::hostile_login(&idp, &t.app, &jar).await.status,
        StatusCode::SEE_OTHER
    );
    let before = app::navigate(&t.app, &jar, "/token").await.body;
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::DelayAfterProcessing(Duration::from_millis(
            500,
        ))),
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    clock.advance(Duration::from_secs(121));
    let cancelled = tokio::time::timeout(
        Duration::from_millis(100),
        app::navigate(&t.app, &jar, "/token"),
    )
    .await;
    assert!(
        cancelled.is_err(),
        "the request was not cancelled mid-refresh"
    );
    let after = app::navigate(&t.app, &jar, "/token").await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_ne!(after.body, before);
    assert_eq!(idp.refresh_calls(), 1);
    // The rotated refresh token is the one stored: the next refresh works.
    clock.advance(Duration::from_secs(121));
    let again = app::navigate(&t.app, &jar, "/token").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(idp.refresh_calls(), 2);
}

/// OA-17: a refresh margin above the access token's lifetime refreshes once per half lifetime,
/// not at every call.
#[tokio::test]
async fn oa_17_a_margin_above_the_lifetime_does_not_refresh_every_call() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(Duration::from_secs(60));
    let t = app::hostile_app(
        &idp,
        &clock,
        |b| b,
        |b| b.refresh_margin(Duration::from_secs(600)),
    )
    .await
    .unwrap();
    let jar = Jar::default();
    assert_eq!(
        app::hostile_login(&idp, &t.app, &jar).await.status,
        StatusCode::SEE_OTHER
    );
    for _ in 0..5 {
        assert_eq!(
            app::navigate(&t.app, &jar, "/token").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(idp.refresh_calls(), 0);
    clock.advance(Duration::from_secs(31));
    for _ in 0..5 {
        assert_eq!(
            app::navigate(&t.app, &jar, "/token").await.status,
            StatusCode::OK
        );
    }
    assert_eq!(idp.refresh_calls(), 1);
}

/// A refusal that is not about the grant (`invalid_client`: a client secret rotated at the
/// provider before the application) rotates nothing: the session stays and works again once
/// the provider accepts the client.
#[tokio::test]
async fn oa_17_invalid_client_on_refresh_keeps_the_session() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(Duration::from_secs(120));
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let jar = Jar::default();
    assert_eq!(
        app::hostile_login(&idp, &t.app, &jar).await.status,
        StatusCode::SEE_OTHER
    );
    idp.set_token_fault(
        TokenFault::OAuthError {
            status: 401,
            error: "invalid_client".to_owned(),
        },
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    clock.advance(Duration::from_secs(121));
    let refused = app::navigate(&t.app, &jar, "/token").await;
    assert_ne!(refused.status, StatusCode::OK);
    assert!(app::logged_in(&t.app, &jar).await, "the session was ended");
    assert_eq!(
        app::navigate(&t.app, &jar, "/token").await.status,
        StatusCode::OK
    );
}

/// RFC 9110 §15.5.2: the 401 a script gets names how to authenticate.
#[tokio::test]
async fn unauthenticated_fetch_gets_a_challenge() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let reply = app::fetch(&t.app, &Jar::default(), "/me").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        format!("Session realm=\"{ORIGIN}\", login_uri=\"/login\"").as_str()
    );
}

/// `require_login()` outside `layer()` (the order is easy to get wrong): the login endpoints
/// still work instead of redirecting to themselves.
#[tokio::test]
async fn require_login_outside_the_login_layer_does_not_loop() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let router = Router::new()
        .route("/me", get(subject))
        .layer(t.login.layer())
        .layer(t.login.require_login());
    let jar = Jar::default();
    let start = app::navigate(&router, &jar, "/login").await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    assert!(
        start.location().starts_with(idp.issuer()),
        "{}",
        start.location()
    );
    let callback = app::approve(&idp, start.location()).await;
    let reply = app::follow_callback(&router, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        app::navigate(&router, &jar, "/me").await.status,
        StatusCode::OK
    );
}

/// `Clear-Site-Data: "cookies"` reaches every subdomain of the registrable domain; an
/// application sharing its domain can keep its neighbours' cookies and still clears its own.
#[tokio::test]
async fn logout_can_clear_storage_only() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(
        &idp,
        &clock,
        |b| b,
        paved_auth::oidc::OidcLoginBuilder::clear_site_data_storage_only,
    )
    .await
    .unwrap();
    let jar = Jar::default();
    assert_eq!(
        app::hostile_login(&idp, &t.app, &jar).await.status,
        StatusCode::SEE_OTHER
    );
    let out = app::logout(&t.app, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.headers["clear-site-data"], "\"storage\"");
    assert!(
        out.set_cookies()
            .iter()
            .any(|c| c.starts_with("__Host-session=;"))
    );
    assert!(!app::logged_in(&t.app, &jar).await);
}

/// `OidcLogin::session` on a public page: no cookie, a forged cookie and an ended session are
/// all "signed out"; a live session is found without any redirect or 401.
#[tokio::test]
async fn public_pages_see_the_session_only_while_it_is_live() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let headers_of = |jar: &Jar| {
        let mut headers = http::HeaderMap::new();
        if let Some(cookie) = jar.header() {
            headers.insert(header::COOKIE, cookie.parse().unwrap());
        }
        headers
    };
    let jar = Jar::default();
    assert!(t.login.session(&headers_of(&jar)).await.unwrap().is_none());

    let reply = app::hostile_login(&idp, &t.app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let session = t.login.session(&headers_of(&jar)).await.unwrap();
    assert!(session.is_some_and(|s| !s.subject().is_empty()));

    let forged = Jar::default();
    for name in jar.names() {
        forged.set(&name, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    }
    assert!(
        t.login
            .session(&headers_of(&forged))
            .await
            .unwrap()
            .is_none()
    );

    let before_logout = headers_of(&jar);
    app::logout(&t.app, &jar).await;
    assert!(t.login.session(&before_logout).await.unwrap().is_none());

    // A session left idle past the idle timeout is gone for a public page too.
    let idle = Jar::default();
    let reply = app::hostile_login(&idp, &t.app, &idle).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(t.login.session(&headers_of(&idle)).await.unwrap().is_some());
    clock.advance(paved_auth::session::DEFAULT_IDLE_TIMEOUT + Duration::from_secs(1));
    assert!(t.login.session(&headers_of(&idle)).await.unwrap().is_none());
}
