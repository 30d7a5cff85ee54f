//! The real identity provider (npm `oidc-provider`), started on 127.0.0.1 for the tests.
//!
//! [`Idp::start`] installs the pinned provider (`tests/idp/package-lock.json`) on first use,
//! generates fresh signing keys (EC P-256, Ed25519, RSA) into a private temporary directory, writes
//! the configuration file that `tests/idp/server.mjs` reads, starts `node` on a free loopback port
//! and waits until discovery answers. Dropping the [`Idp`] kills the process and removes the
//! directory; the process also stops by itself when the test process dies, because it exits when
//! its standard input (held by the harness) closes.
//!
//! The client under test runs in-process: a test drives its `/login`, hands the `Location` to
//! [`scripted_login`], which plays the user at the provider's own login and consent forms, and
//! feeds the returned callback URL (on [`REDIRECT_URI`], never contacted) back to the application.
//!
//! # Configuration file
//!
//! One JSON object, written by this module (`Idp::start`) and read by `server.mjs`:
//!
//! ```json
//! {
//!   "signing_keys": { "keys": [ /* private JWKs; the first of each kty signs */ ] },
//!   "cookie_keys": [ "random base64url" ],
//!   "clients": [ /* oidc-provider client metadata, snake_case, passed through as is */ ],
//!   "accounts": { "alice": { "email": "alice@paved.test", "email_verified": true, "name": "Alice Liddell" } },
//!   "ttl": { "access_token": 300, "authorization_code": 60, "id_token": 3600,
//!            "refresh_token": 86400, "interaction": 600, "session": 86400, "grant": 86400 },
//!   "conform_id_token_claims": true,
//!   "require_pushed_authorization_requests": false,
//!   "state_file": "/tmp/paved-idp-…/state.json"
//! }
//! ```
//!
//! # What it deliberately does not do
//! It is a test fixture: it binds 127.0.0.1 only, speaks plain http (issuer
//! `http://127.0.0.1:PORT`, which is why the client needs its loopback-only dev mode), and accepts
//! any password for the scripted accounts.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{OnceCell, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};
use url::Url;

/// The redirect URI every default client registers. Never contacted: tests read the `Location`
/// the provider answers with and hand it to the in-process application.
pub const REDIRECT_URI: &str = "https://app.paved.test/callback";

/// The post-logout redirect URI every default client registers (OIDC RP-Initiated Logout 1.0 §3).
pub const POST_LOGOUT_REDIRECT_URI: &str = "https://app.paved.test/";

/// The scripted user: its `sub` is this login.
pub const USER: &str = "alice";

/// A second scripted user, for tests that need two different subjects.
pub const OTHER_USER: &str = "bob";

/// The scopes the provider supports (the claims of `profile` and `email` come from the account).
pub const SCOPES: &str = "openid profile email offline_access";

/// Default client authenticating with `client_secret_basic`; its secret needs the RFC 6749
/// §2.3.1 form-urlencoding before base64 (see [`BASIC_SECRET_PREFIX`]).
pub const CLIENT_BASIC: &str = "paved-basic";
/// Default client authenticating with `client_secret_post`.
pub const CLIENT_POST: &str = "paved-post";
/// Default client authenticating with `private_key_jwt` (RFC 7523), key pinned to ES256.
pub const CLIENT_JWT: &str = "paved-jwt";
/// Default public client (`token_endpoint_auth_method: none`).
pub const CLIENT_PUBLIC: &str = "paved-public";
/// Default client that must use pushed authorization requests (RFC 9126).
pub const CLIENT_PAR: &str = "paved-par";
/// Default client whose ID tokens are signed with `EdDSA` (Ed25519).
pub const CLIENT_EDDSA: &str = "paved-eddsa";
/// Default client whose ID tokens are signed with `RS256` (the legacy opt-in of the client).
pub const CLIENT_RS256: &str = "paved-rs256";

/// The fixed start of [`CLIENT_BASIC`]'s secret (a random tail follows). Every character here
/// changes meaning if a client skips the RFC 6749 §2.3.1 form-urlencoding of the Basic
/// credentials, because oidc-provider form-decodes both halves: `+` would become a space, `%41`
/// an `A`, and a lone `%` fails to decode. RFC 6749 Appendix A limits secrets to VSCHAR
/// (%x20-7E), and oidc-provider rejects anything else with `invalid_request`, so non-ASCII
/// characters cannot be part of a working secret.
pub const BASIC_SECRET_PREFIX: &str = "b:%41+ &=/?\"\\~%";

/// How long the provider may take to print `READY` and answer discovery. It starts in about
/// 0.4 s; the bound is for a loaded machine (2 shared cores run the whole test suite).
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Bound on `npm ci` (about 3 s with a warm cache; a cold cache downloads 40 packages).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Bound on one `node server.mjs --generate-keys` run (RSA 2048 generation dominates).
const KEYGEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on a graceful stop (the provider writes its token store and exits).
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on each HTTP exchange of the harness and of [`browser`].
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// Redirects and form posts one scripted login or logout may take. A first login takes six
/// (authorize, login page, login post, resume, consent page, consent post); the bound leaves room
/// for one reload (see `SESSION_MISMATCH`) and a repeated prompt without letting a redirect loop
/// run forever.
const MAX_FLOW_STEPS: usize = 16;
/// oidc-provider's error for an interaction that began under another provider session.
const SESSION_MISMATCH: &str = "interaction session and authentication session mismatch";
/// Largest page the scripted browser reads (the provider's pages are a few KiB).
const MAX_PAGE_BYTES: usize = 1 << 20;
/// Lines of the provider's output kept for error messages.
const LOG_TAIL_LINES: usize = 200;
/// Longest output line kept (longer lines are cut).
const LOG_LINE_MAX: usize = 2000;

/// Default access-token lifetime: short, so that refresh is exercised; tests may lower it.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Default refresh-token lifetime.
pub const DEFAULT_REFRESH_TOKEN_TTL: Duration = Duration::from_secs(86_400);
/// Default ID-token lifetime.
pub const DEFAULT_ID_TOKEN_TTL: Duration = Duration::from_secs(3_600);

// ---------------------------------------------------------------------------------------------
// Errors

