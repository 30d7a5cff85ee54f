//! A server-rendered web app on the paved road: users sign in at the identity provider
//! (OpenID Connect, authorization code + PKCE), the app keeps their tokens server-side and
//! calls the example API with the access token. Copy it as the starting point of a web app.
//!
//! # What it shows
//!
//! - [`OidcLogin`] as a backend-for-frontend: `GET /login`, `GET /callback` and
//!   `POST /logout` are served by its layer; the browser only holds an opaque `__Host-`
//!   session cookie. The scopes are the API's (`openid profile items:read items:write`): the
//!   provider issues a JWT access token whose audience is the API (RFC 8707 resource
//!   indicators, configured on the provider's side). That token is refused by the UserInfo
//!   endpoint, so the user's name comes from the ID token (`name`, else `preferred_username`,
//!   else `sub`).
//! - [`require_login`](OidcLogin::require_login) on the routes that need a user: a page
//!   navigation is sent to the login, anything else gets a bare 401.
//! - [`SecurityHeadersLayer::web`] on every response, 404s and the login endpoints included:
//!   a strict CSP with a fresh nonce per response, which the home page's one inline script
//!   carries; HSTS (the public origin is https, so every request is); cross-origin request
//!   protection, which answers 403 to a cross-site `POST` before it reaches a handler.
//! - `POST /call-api`: a server-side call with `Authorization: Bearer` over the same hardened
//!   back channel ([`HttpClient`]) the login uses with the provider: no redirects followed,
//!   a timeout, a body cap, a JSON content type, https only outside development mode. A
//!   failure is a generic 502 page; the reason goes to `tracing`.
//! - Every text from the request, the provider or the API is HTML-escaped ([`escape`]).
//!
//! | route | needs | answer |
//! |---|---|---|
//! | `GET /` | nothing | signed out: a sign-in link; signed in: the name, "Call the API", "Sign out" |
//! | `GET /account` | a session | name, subject and issuer |
//! | `GET /healthz` | nothing | `200 ok` (for probes: touches neither the provider, the API nor the store) |
//! | `POST /call-api` | a session, same origin | `GET {api_url}/items` with the access token: status and JSON |
//! | `GET /login`, `GET /callback`, `POST /logout` | — | [`OidcLogin`]'s endpoints |
//! | anything else | — | 404 page |
//!
//! # Running it
//!
//! ```sh
//! PAVED_WEBAPP_ISSUER=https://idp.example \
//! PAVED_WEBAPP_CLIENT_ID=webapp \
//! PAVED_WEBAPP_PUBLIC_ORIGIN=https://app.example \
//! PAVED_WEBAPP_API_URL=https://api.example \
//! cargo run -p example-webapp
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `PAVED_WEBAPP_ISSUER` | required: the provider's issuer URL (discovered once, at start) |
//! | `PAVED_WEBAPP_CLIENT_ID` | required: this app's client id at the provider |
//! | `PAVED_WEBAPP_CLIENT_SECRET_FILE` | optional: a file (mode `0600`) holding the client secret (`client_secret_basic`); without it, a public client (PKCE only) |
//! | `PAVED_WEBAPP_PUBLIC_ORIGIN` | required: where browsers reach the app, `scheme://host[:port]`; the redirect URI is this plus `/callback`, the post-logout redirect URI this plus `/` |
//! | `PAVED_WEBAPP_API_URL` | required: the base URL of `example-api` |
//! | `PAVED_WEBAPP_CA_FILE` | optional: PEM root certificates trusted for the provider's and the API's https next to the Mozilla roots (a private PKI, the demo's local CA) |
//! | `PAVED_WEBAPP_KEYRING_FILE` | optional: a key ring file (paved-secrets format, mode `0600` or a Kubernetes secret volume) sealing cookies and sessions; required for several instances; without it a key made at start |
//! | `PAVED_WEBAPP_REDIS_URL` | optional: keep sessions in Redis (`redis://…`, no password in it) so that several instances share them, logout, and token refresh; without it sessions live in this process |
//! | `PAVED_WEBAPP_REDIS_URL_FILE` | optional, instead of the previous one: a file (mode `0600` or a Kubernetes secret volume) holding the Redis URL, for a URL with credentials |
//! | `PAVED_WEBAPP_DEV_LOOPBACK` | `1`: the provider and the API may be plain `http`, loopback hosts only; `0` or unset: `https` only |
//! | `PAVED_WEBAPP_ADDR` | the listening address (default `127.0.0.1:8443`) |
//! | `PAVED_WEBAPP_LOG` | the log level (default `info`) |
//!
//! The server speaks plain HTTP: serve [`app`]'s router over TLS (axum-server) or behind a
//! TLS-terminating proxy; with an https public origin every response carries HSTS. A plain
//! `http` public origin is accepted only on loopback with `PAVED_WEBAPP_DEV_LOOPBACK=1`, and
//! then gets the `dev()` header preset (no HSTS, requests for other hosts refused).
//!
//! By default sessions live in memory and are sealed with a key generated at start: a restart
//! signs everyone out. Several instances share sessions with `PAVED_WEBAPP_REDIS_URL` and the
//! same `PAVED_WEBAPP_KEYRING_FILE` (a Redis that is away makes the pages that need a session
//! answer 503, never "signed out"). `GET /healthz` answers without touching the provider, the
//! API or the session store, for liveness and readiness probes.
#![forbid(unsafe_code)]

