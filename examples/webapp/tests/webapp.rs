//! The web app driven in-process (`tower::ServiceExt::oneshot`) against two stand-ins on
//! 127.0.0.1: an OpenID provider (discovery document, an ES256 JWKS generated with ring for
//! each test, a token endpoint minting ID tokens with the nonce of the login in progress, an
//! end-session endpoint) and the example API (`GET /items`, recording the `Authorization`
//! header it receives). Both servers are aborted when the test's value is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use example_webapp::{Error, WebappConfig, app, escape};
use paved_secrets::SecretString;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::json;
use tower::ServiceExt as _;

const CLIENT_ID: &str = "webapp";
const ORIGIN: &str = "https://app.example";
const KID: &str = "test-es256";
/// Markup in the user's name: it must reach the page as text.
const NAME: &str = "Alice <script>alert(1)</script> & \"Bob\" 'O";
const SUBJECT: &str = "alice<1>";
/// What the stand-in API answers; its markup must be escaped on the result page too.
const API_BODY: &str =
    r#"{"sub":"alice","items":[{"id":1,"name":"<img src=x onerror=alert(1)>"}]}"#;

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A task serving `router` on 127.0.0.1, aborted on drop; its base URL.
struct Server {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(router: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Server { url, task }
}

/// What the stand-in provider shares with its handlers.
struct IdpState {
    issuer: String,
    key: EcdsaKeyPair,
    /// Authorization codes the test handed out, with the nonce of their login.
    codes: Mutex<HashMap<String, String>>,
    /// The `Authorization` header of each token request (client authentication).
    token_auth: Mutex<Vec<Option<String>>>,
}

struct Idp {
    state: Arc<IdpState>,
    _server: Server,
}

impl Idp {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let state = Arc::new(IdpState {
            issuer: issuer.clone(),
            key,
            codes: Mutex::default(),
            token_auth: Mutex::default(),
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            state,
            _server: Server { url: issuer, task },
        }
    }

    fn issuer(&self) -> &str {
        &self.state.issuer
    }
}

async fn discovery(State(idp): State<Arc<IdpState>>) -> impl IntoResponse {
    let issuer = &idp.issuer;
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "end_session_endpoint": format!("{issuer}/session/end"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic"],
    }))
}

async fn jwks(State(idp): State<Arc<IdpState>>) -> impl IntoResponse {
    // Uncompressed SEC1 point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = idp.key.public_key().as_ref();
    axum::Json(json!({"keys": [{
        "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": KID,
        "x": b64(&point[1..33]), "y": b64(&point[33..65]),
    }]}))
}

