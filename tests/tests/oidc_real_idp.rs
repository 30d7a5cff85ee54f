//! The paved OIDC login against the real identity provider (npm `oidc-provider`, started by
//! `paved_tests::idp`): each checklist row the real provider can exercise, from the user's
//! side (the in-process application with its cookie jar, the scripted browser at the provider)
//! and, where a row needs to see the back channel, through a recording proxy ([`Tap`]) that
//! sits between the client and the provider's token, JWKS, PAR and UserInfo endpoints.
//!
//! Every test starts its own provider (about one second), so no test depends on another's
//! grants, sessions or keys. Time is moved with a [`TestClock`] shared by the client, the
//! session store and the JWKS cache; the provider itself runs on real time, which is why the
//! access-token lifetimes here are minutes: the client is told a token is due for refresh by its
//! clock while the provider still honours it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A scenario test reads top to bottom as the user's story; splitting it would hide the order.
#![allow(clippy::too_many_lines)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::IntoResponse as _;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{HeaderMap, Method, Request, StatusCode, Uri, header};
use paved_auth::oidc::{
    ClientAssertionKey, ClientAuth, DEFAULT_REFRESH_MARGIN, EndpointPolicy, LoginError,
    MetadataError, OidcClient, OidcClientBuilder, OidcError, OidcLogin, OidcLoginBuilder, Session,
    parse_metadata,
};
use paved_auth::session::{MemoryStore, Sessions};
use paved_secrets::{ExposeSecret as _, KeyRing, SecretBytes, SecretString};
use paved_tests::app::{self, APP_ORIGIN, Jar, POST_LOGOUT_URI, REDIRECT_URI, Reply, TestClock};
use paved_tests::idp::{
    self, BASIC_SECRET_PREFIX, CLIENT_BASIC, CLIENT_EDDSA, CLIENT_JWT, CLIENT_PAR, CLIENT_POST,
    CLIENT_PUBLIC, CLIENT_RS256, Idp, IdpOptions, USER,
};
use serde_json::{Value, json};
use url::Url;

/// The session cookie the application sets (paved's default name).
const SESSION_COOKIE: &str = "__Host-session";
/// The prefix of the per-login transaction cookies.
const TX_PREFIX: &str = "__Host-paved-tx-";

// ---------------------------------------------------------------------------------------------
// The recording proxy

/// One request the tap forwarded to the provider, with the provider's answer.
#[derive(Debug, Clone)]
struct Exchange {
    method: Method,
    path: String,
    /// The request body as form fields (empty for GET).
    form: Vec<(String, String)>,
    status: u16,
    body: String,
}

impl Exchange {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone)]
struct TapState {
    upstream: String,
    client: reqwest::Client,
    log: Arc<Mutex<Vec<Exchange>>>,
}

/// A reverse proxy on 127.0.0.1 in front of the provider's back-channel endpoints. The client
/// under test is built from the provider's own discovery document with the token, JWKS, PAR
/// and UserInfo endpoints pointed here, so a test can read what the client sent and what it
/// got (the tokens, to look for them in the browser's responses; the number of refresh and
/// JWKS requests). It forwards bytes unchanged and changes nothing the provider checks.
struct Tap {
    origin: String,
    upstream: String,
    log: Arc<Mutex<Vec<Exchange>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(
    State(state): State<TapState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let path = uri.path().to_owned();
    let target = format!(
        "{}{}",
        state.upstream,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut request = state
        .client
        .request(method.clone(), target)
        .body(body.clone());
    for name in [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT] {
        if let Some(value) = headers.get(&name) {
            request = request.header(name, value);
        }
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = response.bytes().await.unwrap();
    let form = url::form_urlencoded::parse(&body).into_owned().collect();
    state.log.lock().unwrap().push(Exchange {
        method,
        path,
        form,
        status: status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    });
    let mut out = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        out.headers_mut().insert(header::CONTENT_TYPE, content_type);
    }
    out
}

impl Tap {
    async fn start(idp: &Idp) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = TapState {
            upstream: idp.issuer().to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
            log: Arc::clone(&log),
        };
        let router = Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            origin,
            upstream: idp.issuer().to_owned(),
            log,
            task,
        }
    }

    /// `url` (on the provider) moved onto the tap.
    fn rewrite(&self, url: &str) -> String {
        let rest = url.strip_prefix(&self.upstream).unwrap();
        format!("{}{rest}", self.origin)
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.log.lock().unwrap().clone()
    }

    /// The token-endpoint exchanges of one grant type.
    fn grants(&self, idp: &Idp, grant_type: &str) -> Vec<Exchange> {
        let token_path = path_of(idp.endpoint("token_endpoint").unwrap());
        self.exchanges()
            .into_iter()
            .filter(|e| e.path == token_path && e.field("grant_type") == Some(grant_type))
            .collect()
    }

    /// How many times the JWKS was fetched.
    fn jwks_fetches(&self, idp: &Idp) -> usize {
        let jwks_path = path_of(idp.jwks_url());
        self.exchanges()
            .iter()
            .filter(|e| e.path == jwks_path && e.method == Method::GET)
            .count()
    }
}

fn path_of(url: &str) -> String {
    Url::parse(url).unwrap().path().to_owned()
}

// ---------------------------------------------------------------------------------------------
// The application under test

/// The client for `client_id`: discovered at the provider, or (with a tap) built from the
/// provider's discovery document with the back-channel endpoints moved onto the tap.
async fn client(
    idp: &Idp,
    client_id: &str,
    auth: ClientAuth,
    clock: &TestClock,
    tap: Option<&Tap>,
    customize: impl FnOnce(OidcClientBuilder) -> OidcClientBuilder,
) -> Result<OidcClient, OidcError> {
    let builder = customize(
        OidcClient::builder(idp.issuer(), client_id, auth)
            .dev_loopback()
            .clock(clock.clone()),
    );
    let Some(tap) = tap else {
        return builder.discover().await;
    };
    let mut document = idp.metadata().clone();
    for member in [
        "token_endpoint",
        "jwks_uri",
        "pushed_authorization_request_endpoint",
        "userinfo_endpoint",
    ] {
        let moved = tap.rewrite(document[member].as_str().unwrap());
        document[member] = Value::String(moved);
    }
    let metadata = parse_metadata(
        &serde_json::to_vec(&document).unwrap(),
        idp.issuer(),
        EndpointPolicy::DevLoopback,
    )
    .unwrap();
    builder.from_metadata(metadata)
}