mod config;
mod templates;

use std::fmt;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use paved_auth::http_client::{FetchError, HttpClient, require_json};
use paved_auth::oidc::{ClientAuth, LoginError, OidcClient, OidcError, OidcLogin, Session};
use paved_auth::session::{MemoryStore, RedisSessionStore, SessionError, Sessions};
use paved_headers::csp::ContentSecurityPolicy;
use paved_headers::{CspNonce, SecurityHeadersLayer, no_store};
use paved_secrets::{ExposeSecret as _, KeyRing, SecretString};

pub use config::WebappConfig;
pub use templates::escape;

/// The scopes requested: the ID token's (`openid profile`) and the API's.
pub const SCOPES: [&str; 4] = ["openid", "profile", "items:read", "items:write"];
/// How long the API call may take, connection included: a stuck API costs a user a few
/// seconds, not a request slot forever (ASVS 5.0 V15.2.2). paved-auth's back-channel default.
pub const API_TIMEOUT: Duration = paved_auth::http_client::DEFAULT_TIMEOUT;
/// The largest API answer read; the list of items is far smaller (example-api keeps at most
/// 1000 names of at most 200 characters), and a larger one is not buffered. paved-auth's
/// back-channel default.
pub const MAX_API_BODY_BYTES: usize = paved_auth::http_client::DEFAULT_MAX_BODY;
/// The key prefix of this app's sessions in a shared Redis.
pub const REDIS_NAMESPACE: &str = "paved:webapp:session:";

