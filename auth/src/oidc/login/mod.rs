//! [`OidcLogin`]: the login, callback and logout endpoints, and the shared state the
//! [`RequireLoginLayer`](crate::oidc::RequireLoginLayer) and [`Session`](crate::oidc::Session)
//! use to refresh tokens.

mod handlers;
mod layer;
pub(crate) mod pages;
mod service;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use paved_crypto::Sealer;
use paved_secrets::KeyRing;

pub use layer::OidcLoginLayer;
pub use service::OidcLoginService;

use crate::oidc::client::OidcClient;
use crate::oidc::error::OidcError;
use crate::oidc::require::RequireLoginLayer;
use crate::oidc::transaction::Transaction;
use crate::session::Sessions;

/// The default refresh margin: an access token is refreshed when it expires within 60 s.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The largest refresh margin accepted: 1 hour.
pub const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(3600);
/// The longest path accepted for the endpoints and the default landing page.
const MAX_PATH_LEN: usize = 256;

/// The browser login of one application with one provider: the endpoints (`GET /login`,
/// `GET /callback`, `POST /logout`), the sealed transaction cookies, the session store and
/// the refresh machinery. Cheap to clone.
///
/// - [`layer`](Self::layer) serves the three endpoints in front of the application;
/// - [`require_login`](Self::require_login) guards the routes that need a user.
///
/// See the [module documentation](crate::oidc) for the full example.
#[derive(Clone)]
pub struct OidcLogin(pub(crate) Arc<LoginInner>);

pub(crate) struct LoginInner {
    pub(crate) client: OidcClient,
    pub(crate) sessions: Sessions,
    pub(crate) tx_sealer: Sealer,
    pub(crate) data_sealer: Sealer,
    pub(crate) public_origin: String,
    pub(crate) redirect_uri: String,
    pub(crate) login_path: String,
    pub(crate) callback_path: String,
    pub(crate) logout_path: String,
    pub(crate) default_return_to: String,
    pub(crate) post_logout_redirect_uri: Option<String>,
    pub(crate) refresh_margin: Duration,
    pub(crate) fetch_userinfo: bool,
    pub(crate) clear_site_cookies: bool,
    pub(crate) session_ttl: Duration,
    pub(crate) refresh_locks: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    pub(crate) spent_states: Mutex<SpentStates>,
}

impl fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcLogin")
            .field("client", &self.0.client)
            .field("public_origin", &self.0.public_origin)
            .field("redirect_uri", &self.0.redirect_uri)
            .field("login_path", &self.0.login_path)
            .field("callback_path", &self.0.callback_path)
            .field("logout_path", &self.0.logout_path)
            .finish_non_exhaustive()
    }
}

impl OidcLogin {
    /// A builder: `client` is the discovered provider, `sessions` the session manager, `keys`
    /// the key ring that seals the transaction cookies and the stored session data (one
    /// purpose-bound key each, derived by [`Sealer`]).
    pub fn builder(client: OidcClient, sessions: Sessions, keys: &KeyRing) -> OidcLoginBuilder {
        // The sealers share the client's clock so expiry tests need no sleeping. Their keys are
        // bound to this issuer and client: two logins built from one key ring (two providers in
        // one app) cannot open each other's transactions or sessions, so a malicious provider
        // cannot finish a login it did not start (mix-up, RFC 9700 §4.4).
        let clock = client.clock();
        let binding = login_binding(client.issuer(), client.client_id());
        let sealer = |what: &str| {
            Sealer::new(keys, &format!("paved-auth oidc {what} {binding}"))
                .map(|s| s.with_clock(Arc::clone(&clock)))
        };
        OidcLoginBuilder {
            tx_sealer: sealer("tx"),
            data_sealer: sealer("session"),
            client,
            sessions,
            public_origin: None,
            login_path: "/login".to_owned(),
            callback_path: "/callback".to_owned(),
            logout_path: "/logout".to_owned(),
            default_return_to: "/".to_owned(),
            post_logout_redirect_uri: None,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            fetch_userinfo: false,
            clear_site_cookies: true,
        }
    }

    /// The layer serving the login, callback and logout endpoints.
    #[must_use]
    pub fn layer(&self) -> OidcLoginLayer {
        OidcLoginLayer::new(self.clone())
    }

