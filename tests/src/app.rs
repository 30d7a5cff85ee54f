//! An application under test: an axum router behind [`OidcLogin`], driven in-process with a
//! small cookie jar of its own (the app's cookies are `__Host-`/`Secure`, which a plain-http
//! client jar would not send back).

#![allow(
    clippy::unwrap_used,
    clippy::missing_panics_doc,
    clippy::must_use_candidate,
    reason = "test support: a step that fails is a failed test, and it panics like an assertion"
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::BodyExt as _;
use paved_auth::oidc::{OidcLogin, Session};
use tower::ServiceExt as _;

/// The public origin every test app uses (never contacted: requests go in-process).
pub const APP_ORIGIN: &str = "https://app.paved.test";
/// The redirect URI registered at the test providers.
pub const REDIRECT_URI: &str = "https://app.paved.test/callback";
/// The post-logout redirect URI registered at the test providers.
pub const POST_LOGOUT_URI: &str = "https://app.paved.test/";

/// The app: `/me` (the subject), `/token` (a fresh access token, as a downstream API call
/// would use it), `/` public; `/me` and `/token` behind `RequireLoginLayer`.
pub fn router(login: &OidcLogin) -> Router {
    let protected = Router::new()
        .route("/me", get(me))
        .route("/token", get(token))
        .layer(login.require_login());
    Router::new()
        .route("/", get(|| async { "home" }))
        .merge(protected)
        .layer(login.layer())
}

async fn me(session: Session) -> String {
    session.subject().to_owned()
}

async fn token(session: Session) -> Result<String, paved_auth::oidc::LoginError> {
    use paved_secrets::ExposeSecret as _;
    let token = session.access_token().await?;
    Ok(token.expose_secret().to_owned())
}

/// A browser's cookie jar for the app: name → value, updated from `Set-Cookie`.
#[derive(Debug, Clone, Default)]
pub struct Jar(Arc<Mutex<BTreeMap<String, String>>>);