/// The login of one application instance: its own memory store, the shared clock, `keys`.
fn login(
    client: OidcClient,
    clock: &TestClock,
    keys: &KeyRing,
    customize: impl FnOnce(OidcLoginBuilder) -> OidcLoginBuilder,
) -> OidcLogin {
    let store = MemoryStore::default().with_clock(Arc::new(clock.clone()));
    let sessions = Sessions::builder(store)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    customize(
        OidcLogin::builder(client, sessions, keys)
            .public_origin(APP_ORIGIN)
            .post_logout_redirect_uri(POST_LOGOUT_URI),
    )
    .build()
    .unwrap()
}

/// `paved_tests::app::router` plus two routes a backend-for-frontend has:
/// - `/api`: calls the provider's UserInfo endpoint server-side with a fresh access token, as
///   a downstream API call would, and answers only the status and `sub` (the browser never
///   sees the token, unlike the test app's `/token`);
/// - `/profile`: the session's UserInfo claims and ID-token claims as JSON.
fn routes(login: &OidcLogin, userinfo_endpoint: &str) -> Router {
    let userinfo = userinfo_endpoint.to_owned();
    let protected = Router::new()
        .route(
            "/me",
            get(|session: Session| async move { session.subject().to_owned() }),
        )
        .route("/token", get(token))
        .route(
            "/api",
            get(move |session: Session| api(session, userinfo.clone())),
        )
        .route("/profile", get(profile))
        .layer(login.require_login());
    Router::new()
        .route("/", get(|| async { "home" }))
        .merge(protected)
        .layer(login.layer())
}

async fn token(session: Session) -> Result<String, LoginError> {
    Ok(session.access_token().await?.expose_secret().to_owned())
}

async fn api(session: Session, userinfo: String) -> Result<String, LoginError> {
    let token = session.access_token().await?;
    let (status, body) = userinfo_at_provider(&userinfo, token.expose_secret()).await;
    Ok(format!("{status} {}", body["sub"].as_str().unwrap_or("-")))
}

async fn profile(session: Session) -> String {
    json!({ "userinfo": session.userinfo(), "claims": session.claims() }).to_string()
}

/// An app for `client_id` with the default login settings.
async fn app_for(
    idp: &Idp,
    client_id: &str,
    auth: ClientAuth,
    clock: &TestClock,
    tap: Option<&Tap>,
) -> (OidcLogin, Router) {
    let client = client(idp, client_id, auth, clock, tap, |b| b)
        .await
        .unwrap();
    let keys = KeyRing::generate().unwrap();
    let login = login(client, clock, &keys, |b| b);
    let router = routes(&login, idp.endpoint("userinfo_endpoint").unwrap());
    (login, router)
}

fn basic(idp: &Idp, client_id: &str) -> ClientAuth {
    ClientAuth::client_secret_basic(SecretString::from(
        idp.client_secret(client_id).unwrap().to_owned(),
    ))
}

// ---------------------------------------------------------------------------------------------
// Talking to the provider directly, as a resource server or an attacker would

fn direct() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// RFC 6749 §2.3.1: id and secret form-urlencoded before the Basic encoding.
fn basic_header(client_id: &str, secret: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", enc(client_id), enc(secret)))
    )
}