    /// The layer that lets only logged-in users through (see [`RequireLoginLayer`]).
    #[must_use]
    pub fn require_login(&self) -> RequireLoginLayer {
        RequireLoginLayer::new(self.clone())
    }

    /// The session the request's cookie names, if it has a live one of this login: for a
    /// public page that looks different to a signed-in user. Routes that need a user use
    /// [`require_login`](Self::require_login) and the [`Session`](crate::oidc::Session)
    /// extractor instead.
    ///
    /// A cookie naming no session, an expired session or one sealed for another login is
    /// `Ok(None)`, exactly as [`require_login`](Self::require_login) sees it.
    ///
    /// # Errors
    ///
    /// [`LoginError`](crate::oidc::LoginError) when the session store fails (the caller
    /// decides whether the page can be shown signed out).
    pub async fn session(
        &self,
        headers: &http::HeaderMap,
    ) -> Result<Option<crate::oidc::Session>, crate::oidc::LoginError> {
        crate::oidc::require::service::load(self, headers).await
    }

    /// The client.
    #[must_use]
    pub fn client(&self) -> &OidcClient {
        &self.0.client
    }

    /// The session manager (to end all sessions of a user, list them, …).
    #[must_use]
    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// The redirect URI sent to the provider: the public origin plus the callback path.
    #[must_use]
    pub fn redirect_uri(&self) -> &str {
        &self.0.redirect_uri
    }

    /// The key under which a user's sessions are indexed: the issuer and the subject
    /// (ASVS V6.8.1: the IdP's identifier plus its user id, so two providers' `sub` values
    /// never collide).
    #[must_use]
    pub fn user_key(issuer: &str, subject: &str) -> String {
        format!("{issuer} {subject}")
    }
}

/// Builds an [`OidcLogin`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct OidcLoginBuilder {
    client: OidcClient,
    sessions: Sessions,
    tx_sealer: Result<Sealer, paved_crypto::Error>,
    data_sealer: Result<Sealer, paved_crypto::Error>,
    public_origin: Option<String>,
    login_path: String,
    callback_path: String,
    logout_path: String,
    default_return_to: String,
    post_logout_redirect_uri: Option<String>,
    refresh_margin: Duration,
    fetch_userinfo: bool,
    clear_site_cookies: bool,
}

impl fmt::Debug for OidcLoginBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OidcLoginBuilder")
            .field("client", &self.client)
            .field("public_origin", &self.public_origin)
            .finish_non_exhaustive()
    }
}

impl OidcLoginBuilder {
    /// The application's public origin, e.g. `https://app.example` (required): the redirect
    /// URI is built from it (OA-07) and logout requests must come from it (OA-22). https only;
    /// `http` only for a loopback host with a
    /// [`dev_loopback`](crate::oidc::OidcClientBuilder::dev_loopback) client.
    pub fn public_origin(mut self, origin: impl Into<String>) -> Self {
        self.public_origin = Some(origin.into());
        self
    }

    /// The login path (default `/login`).
    pub fn login_path(mut self, path: impl Into<String>) -> Self {
        self.login_path = path.into();
        self
    }

    /// The callback path (default `/callback`); the redirect URI is the public origin plus
    /// this path and must be registered at the provider exactly (OA-07).
    pub fn callback_path(mut self, path: impl Into<String>) -> Self {
        self.callback_path = path.into();
        self
    }

    /// The logout path (default `/logout`).
    pub fn logout_path(mut self, path: impl Into<String>) -> Self {
        self.logout_path = path.into();
        self
    }

    /// Where a login without a `return_to` lands (default `/`).
    pub fn default_return_to(mut self, path: impl Into<String>) -> Self {
        self.default_return_to = path.into();
        self
    }