impl Jar {
    /// The `Cookie` header value, if any cookie is set.
    pub fn header(&self) -> Option<String> {
        let cookies = self.0.lock().unwrap();
        if cookies.is_empty() {
            return None;
        }
        Some(
            cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    /// Applies every `Set-Cookie` of `headers` (`Max-Age=0` deletes).
    pub fn update(&self, headers: &HeaderMap) {
        let mut cookies = self.0.lock().unwrap();
        for value in headers.get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let (pair, attrs) = value.split_once(';').unwrap_or((value, ""));
            let (name, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") || val.is_empty() {
                cookies.remove(name.trim());
            } else {
                cookies.insert(name.trim().to_owned(), val.trim().to_owned());
            }
        }
    }

    /// The names of the cookies held.
    pub fn names(&self) -> Vec<String> {
        self.0.lock().unwrap().keys().cloned().collect()
    }

    /// The value of one cookie.
    pub fn get(&self, name: &str) -> Option<String> {
        self.0.lock().unwrap().get(name).cloned()
    }

    /// Sets a cookie by hand (attacks).
    pub fn set(&self, name: &str, value: &str) {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), value.to_owned());
    }

    /// Removes a cookie by hand.
    pub fn remove(&self, name: &str) {
        self.0.lock().unwrap().remove(name);
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// The `Location` header.
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// Sends `request` to `app` as the browser holding `jar` (cookies added and updated).
pub async fn send(app: &Router, jar: &Jar, mut request: Request<Body>) -> Reply {
    if let Some(cookie) = jar.header() {
        request
            .headers_mut()
            .insert(header::COOKIE, cookie.parse().unwrap());
    }
    let response: Response<Body> = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    jar.update(&parts.headers);
    let body = body.collect().await.unwrap().to_bytes();
    Reply {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `GET path` as a top-level browser navigation.
pub async fn navigate(app: &Router, jar: &Jar, path: &str) -> Reply {
    let request = Request::get(path)
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "text/html")
        .body(Body::empty())
        .unwrap();
    send(app, jar, request).await
}

/// `GET` of a full callback URL the provider redirected to (only its path and query are sent).
pub async fn follow_callback(app: &Router, jar: &Jar, callback_url: &str) -> Reply {
    let url = url::Url::parse(callback_url).unwrap();
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let request = Request::get(path)
        .header("sec-fetch-mode", "navigate")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    send(app, jar, request).await
}

/// `POST /logout` from the app's own page.
pub async fn logout(app: &Router, jar: &Jar) -> Reply {
    let request = Request::post("/logout")
        .header("sec-fetch-site", "same-origin")
        .header(header::ORIGIN, APP_ORIGIN)
        .body(Body::empty())
        .unwrap();
    send(app, jar, request).await
}

/// `GET /login` and the provider URL it redirects to.
pub async fn start_login(app: &Router, jar: &Jar, return_to: Option<&str>) -> String {
    let path = match return_to {
        Some(r) => format!(
            "/login?{}",
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("return_to", r)
                .finish()
        ),
        None => "/login".to_owned(),
    };
    let reply = navigate(app, jar, &path).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.location().to_owned()
}

/// A query parameter of `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A clock tests move by hand, shared by the client, the session store and the providers.
#[derive(Debug, Clone)]
pub struct TestClock(Arc<std::sync::atomic::AtomicU64>);

impl TestClock {
    /// A clock at the current system time.
    pub fn now() -> Self {
        Self(Arc::new(std::sync::atomic::AtomicU64::new(
            paved_crypto::Clock::now_unix(&paved_crypto::SystemClock),
        )))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        self.0
            .fetch_add(by.as_secs(), std::sync::atomic::Ordering::SeqCst);
    }
}

impl paved_crypto::Clock for TestClock {
    fn now_unix(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// An app logged in through the hostile provider: the login, the router, and the clock.
#[derive(Debug)]
pub struct HostileApp {
    /// The login configuration.
    pub login: OidcLogin,
    /// The router.
    pub app: Router,
    /// The clock shared with the provider.
    pub clock: TestClock,
}

/// Builds an app against `idp` (a [`crate::hostile::HostileAs`] started with `clock`), with
/// `client_secret_basic` and the default registration; `customize` may change the client
/// builder and the login builder.
///
/// # Errors
///
/// The client's discovery or the login's configuration errors.
pub async fn hostile_app(
    idp: &crate::hostile::HostileAs,
    clock: &TestClock,
    customize: impl FnOnce(paved_auth::oidc::OidcClientBuilder) -> paved_auth::oidc::OidcClientBuilder,
    customize_login: impl FnOnce(
        paved_auth::oidc::OidcLoginBuilder,
    ) -> paved_auth::oidc::OidcLoginBuilder,
) -> Result<HostileApp, paved_auth::oidc::OidcError> {
    hostile_app_with(
        idp,
        clock,
        AppOptions::default(),
        customize,
        customize_login,
    )
    .await
}

/// A complete login at the hostile provider: `/login`, the provider's approval, `/callback`.
/// Returns the callback reply.
pub async fn hostile_login(idp: &crate::hostile::HostileAs, app: &Router, jar: &Jar) -> Reply {
    let authorization_url = start_login(app, jar, None).await;
    let callback = idp.approve(&authorization_url).await.unwrap();
    follow_callback(app, jar, callback.as_str()).await
}

/// Builds an app against the real provider `idp` for `client_id` (its registered method:
/// pass the matching `auth`); `customize` may change the client builder.
///
/// # Errors
///
/// The client's discovery or the login's configuration errors.
pub async fn idp_app(
    idp: &crate::idp::Idp,
    client_id: &str,
    auth: paved_auth::oidc::ClientAuth,
    customize: impl FnOnce(paved_auth::oidc::OidcClientBuilder) -> paved_auth::oidc::OidcClientBuilder,
) -> Result<(OidcLogin, Router), paved_auth::oidc::OidcError> {
    use paved_auth::oidc::OidcClient;
    use paved_auth::session::{MemoryStore, Sessions};
    let builder = OidcClient::builder(idp.issuer(), client_id, auth).dev_loopback();
    let client = customize(builder).discover().await?;
    let sessions = Sessions::builder(MemoryStore::default()).build().unwrap();
    let keys = paved_secrets::KeyRing::generate().unwrap();
    let login = OidcLogin::builder(client, sessions, &keys)
        .public_origin(APP_ORIGIN)
        .post_logout_redirect_uri(POST_LOGOUT_URI)
        .build()?;
    let app = router(&login);
    Ok((login, app))
}

/// The `client_secret_basic` authentication of `client_id` at the real provider.
pub fn idp_secret_basic(idp: &crate::idp::Idp, client_id: &str) -> paved_auth::oidc::ClientAuth {
    paved_auth::oidc::ClientAuth::client_secret_basic(paved_secrets::SecretString::from(
        idp.client_secret(client_id).unwrap().to_owned(),
    ))
}

/// A complete login at the real provider with the scripted browser `browser`.
pub async fn idp_login(browser: &reqwest::Client, app: &Router, jar: &Jar) -> Reply {
    let authorization_url = start_login(app, jar, None).await;
    let callback = crate::idp::scripted_login(browser, &authorization_url)
        .await
        .unwrap();
    follow_callback(app, jar, callback.as_str()).await
}

// =============================================================================================
// Shared setup of the hostile-provider suites (`oidc_callback`, `oidc_tokens`,
// `oidc_refresh_logout`, `oidc_traces`).

/// Starts an honest [`HostileAs`](crate::hostile::HostileAs) whose clock is `clock`.
pub async fn start_hostile(clock: &TestClock) -> crate::hostile::HostileAs {
    let config = crate::hostile::HostileConfig {
        clock: Arc::new(clock.clone()),
        ..crate::hostile::HostileConfig::default()
    };
    crate::hostile::HostileAs::start_with(config).await.unwrap()
}

/// How [`hostile_app_with`] registers and stores: [`Default`] is the provider's default client
/// ([`DEFAULT_CLIENT_ID`](crate::hostile::DEFAULT_CLIENT_ID), `client_secret_basic`), a fresh
/// key ring and the default session timeouts.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The client id.
    pub client_id: String,
    /// The client authentication.
    pub auth: paved_auth::oidc::ClientAuth,
    /// The key ring sealing the transaction cookies and the session data (share one between
    /// two instances of the same application); `None`: a fresh one.
    pub keys: Option<paved_secrets::KeyRing>,
    /// The session idle timeout, if not the default.
    pub idle_timeout: Option<std::time::Duration>,
    /// The session absolute timeout, if not the default.
    pub absolute_timeout: Option<std::time::Duration>,
    /// The session store (share one between two instances of the same application); `None`: a
    /// fresh [`MemoryStore`](paved_auth::session::MemoryStore) on the test clock.
    pub store: Option<Arc<dyn paved_auth::session::SessionStore>>,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            client_id: crate::hostile::DEFAULT_CLIENT_ID.to_owned(),
            auth: paved_auth::oidc::ClientAuth::client_secret_basic(
                paved_secrets::SecretString::from(crate::hostile::DEFAULT_CLIENT_SECRET.to_owned()),
            ),
            keys: None,
            idle_timeout: None,
            absolute_timeout: None,
            store: None,
        }
    }
}

/// [`hostile_app`] with another client, key ring, session timeouts or session store (see
/// [`AppOptions`]).
///
/// # Errors
///
/// The discovery or configuration error of the client or the login.
pub async fn hostile_app_with(
    idp: &crate::hostile::HostileAs,
    clock: &TestClock,
    options: AppOptions,
    customize: impl FnOnce(paved_auth::oidc::OidcClientBuilder) -> paved_auth::oidc::OidcClientBuilder,
    customize_login: impl FnOnce(
        paved_auth::oidc::OidcLoginBuilder,
    ) -> paved_auth::oidc::OidcLoginBuilder,
) -> Result<HostileApp, paved_auth::oidc::OidcError> {
    use paved_auth::oidc::OidcClient;
    use paved_auth::session::{MemoryStore, Sessions};
    let builder = OidcClient::builder(idp.issuer(), options.client_id, options.auth)
        .dev_loopback()
        .clock(clock.clone());
    let client = customize(builder).discover().await?;
    let store: Arc<dyn paved_auth::session::SessionStore> = match options.store {
        Some(store) => store,
        None => Arc::new(MemoryStore::default().with_clock(Arc::new(clock.clone()))),
    };
    let mut sessions = Sessions::builder_arc(store).clock(Arc::new(clock.clone()));
    if let Some(idle) = options.idle_timeout {
        sessions = sessions.idle_timeout(idle);
    }
    if let Some(absolute) = options.absolute_timeout {
        sessions = sessions.absolute_timeout(absolute);
    }
    let sessions = sessions.build().unwrap();
    let keys = match options.keys {
        Some(keys) => keys,
        None => paved_secrets::KeyRing::generate().unwrap(),
    };
    let login = customize_login(
        OidcLogin::builder(client, sessions, &keys)
            .public_origin(APP_ORIGIN)
            .post_logout_redirect_uri(POST_LOGOUT_URI),
    )
    .build()?;
    let app = router(&login);
    Ok(HostileApp {
        login,
        app,
        clock: clock.clone(),
    })
}

/// Whether `jar` holds a live session: `/me` answers 200; otherwise it must be the 303 to the
/// login page (any other answer fails the test).
#[allow(
    clippy::panic,
    reason = "an unexpected answer fails the test like an assertion"
)]
pub async fn logged_in(app: &Router, jar: &Jar) -> bool {
    let reply = navigate(app, jar, "/me").await;
    match reply.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER if reply.location().starts_with("/login") => false,
        other => panic!(
            "/me answered {other} {:?}: {}",
            reply.location(),
            reply.body
        ),
    }
}

/// `GET path` as a script's `fetch()` (`Sec-Fetch-Mode: cors`): without a session it is a 401,
/// not a redirect.
pub async fn fetch(app: &Router, jar: &Jar, path: &str) -> Reply {
    let request = Request::get(path)
        .header("sec-fetch-mode", "cors")
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT, "application/json")
        .body(Body::empty())
        .unwrap();
    send(app, jar, request).await
}

/// The jar's transaction cookies (`__Host-paved-tx-*`), name and value.
#[must_use]
pub fn tx_cookies(jar: &Jar) -> Vec<(String, String)> {
    jar.names()
        .into_iter()
        .filter(|n| n.starts_with("__Host-paved-tx-"))
        .filter_map(|n| jar.get(&n).map(|v| (n, v)))
        .collect()
}

/// The provider's approval of `authorization_url`: the callback URL as text.
pub async fn approve(idp: &crate::hostile::HostileAs, authorization_url: &str) -> String {
    idp.approve(authorization_url).await.unwrap().to_string()
}