async fn userinfo_at_provider(endpoint: &str, access_token: &str) -> (u16, Value) {
    let response = direct()
        .get(endpoint)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A `client_secret_basic` POST to a provider endpoint (token, introspection).
async fn post_as_client(
    idp: &Idp,
    endpoint: &str,
    client_id: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = direct()
        .post(idp.endpoint(endpoint).unwrap())
        .header(
            header::AUTHORIZATION,
            basic_header(client_id, idp.client_secret(client_id).unwrap()),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// RFC 7662 introspection: whether the provider still honours `token`.
async fn active_at_provider(idp: &Idp, client_id: &str, token: &str) -> bool {
    let (status, body) = post_as_client(
        idp,
        "introspection_endpoint",
        client_id,
        &[("token", token)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn params(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// `url` with parameter `name` set to `value` (or removed for `None`), other pairs unchanged.
fn with_param(url: &str, name: &str, value: Option<&str>) -> String {
    let mut parsed = Url::parse(url).unwrap();
    let mut pairs: Vec<(String, String)> = parsed
        .query_pairs()
        .into_owned()
        .filter(|(n, _)| n != name)
        .collect();
    if let Some(value) = value {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    parsed.query_pairs_mut().clear().extend_pairs(pairs);
    parsed.into()
}

fn tx_cookies(jar: &Jar) -> Vec<(String, String)> {
    jar.names()
        .into_iter()
        .filter(|n| n.starts_with(TX_PREFIX))
        .map(|n| {
            let value = jar.get(&n).unwrap();
            (n, value)
        })
        .collect()
}

/// A jar holding only `cookies` (a second browser, or an attacker replaying what it captured).
fn jar_with(cookies: &[(String, String)]) -> Jar {
    let jar = Jar::default();
    for (name, value) in cookies {
        jar.set(name, value);
    }
    jar
}

fn jwt_header(token: &str) -> Value {
    let first = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(first).unwrap()).unwrap()
}

/// `/me` answers the subject: the session is live.
async fn assert_logged_in(app: &Router, jar: &Jar) {
    let me = app::navigate(app, jar, "/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body, USER);
}

/// `/me` redirects to the login: no session (none created, or the one held has ended).
async fn assert_no_session(app: &Router, jar: &Jar) {
    let me = app::navigate(app, jar, "/me").await;
    assert_eq!(me.status, StatusCode::SEE_OTHER, "{}", me.body);
    assert!(me.location().starts_with("/login?"), "{}", me.location());
}

/// Everything of a response the browser (and any script or extension in it) can read.
fn visible(reply: &Reply) -> String {
    let mut text = String::new();
    for (name, value) in &reply.headers {
        text.push_str(name.as_str());
        text.push_str(": ");
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
        text.push('\n');
    }
    text.push_str(&reply.body);
    text
}

/// Substrings shaped like a compact JWS: header and payload are base64url JSON objects, so both
/// start with `eyJ` (`{"`).
fn jwt_like(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let is_part = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.';
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("eyJ") {
        let start = from + at;
        let mut end = start;
        while end < bytes.len() && is_part(bytes[end]) {
            end += 1;
        }
        let candidate = &text[start..end];
        let parts: Vec<&str> = candidate.split('.').collect();
        if parts.len() >= 3 && parts[1].starts_with("eyJ") && parts[2].len() >= 16 {
            found.push(candidate.to_owned());
        }
        from = end.max(start + 3);
    }
    found
}

// ---------------------------------------------------------------------------------------------
// The end-to-end test

/// Login (`client_secret_basic`), an API call, a refreshed token that works at the provider,
/// and RP-initiated logout that ends the session here and the grant at the provider.
#[tokio::test]
async fn e2e_login_refreshed_api_call_logout_real_idp() {
    let ttl = Duration::from_secs(120);
    let idp = Idp::start(IdpOptions::new().access_token_ttl(ttl))
        .await
        .unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    let userinfo = idp.endpoint("userinfo_endpoint").unwrap();
    let browser = idp::browser().unwrap();
    let jar = Jar::default();

    let reply = app::idp_login(&browser, &app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.location(), "/");
    assert_logged_in(&app, &jar).await;
    let codes = tap.grants(&idp, "authorization_code");
    assert_eq!(codes.len(), 1);
    let issued = codes[0].json();
    let first_access = issued["access_token"].as_str().unwrap().to_owned();

    // Not due yet: the login's token, no refresh.
    let api = app::navigate(&app, &jar, "/token").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    assert_eq!(api.body, first_access);
    assert!(tap.grants(&idp, "refresh_token").is_empty());

    // Within the refresh margin of its expiry: refreshed once, server-side.
    clock.advance(ttl.checked_sub(DEFAULT_REFRESH_MARGIN).unwrap() + Duration::from_secs(1));
    let api = app::navigate(&app, &jar, "/token").await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let refreshed = api.body;
    assert_ne!(
        refreshed, first_access,
        "the access token was not refreshed"
    );
    let refreshes = tap.grants(&idp, "refresh_token");
    assert_eq!(refreshes.len(), 1);
    let rotation = refreshes[0].json();
    assert_eq!(
        refreshes[0].field("refresh_token"),
        issued["refresh_token"].as_str()
    );
    assert_eq!(rotation["access_token"], refreshed.as_str());
    // The new token is one the provider honours, for the same user.
    let (status, claims) = userinfo_at_provider(userinfo, &refreshed).await;
    assert_eq!(status, 200, "{claims}");
    assert_eq!(claims["sub"], USER);
    // And it is kept: the next call uses it without another refresh.
    let again = app::navigate(&app, &jar, "/token").await;
    assert_eq!(again.body, refreshed);
    assert_eq!(tap.grants(&idp, "refresh_token").len(), 1);

    let latest_refresh = rotation["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(latest_refresh, issued["refresh_token"].as_str().unwrap());
    assert!(active_at_provider(&idp, CLIENT_BASIC, &latest_refresh).await);

    // POST /logout: the local session ends first, then the provider's end_session.
    let session_before = jar.get(SESSION_COOKIE).unwrap();
    let out = app::logout(&app, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_eq!(
        out.headers.get("clear-site-data").unwrap(),
        "\"cookies\", \"storage\""
    );
    assert!(
        out.set_cookies()
            .iter()
            .any(|c| c.starts_with(&format!("{SESSION_COOKIE}=;")) && c.contains("Max-Age=0")),
        "{:?}",
        out.set_cookies()
    );
    assert!(jar.get(SESSION_COOKIE).is_none());
    let end_session = out.location().to_owned();
    let end_session_endpoint = idp.endpoint("end_session_endpoint").unwrap();
    assert_eq!(
        end_session.split('?').next(),
        Some(end_session_endpoint),
        "{end_session}"
    );
    let query = params(&end_session);
    let get = |name: &str| {
        query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    // The hint is the session's latest ID token (the refresh replaced the login's).
    assert_eq!(
        get("id_token_hint").as_deref(),
        rotation["id_token"].as_str()
    );
    assert_eq!(
        get("post_logout_redirect_uri").as_deref(),
        Some(POST_LOGOUT_URI)
    );
    assert_eq!(get("client_id").as_deref(), Some(CLIENT_BASIC));
    let state = get("state").unwrap();
    assert_eq!(state.len(), 43, "state is not 256 random bits: {state}");

    // The session is gone server-side, not only from this jar.
    assert_no_session(&app, &jar).await;
    let kept = jar_with(&[(SESSION_COOKIE.to_owned(), session_before)]);
    assert_no_session(&app, &kept).await;

    // The provider's part: the user confirms and comes back with the same state.
    let back = idp::scripted_logout(&browser, &end_session).await.unwrap();
    assert_eq!(
        back.as_str().split('?').next(),
        Some(POST_LOGOUT_URI),
        "{back}"
    );
    assert_eq!(app::query_param(back.as_str(), "state"), Some(state));

    // Ending the provider session revoked the grant: the refresh token the app held last is
    // dead at the token endpoint (introspection said active just before the logout).
    assert!(!active_at_provider(&idp, CLIENT_BASIC, &latest_refresh).await);
    let (status, body) = post_as_client(
        &idp,
        "token_endpoint",
        CLIENT_BASIC,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &latest_refresh),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------------
// OA-02 PKCE

/// Every authorization request carries an S256 challenge of a 43-character verifier, and the
/// verifier the token request sends is the one behind it; the provider requires PKCE, so a
/// request without it (or with `plain`) is refused there, and the app makes no session of that.
#[tokio::test]
async fn oa_02_pkce_s256_required_by_the_provider_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    assert_eq!(
        idp.metadata()["code_challenge_methods_supported"],
        json!(["S256"])
    );
    let browser = idp::browser().unwrap();

    // The provider's half: without PKCE, or with `plain`, it answers an error to the redirect
    // URI; the app turns that into a generic 400 and no session.
    for (name, value) in [
        ("code_challenge", None),
        ("code_challenge_method", Some("plain")),
    ] {
        let jar = Jar::default();
        let url = app::start_login(&app, &jar, None).await;
        let mut stripped = with_param(&url, name, value);
        if value.is_none() {
            stripped = with_param(&stripped, "code_challenge_method", None);
        }
        let refused = idp::scripted_login(&browser, &stripped).await.unwrap();
        assert_eq!(
            app::query_param(refused.as_str(), "error").as_deref(),
            Some("invalid_request"),
            "{refused}"
        );
        let reply = app::follow_callback(&app, &jar, refused.as_str()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(jar.get(SESSION_COOKIE).is_none());
        assert_no_session(&app, &jar).await;
    }
    assert!(tap.grants(&idp, "authorization_code").is_empty());

    // The client's half.
    let jar = Jar::default();
    let url = app::start_login(&app, &jar, None).await;
    assert_eq!(
        app::query_param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let challenge = app::query_param(&url, "code_challenge").unwrap();
    assert_eq!(challenge.len(), 43, "{challenge}");
    let callback = idp::scripted_login(&browser, &url).await.unwrap();
    let reply = app::follow_callback(&app, &jar, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_logged_in(&app, &jar).await;
    let exchange = &tap.grants(&idp, "authorization_code")[0];
    let verifier = exchange.field("code_verifier").unwrap();
    // RFC 7636 §4.1: 43–128 unreserved characters; 32 random bytes give 43.
    assert_eq!(verifier.len(), 43, "{verifier}");
    assert!(
        verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    assert_eq!(URL_SAFE_NO_PAD.encode(digest.as_ref()), challenge);
    // A second login gets a different verifier.
    let jar2 = Jar::default();
    let url2 = app::start_login(&app, &jar2, None).await;
    assert_ne!(
        app::query_param(&url2, "code_challenge").unwrap(),
        challenge
    );
}

// ---------------------------------------------------------------------------------------------
// OA-04 several logins at once

/// Two logins started in one browser (one app jar, one provider jar), both completed at the
/// provider, then their callbacks in reverse order: both succeed, each lands where it started,
/// and the second replaces the first session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oa_04_two_concurrent_logins_in_one_jar_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let (_login, app) = app_for(&idp, CLIENT_BASIC, basic(&idp, CLIENT_BASIC), &clock, None).await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();

    let url_a = app::start_login(&app, &jar, Some("/first")).await;
    let url_b = app::start_login(&app, &jar, Some("/second")).await;
    assert_eq!(
        tx_cookies(&jar).len(),
        2,
        "one transaction cookie per login"
    );
    let (callback_a, callback_b) = tokio::join!(
        idp::scripted_login(&browser, &url_a),
        idp::scripted_login(&browser, &url_b)
    );
    let (callback_a, callback_b) = (callback_a.unwrap(), callback_b.unwrap());

    let reply_b = app::follow_callback(&app, &jar, callback_b.as_str()).await;
    assert_eq!(reply_b.status, StatusCode::SEE_OTHER, "{}", reply_b.body);
    assert_eq!(reply_b.location(), "/second");
    let session_b = jar.get(SESSION_COOKIE).unwrap();
    assert_eq!(
        tx_cookies(&jar).len(),
        1,
        "the finished login's cookie is deleted"
    );

    let reply_a = app::follow_callback(&app, &jar, callback_a.as_str()).await;
    assert_eq!(reply_a.status, StatusCode::SEE_OTHER, "{}", reply_a.body);
    assert_eq!(reply_a.location(), "/first");
    let session_a = jar.get(SESSION_COOKIE).unwrap();
    assert!(tx_cookies(&jar).is_empty());

    assert_ne!(session_a, session_b);
    assert_logged_in(&app, &jar).await;
    // The session of the first completed callback was ended by the second.
    let old = jar_with(&[(SESSION_COOKIE.to_owned(), session_b)]);
    assert_no_session(&app, &old).await;
}

// ---------------------------------------------------------------------------------------------
// OA-06 RFC 9207 iss

/// The real provider announces and sends `iss`; the client passes the real callback and
/// refuses the same callback with `iss` changed (even by a trailing slash) or removed.
#[tokio::test]
async fn oa_06_iss_from_the_provider_checked_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let (login, app) = app_for(&idp, CLIENT_BASIC, basic(&idp, CLIENT_BASIC), &clock, None).await;
    assert!(
        login
            .client()
            .metadata()
            .authorization_response_iss_parameter_supported
    );
    let browser = idp::browser().unwrap();
    let jar = Jar::default();

    let url = app::start_login(&app, &jar, None).await;
    let callback = idp::scripted_login(&browser, &url).await.unwrap();
    assert_eq!(
        app::query_param(callback.as_str(), "iss").as_deref(),
        Some(idp.issuer())
    );
    let tx = tx_cookies(&jar);
    assert_eq!(tx.len(), 1);

    let trailing = format!("{}/", idp.issuer());
    for forged in [
        Some(trailing.as_str()),
        Some("http://127.0.0.1:1"),
        Some("https://attacker.example"),
        None,
    ] {
        // The browser still holds the transaction cookie (each callback response deletes it).
        jar.set(&tx[0].0, &tx[0].1);
        let changed = with_param(callback.as_str(), "iss", forged);
        let reply = app::follow_callback(&app, &jar, &changed).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "iss {forged:?}: {}",
            reply.body
        );
        assert!(jar.get(SESSION_COOKIE).is_none(), "iss {forged:?}");
        assert_no_session(&app, &jar).await;
    }

    // The unchanged callback still works: the refusals were for `iss` alone, and they came
    // before the code was used (a spent code would fail here).
    jar.set(&tx[0].0, &tx[0].1);
    let reply = app::follow_callback(&app, &jar, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_logged_in(&app, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-07 redirect URI

/// The redirect URI is exact: the one sent in the authorization request is the one sent in the
/// token request; an app whose callback path differs from the registered URI gets no code.
#[tokio::test]
async fn oa_07_redirect_uri_exact_and_registered_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let browser = idp::browser().unwrap();

    // The same value in both requests.
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    let jar = Jar::default();
    let url = app::start_login(&app, &jar, None).await;
    assert_eq!(
        app::query_param(&url, "redirect_uri").as_deref(),
        Some(REDIRECT_URI)
    );
    let callback = idp::scripted_login(&browser, &url).await.unwrap();
    let reply = app::follow_callback(&app, &jar, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let exchanges = tap.grants(&idp, "authorization_code");
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].field("redirect_uri"), Some(REDIRECT_URI));

    // A callback path the provider does not know.
    let client = client(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
        |b| b,
    )
    .await
    .unwrap();
    let keys = KeyRing::generate().unwrap();
    let other = login(client, &clock, &keys, |b| b.callback_path("/other"));
    assert_eq!(other.redirect_uri(), "https://app.paved.test/other");
    let other_app = app::router(&other);
    let jar = Jar::default();
    let url = app::start_login(&other_app, &jar, None).await;
    assert_eq!(
        app::query_param(&url, "redirect_uri").as_deref(),
        Some("https://app.paved.test/other")
    );
    // oidc-provider cannot redirect to an unregistered URI: it shows its own error page, and
    // no code leaves it (RFC 6749 §4.1.2.1).
    let error = idp::scripted_login(&browser, &url).await.unwrap_err();
    let message = error.to_string();
    assert!(message.contains("redirect_uri"), "{message}");
    assert!(message.contains("HTTP 400"), "{message}");
    assert_eq!(
        tap.grants(&idp, "authorization_code").len(),
        1,
        "no second code exchange"
    );
    assert!(jar.get(SESSION_COOKIE).is_none());
    assert_no_session(&other_app, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-09 single-use code

/// A callback is processed once. Replayed (URL and transaction cookie together) against the
/// same instance it is refused locally without reaching the provider; against a second
/// instance that shares the key ring (so it can open the cookie) the provider refuses the
/// spent code: 400, no session. The provider's reaction shows which path reached it: on a
/// reused code oidc-provider revokes the whole grant (RFC 6749 §4.1.2 "SHOULD revoke").
#[tokio::test]
async fn oa_09_reused_code_refused_across_instances_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let keys = KeyRing::generate().unwrap();
    let instance = |clock: TestClock, keys: KeyRing| {
        let idp = &idp;
        async move {
            let client = client(
                idp,
                CLIENT_BASIC,
                basic(idp, CLIENT_BASIC),
                &clock,
                None,
                |b| b,
            )
            .await
            .unwrap();
            let login = login(client, &clock, &keys, |b| b);
            let router = routes(&login, idp.endpoint("userinfo_endpoint").unwrap());
            (login, router)
        }
    };
    let (_a, app_a) = instance(clock.clone(), keys.clone()).await;
    let (_b, app_b) = instance(clock.clone(), keys.clone()).await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();

    let url = app::start_login(&app_a, &jar, None).await;
    let callback = idp::scripted_login(&browser, &url).await.unwrap();
    let captured = tx_cookies(&jar);
    let reply = app::follow_callback(&app_a, &jar, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_logged_in(&app_a, &jar).await;

    // Same instance: refused before the provider is asked.
    let replay = jar_with(&captured);
    let reply = app::follow_callback(&app_a, &replay, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(replay.get(SESSION_COOKIE).is_none());
    // The grant is intact, so the code was not sent again: the session still refreshes.
    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    let api = app::navigate(&app_a, &jar, "/api").await;
    assert_eq!(
        (api.status, api.body.as_str()),
        (StatusCode::OK, "200 alice")
    );

    // Second instance: the code goes to the provider, which refuses it.
    let replay = jar_with(&captured);
    let reply = app::follow_callback(&app_b, &replay, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(replay.get(SESSION_COOKIE).is_none());
    assert_no_session(&app_b, &replay).await;

    // The provider revoked the grant the code had produced: session A's next refresh is
    // refused and ends it.
    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    let api = app::navigate(&app_a, &jar, "/api").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED, "{}", api.body);
    assert_no_session(&app_a, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-12 tokens stay on the server

/// Across a whole login, API calls with a refresh, and logout, no response the app sends to
/// the browser carries an access or refresh token the provider issued (every one is known from
/// the back channel), nor anything shaped like a JWT, with one exception the protocol requires:
/// the ID token as `id_token_hint` in the logout redirect (OIDC RP-Initiated Logout 1.0 §2).
/// The only cookies are the session id (43 random characters) and the transaction cookies,
/// all `__Host-`, `HttpOnly`, `Secure`, `SameSite=Lax`.
#[tokio::test]
async fn oa_12_no_token_reaches_the_browser_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();
    let mut replies = Vec::new();

    replies.push(app::navigate(&app, &jar, "/me").await);
    let login_page = app::navigate(&app, &jar, "/login?return_to=%2Fme").await;
    let callback = idp::scripted_login(&browser, login_page.location())
        .await
        .unwrap();
    replies.push(login_page);
    replies.push(app::follow_callback(&app, &jar, callback.as_str()).await);
    replies.push(app::navigate(&app, &jar, "/me").await);
    replies.push(app::navigate(&app, &jar, "/api").await);
    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    replies.push(app::navigate(&app, &jar, "/api").await);
    replies.push(app::navigate(&app, &jar, "/api").await);
    let session_id = jar.get(SESSION_COOKIE).unwrap();
    let logout = app::logout(&app, &jar).await;
    for reply in &replies[3..] {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_eq!(
        replies[6].body, "200 alice",
        "the refreshed token works at the provider"
    );

    let mut access = Vec::new();
    let mut refresh = Vec::new();
    let mut id_tokens = Vec::new();
    for grant in ["authorization_code", "refresh_token"] {
        for exchange in tap.grants(&idp, grant) {
            let body = exchange.json();
            access.push(body["access_token"].as_str().unwrap().to_owned());
            refresh.push(body["refresh_token"].as_str().unwrap().to_owned());
            id_tokens.push(body["id_token"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(access.len(), 2, "one login and one refresh");

    // The messages name the response, not its text: it would hold the token.
    for (i, reply) in replies.iter().chain([&logout]).enumerate() {
        let text = visible(reply);
        for token in access.iter().chain(&refresh) {
            assert!(
                !text.contains(token.as_str()),
                "response {i} carries an issued token"
            );
        }
    }
    for (i, reply) in replies.iter().enumerate() {
        assert!(
            jwt_like(&visible(reply)).is_empty(),
            "response {i} carries a JWT"
        );
    }
    // Logout: the current ID token, once, as the hint in the redirect to the provider.
    let hint = app::query_param(logout.location(), "id_token_hint").unwrap();
    assert_eq!(&hint, id_tokens.last().unwrap());
    let found = jwt_like(&visible(&logout));
    assert_eq!(
        found,
        vec![hint],
        "ID token elsewhere in the logout response"
    );

    // Cookies.
    let mut names = BTreeSet::new();
    for reply in replies.iter().chain([&logout]) {
        for cookie in reply.set_cookies() {
            let name = cookie.split('=').next().unwrap().to_owned();
            assert!(
                name == SESSION_COOKIE || name.starts_with(TX_PREFIX),
                "unexpected cookie {name}"
            );
            for attribute in ["; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"] {
                assert!(cookie.contains(attribute), "{name} lacks {attribute}");
            }
            assert!(!cookie.to_ascii_lowercase().contains("domain="), "{name}");
            names.insert(name);
        }
    }
    assert!(names.contains(SESSION_COOKIE));
    assert_eq!(
        names.len(),
        2,
        "the session and one transaction cookie: {names:?}"
    );
    assert_eq!(session_id.len(), 43);
    assert!(
        session_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert!(
        jar.names().is_empty(),
        "cookies left after logout: {:?}",
        jar.names()
    );
}

// ---------------------------------------------------------------------------------------------
// OA-13 session fixation

/// A login gives a session id the browser did not have before: a planted id is not adopted,
/// and logging in again over a live session replaces its id and ends the old one.
#[tokio::test]
async fn oa_13_new_session_id_at_login_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let (_login, app) = app_for(&idp, CLIENT_BASIC, basic(&idp, CLIENT_BASIC), &clock, None).await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();

    // An attacker-chosen, well-formed id planted before the login.
    let planted = paved_crypto::random_token(32).unwrap();
    jar.set(SESSION_COOKIE, &planted);
    assert_no_session(&app, &jar).await;
    let reply = app::idp_login(&browser, &app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let first = jar.get(SESSION_COOKIE).unwrap();
    assert_ne!(first, planted);
    assert_logged_in(&app, &jar).await;
    assert_no_session(&app, &jar_with(&[(SESSION_COOKIE.to_owned(), planted)])).await;

    // Logging in again with a live session.
    let reply = app::idp_login(&browser, &app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let second = jar.get(SESSION_COOKIE).unwrap();
    assert_ne!(second, first);
    assert_logged_in(&app, &jar).await;
    assert_no_session(&app, &jar_with(&[(SESSION_COOKIE.to_owned(), first)])).await;
}

// ---------------------------------------------------------------------------------------------
// OA-14 client authentication

/// Each client authentication method logs in and refreshes at the real provider: both the
/// code exchange and the refresh are authenticated requests. The client's clock is moved past
/// the access token's 60 s lifetime between two `/token` calls, so the second one refreshes.
#[tokio::test]
async fn oa_14_each_client_authentication_method_real_idp() {
    let idp = Idp::start(IdpOptions::new().access_token_ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    let secret = idp.client_secret(CLIENT_BASIC).unwrap();
    // RFC 6749 §2.3.1: every one of these changes meaning unless form-urlencoded first.
    assert!(secret.starts_with(BASIC_SECRET_PREFIX));
    for c in [':', '%', '+', ' '] {
        assert!(secret.contains(c), "{c:?}");
    }
    let jwt_key = idp.private_key_jwt_key().unwrap();
    let assertion_key = ClientAssertionKey::es256_from_pkcs8(
        &SecretBytes::from(jwt_key.pkcs8_der().to_vec()),
        jwt_key.kid(),
    )
    .unwrap();
    let cases = [
        (
            CLIENT_BASIC,
            basic(&idp, CLIENT_BASIC),
            "client_secret_basic",
        ),
        (
            CLIENT_POST,
            ClientAuth::client_secret_post(SecretString::from(
                idp.client_secret(CLIENT_POST).unwrap().to_owned(),
            )),
            "client_secret_post",
        ),
        (
            CLIENT_JWT,
            ClientAuth::private_key_jwt(assertion_key),
            "private_key_jwt",
        ),
        (CLIENT_PUBLIC, ClientAuth::none(), "none"),
    ];
    for (client_id, auth, method) in cases {
        assert_eq!(auth.method(), method);
        let clock = TestClock::now();
        let client = client(&idp, client_id, auth, &clock, None, |b| b)
            .await
            .unwrap();
        let keys = KeyRing::generate().unwrap();
        let login = login(client, &clock, &keys, |b| b);
        let app = app::router(&login);
        let browser = idp::browser().unwrap();
        let jar = Jar::default();
        let reply = app::idp_login(&browser, &app, &jar).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{client_id}: {}",
            reply.body
        );
        assert_logged_in(&app, &jar).await;
        let first = app::navigate(&app, &jar, "/token").await;
        clock.advance(Duration::from_secs(60));
        let second = app::navigate(&app, &jar, "/token").await;
        assert_eq!(first.status, StatusCode::OK, "{client_id}");
        assert_eq!(second.status, StatusCode::OK, "{client_id}");
        assert_ne!(first.body, second.body, "{client_id}: not refreshed");
        let (status, _) =
            userinfo_at_provider(idp.endpoint("userinfo_endpoint").unwrap(), &second.body).await;
        assert_eq!(status, 200, "{client_id}");
    }
}

// ---------------------------------------------------------------------------------------------
// OA-16 ID-token algorithms

/// `EdDSA` ID tokens are accepted by default; RS256 (RSASSA-PKCS1-v1_5) only with the legacy
/// opt-in: without it the callback fails with 502 and no session.
#[tokio::test]
async fn oa_16_eddsa_accepted_rs256_only_with_opt_in_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let cases: [(&str, bool, StatusCode); 3] = [
        (CLIENT_EDDSA, false, StatusCode::SEE_OTHER),
        (CLIENT_RS256, false, StatusCode::BAD_GATEWAY),
        (CLIENT_RS256, true, StatusCode::SEE_OTHER),
    ];
    for (client_id, legacy, expected) in cases {
        let client = client(
            &idp,
            client_id,
            basic(&idp, client_id),
            &clock,
            Some(&tap),
            |b| {
                if legacy {
                    b.allow_legacy_rsa_pkcs1()
                } else {
                    b
                }
            },
        )
        .await
        .unwrap();
        let keys = KeyRing::generate().unwrap();
        let login = login(client, &clock, &keys, |b| b);
        let app = app::router(&login);
        let browser = idp::browser().unwrap();
        let jar = Jar::default();
        let reply = app::idp_login(&browser, &app, &jar).await;
        assert_eq!(
            reply.status, expected,
            "{client_id} legacy={legacy}: {}",
            reply.body
        );
        let exchanges = tap.grants(&idp, "authorization_code");
        let id_token = exchanges.last().unwrap().json()["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let alg = if client_id == CLIENT_EDDSA {
            "EdDSA"
        } else {
            "RS256"
        };
        assert_eq!(jwt_header(&id_token)["alg"], alg);
        if expected == StatusCode::SEE_OTHER {
            assert_logged_in(&app, &jar).await;
        } else {
            assert!(jar.get(SESSION_COOKIE).is_none());
            assert_no_session(&app, &jar).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OA-17 refresh single flight and rotation

/// After expiry, 20 concurrent requests of one session all get the same new token from one
/// refresh, and a later refresh still works.
///
/// The provider rotates refresh tokens and treats the reuse of a rotated one as theft: it
/// revokes the whole grant (`refresh_rotates_and_reuse_revokes_the_grant` in the harness
/// tests). A client that refreshed twice with the same token would therefore see the second
/// refresh refused and, worse, its next refresh too: the final refresh succeeding proves no
/// refresh token was used twice, independent of the tap's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oa_17_twenty_concurrent_requests_one_refresh_real_idp() {
    const CONCURRENT: usize = 20;
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();
    let reply = app::idp_login(&browser, &app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let login_token = tap.grants(&idp, "authorization_code")[0].json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    let barrier = Arc::new(tokio::sync::Barrier::new(CONCURRENT));
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENT {
        let (app, jar, barrier) = (app.clone(), jar.clone(), Arc::clone(&barrier));
        requests.spawn(async move {
            barrier.wait().await;
            app::navigate(&app, &jar, "/token").await
        });
    }
    let mut tokens = BTreeSet::new();
    while let Some(reply) = requests.join_next().await {
        let reply = reply.unwrap();
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        tokens.insert(reply.body);
    }
    assert_eq!(tokens.len(), 1, "the requests got different tokens");
    let refreshed = tokens.pop_first().unwrap();
    assert_ne!(refreshed, login_token);
    let refreshes = tap.grants(&idp, "refresh_token");
    assert_eq!(refreshes.len(), 1, "one refresh for {CONCURRENT} requests");
    assert_eq!(refreshes[0].json()["access_token"], refreshed.as_str());

    // The rotated refresh token is the one stored: the next refresh works.
    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    let again = app::navigate(&app, &jar, "/token").await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_ne!(again.body, refreshed);
    let refreshes = tap.grants(&idp, "refresh_token");
    assert_eq!(refreshes.len(), 2);
    assert_eq!(
        refreshes[1].field("refresh_token"),
        refreshes[0].json()["refresh_token"].as_str(),
        "the second refresh used the rotated token"
    );
    let (status, _) =
        userinfo_at_provider(idp.endpoint("userinfo_endpoint").unwrap(), &again.body).await;
    assert_eq!(status, 200);
    assert_logged_in(&app, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-21 / OA-28 signing-key rotation

/// The provider restarts with a new signing key first in its set (same issuer, grants kept).
/// A new login's ID token carries the new `kid`; the client refetches the JWKS once for it and
/// accepts it; a session from before the rotation keeps working and refreshes, its refreshed
/// ID token (new `kid`) verified with the refetched keys.
///
/// The refetch on an unknown `kid` is rate-limited (JW-07: at most one fetch per 30 s cooldown
/// since the last attempt, the `jose` default): a rotation within the cooldown after the last
/// fetch is refused until it passes. The test shows that bound too, then moves the clock past
/// it.
#[tokio::test]
async fn oa_21_oa_28_signing_key_rotation_real_idp() {
    let mut idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    let (_login, app) = app_for(
        &idp,
        CLIENT_BASIC,
        basic(&idp, CLIENT_BASIC),
        &clock,
        Some(&tap),
    )
    .await;
    let old_kid = idp.active_signing_kid("ES256").unwrap().to_owned();
    let browser = idp::browser().unwrap();
    let last_id_token_kid = |tap: &Tap, idp: &Idp, grant: &str| {
        let exchanges = tap.grants(idp, grant);
        let token = exchanges.last().unwrap().json()["id_token"]
            .as_str()
            .unwrap()
            .to_owned();
        jwt_header(&token)["kid"].as_str().unwrap().to_owned()
    };

    let before = Jar::default();
    let reply = app::idp_login(&browser, &app, &before).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(last_id_token_kid(&tap, &idp, "authorization_code"), old_kid);
    assert_eq!(tap.jwks_fetches(&idp), 1);

    idp.restart_with_new_signing_key().await.unwrap();
    let new_kid = idp.active_signing_kid("ES256").unwrap().to_owned();
    assert_ne!(new_kid, old_kid);

    // Within the cooldown of the first fetch: no refetch, the unknown key is refused.
    let early = Jar::default();
    let reply = app::idp_login(&browser, &app, &early).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{}", reply.body);
    assert_eq!(last_id_token_kid(&tap, &idp, "authorization_code"), new_kid);
    assert_eq!(tap.jwks_fetches(&idp), 1);
    assert_no_session(&app, &early).await;

    // Past the cooldown: one refetch, and the new key is accepted.
    clock.advance(paved_auth::jwt::DEFAULT_REFETCH_COOLDOWN + Duration::from_secs(1));
    let after = Jar::default();
    let reply = app::idp_login(&browser, &app, &after).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(last_id_token_kid(&tap, &idp, "authorization_code"), new_kid);
    assert_eq!(tap.jwks_fetches(&idp), 2, "exactly one refetch");
    assert_logged_in(&app, &after).await;

    // The session from before the rotation: still valid, and it refreshes; the provider now
    // signs its refreshed ID token with the new key.
    assert_logged_in(&app, &before).await;
    clock.advance(idp::DEFAULT_ACCESS_TOKEN_TTL);
    let api = app::navigate(&app, &before, "/api").await;
    assert_eq!(
        (api.status, api.body.as_str()),
        (StatusCode::OK, "200 alice")
    );
    assert_eq!(tap.grants(&idp, "refresh_token").len(), 1);
    assert_eq!(last_id_token_kid(&tap, &idp, "refresh_token"), new_kid);
    assert_eq!(
        tap.jwks_fetches(&idp),
        2,
        "no fetch for a key already known"
    );
    assert_logged_in(&app, &before).await;
}

// ---------------------------------------------------------------------------------------------
// OA-22 logout

/// Logout is POST only and same-origin only; the refused attempts leave the session alone.
/// (The redirect to the provider's `end_session` and its outcome are in the end-to-end test.)
#[tokio::test]
async fn oa_22_logout_is_post_and_same_origin_only_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let (_login, app) = app_for(&idp, CLIENT_BASIC, basic(&idp, CLIENT_BASIC), &clock, None).await;
    let browser = idp::browser().unwrap();
    let jar = Jar::default();
    let reply = app::idp_login(&browser, &app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let session = jar.get(SESSION_COOKIE).unwrap();

    // A link or image pointing at /logout.
    let get = app::navigate(&app, &jar, "/logout").await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED, "{}", get.body);
    assert_eq!(get.headers.get(header::ALLOW).unwrap(), "POST");
    assert!(get.set_cookies().is_empty());
    assert_logged_in(&app, &jar).await;

    // A form on another site posting to /logout, as browsers label it.
    let cross = [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![
            ("sec-fetch-site", "same-site"),
            ("origin", "https://sub.paved.test"),
        ],
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "cross-site")],
    ];
    for headers in cross {
        let mut request = Request::post("/logout");
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let reply = app::send(&app, &jar, request.body(Body::empty()).unwrap()).await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{headers:?}: {}",
            reply.body
        );
        assert!(reply.set_cookies().is_empty(), "{headers:?}");
        assert_eq!(jar.get(SESSION_COOKIE).as_deref(), Some(session.as_str()));
        assert_logged_in(&app, &jar).await;
    }

    let out = app::logout(&app, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    assert_no_session(&app, &jar_with(&[(SESSION_COOKIE.to_owned(), session)])).await;
}

// ---------------------------------------------------------------------------------------------
// OA-24 PAR

fn assert_pushed(url: &str, client_id: &str) {
    let names: Vec<String> = params(url).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    assert_eq!(
        app::query_param(url, "client_id").as_deref(),
        Some(client_id)
    );
    let request_uri = app::query_param(url, "request_uri").unwrap();
    assert!(
        request_uri.starts_with("urn:ietf:params:oauth:request_uri:"),
        "{request_uri}"
    );
}

/// With PAR only `client_id` and `request_uri` cross the browser, and the login works, for the
/// client the provider requires PAR of and for a client that opts in. The provider's
/// per-client requirement does not appear in discovery, so a client not configured for PAR
/// sends a plain request, which the provider refuses: 400, no session.
#[tokio::test]
async fn oa_24_par_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let tap = Tap::start(&idp).await;
    let clock = TestClock::now();
    assert_ne!(
        idp.metadata()["require_pushed_authorization_requests"],
        true
    );
    let par_path = path_of(
        idp.endpoint("pushed_authorization_request_endpoint")
            .unwrap(),
    );

    for client_id in [CLIENT_PAR, CLIENT_BASIC] {
        let client = client(
            &idp,
            client_id,
            basic(&idp, client_id),
            &clock,
            Some(&tap),
            OidcClientBuilder::use_par,
        )
        .await
        .unwrap();
        assert!(client.uses_par());
        let keys = KeyRing::generate().unwrap();
        let login = login(client, &clock, &keys, |b| b);
        let app = app::router(&login);
        let browser = idp::browser().unwrap();
        let jar = Jar::default();
        let pushed_before = tap
            .exchanges()
            .iter()
            .filter(|e| e.path == par_path)
            .count();
        let url = app::start_login(&app, &jar, None).await;
        assert_pushed(&url, client_id);
        let pushed: Vec<Exchange> = tap
            .exchanges()
            .into_iter()
            .filter(|e| e.path == par_path)
            .collect();
        assert_eq!(pushed.len(), pushed_before + 1);
        let push = pushed.last().unwrap();
        assert_eq!(push.status, 201, "{}", push.body);
        assert_eq!(push.field("code_challenge_method"), Some("S256"));
        assert_eq!(push.field("redirect_uri"), Some(REDIRECT_URI));
        let callback = idp::scripted_login(&browser, &url).await.unwrap();
        let reply = app::follow_callback(&app, &jar, callback.as_str()).await;
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{client_id}: {}",
            reply.body
        );
        assert_logged_in(&app, &jar).await;
    }

    // CLIENT_PAR without `use_par()`.
    let (login, app) = app_for(&idp, CLIENT_PAR, basic(&idp, CLIENT_PAR), &clock, None).await;
    assert!(!login.client().uses_par());
    let browser = idp::browser().unwrap();
    let jar = Jar::default();
    let url = app::start_login(&app, &jar, None).await;
    assert!(app::query_param(&url, "request_uri").is_none());
    let refused = idp::scripted_login(&browser, &url).await.unwrap();
    assert_eq!(
        app::query_param(refused.as_str(), "error").as_deref(),
        Some("invalid_request"),
        "{refused}"
    );
    let reply = app::follow_callback(&app, &jar, refused.as_str()).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&app, &jar).await;
}

/// A provider that announces `require_pushed_authorization_requests` in discovery gets PAR
/// without any client setting.
#[tokio::test]
async fn oa_24_par_required_in_discovery_real_idp() {
    let idp = Idp::start(IdpOptions::new().require_pushed_authorization_requests(true))
        .await
        .unwrap();
    let clock = TestClock::now();
    let (login, app) = app_for(&idp, CLIENT_BASIC, basic(&idp, CLIENT_BASIC), &clock, None).await;
    assert!(
        login
            .client()
            .metadata()
            .require_pushed_authorization_requests
    );
    assert!(login.client().uses_par());
    let browser = idp::browser().unwrap();
    let jar = Jar::default();
    let url = app::start_login(&app, &jar, None).await;
    assert_pushed(&url, CLIENT_BASIC);
    let callback = idp::scripted_login(&browser, &url).await.unwrap();
    let reply = app::follow_callback(&app, &jar, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_logged_in(&app, &jar).await;
}

// ---------------------------------------------------------------------------------------------
// OA-27 UserInfo

/// With `fetch_userinfo()` the session holds the provider's UserInfo claims: the profile and
/// email claims, which this provider (`conformIdTokenClaims`) leaves out of the ID token.
#[tokio::test]
async fn oa_27_userinfo_claims_in_the_session_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    let clock = TestClock::now();
    let browser = idp::browser().unwrap();
    for fetch in [true, false] {
        let client = client(
            &idp,
            CLIENT_BASIC,
            basic(&idp, CLIENT_BASIC),
            &clock,
            None,
            |b| b,
        )
        .await
        .unwrap();
        let keys = KeyRing::generate().unwrap();
        let login = login(client, &clock, &keys, |b| {
            if fetch { b.fetch_userinfo() } else { b }
        });
        let app = routes(&login, idp.endpoint("userinfo_endpoint").unwrap());
        let jar = Jar::default();
        let reply = app::idp_login(&browser, &app, &jar).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let profile = app::navigate(&app, &jar, "/profile").await;
        assert_eq!(profile.status, StatusCode::OK, "{}", profile.body);
        let profile: Value = serde_json::from_str(&profile.body).unwrap();
        let claims = &profile["claims"];
        assert_eq!(claims["sub"], USER);
        assert!(
            claims.get("email").is_none(),
            "email in the ID token: {claims}"
        );
        assert!(
            claims.get("name").is_none(),
            "name in the ID token: {claims}"
        );
        let userinfo = &profile["userinfo"];
        if fetch {
            assert_eq!(userinfo["sub"], USER);
            assert_eq!(userinfo["email"], "alice@paved.test");
            assert_eq!(userinfo["email_verified"], true);
            assert_eq!(userinfo["name"], "Alice Liddell");
            assert_eq!(userinfo["preferred_username"], "alice");
        } else {
            assert_eq!(userinfo, &Value::Null);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OA-20 discovery

/// The issuer is compared byte for byte: configured with a trailing slash, discovery of the
/// real provider (whose metadata says the issuer without one) fails; without it, it works.
#[tokio::test]
async fn oa_20_issuer_with_trailing_slash_refused_real_idp() {
    let idp = Idp::start(IdpOptions::new()).await.unwrap();
    assert!(!idp.issuer().ends_with('/'));
    let slashed = format!("{}/", idp.issuer());
    let error = OidcClient::builder(slashed, CLIENT_BASIC, basic(&idp, CLIENT_BASIC))
        .dev_loopback()
        .discover()
        .await
        .unwrap_err();
    assert_eq!(error, OidcError::Metadata(MetadataError::IssuerMismatch));
    let client = OidcClient::builder(idp.issuer(), CLIENT_BASIC, basic(&idp, CLIENT_BASIC))
        .dev_loopback()
        .discover()
        .await
        .unwrap();
    assert_eq!(client.issuer(), idp.issuer());
}