/// Why the app could not start. No variant holds secret material.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A required environment variable is unset or empty.
    MissingVar(&'static str),
    /// An environment variable has a value the app does not accept.
    InvalidVar(&'static str),
    /// The API URL is not https (or, in development mode, not on a loopback host), or has
    /// credentials, a query or a fragment.
    ApiUrl,
    /// The client secret file could not be read or failed its checks.
    ClientSecret(paved_secrets::Error),
    /// The Redis URL file could not be read or failed its checks.
    RedisUrl(paved_secrets::Error),
    /// The API's CA certificate file could not be read.
    CaFile(std::io::Error),
    /// The back-channel client could not be built (e.g. a CA file that holds no certificate).
    HttpClient(paved_auth::jwt::ConfigError),
    /// Discovery failed, or the login configuration was refused.
    Oidc(OidcError),
    /// The session manager could not be configured.
    Session(SessionError),
    /// The sealing key could not be generated.
    Keys(paved_secrets::Error),
    /// The security headers could not be configured.
    Headers(paved_headers::ConfigError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingVar(name) => write!(f, "{name} is not set"),
            Self::InvalidVar(name) => write!(f, "{name} has an invalid value"),
            Self::ApiUrl => f.write_str(
                "the API URL must be https (http only on a loopback host in development mode) \
                 with no credentials, query or fragment",
            ),
            Self::ClientSecret(e) => write!(f, "the client secret: {e}"),
            Self::RedisUrl(e) => write!(f, "the Redis URL file: {e}"),
            Self::CaFile(e) => write!(f, "the CA certificate file: {e}"),
            Self::HttpClient(e) => write!(f, "the back-channel client: {e}"),
            Self::Oidc(e) => write!(f, "login: {e}"),
            Self::Session(e) => write!(f, "sessions: {e}"),
            Self::Keys(e) => write!(f, "the session key: {e}"),
            Self::Headers(e) => write!(f, "security headers: {e}"),
        }
    }
}

// No `source()`: `Display` already includes the inner error.
impl std::error::Error for Error {}

#[derive(Clone)]
struct App {
    login: OidcLogin,
    http: HttpClient,
    items_url: url::Url,
}

/// The app's router. Discovers the provider (one fetch of its OpenID configuration).
///
/// # Errors
///
/// [`Error::ApiUrl`] or [`Error::HttpClient`] for the API settings; [`Error::Oidc`] if
/// discovery fails or the public origin is refused; [`Error::Keys`], [`Error::Session`] or
/// [`Error::Headers`] if the rest cannot be set up.
pub async fn app(config: &WebappConfig) -> Result<Router, Error> {
    let items_url = config::items_url(&config.api_url, config.dev_loopback)?;
    // One hardened back channel for the provider and the API: https only (loopback http in
    // development mode, which also ignores proxies), no redirects followed (one would carry the
    // bearer token elsewhere), a timeout on the whole exchange, a body cap.
    let mut http = if config.dev_loopback {
        HttpClient::dev_loopback()
    } else {
        HttpClient::new()
    }
    .map_err(Error::HttpClient)?;
    if let Some(pem) = &config.root_certificates_pem {
        http = http
            .add_root_certificates_pem(pem)
            .map_err(Error::HttpClient)?;
    }

    let auth = match &config.client_secret {
        Some(secret) => ClientAuth::client_secret_basic(SecretString::from(secret.expose_secret())),
        None => ClientAuth::none(),
    };
    let mut client = OidcClient::builder(&config.issuer, &config.client_id, auth).scopes(SCOPES);
    if config.dev_loopback {
        client = client.dev_loopback();
    }
    let client = client
        .http_client(http.clone())
        .discover()
        .await
        .map_err(Error::Oidc)?;
    let sessions = match &config.redis_url {
        Some(url) => Sessions::builder(
            RedisSessionStore::builder(url.expose_secret())
                .namespace(REDIS_NAMESPACE)
                .connect()
                .await
                .map_err(Error::Session)?,
        ),
        None => Sessions::builder(MemoryStore::default()),
    }
    .build()
    .map_err(Error::Session)?;
    let keys = match &config.keys {
        Some(keys) => keys.clone(),
        None => KeyRing::generate().map_err(Error::Keys)?,
    };
    let login = OidcLogin::builder(client, sessions, &keys)
        .public_origin(&config.public_origin)
        .post_logout_redirect_uri(format!("{}/", config.public_origin))
        .build()
        .map_err(Error::Oidc)?;

    // `POST /logout` answers 303 to the provider's end-session endpoint, and Chrome checks
    // `form-action` against the redirects that follow a form submission too: without that
    // origin the sign-out button would be blocked after the local session has ended.
    let mut csp = ContentSecurityPolicy::strict();
    let end_session = login.client().metadata().end_session_endpoint.as_deref();
    if let Some(url) = end_session.and_then(|e| url::Url::parse(e).ok()) {
        csp = csp.add_source("form-action", url.origin().ascii_serialization());
    }
    // OidcLogin has checked the origin: https, or http on loopback in development mode. An
    // https origin means every request came over TLS (ours or a proxy's), so HSTS goes on
    // every response; the dev preset drops HSTS and `upgrade-insecure-requests` and refuses
    // any Host that is not loopback.
    let https = url::Url::parse(&config.public_origin).is_ok_and(|u| u.scheme() == "https");
    let headers = if https {
        SecurityHeadersLayer::web().tls_terminates_in_front()
    } else {
        SecurityHeadersLayer::dev()
    };
    let headers = headers
        .content_security_policy(csp)
        .build()
        .map_err(Error::Headers)?;

    let signed_in = Router::new()
        .route("/account", get(account))
        .route("/call-api", post(call_api))
        .route_layer(login.require_login());
    Ok(Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .merge(signed_in)
        .fallback(|| async { templates::not_found() })
        .layer(login.layer())
        .layer(no_store())
        .layer(headers)
        .with_state(App {
            login,
            http,
            items_url,
        }))
}