/// The token endpoint: a code the test registered gets an access token and an ES256 ID token
/// carrying that login's nonce; anything else `invalid_grant`.
async fn token(
    State(idp): State<Arc<IdpState>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    idp.token_auth.lock().unwrap().push(
        headers
            .get(header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap().to_owned()),
    );
    let code = url::form_urlencoded::parse(body.as_bytes())
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let Some(nonce) = idp.codes.lock().unwrap().remove(&code) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let now = now();
    let claims = json!({
        "iss": idp.issuer, "aud": CLIENT_ID, "sub": SUBJECT, "iat": now, "exp": now + 300,
        "nonce": nonce, "name": NAME,
    });
    let header = json!({"alg": "ES256", "kid": KID, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = idp
        .key
        .sign(&SystemRandom::new(), input.as_bytes())
        .unwrap();
    axum::Json(json!({
        "access_token": format!("at-{code}"),
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": format!("{input}.{}", b64(signature.as_ref())),
    }))
    .into_response()
}

/// The stand-in API: `GET /items` answers [`API_BODY`] and records the `Authorization`
/// header of every call.
struct Api {
    seen: Arc<Mutex<Vec<Option<String>>>>,
    server: Server,
}

impl Api {
    async fn start() -> Self {
        let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
        let record = Arc::clone(&seen);
        let router = Router::new().route(
            "/items",
            get(move |headers: HeaderMap| async move {
                record.lock().unwrap().push(
                    headers
                        .get(header::AUTHORIZATION)
                        .map(|v| v.to_str().unwrap().to_owned()),
                );
                ([(header::CONTENT_TYPE, "application/json")], API_BODY)
            }),
        );
        Self {
            seen,
            server: serve(router).await,
        }
    }

    fn calls(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().clone()
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    /// The nonce in this response's `Content-Security-Policy`.
    fn csp_nonce(&self) -> String {
        let csp = self.header("content-security-policy");
        let start = csp.find("script-src 'nonce-").expect("a script nonce") + 18;
        csp[start..].split('\'').next().unwrap().to_owned()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

/// The cookies a browser would hold for the app (the tests speak to it in-process, so the
/// `Secure` and `__Host-` attributes do not apply).
#[derive(Default)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn store(&mut self, headers: &HeaderMap) {
        for value in headers.get_all(header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        pairs.join("; ")
    }
}

fn get_page(path: &str, jar: &Jar) -> Request<Body> {
    Request::get(path)
        .header("sec-fetch-site", "same-origin")
        .header("sec-fetch-mode", "navigate")
        .header(header::COOKIE, jar.header())
        .body(Body::empty())
        .unwrap()
}

/// A form `POST` from a page of `site` (`same-origin` or `cross-site`).
fn post_form(path: &str, site: &str, jar: &Jar) -> Request<Body> {
    Request::post(path)
        .header("sec-fetch-site", site)
        .header("sec-fetch-mode", "navigate")
        .header(
            header::ORIGIN,
            if site == "same-origin" {
                ORIGIN
            } else {
                "https://evil.example"
            },
        )
        .header(header::COOKIE, jar.header())
        .body(Body::empty())
        .unwrap()
}

fn config(idp: &Idp, api_url: &str) -> WebappConfig {
    WebappConfig::new(idp.issuer(), CLIENT_ID, ORIGIN, api_url).dev_loopback(true)
}

/// The query parameters of `url`.
fn query(url: &str) -> HashMap<String, String> {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs().into_owned().collect()
}

/// A complete login: `GET /login`, the provider's redirect back with a code registered for
/// the login's nonce, `GET /callback`. Returns the browser's cookies and the access token the
/// provider issued.
async fn log_in(app: &Router, idp: &Idp) -> (Jar, String) {
    let mut jar = Jar::default();
    let start = send(app, get_page("/login", &jar)).await;
    assert_eq!(start.status, StatusCode::SEE_OTHER);
    jar.store(&start.headers);
    let authorize = query(start.header("location"));
    let code = format!("code-{}", authorize["state"]);
    idp.state
        .codes
        .lock()
        .unwrap()
        .insert(code.clone(), authorize["nonce"].clone());
    let callback = format!("/callback?code={code}&state={}", authorize["state"]);
    let done = send(app, get_page(&callback, &jar)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.header("location"), "/");
    jar.store(&done.headers);
    (jar, format!("at-{code}"))
}

#[test]
fn escape_escapes_the_html_specials() {
    assert_eq!(
        escape(r#"<a href="x" title='y'>&amp;</a>"#),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
    );
    assert_eq!(escape("plain text, ünïcode"), "plain text, ünïcode");
}

#[tokio::test]
async fn signed_out_home_links_to_the_login_and_its_script_carries_the_csp_nonce() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let first = send(&app, get_page("/", &Jar::default())).await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first
            .body
            .contains(r#"<a id="login" href="/login">Sign in</a>"#)
    );
    assert!(!first.body.contains("user-name"));
    assert!(
        first
            .body
            .contains(r#"<p id="script-status">script did not run</p>"#)
    );
    let nonce = first.csp_nonce();
    assert!(first.body.contains(&format!(r#"<script nonce="{nonce}">"#)));
    assert_eq!(first.body.matches("<script").count(), 1);
    assert_eq!(first.header("cache-control"), "no-store");
    let second = send(&app, get_page("/", &Jar::default())).await;
    assert_ne!(second.csp_nonce(), nonce, "a fresh nonce per response");
    assert!(
        second
            .body
            .contains(&format!(r#"<script nonce="{}">"#, second.csp_nonce()))
    );
}

#[tokio::test]
async fn hsts_is_sent_when_the_public_origin_is_https() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/", &Jar::default())).await;
    assert_eq!(
        answer.header("strict-transport-security"),
        "max-age=63072000; includeSubDomains"
    );
    assert!(
        answer
            .header("content-security-policy")
            .contains("upgrade-insecure-requests")
    );
}

#[tokio::test]
async fn a_plain_http_loopback_origin_gets_the_dev_headers() {
    let idp = Idp::start().await;
    let config = WebappConfig::new(
        idp.issuer(),
        CLIENT_ID,
        "http://127.0.0.1:8443",
        "http://127.0.0.1:9",
    )
    .dev_loopback(true);
    let app = app(&config).await.unwrap();
    let request = Request::get("/")
        .header(header::HOST, "127.0.0.1:8443")
        .body(Body::empty())
        .unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.headers.get("strict-transport-security").is_none());
    assert!(
        !answer
            .header("content-security-policy")
            .contains("upgrade-insecure-requests")
    );
    // The dev preset refuses to serve a non-loopback host.
    let request = Request::get("/")
        .header(header::HOST, "app.example")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn form_action_allows_the_providers_logout_origin() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/", &Jar::default())).await;
    let csp = answer.header("content-security-policy");
    let form_action = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("form-action "))
        .unwrap();
    assert_eq!(form_action, format!("form-action 'self' {}", idp.issuer()));
}

#[tokio::test]
async fn the_login_asks_for_the_api_scopes_without_a_resource_parameter() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/login", &Jar::default())).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.header("location");
    assert!(location.starts_with(&format!("{}/auth?", idp.issuer())));
    let params = query(location);
    assert_eq!(params["scope"], "openid profile items:read items:write");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["redirect_uri"], format!("{ORIGIN}/callback"));
    assert_eq!(params["code_challenge_method"], "S256");
    assert!(!params.contains_key("resource"));
    assert!(answer.headers.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn account_needs_a_login() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/account", &Jar::default())).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.header("location");
    let (path, query) = location.split_once('?').unwrap();
    assert_eq!(path, "/login");
    let return_to: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    assert_eq!(return_to, [("return_to".to_owned(), "/account".to_owned())]);
    assert!(answer.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn call_api_signed_out_is_refused_without_calling_the_api() {
    let idp = Idp::start().await;
    let api = Api::start().await;
    let app = app(&config(&idp, &api.server.url)).await.unwrap();
    let answer = send(&app, post_form("/call-api", "same-origin", &Jar::default())).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(api.calls().is_empty());
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let idp = Idp::start().await;
    let api = Api::start().await;
    let app = app(&config(&idp, &api.server.url)).await.unwrap();
    let (jar, _) = log_in(&app, &idp).await;
    // Signed in, so only the cross-origin protection stands between the form and the API.
    let answer = send(&app, post_form("/call-api", "cross-site", &jar)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(api.calls().is_empty());
    let answer = send(&app, post_form("/logout", "cross-site", &jar)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // Still signed in: the cross-site logout did nothing.
    let home = send(&app, get_page("/", &jar)).await;
    assert!(home.body.contains(r#"id="user-name""#));
}

#[tokio::test]
async fn unknown_paths_are_404_with_the_security_headers() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/nope/%3Cscript%3E", &Jar::default())).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(!answer.body.contains("<script>"));
    assert!(
        answer
            .header("content-security-policy")
            .contains("script-src 'nonce-")
    );
    assert_eq!(answer.header("x-frame-options"), "DENY");
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    assert!(answer.headers.contains_key("strict-transport-security"));
}

/// The probe endpoint answers without a session and without calling the provider or the
/// API, with the same headers as every page.
#[tokio::test]
async fn healthz_answers_without_a_session_with_the_security_headers() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let answer = send(&app, get_page("/healthz", &Jar::default())).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, "ok");
    assert_eq!(answer.header("x-content-type-options"), "nosniff");
    assert!(answer.headers.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn a_login_shows_the_escaped_name_and_the_api_call_sends_the_bearer() {
    let idp = Idp::start().await;
    let api = Api::start().await;
    let app = app(&config(&idp, &api.server.url)).await.unwrap();
    let (jar, access_token) = log_in(&app, &idp).await;
    assert_eq!(
        *idp.state.token_auth.lock().unwrap(),
        vec![None],
        "a public client"
    );

    let home = send(&app, get_page("/", &jar)).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains(&format!(
        r#"Signed in as <b id="user-name">{}</b>"#,
        escape(NAME)
    )));
    assert!(!home.body.contains(NAME));
    assert!(
        home.body
            .contains(r#"<form method="post" action="/call-api"><button id="call-api">"#)
    );
    assert!(
        home.body
            .contains(r#"<form method="post" action="/logout"><button id="logout">"#)
    );
    assert!(
        home.body
            .contains(&format!(r#"<script nonce="{}">"#, home.csp_nonce()))
    );
    assert_eq!(home.body.matches("<script").count(), 1);

    let account = send(&app, get_page("/account", &jar)).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains(&escape(SUBJECT)));
    assert!(account.body.contains(&escape(idp.issuer())));
    assert!(!account.body.contains(SUBJECT));

    let result = send(&app, post_form("/call-api", "same-origin", &jar)).await;
    assert_eq!(result.status, StatusCode::OK);
    assert_eq!(api.calls(), vec![Some(format!("Bearer {access_token}"))]);
    assert!(result.body.contains(&format!(
        r#"<pre id="api-result">200 {}</pre>"#,
        escape(API_BODY)
    )));
    assert!(!result.body.contains("<img"));
    assert!(!result.body.contains(&access_token));
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_basic() {
    let idp = Idp::start().await;
    let config = config(&idp, "http://127.0.0.1:9").client_secret(SecretString::from("pw:1"));
    let app = app(&config).await.unwrap();
    log_in(&app, &idp).await;
    // RFC 6749 §2.3.1: id and secret form-urlencoded, then Basic.
    let expected = format!("Basic {}", STANDARD.encode("webapp:pw%3A1"));
    assert_eq!(*idp.state.token_auth.lock().unwrap(), vec![Some(expected)]);
}

#[tokio::test]
async fn an_unreachable_api_is_a_502_page_without_the_token() {
    let idp = Idp::start().await;
    // A port that was just free: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let app = app(&config(&idp, &closed)).await.unwrap();
    let (jar, access_token) = log_in(&app, &idp).await;
    let answer = send(&app, post_form("/call-api", "same-origin", &jar)).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert!(answer.body.contains("The API could not be reached"));
    assert!(!answer.body.contains(&access_token));
    assert!(!answer.body.contains(&closed));
    assert!(answer.headers.contains_key("content-security-policy"));
}

#[tokio::test]
async fn logout_ends_the_session_and_goes_to_the_provider() {
    let idp = Idp::start().await;
    let app = app(&config(&idp, "http://127.0.0.1:9")).await.unwrap();
    let (mut jar, _) = log_in(&app, &idp).await;
    let before = jar.header();
    let answer = send(&app, post_form("/logout", "same-origin", &jar)).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.header("location");
    assert!(location.starts_with(&format!("{}/session/end?", idp.issuer())));
    let params = query(location);
    assert_eq!(params["post_logout_redirect_uri"], format!("{ORIGIN}/"));
    assert!(params.contains_key("id_token_hint"));
    jar.store(&answer.headers);
    let home = send(&app, get_page("/", &jar)).await;
    assert!(home.body.contains(r#"id="login""#));
    // The old cookie no longer opens a session either: it was ended on the server.
    let replay = Request::get("/")
        .header(header::COOKIE, before)
        .body(Body::empty())
        .unwrap();
    assert!(send(&app, replay).await.body.contains(r#"id="login""#));
}

#[tokio::test]
async fn dev_loopback_refuses_a_non_loopback_api_at_startup() {
    let idp = Idp::start().await;
    let config = config(&idp, "https://api.example");
    assert!(matches!(app(&config).await, Err(Error::ApiUrl)));
}

#[tokio::test]
async fn an_api_redirect_is_not_followed() {
    let idp = Idp::start().await;
    // The redirect target would receive the token if the client followed redirects.
    let target = Api::start().await;
    let location = format!("{}/items", target.server.url);
    let redirecting = serve(Router::new().route(
        "/items",
        get(move || async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, location)],
            )
        }),
    ))
    .await;
    let app = app(&config(&idp, &redirecting.url)).await.unwrap();
    let (jar, _) = log_in(&app, &idp).await;
    let answer = send(&app, post_form("/call-api", "same-origin", &jar)).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
    assert!(target.calls().is_empty());
}

#[tokio::test]
async fn an_oversized_or_non_json_api_answer_is_a_502() {
    let idp = Idp::start().await;
    let huge = format!("[\"{}\"]", "a".repeat(example_webapp::MAX_API_BODY_BYTES));
    let api = serve(
        Router::new()
            .route("/big/items", get(move || async move { huge }))
            .route("/html/items", get(|| async { "<h1>not json</h1>" })),
    )
    .await;
    for base in ["big", "html"] {
        let app = app(&config(&idp, &format!("{}/{base}", api.url)))
            .await
            .unwrap();
        let (jar, _) = log_in(&app, &idp).await;
        let answer = send(&app, post_form("/call-api", "same-origin", &jar)).await;
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{base}");
        assert!(!answer.body.contains("not json"));
    }
}