    /// The `post_logout_redirect_uri` registered at the provider (RP-initiated logout,
    /// OA-22). Without it the provider's logout page is still visited, but the user stays
    /// there.
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uri = Some(uri.into());
        self
    }

    /// Refresh access tokens that expire within `margin` (default
    /// [`DEFAULT_REFRESH_MARGIN`], at most [`MAX_REFRESH_MARGIN`]).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Fetch the UserInfo claims at login and keep them in the session; their `sub` must
    /// equal the ID token's (OA-27).
    pub fn fetch_userinfo(mut self) -> Self {
        self.fetch_userinfo = true;
        self
    }

    /// Logout sends `Clear-Site-Data: "storage"` instead of `"cookies", "storage"`. Browsers
    /// apply `"cookies"` to the whole registrable domain: when several applications share one
    /// (`app1.corp.example`, `app2.corp.example`), logging out of one would log the user out
    /// of all and cancel their logins in progress. This login's own cookies are deleted by name
    /// either way.
    pub fn clear_site_data_storage_only(mut self) -> Self {
        self.clear_site_cookies = false;
        self
    }

    /// Checks the settings and builds the login.
    ///
    /// # Errors
    ///
    /// [`OidcError::Config`] for a missing or invalid public origin (not https, or http on a
    /// non-loopback host, or with a path), invalid or clashing paths, an invalid post-logout
    /// URI, a margin out of range, or a user-info fetch without a UserInfo endpoint;
    /// [`OidcError::Keys`] if the key ring cannot seal.
    pub fn build(self) -> Result<OidcLogin, OidcError> {
        let tx_sealer = self.tx_sealer.map_err(OidcError::Keys)?;
        let data_sealer = self.data_sealer.map_err(OidcError::Keys)?;
        let origin = self
            .public_origin
            .ok_or(OidcError::Config("the public origin is required"))?;
        let public_origin = check_origin(&origin, self.client.is_dev_loopback())?;
        for path in [
            &self.login_path,
            &self.callback_path,
            &self.logout_path,
            &self.default_return_to,
        ] {
            if !is_plain_path(path) {
                return Err(OidcError::Config(
                    "paths must start with one '/' and hold no query, fragment or control characters",
                ));
            }
        }
        if self.login_path == self.callback_path
            || self.login_path == self.logout_path
            || self.callback_path == self.logout_path
        {
            return Err(OidcError::Config(
                "the login, callback and logout paths must differ",
            ));
        }
        if let Some(uri) = &self.post_logout_redirect_uri {
            let ok = url::Url::parse(uri).is_ok_and(|u| {
                u.origin().ascii_serialization() == public_origin && u.fragment().is_none()
            });
            if !ok {
                return Err(OidcError::Config(
                    "the post-logout redirect URI must be an absolute URL on the public origin",
                ));
            }
        }
        if self.refresh_margin > MAX_REFRESH_MARGIN {
            return Err(OidcError::Config("the refresh margin is above one hour"));
        }
        if self.fetch_userinfo && self.client.metadata().userinfo_endpoint.is_none() {
            return Err(OidcError::Config("the provider has no UserInfo endpoint"));
        }
        // The longest transaction this login can write (the longest `return_to`, all of it
        // escaped in JSON) must fit in a cookie; an issuer too long for that is a configuration
        // error now, not a 500 at the first deep link.
        let worst = Transaction {
            state: "s".repeat(crate::oidc::transaction::RANDOM_LEN),
            verifier: "v".repeat(crate::oidc::transaction::RANDOM_LEN),
            nonce: "n".repeat(crate::oidc::transaction::RANDOM_LEN),
            issuer: self.client.issuer().to_owned(),
            created: u64::MAX,
            return_to: format!("/{}", "\"".repeat(crate::oidc::MAX_RETURN_TO_LEN - 1)),
        };
        worst
            .seal(&tx_sealer)
            .map_err(|_| OidcError::Config("the issuer is too long for the login cookie"))?;
        let redirect_uri = format!("{public_origin}{}", self.callback_path);
        let session_ttl = self.sessions.config().absolute_timeout();
        Ok(OidcLogin(Arc::new(LoginInner {
            client: self.client,
            sessions: self.sessions,
            tx_sealer,
            data_sealer,
            public_origin,
            redirect_uri,
            login_path: self.login_path,
            callback_path: self.callback_path,
            logout_path: self.logout_path,
            default_return_to: self.default_return_to,
            post_logout_redirect_uri: self.post_logout_redirect_uri,
            refresh_margin: self.refresh_margin,
            fetch_userinfo: self.fetch_userinfo,
            clear_site_cookies: self.clear_site_cookies,
            session_ttl,
            refresh_locks: Mutex::new(HashMap::new()),
            spent_states: Mutex::new(SpentStates::default()),
        })))
    }
}