/// What went wrong in the harness. Messages carry the provider's log tail (which holds no secret:
/// `server.mjs` logs error codes and descriptions only) but never a token, code or key.
#[derive(Debug)]
#[non_exhaustive]
pub enum HarnessError {
    /// A file-system or process operation failed.
    Io {
        /// What the harness was doing.
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// `npm ci` failed or timed out.
    Install {
        /// Exit status or timeout, and the tail of npm's output.
        detail: String,
    },
    /// `tests/idp/node_modules` holds another oidc-provider version than the lockfile pins.
    StaleInstall {
        /// Version found in `node_modules`.
        installed: String,
        /// Version pinned by `package-lock.json`.
        locked: String,
    },
    /// Generating keys failed.
    KeyGeneration {
        /// What failed.
        detail: String,
    },
    /// The provider did not start (exited, timed out, or discovery did not answer).
    Start {
        /// What happened.
        detail: String,
        /// The tail of the provider's output.
        log_tail: String,
    },
    /// The provider did not stop when asked.
    Stop {
        /// What happened.
        detail: String,
    },
    /// An HTTP exchange failed (the URL is left out: it may carry codes or state).
    Http {
        /// Which step.
        step: &'static str,
        /// The underlying error, without its URL.
        source: reqwest::Error,
    },
    /// A URL did not parse.
    Url {
        /// Which step.
        step: &'static str,
        /// The underlying error.
        source: url::ParseError,
    },
    /// The provider answered something the scripted flow does not expect.
    Unexpected {
        /// Which step.
        step: &'static str,
        /// HTTP status of the answer.
        status: u16,
        /// The text of the page, shortened (the provider's error pages name the error).
        detail: String,
    },
    /// A scripted flow took more than its bounded number of steps (a redirect loop).
    TooManySteps {
        /// Which flow.
        step: &'static str,
    },
    /// A JSON document could not be read or written.
    Json {
        /// What the harness was doing.
        action: &'static str,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// The system random generator or a ring key operation failed.
    Crypto {
        /// What failed.
        action: &'static str,
    },
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { action, source } => write!(f, "idp harness: {action}: {source}"),
            Self::Install { detail } => write!(
                f,
                "idp harness: `npm ci` in tests/idp failed ({detail}); is the npm registry reachable?"
            ),
            Self::StaleInstall { installed, locked } => write!(
                f,
                "idp harness: tests/idp/node_modules has oidc-provider {installed} but \
                 package-lock.json pins {locked}; delete tests/idp/node_modules to reinstall"
            ),
            Self::KeyGeneration { detail } => {
                write!(f, "idp harness: key generation failed: {detail}")
            }
            Self::Start { detail, log_tail } => write!(
                f,
                "idp harness: the identity provider did not start: {detail}\n--- provider output ---\n{log_tail}"
            ),
            Self::Stop { detail } => write!(f, "idp harness: stopping the provider: {detail}"),
            Self::Http { step, source } => write!(f, "idp harness: {step}: {source}"),
            Self::Url { step, source } => write!(f, "idp harness: {step}: bad URL: {source}"),
            Self::Unexpected {
                step,
                status,
                detail,
            } => write!(
                f,
                "idp harness: {step}: unexpected answer (HTTP {status}): {detail}"
            ),
            Self::TooManySteps { step } => write!(
                f,
                "idp harness: {step}: more than {MAX_FLOW_STEPS} redirects and forms"
            ),
            Self::Json { action, source } => write!(f, "idp harness: {action}: {source}"),
            Self::Crypto { action } => write!(f, "idp harness: {action} failed"),
        }
    }
}

impl std::error::Error for HarnessError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Http { source, .. } => Some(source),
            Self::Url { source, .. } => Some(source),
            Self::Json { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn io_error(action: &'static str) -> impl FnOnce(io::Error) -> HarnessError {
    move |source| HarnessError::Io { action, source }
}

fn http_error(step: &'static str) -> impl FnOnce(reqwest::Error) -> HarnessError {
    move |source| HarnessError::Http {
        step,
        source: source.without_url(),
    }
}

fn url_error(step: &'static str) -> impl FnOnce(url::ParseError) -> HarnessError {
    move |source| HarnessError::Url { step, source }
}

fn json_error(action: &'static str) -> impl FnOnce(serde_json::Error) -> HarnessError {
    move |source| HarnessError::Json { action, source }
}

// ---------------------------------------------------------------------------------------------
// Randomness and keys

fn random_bytes<const N: usize>() -> Result<[u8; N], HarnessError> {
    let mut bytes = [0_u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| HarnessError::Crypto {
            action: "reading the system random generator",
        })?;
    Ok(bytes)
}

/// 32 random bytes, base64url: a client secret or cookie key with 256 bits of entropy.
///
/// # Errors
/// [`HarnessError::Crypto`] when the system random generator fails.
pub fn random_secret() -> Result<String, HarnessError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// RFC 7638 JWK thumbprint of a P-256 public key (members in lexicographic order).
fn ec_thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

/// The ES256 key of the [`CLIENT_JWT`] client (RFC 7523 `private_key_jwt`). Tests give the
/// PKCS#8 document to the client under test; the provider gets [`ClientSigningKey::public_jwk`].
pub struct ClientSigningKey {
    pkcs8: Vec<u8>,
    kid: String,
    public_jwk: Value,
}

impl ClientSigningKey {
    /// Generates a fresh P-256 key with ring.
    ///
    /// # Errors
    /// [`HarnessError::Crypto`] when the system random generator or ring fails.
    pub fn generate() -> Result<Self, HarnessError> {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| {
                HarnessError::Crypto {
                    action: "generating the private_key_jwt client key",
                }
            })?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| HarnessError::Crypto {
                action: "loading the private_key_jwt client key",
            })?;
        // Uncompressed SEC1 point: 0x04 || X (32 bytes) || Y (32 bytes).
        let point = pair.public_key().as_ref();
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err(HarnessError::Crypto {
                action: "reading the P-256 public key",
            });
        };
        let x = URL_SAFE_NO_PAD.encode(x);
        let y = URL_SAFE_NO_PAD.encode(y);
        let kid = ec_thumbprint(&x, &y);
        let public_jwk = json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": kid, "alg": "ES256", "use": "sig",
        });
        Ok(Self {
            pkcs8: pkcs8.as_ref().to_vec(),
            kid,
            public_jwk,
        })
    }

    /// The private key as a PKCS#8 v1 DER document (what `ring` and `jsonwebtoken` load).
    #[must_use]
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key id (its RFC 7638 thumbprint), registered at the provider.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK registered for [`CLIENT_JWT`].
    #[must_use]
    pub fn public_jwk(&self) -> &Value {
        &self.public_jwk
    }
}

impl fmt::Debug for ClientSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and options

