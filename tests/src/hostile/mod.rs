//! A hostile OAuth 2 / OIDC authorization server for the attacks a real one will not make.
//!
//! [`HostileAs`] is an OIDC provider on `http://127.0.0.1:<random port>` (the issuer; point
//! a client at it in loopback dev mode). By default it is honest: discovery, `/authorize`
//! (auto-approves, no user interaction), `/par` (RFC 9126), `/token` (authorization code with
//! PKCE S256, refresh with rotation), `/jwks`, `/userinfo` and `/end_session` behave like a
//! correct provider, strictly: exact redirect URIs, single-use codes, the registered client
//! authentication method only; an `id_token` is issued when the scope has `openid`, a refresh
//! token always. A rotated refresh token presented again revokes its whole family (RFC 9700
//! §4.14.2), and a replayed code revokes what it issued (RFC 6749 §4.1.2): a client that races
//! its own refreshes loses the session, which is what OA-17 tests look for.
//!
//! Each endpoint can then be told to misbehave, one named knob at a time, so that a client test proves the row of the OAuth checklist (OA-xx) or the JWT attack
//! catalogue (JW-xx) that a real identity provider will never exercise.
//!
//! # Example
//!
//! ```no_run
//! use paved_tests::hostile::{GrantFilter, HostileAs, IdTokenFault, Shots, TokenFault};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let idp = HostileAs::start().await?;
//! // ... configure the client under test with `idp.issuer()` (loopback dev mode),
//! // DEFAULT_CLIENT_ID / DEFAULT_CLIENT_SECRET and DEFAULT_REDIRECT_URI ...
//!
//! // OA-05: the next ID token carries another nonce.
//! idp.set_id_token_fault(IdTokenFault::WrongNonce, Shots::ONCE);
//! // OA-17: the next refresh fails with invalid_grant.
//! idp.set_token_fault(TokenFault::InvalidGrant, GrantFilter::RefreshToken, Shots::ONCE);
//!
//! // Play the browser: the authorization URL the client built → the callback URL.
//! # let authorization_url = String::new();
//! let callback = idp.approve(&authorization_url).await?;
//! # let _ = callback;
//! assert_eq!(idp.token_calls(), 0);
//! # Ok(()) }
//! ```
//!
//! # Knobs
//!
//! | endpoint | setter | what |
//! |---|---|---|
//! | discovery | [`set_metadata_patch`](HostileAs::set_metadata_patch), [`set_metadata_raw`](HostileAs::set_metadata_raw) | any document (issuer mismatch, http endpoints, no S256, `plain` only) |
//! | discovery | [`set_discovery_fault`](HostileAs::set_discovery_fault) | [`TransportFault`] |
//! | `/authorize` | [`set_authorize_fault`](HostileAs::set_authorize_fault) | [`AuthorizeFault`]: no/wrong `iss`, error + payload, no/other `state`, no `code` |
//! | `/par` | [`set_require_par`](HostileAs::set_require_par), [`set_par_fault`](HostileAs::set_par_fault) | PAR required; [`TransportFault`] |
//! | `/token` | [`set_token_fault`](HostileAs::set_token_fault), [`set_token_response_patch`](HostileAs::set_token_response_patch) | [`TokenFault`] per [`GrantFilter`] |
//! | ID tokens | [`set_id_token_fault`](HostileAs::set_id_token_fault), [`set_id_token_claims_patch`](HostileAs::set_id_token_claims_patch) | [`IdTokenFault`] |
//! | `/jwks` | [`rotate_signing_key`](HostileAs::rotate_signing_key), [`unpublish_key`](HostileAs::unpublish_key), [`set_jwks_override`](HostileAs::set_jwks_override), [`set_jwks_fault`](HostileAs::set_jwks_fault) | rotation with delayed publication; [`TransportFault`] |
//! | `/userinfo` | [`set_userinfo_fault`](HostileAs::set_userinfo_fault) | [`UserinfoFault`]: other `sub`, transport |
//!
//! Faults are armed with [`Shots`] (once, `n` times, or until cleared); the `set_*_patch`,
//! `set_*_override` and `set_require_par`-style settings are persistent.
//! [`clear_faults`](HostileAs::clear_faults) makes the server honest again.
//!
//! # What it records
//!
//! Every request is counted ([`token_calls`](HostileAs::token_calls),
//! [`refresh_calls`](HostileAs::refresh_calls), [`jwks_fetches`](HostileAs::jwks_fetches), …)
//! and recorded with its parameters and `Authorization` header
//! ([`token_requests`](HostileAs::token_requests), …). The server writes nothing to `tracing`,
//! so a test that captures the client's logs (OA-25) sees no token the server handled.
//!
//! # Lifetime
//!
//! The server runs on its own thread with its own single-threaded tokio runtime, so it works
//! under `#[tokio::test]`'s current-thread runtime and cannot be starved by the test. Dropping
//! the [`HostileAs`] drops that runtime, which cancels every connection still open (a slow body,
//! a delay) and closes the port before `drop` returns.