/// 64 bits of SHA-256 over the issuer and client id, hex: a sealer purpose per login.
fn login_binding(issuer: &str, client_id: &str) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(issuer.as_bytes());
    context.update(&[0]);
    context.update(client_id.as_bytes());
    context.finish().as_ref()[..8]
        .iter()
        .fold(String::with_capacity(16), |mut hex, b| {
            use std::fmt::Write as _;
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The origin as `scheme://host[:port]`, checked: https, or http on a loopback host in dev
/// mode; no credentials, path, query or fragment.
fn check_origin(origin: &str, dev_loopback: bool) -> Result<String, OidcError> {
    let url =
        url::Url::parse(origin).map_err(|_| OidcError::Config("the public origin is not a URL"))?;
    if !url.username().is_empty()
        || url.password().is_some()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || origin.ends_with('/')
    {
        return Err(OidcError::Config(
            "the public origin must be scheme://host[:port] with nothing after it",
        ));
    }
    let loopback = crate::http_client::is_loopback_host(url.host_str().unwrap_or_default());
    // The plain-http back channel of a dev client can only reach loopback hosts (enforced by
    // its HTTP client); the application itself may be served over plain http only on
    // loopback, in dev mode, where browsers treat it as a secure context.
    match url.scheme() {
        "https" => {}
        "http" if dev_loopback && loopback => {}
        _ => {
            return Err(OidcError::Config(
                "the public origin must be https (http only on loopback in dev mode)",
            ));
        }
    }
    Ok(url.origin().ascii_serialization())
}

fn is_plain_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= MAX_PATH_LEN
        && path
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'?' && b != b'#' && b != b'\\')
}

/// States whose callback has been processed, remembered until their transaction would have
/// expired anyway, so a replayed callback (cookie and state captured together) is refused by
/// this instance before the provider is asked (OA-03: single use). The provider's single-use
/// code is the cross-instance backstop (OA-09).
#[derive(Default)]
pub(crate) struct SpentStates {
    states: HashSet<String>,
    /// Insertion order, oldest first, for expiry and the bound: O(1) per callback.
    order: VecDeque<(u64, String)>,
}

/// The most spent states remembered; past it the oldest are dropped (the code's single use
/// at the provider still holds).
const MAX_SPENT_STATES: usize = 100_000;

impl SpentStates {
    /// Marks `state` spent at `now`; false if it already was.
    pub(crate) fn spend(&mut self, state: &str, now: u64) -> bool {
        let ttl = crate::oidc::transaction::TRANSACTION_TTL.as_secs();
        while let Some((at, oldest)) = self.order.front() {
            if now.saturating_sub(*at) <= ttl && self.order.len() < MAX_SPENT_STATES {
                break;
            }
            self.states.remove(oldest);
            self.order.pop_front();
        }
        if !self.states.insert(state.to_owned()) {
            return false;
        }
        self.order.push_back((now, state.to_owned()));
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_checked() {
        assert_eq!(
            check_origin("https://app.example", false).unwrap(),
            "https://app.example"
        );
        assert!(check_origin("http://app.example", false).is_err());
        assert!(check_origin("http://127.0.0.1:8080", false).is_err());
        assert!(check_origin("http://127.0.0.1:8080", true).is_ok());
        assert!(check_origin("https://app.example", true).is_ok());
        assert!(check_origin("http://app.example", true).is_err());
        assert!(check_origin("https://app.example/", false).is_err());
        assert!(check_origin("https://app.example/x", false).is_err());
        assert!(check_origin("https://u:p@app.example", false).is_err());
    }

    #[test]
    fn spent_states_are_single_use_until_the_transaction_expired() {
        let mut spent = SpentStates::default();
        assert!(spent.spend("a", 1));
        assert!(!spent.spend("a", 2));
        assert!(spent.spend("b", 2));
        assert!(!spent.spend("a", 601));
        // Past the transaction lifetime the sealed cookie no longer opens, so the entry can go.
        assert!(spent.spend("a", 602));
    }

    #[test]
    fn spent_states_are_bounded() {
        let mut spent = SpentStates::default();
        for i in 0..MAX_SPENT_STATES + 10 {
            assert!(spent.spend(&i.to_string(), 1));
        }
        assert_eq!(spent.states.len(), MAX_SPENT_STATES);
        assert_eq!(spent.order.len(), MAX_SPENT_STATES);
        assert!(spent.spend("0", 1), "the oldest entry was dropped");
    }
}