fn client_metadata(client_id: &str, auth_method: &str, id_token_alg: &str) -> Value {
    json!({
        "client_id": client_id,
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [POST_LOGOUT_REDIRECT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": auth_method,
        "id_token_signed_response_alg": id_token_alg,
    })
}

fn with(mut client: Value, key: &str, value: Value) -> Value {
    if let Some(object) = client.as_object_mut() {
        object.insert(key.to_owned(), value);
    }
    client
}

/// The default clients as oidc-provider client metadata, with fresh random secrets.
///
/// [`CLIENT_BASIC`] (`client_secret_basic`, secret starting with [`BASIC_SECRET_PREFIX`]),
/// [`CLIENT_POST`] (`client_secret_post`), [`CLIENT_JWT`] (`private_key_jwt` with
/// `private_key_jwt_public_jwk`, ES256 only), [`CLIENT_PUBLIC`] (`none`), [`CLIENT_PAR`]
/// (`client_secret_basic`, `require_pushed_authorization_requests`), [`CLIENT_EDDSA`] (ID tokens
/// `EdDSA`), [`CLIENT_RS256`] (ID tokens `RS256`). All register [`REDIRECT_URI`] and
/// [`POST_LOGOUT_REDIRECT_URI`], the code and refresh-token grants, and (unless stated) ES256 ID
/// tokens.
///
/// # Errors
/// [`HarnessError::Crypto`] when the system random generator fails.
pub fn default_clients(private_key_jwt_public_jwk: &Value) -> Result<Vec<Value>, HarnessError> {
    let secret = |client: Value| -> Result<Value, HarnessError> {
        Ok(with(
            client,
            "client_secret",
            Value::String(random_secret()?),
        ))
    };
    let basic_secret = format!("{BASIC_SECRET_PREFIX}{}", random_secret()?);
    Ok(vec![
        with(
            client_metadata(CLIENT_BASIC, "client_secret_basic", "ES256"),
            "client_secret",
            Value::String(basic_secret),
        ),
        secret(client_metadata(CLIENT_POST, "client_secret_post", "ES256"))?,
        with(
            with(
                client_metadata(CLIENT_JWT, "private_key_jwt", "ES256"),
                "jwks",
                json!({ "keys": [private_key_jwt_public_jwk] }),
            ),
            // Pinning the assertion algorithm: the provider would otherwise accept any
            // asymmetric algorithm the registered key allows.
            "token_endpoint_auth_signing_alg",
            Value::String("ES256".to_owned()),
        ),
        client_metadata(CLIENT_PUBLIC, "none", "ES256"),
        with(
            secret(client_metadata(CLIENT_PAR, "client_secret_basic", "ES256"))?,
            "require_pushed_authorization_requests",
            Value::Bool(true),
        ),
        secret(client_metadata(
            CLIENT_EDDSA,
            "client_secret_basic",
            "EdDSA",
        ))?,
        secret(client_metadata(
            CLIENT_RS256,
            "client_secret_basic",
            "RS256",
        ))?,
    ])
}

/// The default accounts: [`USER`] and [`OTHER_USER`] with profile and email claims.
#[must_use]
pub fn default_accounts() -> BTreeMap<String, Value> {
    BTreeMap::from([
        (
            USER.to_owned(),
            json!({
                "email": "alice@paved.test", "email_verified": true,
                "name": "Alice Liddell", "preferred_username": "alice",
            }),
        ),
        (
            OTHER_USER.to_owned(),
            json!({
                "email": "bob@paved.test", "email_verified": true,
                "name": "Bob Builder", "preferred_username": "bob",
            }),
        ),
    ])
}

/// How to start the provider. `IdpOptions::default()` gives the default clients and accounts.
#[derive(Clone)]
pub struct IdpOptions {
    access_token_ttl: Duration,
    refresh_token_ttl: Duration,
    id_token_ttl: Duration,
    clients: Vec<Value>,
    private_key_jwt_public_jwk: Option<Value>,
    conform_id_token_claims: bool,
    require_pushed_authorization_requests: bool,
    accounts: BTreeMap<String, Value>,
    port: u16,
    resource_server: Option<Value>,
    tls: Option<IdpTls>,
}

/// The provider's https setup: a certificate for `localhost` and the CA the harness trusts.
#[derive(Clone, Debug)]
pub struct IdpTls {
    /// PEM certificate chain for `localhost`.
    pub cert_file: PathBuf,
    /// Its PEM private key.
    pub key_file: PathBuf,
    /// The PEM root that signed it.
    pub ca_pem: String,
}

impl Default for IdpOptions {
    fn default() -> Self {
        Self {
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
            refresh_token_ttl: DEFAULT_REFRESH_TOKEN_TTL,
            id_token_ttl: DEFAULT_ID_TOKEN_TTL,
            clients: Vec::new(),
            private_key_jwt_public_jwk: None,
            conform_id_token_claims: true,
            require_pushed_authorization_requests: false,
            accounts: default_accounts(),
            port: 0,
            resource_server: None,
            tls: None,
        }
    }
}

impl fmt::Debug for IdpOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Client overrides may hold secrets: only their ids are shown.
        let clients: Vec<&str> = self
            .clients
            .iter()
            .filter_map(|c| c.get("client_id").and_then(Value::as_str))
            .collect();
        f.debug_struct("IdpOptions")
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("id_token_ttl", &self.id_token_ttl)
            .field("client_overrides", &clients)
            .field(
                "private_key_jwt_public_jwk",
                &self.private_key_jwt_public_jwk.is_some(),
            )
            .field("conform_id_token_claims", &self.conform_id_token_claims)
            .field(
                "require_pushed_authorization_requests",
                &self.require_pushed_authorization_requests,
            )
            .field("accounts", &self.accounts.keys().collect::<Vec<_>>())
            .field("port", &self.port)
            .field("resource_server", &self.resource_server)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

fn whole_seconds(ttl: Duration) -> u64 {
    ttl.as_secs().max(1)
}

impl IdpOptions {
    /// The default options (same as `Default`).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Access-token lifetime (whole seconds, at least 1; default 300 s). A few seconds lets a
    /// test see an access token expire and the client refresh.
    #[must_use]
    pub fn access_token_ttl(mut self, ttl: Duration) -> Self {
        self.access_token_ttl = ttl;
        self
    }

    /// Refresh-token lifetime (default one day).
    #[must_use]
    pub fn refresh_token_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_token_ttl = ttl;
        self
    }

    /// ID-token lifetime (default one hour).
    #[must_use]
    pub fn id_token_ttl(mut self, ttl: Duration) -> Self {
        self.id_token_ttl = ttl;
        self
    }

    /// Adds a client, or changes a default one: the top-level members of `metadata` replace those
    /// of the default client with the same `client_id` (a `null` member removes it). Metadata
    /// without a `client_id` is ignored by the merge and rejected by the provider.
    #[must_use]
    pub fn client(mut self, metadata: Value) -> Self {
        self.clients.push(metadata);
        self
    }

    /// Registers this public JWK for [`CLIENT_JWT`] instead of a key the harness generates (then
    /// [`Idp::private_key_jwt_key`] is `None`).
    #[must_use]
    pub fn private_key_jwt_public_jwk(mut self, jwk: Value) -> Self {
        self.private_key_jwt_public_jwk = Some(jwk);
        self
    }

    /// oidc-provider's `conformIdTokenClaims` (default `true`): when an access token is issued,
    /// profile and email claims go to `UserInfo` only and the ID token carries just `sub` and
    /// the protocol claims. `false` puts them in the ID token too.
    #[must_use]
    pub fn conform_id_token_claims(mut self, conform: bool) -> Self {
        self.conform_id_token_claims = conform;
        self
    }

    /// Requires PAR (RFC 9126) of every client, not only [`CLIENT_PAR`]; discovery then says
    /// `require_pushed_authorization_requests: true` (RFC 9126 §5), which a client must obey.
    #[must_use]
    pub fn require_pushed_authorization_requests(mut self, required: bool) -> Self {
        self.require_pushed_authorization_requests = required;
        self
    }

    /// Adds or replaces a scripted account (any password logs it in).
    #[must_use]
    pub fn account(mut self, id: &str, claims: Value) -> Self {
        self.accounts.insert(id.to_owned(), claims);
        self
    }

    /// Listens on this 127.0.0.1 port instead of a free one (the demo's fixed URLs).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Serves https with this certificate (for `localhost`); the issuer is then
    /// `https://localhost:PORT` (the provider still listens on 127.0.0.1 only).
    #[must_use]
    pub fn tls(mut self, tls: IdpTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Registers one resource server (RFC 8707): a client asking for any of its `scope` values
    /// (space-separated) gets an RFC 9068 JWT access token (`typ: at+jwt`, ES256) whose `aud`
    /// is `audience`, without naming the resource; refreshes keep it. Without this, access
    /// tokens are opaque.
    #[must_use]
    pub fn resource_server(mut self, audience: &str, scope: &str) -> Self {
        self.resource_server = Some(json!({ "audience": audience, "scope": scope }));
        self
    }
}

fn merge_clients(defaults: Vec<Value>, overrides: &[Value]) -> Vec<Value> {
    let mut clients = defaults;
    for change in overrides {
        let id = change.get("client_id").and_then(Value::as_str);
        let existing = id.and_then(|id| {
            clients
                .iter_mut()
                .find(|c| c.get("client_id").and_then(Value::as_str) == Some(id))
        });
        match (existing.and_then(Value::as_object_mut), change.as_object()) {
            (Some(target), Some(members)) => {
                for (key, value) in members {
                    if value.is_null() {
                        target.remove(key);
                    } else {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
            _ => clients.push(change.clone()),
        }
    }
    clients
}

// ---------------------------------------------------------------------------------------------
// Installing the pinned provider

fn idp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("idp")
}

fn read_json(path: &Path, action: &'static str) -> Result<Value, HarnessError> {
    let text = fs::read_to_string(path).map_err(io_error(action))?;
    serde_json::from_str(&text).map_err(json_error(action))
}

fn locked_version(dir: &Path) -> Result<String, HarnessError> {
    let lock = read_json(&dir.join("package-lock.json"), "reading package-lock.json")?;
    lock.pointer("/packages/node_modules~1oidc-provider/version")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| HarnessError::Install {
            detail: "package-lock.json does not pin oidc-provider".to_owned(),
        })
}

fn installed_version(dir: &Path) -> Result<Option<String>, HarnessError> {
    let manifest = dir.join("node_modules/oidc-provider/package.json");
    if !manifest.exists() {
        return Ok(None);
    }
    let package = read_json(
        &manifest,
        "reading the installed oidc-provider package.json",
    )?;
    Ok(package
        .get("version")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

async fn npm_ci(staging: &Path) -> Result<(), HarnessError> {
    let child = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
        .current_dir(staging)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(io_error("running npm (is Node.js installed?)"))?;
    let output = timeout(INSTALL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| HarnessError::Install {
            detail: format!("no result after {} s", INSTALL_TIMEOUT.as_secs()),
        })?
        .map_err(io_error("waiting for npm ci"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(HarnessError::Install {
            detail: format!(
                "{}; {}",
                output.status,
                tail(&String::from_utf8_lossy(&output.stderr), 20)
            ),
        })
    }
}

/// Installs `tests/idp/node_modules` from the lockfile once. Within a process a `OnceCell` makes
/// concurrent tests wait for one install; across processes (several test binaries at once) each
/// installs into its own staging directory and moves `node_modules` into place with one
/// `rename`, which is atomic: a loser finds the winner's complete tree and discards its own.
async fn ensure_installed() -> Result<(), HarnessError> {
    static INSTALLED: OnceCell<()> = OnceCell::const_new();
    INSTALLED
        .get_or_try_init(|| async {
            let dir = idp_dir();
            let locked = locked_version(&dir)?;
            if installed_version(&dir)?.is_none() {
                install(&dir).await?;
            }
            match installed_version(&dir)? {
                Some(installed) if installed == locked => Ok(()),
                Some(installed) => Err(HarnessError::StaleInstall { installed, locked }),
                None => Err(HarnessError::Install {
                    detail: "node_modules/oidc-provider missing after npm ci".to_owned(),
                }),
            }
        })
        .await?;
    Ok(())
}

async fn install(dir: &Path) -> Result<(), HarnessError> {
    sweep_stale(dir, ".npm-install-");
    let staging = dir.join(format!(
        ".npm-install-{}-{}",
        std::process::id(),
        URL_SAFE_NO_PAD.encode(random_bytes::<6>()?)
    ));
    fs::create_dir(&staging).map_err(io_error("creating the npm staging directory"))?;
    let result = async {
        for file in ["package.json", "package-lock.json"] {
            fs::copy(dir.join(file), staging.join(file))
                .map_err(io_error("copying the npm manifest"))?;
        }
        npm_ci(&staging).await?;
        match fs::rename(staging.join("node_modules"), dir.join("node_modules")) {
            Ok(()) => Ok(()),
            // Another process moved its tree in first.
            Err(_) if dir.join("node_modules/oidc-provider/package.json").exists() => Ok(()),
            Err(source) => Err(HarnessError::Io {
                action: "moving node_modules into tests/idp",
                source,
            }),
        }
    }
    .await;
    // Best effort: a leftover staging directory is git-ignored and harmless.
    let _ = fs::remove_dir_all(&staging);
    result
}

async fn generate_signing_keys(kinds: &str) -> Result<Vec<Value>, HarnessError> {
    let output = timeout(
        KEYGEN_TIMEOUT,
        Command::new("node")
            .args(["server.mjs", "--generate-keys", kinds])
            .current_dir(idp_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| HarnessError::KeyGeneration {
        detail: format!("no result after {} s", KEYGEN_TIMEOUT.as_secs()),
    })?
    .map_err(io_error("running node (is Node.js installed?)"))?;
    if !output.status.success() {
        return Err(HarnessError::KeyGeneration {
            detail: format!(
                "node exited with {}: {}",
                output.status,
                tail(&String::from_utf8_lossy(&output.stderr), 10)
            ),
        });
    }
    let jwks: Value =
        serde_json::from_slice(&output.stdout).map_err(json_error("reading generated keys"))?;
    match jwks.get("keys").and_then(Value::as_array) {
        Some(keys) if !keys.is_empty() => Ok(keys.clone()),
        _ => Err(HarnessError::KeyGeneration {
            detail: "node printed no keys".to_owned(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Private temporary directory

/// A directory only the current user can enter (0700); it holds the private signing keys and is
/// removed on drop.
struct TempDir(PathBuf);

/// Removes `<prefix><pid>-*` entries of `dir` left by test processes that no longer exist
/// (killed with SIGKILL, so no `Drop` ran). A reused pid only delays the cleanup.
fn sweep_stale(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            // Best effort: another user's entry or a concurrent sweep may win.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl TempDir {
    const PREFIX: &str = "paved-idp-";

    fn new() -> Result<Self, HarnessError> {
        static SWEPT: OnceLock<()> = OnceLock::new();
        SWEPT.get_or_init(|| sweep_stale(&std::env::temp_dir(), Self::PREFIX));
        let path = std::env::temp_dir().join(format!(
            "{}{}-{}",
            Self::PREFIX,
            std::process::id(),
            URL_SAFE_NO_PAD.encode(random_bytes::<9>()?)
        ));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(io_error("creating the private temporary directory"))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort in drop: nothing sensible to do with an error here.
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), HarnessError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error("writing the provider configuration"))?;
    file.write_all(contents)
        .map_err(io_error("writing the provider configuration"))
}

// ---------------------------------------------------------------------------------------------
// The running provider

#[derive(Clone, Default)]
struct LogTail(Arc<Mutex<VecDeque<String>>>);

impl LogTail {
    fn push(&self, line: &str) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == LOG_TAIL_LINES {
            lines.pop_front();
        }
        let cut = line
            .char_indices()
            .nth(LOG_LINE_MAX)
            .map_or(line, |(i, _)| &line[..i]);
        lines.push_back(cut.to_owned());
    }

    fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn drain_lines<R>(
    reader: R,
    log: LogTail,
    mut ready: Option<oneshot::Sender<String>>,
) -> JoinHandle<()>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut lines = BufReader::new(reader).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(issuer) = line.strip_prefix("READY ")
                && let Some(tx) = ready.take()
            {
                let _ = tx.send(issuer.trim().to_owned());
            }
            log.push(&line);
        }
    })
}

struct Process {
    child: Child,
    /// Held open: the provider stops when it closes.
    stdin: Option<ChildStdin>,
}

fn harness_client(ca_pem: Option<&str>) -> Result<reqwest::Client, HarnessError> {
    let mut builder = reqwest::Client::builder();
    if let Some(pem) = ca_pem {
        builder = builder.add_root_certificate(
            reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(http_error("reading the provider's CA"))?,
        );
    }
    builder
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(http_error("building the HTTP client"))
}

/// The running identity provider. Dropping it kills the process and deletes its keys.
pub struct Idp {
    issuer: String,
    port: u16,
    metadata: Value,
    config: Value,
    config_path: PathBuf,
    client_secrets: BTreeMap<String, String>,
    jwt_key: Option<ClientSigningKey>,
    ca_pem: Option<String>,
    log: LogTail,
    process: Option<Process>,
    // Declared last: dropped after the process is gone.
    dir: TempDir,
}

impl fmt::Debug for Idp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No secrets, no keys: the issuer and which clients exist.
        f.debug_struct("Idp")
            .field("issuer", &self.issuer)
            .field("clients", &self.client_ids())
            .field("running", &self.process.is_some())
            .finish_non_exhaustive()
    }
}

impl Idp {
    /// Installs the pinned provider if needed, generates keys, and starts it on a free
    /// 127.0.0.1 port; returns once discovery answers with the expected issuer.
    ///
    /// # Errors
    /// [`HarnessError::Install`]/[`HarnessError::StaleInstall`] when the npm install fails or is
    /// stale, [`HarnessError::KeyGeneration`], [`HarnessError::Start`] (with the provider's
    /// output) when it does not become ready within [`START_TIMEOUT`], and I/O errors.
    pub async fn start(options: IdpOptions) -> Result<Self, HarnessError> {
        ensure_installed().await?;
        let dir = TempDir::new()?;
        let signing_keys = generate_signing_keys("EC,OKP,RSA").await?;

        let (jwt_key, jwt_public) = if let Some(jwk) = options.private_key_jwt_public_jwk {
            (None, jwk)
        } else {
            let key = ClientSigningKey::generate()?;
            let public = key.public_jwk().clone();
            (Some(key), public)
        };
        let clients = merge_clients(default_clients(&jwt_public)?, &options.clients);
        let client_secrets = clients
            .iter()
            .filter_map(|c| {
                let id = c.get("client_id")?.as_str()?;
                let secret = c.get("client_secret")?.as_str()?;
                Some((id.to_owned(), secret.to_owned()))
            })
            .collect();

        let config = json!({
            "signing_keys": { "keys": signing_keys },
            "cookie_keys": [random_secret()?, random_secret()?],
            "clients": clients,
            "accounts": options.accounts,
            "ttl": {
                "access_token": whole_seconds(options.access_token_ttl),
                "authorization_code": 60,
                "id_token": whole_seconds(options.id_token_ttl),
                "refresh_token": whole_seconds(options.refresh_token_ttl),
                "interaction": 600,
                "session": 86_400,
                "grant": 86_400,
            },
            "conform_id_token_claims": options.conform_id_token_claims,
            "require_pushed_authorization_requests": options.require_pushed_authorization_requests,
            "state_file": dir.0.join("state.json"),
        });
        let mut config = config;
        if let Some(object) = config.as_object_mut() {
            if let Some(server) = options.resource_server {
                object.insert("resource_server".to_owned(), server);
            }
            if let Some(tls) = &options.tls {
                object.insert(
                    "tls".to_owned(),
                    json!({ "cert_file": tls.cert_file, "key_file": tls.key_file }),
                );
            }
        }
        let config_path = dir.0.join("config.json");

        let mut idp = Self {
            issuer: String::new(),
            port: 0,
            metadata: Value::Null,
            config,
            config_path,
            client_secrets,
            jwt_key,
            ca_pem: options.tls.map(|t| t.ca_pem),
            log: LogTail::default(),
            process: None,
            dir,
        };
        idp.write_config()?;
        idp.spawn(options.port).await?;
        Ok(idp)
    }

    fn write_config(&self) -> Result<(), HarnessError> {
        let bytes = serde_json::to_vec(&self.config).map_err(json_error("encoding the config"))?;
        write_private_file(&self.config_path, &bytes)
    }

    fn start_error(&self, detail: String) -> HarnessError {
        HarnessError::Start {
            detail,
            log_tail: self.log.text(),
        }
    }

    async fn spawn(&mut self, port: u16) -> Result<(), HarnessError> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg("--config")
            .arg(&self.config_path)
            .args(["--port", &port.to_string(), "--exit-on-stdin-close"])
            .current_dir(idp_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C meant for the test runner does not race the
            // harness's own shutdown; the closed stdin and kill_on_drop stop it instead.
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(io_error("running node (is Node.js installed?)"))?;

        let (ready_tx, ready_rx) = oneshot::channel();
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .map(|out| drain_lines(out, self.log.clone(), Some(ready_tx)));
        let stderr = child
            .stderr
            .take()
            .map(|err| drain_lines(err, self.log.clone(), None));
        self.process = Some(Process { child, stdin });

        let issuer = match tokio::time::timeout_at(deadline, ready_rx).await {
            Ok(Ok(issuer)) => issuer,
            Ok(Err(_)) => {
                // stdout closed without READY: the process exited. Collect its last words.
                let status = match self.process.take() {
                    Some(mut process) => timeout(STOP_TIMEOUT, process.child.wait()).await.ok(),
                    None => None,
                };
                for handle in [stdout, stderr].into_iter().flatten() {
                    let _ = timeout(Duration::from_secs(2), handle).await;
                }
                let status = status
                    .and_then(Result::ok)
                    .map_or_else(|| "unknown status".to_owned(), |s| s.to_string());
                return Err(self.start_error(format!("node exited ({status}) before READY")));
            }
            Err(_) => {
                self.kill();
                return Err(self.start_error(format!(
                    "no READY line within {} s",
                    START_TIMEOUT.as_secs()
                )));
            }
        };

        let port = Url::parse(&issuer)
            .ok()
            .and_then(|url| url.port())
            .ok_or_else(|| self.start_error(format!("unexpected READY line {issuer:?}")))?;
        let metadata = match self.fetch_metadata(&issuer, deadline).await {
            Ok(metadata) => metadata,
            Err(detail) => {
                self.kill();
                return Err(self.start_error(detail));
            }
        };
        self.issuer = issuer;
        self.port = port;
        self.metadata = metadata;
        Ok(())
    }

    /// Polls discovery until it answers with this issuer (RFC 8414 §3.3 exact match).
    async fn fetch_metadata(&self, issuer: &str, deadline: Instant) -> Result<Value, String> {
        let client = harness_client(self.ca_pem.as_deref()).map_err(|e| e.to_string())?;
        let url = format!("{issuer}/.well-known/openid-configuration");
        loop {
            let attempt = async {
                let response = client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                let status = response.status();
                let body: Value = response
                    .json()
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                if !status.is_success() {
                    return Err(format!("discovery answered HTTP {status}"));
                }
                Ok(body)
            };
            match attempt.await {
                Ok(metadata) if metadata.get("issuer").and_then(Value::as_str) == Some(issuer) => {
                    return Ok(metadata);
                }
                Ok(metadata) => {
                    return Err(format!(
                        "discovery names issuer {:?}, expected {issuer:?}",
                        metadata.get("issuer")
                    ));
                }
                Err(detail) if Instant::now() >= deadline => {
                    return Err(format!("discovery did not answer: {detail}"));
                }
                Err(_) => sleep(Duration::from_millis(50)).await,
            }
        }
    }

    fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            // SIGKILL; tokio reaps the child in the background.
            let _ = process.child.start_kill();
        }
    }

    /// Stops the provider gracefully (it saves its token store) and waits for it to exit.
    async fn stop(&mut self) -> Result<(), HarnessError> {
        let Some(mut process) = self.process.take() else {
            return Ok(());
        };
        drop(process.stdin.take());
        match timeout(STOP_TIMEOUT, process.child.wait()).await {
            Ok(Ok(status)) if status.success() => Ok(()),
            Ok(Ok(status)) => Err(HarnessError::Stop {
                detail: format!("node exited with {status}: {}", tail(&self.log.text(), 10)),
            }),
            Ok(Err(source)) => Err(HarnessError::Io {
                action: "waiting for node to stop",
                source,
            }),
            Err(_) => {
                let _ = process.child.start_kill();
                Err(HarnessError::Stop {
                    detail: format!("still running after {} s; killed", STOP_TIMEOUT.as_secs()),
                })
            }
        }
    }

    /// Restarts the provider on the same port (same issuer) with a new EC P-256 signing key first
    /// in its key set, so it signs with the new key from now on; the old keys stay published
    /// after it (OA-28, OIDF RP test `rp-key-rotation-op-sign-key`). Sessions, grants and tokens
    /// survive the restart: the provider saves its store on the way down.
    ///
    /// # Errors
    /// [`HarnessError::KeyGeneration`], [`HarnessError::Stop`], or [`HarnessError::Start`] (for
    /// example when another process took the port in between).
    pub async fn restart_with_new_signing_key(&mut self) -> Result<(), HarnessError> {
        let mut new_keys = generate_signing_keys("EC").await?;
        let keys = self
            .config
            .pointer_mut("/signing_keys/keys")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| HarnessError::KeyGeneration {
                detail: "configuration has no signing_keys.keys".to_owned(),
            })?;
        new_keys.append(keys);
        *keys = new_keys;
        self.write_config()?;
        self.stop().await?;
        let port = self.port;
        self.spawn(port).await?;
        if self.port == port {
            Ok(())
        } else {
            Err(self.start_error(format!("came back on port {} instead of {port}", self.port)))
        }
    }

    /// The issuer identifier, `http://127.0.0.1:PORT` (no trailing slash).
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The port the provider listens on (127.0.0.1).
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The discovery document fetched at the last (re)start.
    #[must_use]
    pub fn metadata(&self) -> &Value {
        &self.metadata
    }

    /// The `jwks_uri` from discovery.
    #[must_use]
    pub fn jwks_url(&self) -> &str {
        self.metadata
            .get("jwks_uri")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A metadata endpoint by its discovery name, e.g. `"token_endpoint"`.
    #[must_use]
    pub fn endpoint(&self, name: &str) -> Option<&str> {
        self.metadata.get(name).and_then(Value::as_str)
    }

    /// The secret of a client (`None` for public and `private_key_jwt` clients, or unknown ids).
    #[must_use]
    pub fn client_secret(&self, client_id: &str) -> Option<&str> {
        self.client_secrets.get(client_id).map(String::as_str)
    }

    /// The ids of all configured clients.
    #[must_use]
    pub fn client_ids(&self) -> Vec<&str> {
        self.config
            .get("clients")
            .and_then(Value::as_array)
            .map(|clients| {
                clients
                    .iter()
                    .filter_map(|c| c.get("client_id").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The key the harness generated for [`CLIENT_JWT`] (`None` when the test registered its own
    /// with [`IdpOptions::private_key_jwt_public_jwk`]).
    #[must_use]
    pub fn private_key_jwt_key(&self) -> Option<&ClientSigningKey> {
        self.jwt_key.as_ref()
    }

    /// The key ids of the signing keys in configuration order (the first of each key type signs).
    #[must_use]
    pub fn signing_kids(&self) -> Vec<&str> {
        self.config
            .pointer("/signing_keys/keys")
            .and_then(Value::as_array)
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.get("kid").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The key id that signs ID tokens with `alg` (`"ES256"`, `"EdDSA"`, `"RS256"`).
    #[must_use]
    pub fn active_signing_kid(&self, alg: &str) -> Option<&str> {
        self.config
            .pointer("/signing_keys/keys")
            .and_then(Value::as_array)?
            .iter()
            .find(|k| k.get("alg").and_then(Value::as_str) == Some(alg))?
            .get("kid")
            .and_then(Value::as_str)
    }

    /// The private temporary directory holding the configuration (with the private signing
    /// keys) and the saved token store; removed on drop.
    #[must_use]
    pub fn private_dir(&self) -> &Path {
        &self.dir.0
    }

    /// The process id of the running provider (for tests that check it is gone).
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(|p| p.child.id())
    }

    /// The last lines the provider printed (its error log: codes and descriptions, no secrets).
    #[must_use]
    pub fn log_tail(&self) -> String {
        self.log.text()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------------------------------
// The scripted browser

/// A client that behaves like a browser for the scripted flows: a cookie jar (the provider's
/// cookies are path-scoped per interaction) and no automatic redirects (the test reads each
/// `Location`, and the callback host is never contacted).
///
/// # Errors
/// [`HarnessError::Http`] when the TLS backend cannot be initialised.
pub fn browser() -> Result<reqwest::Client, HarnessError> {
    reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(HTTP_TIMEOUT)
        .build()
        .map_err(http_error("building the browser client"))
}

/// An HTML form: its action and its `<input>` name/value pairs.
#[derive(Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    fn value(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn html_unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of a double-quoted attribute in one tag (oidc-provider quotes and escapes all).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    Some(html_unescape(&tag[start..start + len]))
}

/// The forms of a page, enough for oidc-provider's own pages (login, consent, logout,
/// `form_post`); not a general HTML parser.
fn forms(html: &str) -> Vec<Form> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let body_end = rest.find("</form>").unwrap_or(rest.len());
        let body = &rest[tag_end..body_end];
        let mut fields = Vec::new();
        let mut inputs = body;
        while let Some(i) = inputs.find("<input") {
            inputs = &inputs[i..];
            let end = inputs.find('>').unwrap_or(inputs.len());
            let input = &inputs[..end];
            if let Some(name) = attribute(input, "name") {
                fields.push((name, attribute(input, "value").unwrap_or_default()));
            }
            inputs = &inputs[end..];
        }
        found.push(Form {
            action: attribute(tag, "action").unwrap_or_default(),
            fields,
        });
        rest = &rest[body_end..];
    }
    found
}

/// Page text for error messages: style and script blocks dropped, tags stripped, whitespace
/// collapsed, shortened.
fn summary(html: &str) -> String {
    let mut visible = String::new();
    let mut rest = html;
    loop {
        let block = ["style", "script"]
            .into_iter()
            .filter_map(|name| rest.find(&format!("<{name}")).map(|at| (at, name)))
            .min();
        let Some((at, name)) = block else {
            visible.push_str(rest);
            break;
        };
        visible.push_str(&rest[..at]);
        let close = format!("</{name}>");
        rest = rest[at..]
            .find(&close)
            .map_or("", |end| &rest[at + end + close.len()..]);
    }
    let mut text = String::new();
    let mut in_tag = false;
    for c in visible.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    html_unescape(&words.join(" ")).chars().take(500).collect()
}

async fn read_page(
    response: reqwest::Response,
    step: &'static str,
) -> Result<String, HarnessError> {
    let mut response = response;
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http_error(step))? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_PAGE_BYTES {
            bytes.truncate(MAX_PAGE_BYTES);
            break;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn location(response: &reqwest::Response, step: &'static str) -> Result<Url, HarnessError> {
    let here = response.url().clone();
    let value = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(HarnessError::Unexpected {
            step,
            status: response.status().as_u16(),
            detail: "redirect without a readable Location".to_owned(),
        })?;
    here.join(value).map_err(url_error(step))
}

/// The lock that makes scripted flows against one provider take turns. oidc-provider gives the
/// session cookie a new value at every login (session fixation defense) and treats a request
/// carrying the previous value as having no session; two flows whose requests overlap in one jar
/// therefore lose their sessions to each other, which a person switching tabs never does. The
/// flows may still be open at the same time (both started, one finished before the other); only
/// their requests do not overlap.
fn flow_lock(provider: &url::Origin) -> Arc<tokio::sync::Mutex<()>> {
    type Locks = Mutex<BTreeMap<String, Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Locks::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    Arc::clone(locks.entry(provider.ascii_serialization()).or_default())
}

enum Step {
    Get(Url),
    Post(Url, Vec<(String, String)>),
}

async fn send(
    browser: &reqwest::Client,
    step: Step,
    name: &'static str,
) -> Result<reqwest::Response, HarnessError> {
    let request = match step {
        Step::Get(url) => browser.get(url),
        Step::Post(url, fields) => browser.post(url).form(&fields),
    };
    request.send().await.map_err(http_error(name))
}

/// Logs [`USER`] in at the provider: follows `authorization_url` (a URL on the provider, as the
/// client's `/login` redirected to it) through the provider's login and consent forms until the
/// provider redirects off its own origin, and returns that URL: the client's redirect URI with
/// `code`, `state` and `iss` (or `error` when the provider refuses the request).
///
/// `browser` must keep cookies and not follow redirects ([`browser`]). Logins in several tabs
/// (one jar, several flows at once) work: each flow's interaction cookies are scoped to its own
/// path. Scripted flows against one provider take turns (see `flow_lock`), so calling this
/// concurrently is safe. An interaction begun outside this function under a provider session
/// that has since been replaced fails in oidc-provider with "interaction session and
/// authentication session mismatch"; the flow then reloads `authorization_url` once, as a person
/// would.
///
/// # Errors
/// [`HarnessError::Unexpected`] when the provider shows an error page (its text is included),
/// [`HarnessError::TooManySteps`] on a redirect loop, and HTTP/URL errors.
pub async fn scripted_login(
    browser: &reqwest::Client,
    authorization_url: &str,
) -> Result<Url, HarnessError> {
    scripted_login_as(browser, authorization_url, USER).await
}

/// [`scripted_login`] for another account (see [`IdpOptions::account`]); any password works.
///
/// # Errors
/// As [`scripted_login`].
pub async fn scripted_login_as(
    browser: &reqwest::Client,
    authorization_url: &str,
    login: &str,
) -> Result<Url, HarnessError> {
    const STEP: &str = "scripted login";
    let start = Url::parse(authorization_url).map_err(url_error(STEP))?;
    let provider = start.origin();
    let lock = flow_lock(&provider);
    let _one_at_a_time = lock.lock().await;
    let mut reloads_left = 1;
    let mut step = Step::Get(start.clone());
    for _ in 0..MAX_FLOW_STEPS {
        let response = send(browser, step, STEP).await?;
        let status = response.status();
        if status.is_redirection() {
            let next = location(&response, STEP)?;
            if next.origin() != provider {
                return Ok(next);
            }
            step = Step::Get(next);
            continue;
        }
        let here = response.url().clone();
        let page = read_page(response, STEP).await?;
        let form = forms(&page)
            .into_iter()
            .find(|f| f.value("prompt").is_some());
        match form {
            Some(form) if status.is_success() => {
                let mut fields = form.fields.clone();
                // devInteractions: the login form takes any login and password
                // (oidc-provider lib/actions/interaction.js); consent needs only `prompt`.
                if form.value("prompt") == Some("login") {
                    fields.retain(|(name, _)| name != "login" && name != "password");
                    fields.push(("login".to_owned(), login.to_owned()));
                    fields.push(("password".to_owned(), "x".to_owned()));
                }
                step = Step::Post(here.join(&form.action).map_err(url_error(STEP))?, fields);
            }
            _ => {
                let detail = summary(&page);
                // oidc-provider ties an interaction to the provider session that existed when
                // it began (lib/actions/authorization/resume.js). Two flows that begin at the
                // same moment in a jar without a provider session each create one; the flow
                // whose session cookie was overwritten fails with this error. A person would
                // reload the authorization URL, which then runs under the surviving session.
                if reloads_left > 0 && detail.contains(SESSION_MISMATCH) {
                    reloads_left -= 1;
                    step = Step::Get(start.clone());
                    continue;
                }
                return Err(HarnessError::Unexpected {
                    step: STEP,
                    status: status.as_u16(),
                    detail,
                });
            }
        }
    }
    Err(HarnessError::TooManySteps { step: STEP })
}

/// Completes an RP-initiated logout (OIDC RP-Initiated Logout 1.0): opens `end_session_url` (the
/// client's redirect to the provider's `end_session_endpoint`), confirms the provider's logout
/// form ("Yes, sign me out", which ends the whole provider session), and returns where the
/// provider then redirects: the `post_logout_redirect_uri` with `state`, or the provider's own
/// success page when none was registered and sent.
///
/// # Errors
/// [`HarnessError::Unexpected`] when the provider shows an error page instead of the form (for
/// example an unregistered `post_logout_redirect_uri`), and HTTP/URL errors.
pub async fn scripted_logout(
    browser: &reqwest::Client,
    end_session_url: &str,
) -> Result<Url, HarnessError> {
    const STEP: &str = "scripted logout";
    let start = Url::parse(end_session_url).map_err(url_error(STEP))?;
    let lock = flow_lock(&start.origin());
    let _one_at_a_time = lock.lock().await;
    let response = send(browser, Step::Get(start), STEP).await?;
    let status = response.status();
    let here = response.url().clone();
    let page = read_page(response, STEP).await?;
    // With a provider session the page is a confirmation form holding `xsrf`; without one it is
    // an auto-submitting form_post page with `xsrf` and `logout=yes` (lib/actions/end_session.js).
    let Some(form) = forms(&page).into_iter().find(|f| f.value("xsrf").is_some()) else {
        return Err(HarnessError::Unexpected {
            step: STEP,
            status: status.as_u16(),
            detail: summary(&page),
        });
    };
    let mut fields = form.fields.clone();
    if form.value("logout").is_none() {
        fields.push(("logout".to_owned(), "yes".to_owned()));
    }
    let action = here.join(&form.action).map_err(url_error(STEP))?;
    let response = send(browser, Step::Post(action, fields), STEP).await?;
    if response.status().is_redirection() {
        return location(&response, STEP);
    }
    let status = response.status();
    let page = read_page(response, STEP).await?;
    Err(HarnessError::Unexpected {
        step: STEP,
        status: status.as_u16(),
        detail: summary(&page),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_reads_the_login_page_shape() {
        let html = r#"<div><form autocomplete="off" action="/interaction/a&amp;b/login" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <input required type="text" name="login" placeholder="Enter any login" autofocus="on">
  <input required type="password" name="password" placeholder="and password" >
</form></div><a href="/x">abort</a>"#;
        let found = forms(html);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].action, "/interaction/a&b/login");
        assert_eq!(found[0].value("prompt"), Some("login"));
        assert_eq!(found[0].value("login"), Some(""));
    }

    #[test]
    fn forms_reads_the_logout_confirmation() {
        let html = r#"<h1>Do you want to sign-out from 127.0.0.1:1?</h1>
        <form id="op.logoutForm" method="post" action="http://127.0.0.1:1/session/end/confirm"><input type="hidden" name="xsrf" value="q&quot;1"/></form>
        <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes</button>"#;
        let found = forms(html);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].value("xsrf"), Some("q\"1"));
        assert_eq!(found[0].value("logout"), None);
    }

    #[test]
    fn merge_replaces_members_and_adds_clients() {
        let defaults = vec![json!({"client_id": "a", "x": 1, "y": 2})];
        let merged = merge_clients(
            defaults,
            &[
                json!({"client_id": "a", "x": 3, "y": null}),
                json!({"client_id": "b"}),
            ],
        );
        assert_eq!(
            merged,
            vec![json!({"client_id": "a", "x": 3}), json!({"client_id": "b"})]
        );
    }

    #[test]
    fn summary_strips_tags_and_styles() {
        let html = "<html><head><style>h1{x:y}</style></head><body><h1>oops</h1><pre>\
                    <strong>error</strong>: invalid_request</pre></body></html>";
        assert_eq!(summary(html), "oops error : invalid_request");
    }

    #[test]
    fn basic_secret_is_vschar_and_needs_encoding() {
        assert!(
            BASIC_SECRET_PREFIX
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b))
        );
        for c in [':', '%', '+', ' '] {
            assert!(BASIC_SECRET_PREFIX.contains(c));
        }
    }
}