/// The name shown: OIDC Core §5.1 `name`, else `preferred_username`, else the subject.
fn display_name(session: &Session) -> &str {
    let claim = |name| session.claims().get(name).and_then(|v| v.as_str());
    claim("name")
        .or_else(|| claim("preferred_username"))
        .unwrap_or_else(|| session.subject())
}

async fn home(State(app): State<App>, nonce: CspNonce, headers: HeaderMap) -> Html<String> {
    // A public page: a store failure shows it signed out rather than failing it.
    let session = app.login.session(&headers).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "example-webapp: session lookup failed");
        None
    });
    templates::home(session.as_ref().map(display_name), &nonce)
}

async fn account(session: Session) -> Html<String> {
    templates::account(display_name(&session), session.subject(), session.issuer())
}

async fn call_api(State(app): State<App>, session: Session) -> Response {
    let token = match session.access_token().await {
        Ok(token) => token,
        Err(LoginError::SessionEnded) => return Redirect::to("/login").into_response(),
        Err(error) => {
            tracing::warn!(%error, "example-webapp: no access token for the API call");
            return templates::api_failed();
        }
    };
    match get_items(&app, &token).await {
        Ok((status, body)) => templates::api_result(status, &body).into_response(),
        Err(error) => {
            tracing::warn!(%error, "example-webapp: the API call failed");
            templates::api_failed()
        }
    }
}

/// `GET {api_url}/items` with the access token over the back channel; the status and the body,
/// which must be JSON (or empty). A redirect is refused by the client: following it would send
/// the token elsewhere.
async fn get_items(app: &App, token: &SecretString) -> Result<(StatusCode, String), ApiFailure> {
    let request = axum::http::Request::get(app.items_url.as_str())
        .header(
            header::AUTHORIZATION,
            format!("Bearer {}", token.expose_secret()),
        )
        .header(header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|_| ApiFailure::Request)?;
    let response = app.http.send(request).await.map_err(ApiFailure::Fetch)?;
    if !response.body().is_empty() {
        require_json(&response).map_err(ApiFailure::Fetch)?;
        if serde_json::from_slice::<serde::de::IgnoredAny>(response.body()).is_err() {
            return Err(ApiFailure::Answer("a body that is not JSON"));
        }
    }
    let status = response.status();
    let body = String::from_utf8(response.into_body())
        .map_err(|_| ApiFailure::Answer("a body that is not UTF-8"))?;
    Ok((status, body))
}

/// Why an API call failed (logged; the page is generic). Neither names the token.
enum ApiFailure {
    Request,
    Fetch(FetchError),
    Answer(&'static str),
}

impl fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Request => f.write_str("the request could not be built"),
            Self::Fetch(e) => write!(f, "{e}"),
            Self::Answer(what) => write!(f, "the API answered with {what}"),
        }
    }
}