mod body;
mod config;
mod error;
mod faults;
mod keys;
mod records;
mod server;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

pub use body::{HUGE_BODY_LEN, SLOW_BODY_MAX_BYTES};
pub use config::{
    AuthMethod, ClientAuth, ClientRegistration, DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET, DEFAULT_ID_TOKEN_LIFETIME, DEFAULT_POST_LOGOUT_REDIRECT_URI,
    DEFAULT_REDIRECT_URI, DEFAULT_SUBJECT, HostileConfig,
};
pub use error::HostileError;
pub use faults::{
    AuthorizeFault, GrantFilter, IdTokenFault, PublicKeyForm, Publication, Shots, TokenFault,
    TransportFault, UserinfoFault,
};
pub use keys::{SigningAlg, SigningKey};
pub use records::{AuthorizeRecord, EndSessionRecord, ParRecord, TokenRecord, UserinfoRecord};
pub use server::{CODE_LIFETIME_SECS, MAX_ASSERTION_LIFETIME_SECS, PAR_LIFETIME_SECS};
pub use state::MAX_RECORDS;

use faults::Armed;
use state::{KeyEntry, MetadataOverride, Shared, State, StreamStats};

/// The hostile authorization server (see the [module documentation](self)).
///
/// Every method takes `&self` (the state sits behind a mutex), so one instance can be shared
/// by the test and the code under test, e.g. in an `Arc`.
pub struct HostileAs {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HostileAs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostileAs")
            .field("issuer", &self.shared.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for HostileAs {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // The server thread may already be gone; then there is nothing to stop.
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Waiting here is what makes "dropped" mean "port closed, no task left".
            let _ = thread.join();
        }
    }
}

/// The bound on [`HostileAs::approve`]'s request, so that an armed `/authorize` misbehaviour
/// cannot hang a test (the server answers at once unless told otherwise).
const APPROVE_TIMEOUT: Duration = Duration::from_secs(30);

fn kid_for(alg: SigningAlg, n: u32) -> String {
    format!("hostile-{}-{n}", alg.name().to_ascii_lowercase())
}

impl HostileAs {
    /// Starts an honest server with [`HostileConfig::default`].
    ///
    /// # Errors
    ///
    /// [`HostileError::Bind`], [`HostileError::Spawn`] or [`HostileError::Crypto`] (key
    /// generation).
    pub async fn start() -> Result<Self, HostileError> {
        Self::start_with(HostileConfig::default()).await
    }

    /// Starts an honest server with `config`, on a free port of 127.0.0.1.
    ///
    /// # Errors
    ///
    /// [`HostileError::Bind`], [`HostileError::Spawn`] or [`HostileError::Crypto`] (key
    /// generation).
    pub async fn start_with(config: HostileConfig) -> Result<Self, HostileError> {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|_| HostileError::Bind)?;
        listener
            .set_nonblocking(true)
            .map_err(|_| HostileError::Bind)?;
        let addr = listener.local_addr().map_err(|_| HostileError::Bind)?;
        let first_key = SigningKey::generate(config.signing_alg, kid_for(config.signing_alg, 1))?;
        let shared = Arc::new(Shared {
            issuer: format!("http://127.0.0.1:{}", addr.port()),
            clock: Arc::clone(&config.clock),
            state: Mutex::new(State::new(&config, first_key)),
            streams: Arc::new(StreamStats::default()),
        });
        let router = server::router(Arc::clone(&shared));
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<Result<(), HostileError>>();
        let thread = std::thread::Builder::new()
            .name(format!("hostile-as-{}", addr.port()))
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = ready_tx.send(Err(HostileError::Spawn));
                    return;
                };
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        let _ = ready_tx.send(Err(HostileError::Bind));
                        return;
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::select! {
                        _ = axum::serve(listener, router).into_future() => {}
                        _ = shutdown_rx => {}
                    }
                });
                // Dropping the runtime cancels the connection tasks axum spawned (a slow body
                // or a delay would otherwise outlive the server) and closes their sockets.
                drop(runtime);
            })
            .map_err(|_| HostileError::Spawn)?;
        let server = Self {
            shared,
            addr,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        };
        ready_rx.await.map_err(|_| HostileError::Spawn)??;
        Ok(server)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock()
    }

    // -----------------------------------------------------------------------------------------
    // Where it is.

    /// The issuer, `http://127.0.0.1:<port>` (no trailing slash).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.shared.issuer
    }

    /// The listening address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The issuer followed by `path` (e.g. `url("/token")`).
    #[must_use]
    pub fn url(&self, path: &str) -> String {
        self.shared.endpoint(path)
    }

    /// The honest discovery document (without the metadata override).
    #[must_use]
    pub fn honest_metadata(&self) -> Value {
        server::honest_metadata(&self.shared.issuer, self.state().require_par)
    }

    // -----------------------------------------------------------------------------------------
    // Playing the browser.

    /// Follows `authorization_url` (which must point at this server's `/authorize`) like a
    /// browser whose user approves at once, without following the redirect: the `Location`
    /// the server answered with, i.e. the client's callback URL with `code`, `state` and `iss`
    /// (or `error`).
    ///
    /// # Errors
    ///
    /// [`HostileError::NotOurAuthorizationUrl`], [`HostileError::Transport`], or
    /// [`HostileError::NoRedirect`] when the server refused the request without redirecting
    /// (unknown client, unregistered redirect URI: see [`authorize_requests`](Self::authorize_requests)).
    pub async fn approve(&self, authorization_url: &str) -> Result<url::Url, HostileError> {
        let url =
            url::Url::parse(authorization_url).map_err(|_| HostileError::NotOurAuthorizationUrl)?;
        let expected = self.url("/authorize");
        if url.as_str().split('?').next() != Some(expected.as_str()) {
            return Err(HostileError::NotOurAuthorizationUrl);
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(APPROVE_TIMEOUT)
            .no_proxy()
            .build()
            .map_err(|_| HostileError::Transport)?;
        let response = client
            .get(url)
            .send()
            .await
            .map_err(|_| HostileError::Transport)?;
        let status = response.status();
        if !status.is_redirection() {
            return Err(HostileError::NoRedirect(status.as_u16()));
        }
        response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| url::Url::parse(v).ok())
            .ok_or(HostileError::NoRedirect(status.as_u16()))
    }

    // -----------------------------------------------------------------------------------------
    // Keys.

    /// Signs `claims` with the current signing key (header `alg`, `typ: "JWT"`, `kid`), for
    /// tests that mint their own ID tokens.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if signing fails.
    pub fn sign_id_token(&self, claims: &Value) -> Result<String, HostileError> {
        let key = Arc::clone(&self.state().current);
        key.sign_jwt(claims)
    }

    /// Signs `claims` under exactly `header` (any `alg`, `kid`, `crit`, `jku`…) with the
    /// current signing key.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if signing fails.
    pub fn sign_jwt_with_header(
        &self,
        header: &Value,
        claims: &Value,
    ) -> Result<String, HostileError> {
        let key = Arc::clone(&self.state().current);
        key.sign_jwt_with_header(header, claims)
    }

    /// The key set the next `/jwks` fetch will serve (without counting a fetch).
    #[must_use]
    pub fn public_jwks(&self) -> Value {
        let st = self.state();
        st.jwks_document(st.counters.jwks + 1)
    }

    /// The `kid` of the key that signs new ID tokens.
    #[must_use]
    pub fn signing_kid(&self) -> String {
        self.state().current.kid().to_owned()
    }

    /// The public JWK of the key that signs new ID tokens (published or not).
    #[must_use]
    pub fn signing_jwk(&self) -> Value {
        self.state().current.public_jwk()
    }

    /// Generates a new key for `alg`, which signs every ID token from now on and is listed
    /// first in `/jwks` according to `publication`; older keys stay listed. Returns its `kid`
    /// (`hostile-es256-2`, …).
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if key generation fails.
    pub fn rotate_signing_key(
        &self,
        alg: SigningAlg,
        publication: Publication,
    ) -> Result<String, HostileError> {
        let mut st = self.state();
        let kid = kid_for(alg, st.next_kid);
        st.next_kid += 1;
        let key = Arc::new(SigningKey::generate(alg, kid.clone())?);
        let fetches = st.counters.jwks;
        let listed_after = match publication {
            Publication::Immediately => Some(fetches),
            Publication::AfterFetches(n) => Some(fetches.saturating_add(n)),
            Publication::Never => None,
        };
        st.keys.insert(
            0,
            KeyEntry {
                key: Arc::clone(&key),
                listed_after,
            },
        );
        st.current = key;
        Ok(kid)
    }

    /// Stops listing `kid` in `/jwks` (it still signs if it is the current key). Whether the
    /// key was known.
    #[must_use = "false means no key has this kid"]
    pub fn unpublish_key(&self, kid: &str) -> bool {
        let mut st = self.state();
        let found = st.keys.iter_mut().find(|e| e.key.kid() == kid);
        found.map(|e| e.listed_after = None).is_some()
    }

    /// Lists `kid` in `/jwks` from the next fetch on. Whether the key was known.
    #[must_use = "false means no key has this kid"]
    pub fn publish_key(&self, kid: &str) -> bool {
        let mut st = self.state();
        let fetches = st.counters.jwks;
        let found = st.keys.iter_mut().find(|e| e.key.kid() == kid);
        found.map(|e| e.listed_after = Some(fetches)).is_some()
    }

    /// Serves `document` verbatim as `/jwks` (JWKS poisoning, JW-23); `None` goes back to the
    /// real keys. Persistent.
    pub fn set_jwks_override(&self, document: Option<Value>) {
        self.state().jwks_override = document;
    }

    // -----------------------------------------------------------------------------------------
    // Registration and behaviour settings (persistent).

    /// Registers `client`, replacing a client with the same id.
    pub fn add_client(&self, client: ClientRegistration) {
        self.state()
            .clients
            .insert(client.client_id.clone(), client);
    }

    /// The `sub` of later authorizations (earlier codes and refresh tokens keep theirs).
    pub fn set_subject(&self, sub: impl Into<String>) {
        self.state().subject = sub.into();
    }

    /// `expires_in` of later access tokens.
    pub fn set_access_token_lifetime(&self, lifetime: Duration) {
        self.state().access_token_lifetime = lifetime;
    }

    /// `exp - iat` of later ID tokens.
    pub fn set_id_token_lifetime(&self, lifetime: Duration) {
        self.state().id_token_lifetime = lifetime;
    }

    /// Requires pushed authorization requests (RFC 9126 §5): the metadata says so and
    /// `/authorize` refuses direct parameters with `invalid_request` (OA-24).
    pub fn set_require_par(&self, required: bool) {
        self.state().require_par = required;
    }

    /// Adds `azp` (the client id) to ID tokens (legal; off by default).
    pub fn set_include_azp(&self, include: bool) {
        self.state().include_azp = include;
    }

    /// Whether refreshed ID tokens repeat the original `nonce` (legal either way, OIDC Core
    /// §12.2; off by default: they carry none).
    pub fn set_refresh_repeats_nonce(&self, repeat: bool) {
        self.state().refresh_repeats_nonce = repeat;
    }

    /// Revokes every refresh and access token issued so far (the provider ended the sessions):
    /// later refreshes get `invalid_grant`, `/userinfo` answers `invalid_token`.
    pub fn revoke_all_grants(&self) {
        let mut st = self.state();
        let families: Vec<u64> = st.refresh.values().map(|g| g.family).collect();
        st.revoked_families.extend(families);
        st.access.clear();
    }

    // -----------------------------------------------------------------------------------------
    // Discovery.

    /// Merges `patch` into the honest discovery document (RFC 7396: a `null` member removes
    /// it), e.g. `{"issuer": "http://127.0.0.1:1"}` or `{"code_challenge_methods_supported":
    /// ["plain"]}`. Persistent; replaces an earlier patch or raw document.
    pub fn set_metadata_patch(&self, patch: Value) {
        self.state().metadata = MetadataOverride::Patch(patch);
    }

    /// Serves `body` with `content_type` as the discovery document. Persistent.
    pub fn set_metadata_raw(&self, body: impl Into<Bytes>, content_type: &str) {
        self.state().metadata = MetadataOverride::Raw {
            body: body.into(),
            content_type: content_type.to_owned(),
        };
    }

    /// Back to the honest discovery document.
    pub fn clear_metadata_override(&self) {
        self.state().metadata = MetadataOverride::None;
    }

    // -----------------------------------------------------------------------------------------
    // Faults.

    /// Arms `fault` on the discovery document.
    pub fn set_discovery_fault(&self, fault: TransportFault, shots: Shots) {
        self.state().faults.discovery = Armed::new(fault, shots);
    }

    /// Arms `fault` on `/jwks`.
    pub fn set_jwks_fault(&self, fault: TransportFault, shots: Shots) {
        self.state().faults.jwks = Armed::new(fault, shots);
    }

    /// Arms `fault` on `/par`.
    pub fn set_par_fault(&self, fault: TransportFault, shots: Shots) {
        self.state().faults.par = Armed::new(fault, shots);
    }

    /// Arms `fault` on the `/token` requests `on` selects.
    pub fn set_token_fault(&self, fault: TokenFault, on: GrantFilter, shots: Shots) {
        self.state().faults.token = Armed::new((fault, on), shots);
    }

    /// Arms `fault` on the ID tokens minted next (see [`IdTokenFault`] for which grants).
    pub fn set_id_token_fault(&self, fault: IdTokenFault, shots: Shots) {
        self.state().faults.id_token = Armed::new(fault, shots);
    }

    /// Arms `fault` on successful authorization responses.
    pub fn set_authorize_fault(&self, fault: AuthorizeFault, shots: Shots) {
        self.state().faults.authorize = Armed::new(fault, shots);
    }

    /// Arms `fault` on `/userinfo`.
    pub fn set_userinfo_fault(&self, fault: UserinfoFault, shots: Shots) {
        self.state().faults.userinfo = Armed::new(fault, shots);
    }

    /// Merges `patch` (RFC 7396) into the claims of every ID token minted from now on, before
    /// the [`IdTokenFault`] is applied; `None` stops. Persistent.
    pub fn set_id_token_claims_patch(&self, patch: Option<Value>) {
        self.state().id_token_patch = patch;
    }

    /// Merges `patch` (RFC 7396) into every successful token response from now on; `None`
    /// stops. Persistent.
    pub fn set_token_response_patch(&self, patch: Option<Value>) {
        self.state().token_response_patch = patch;
    }

    /// Disarms every fault and drops the patches, the metadata and JWKS overrides and PAR
    /// enforcement: the server is honest again (keys, clients and grants stay).
    pub fn clear_faults(&self) {
        let mut st = self.state();
        st.faults = state::Faults::default();
        st.id_token_patch = None;
        st.token_response_patch = None;
        st.metadata = MetadataOverride::None;
        st.jwks_override = None;
        st.require_par = false;
    }

    // -----------------------------------------------------------------------------------------
    // Counters.

    /// Requests to `/token`, of any grant.
    #[must_use]
    pub fn token_calls(&self) -> u64 {
        self.state().counters.token
    }

    /// Requests to `/token` with `grant_type=refresh_token`.
    #[must_use]
    pub fn refresh_calls(&self) -> u64 {
        self.state().counters.refresh
    }

    /// Requests to `/token` with `grant_type=authorization_code`.
    #[must_use]
    pub fn code_exchange_calls(&self) -> u64 {
        self.state().counters.code_exchange
    }

    /// Fetches of `/jwks`.
    #[must_use]
    pub fn jwks_fetches(&self) -> u64 {
        self.state().counters.jwks
    }

    /// Fetches of the discovery document.
    #[must_use]
    pub fn discovery_fetches(&self) -> u64 {
        self.state().counters.discovery
    }

    /// Requests to `/authorize`.
    #[must_use]
    pub fn authorize_calls(&self) -> u64 {
        self.state().counters.authorize
    }

    /// Requests to `/par`.
    #[must_use]
    pub fn par_calls(&self) -> u64 {
        self.state().counters.par
    }

    /// Requests to `/userinfo`.
    #[must_use]
    pub fn userinfo_calls(&self) -> u64 {
        self.state().counters.userinfo
    }

    /// Requests to `/end_session`.
    #[must_use]
    pub fn end_session_calls(&self) -> u64 {
        self.state().counters.end_session
    }

    /// Streamed fault bodies ([`TransportFault::HugeBody`], [`TransportFault::SlowBody`]) still
    /// being sent. It falls back when the client goes away, because hyper then drops the body.
    #[must_use]
    pub fn streaming_bodies(&self) -> usize {
        self.shared.streams.active.load(Ordering::SeqCst)
    }

    /// Streamed fault bodies started so far.
    #[must_use]
    pub fn streams_started(&self) -> u64 {
        self.shared.streams.started.load(Ordering::SeqCst)
    }

    /// Bytes handed to hyper by all streamed fault bodies so far.
    #[must_use]
    pub fn streamed_bytes(&self) -> u64 {
        self.shared.streams.bytes_sent.load(Ordering::SeqCst)
    }

    // -----------------------------------------------------------------------------------------
    // Records (at most MAX_RECORDS each).

    /// The `/authorize` requests, oldest first.
    #[must_use]
    pub fn authorize_requests(&self) -> Vec<AuthorizeRecord> {
        self.state().records.authorize.clone()
    }

    /// The `/par` requests, oldest first.
    #[must_use]
    pub fn par_requests(&self) -> Vec<ParRecord> {
        self.state().records.par.clone()
    }

    /// The `/token` requests, oldest first.
    #[must_use]
    pub fn token_requests(&self) -> Vec<TokenRecord> {
        self.state().records.token.clone()
    }

    /// The `/userinfo` requests, oldest first.
    #[must_use]
    pub fn userinfo_requests(&self) -> Vec<UserinfoRecord> {
        self.state().records.userinfo.clone()
    }

    /// The `/end_session` requests, oldest first.
    #[must_use]
    pub fn end_session_requests(&self) -> Vec<EndSessionRecord> {
        self.state().records.end_session.clone()
    }
}
