//! Local accounts with passwords on the paved road: signup under the NIST SP 800-63B-4 policy,
//! login through a bounded Argon2id [`HashingPool`] (upgrading old hashes, dummy work for
//! unknown users, 503 + `Retry-After` when saturated), server-side sessions in a `__Host-`
//! cookie, security headers and cross-origin request protection on every route. Users live in
//! an `SQLite` file; only PHC strings are stored and no password is ever logged.
//!
//! Account enumeration (ASVS V6.3.8): a failed login answers the same 401 page whether the user
//! exists or not, after the same pool work (`dummy_verify`). Signup with a chosen user name
//! cannot hide that a name is taken; the refusal is generic and comes after the same Argon2 work
//! as a success, so it differs in text only, not in timing. Where account existence is itself
//! sensitive, register by e-mail and send the outcome out of band.
//!
//! Online guessing (ASVS V6.3.1, V6.1.1): every login passes a [`LoginThrottle`] before the
//! password is verified, with its default policy (per account: 5 free failures, then waits
//! from 1 s doubling to 15 minutes; per client address, IPv6 by /64: 100 free failures, then
//! the same). A throttled login answers 429 with `Retry-After` and one fixed page, decided
//! before the user table is read, so it is the same for existing and unknown accounts; failures
//! are recorded for unknown accounts too. A success clears the account's counter. When the
//! throttle's store (Redis) does not answer, logins are refused with 503 + `Retry-After`
//! rather than let through unthrottled. The counters are in memory, or in Redis when several
//! instances must throttle as one ([`redis_throttle`]). The back-off never locks an account for
//! good: its owner waits at most 15 minutes however long an attacker keeps guessing.
//!
//! The client address is the TCP peer (`ConnectInfo`): serve the router with
//! `into_make_service_with_connect_info::<SocketAddr>()`. `X-Forwarded-For` is not trusted,
//! since any client can send it. Behind a reverse proxy every client therefore shares the
//! proxy's address and its budget; this example has no trusted-proxy setting: a deployment
//! behind one replaces the `ConnectInfo` extraction in `login` with the address its proxy
//! reports, taken only from the proxy's own connection.
#![forbid(unsafe_code)]

mod templates;

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use paved_auth::session::{LoadedSession, MemoryStore, SessionError, Sessions};
use paved_crypto::{
    HashingPool, LoginThrottle, PolicyContext, ThrottleError, ThrottlePolicy, VerifyError,
    check_policy,
};
use paved_headers::{ConfigError, SecurityHeadersBuilder, clear_site_data, no_store};
use paved_secrets::{ExposeSecret as _, SecretString};
use rusqlite::{Connection, OptionalExtension as _, params};
use zeroize::Zeroizing;

/// Largest form body: a password is at most 1 KiB (`paved_crypto::MAX_PASSWORD_BYTES`), ×3 when
/// percent-encoded, plus a user name; anything bigger is refused before parsing.
pub const MAX_FORM_BYTES: usize = 8 * 1024;
/// Longest user name, in characters.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Words no password may contain besides the user name (SP 800-63B-4 §3.1.1.2: context words).
const SERVICE_WORDS: [&str; 1] = ["paved"];
/// The Redis key namespace of this example's login throttle.
pub const REDIS_NAMESPACE: &str = "paved-password-login";
/// How long one Redis command may take (fred's own timeout; the throttle has its own too):
/// Redis on the same network answers in well under a millisecond.
const REDIS_COMMAND_TIMEOUT: Duration = Duration::from_millis(500);
/// Commands fred may queue while it reconnects; beyond that they fail at once (a login storm
/// during an outage must not grow the queue without bound).
const REDIS_MAX_QUEUED: usize = 4_096;
/// Delay between reconnection attempts, ms; retried for ever, so the service recovers by itself
/// when Redis is back.
const REDIS_RECONNECT_DELAY_MS: u32 = 200;

/// The user table: one row per account, the password only as a PHC string. Names are unique
/// without regard to ASCII case, so `Alice` cannot sign up beside `alice`.
#[derive(Clone)]
pub struct Users(Arc<Mutex<Connection>>);

impl fmt::Debug for Users {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Users").finish_non_exhaustive()
    }
}

impl Users {
    /// The user table in `conn` (`Connection::open(path)`, or `open_in_memory()` for tests),
    /// created if missing.
    ///
    /// # Errors
    /// [`Error::Database`] when the table cannot be created.
    pub fn new(conn: Connection) -> Result<Self, Error> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY COLLATE NOCASE, phc TEXT NOT NULL) STRICT",
        )?;
        Ok(Self(Arc::new(Mutex::new(conn))))
    }

    /// A user table in an in-memory database that ends with the process (tests, demos).
    ///
    /// # Errors
    /// [`Error::Database`] when the database cannot be opened.
    pub fn in_memory() -> Result<Self, Error> {
        Self::new(Connection::open_in_memory()?)
    }

    /// The account's name as signed up and its PHC string.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Poisoned`].
    pub fn find(&self, name: &str) -> Result<Option<(String, String)>, Error> {
        self.with(|c| {
            c.query_row("SELECT name, phc FROM users WHERE name = ?1", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
    }

    /// Creates an account; `Ok(false)` when the name is taken.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Poisoned`].
    pub fn create(&self, name: &str, phc: &str) -> Result<bool, Error> {
        let sql = "INSERT INTO users (name, phc) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING";
        Ok(self.with(|c| c.execute(sql, params![name, phc]))? == 1)
    }

    /// Replaces `old` with `new` unless the row changed meanwhile (a concurrent password change
    /// must not be overwritten by a rehash of the previous password).
    fn upgrade(&self, name: &str, old: &str, new: &str) -> Result<(), Error> {
        let sql = "UPDATE users SET phc = ?3 WHERE name = ?1 AND phc = ?2";
        self.with(|c| c.execute(sql, params![name, old, new]))
            .map(drop)
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, Error> {
        Ok(f(&*self.0.lock().map_err(|_| Error::Poisoned)?)?)
    }
}

/// What can stop the app from starting or a request from being served (answered 500).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `SQLite` failed.
    Database(rusqlite::Error),
    /// The database lock was poisoned by a panic; its state is not trusted.
    Poisoned,
    /// The security headers configuration was refused.
    Headers(ConfigError),
    /// The session manager failed.
    Session(SessionError),
    /// Hashing a new password failed for a reason other than load (a bug).
    Hash(paved_crypto::Error),
    /// The Redis URL was refused or Redis could not be reached at startup.
    Redis(fred::error::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Database(e) => write!(f, "user database: {e}"),
            Self::Poisoned => f.write_str("user database lock poisoned by a panic"),
            Self::Headers(e) => write!(f, "security headers: {e}"),
            Self::Session(e) => write!(f, "sessions: {e}"),
            Self::Hash(e) => write!(f, "password hashing: {e}"),
            // fred's errors name the failing operation, never a credential from the URL.
            Self::Redis(e) => write!(f, "redis: {}", e.kind().to_str()),
        }
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Self::Database(e)
    }
}

impl From<SessionError> for Error {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        templates::server_error()
    }
}

#[derive(Clone)]
struct App {
    users: Users,
    pool: HashingPool,
    sessions: Sessions,
    throttle: LoginThrottle,
}

#[derive(serde::Deserialize)]
struct Credentials {
    username: String,
    password: SecretString,
}

/// The application with an in-memory login throttle: `headers` is
/// `SecurityHeadersLayer::web()` behind https, or `dev()` for plain http on loopback; both
/// include cross-origin request protection. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()` (the throttle needs the client's
/// address; without it a login answers 500).
///
/// # Errors
/// [`Error::Headers`] or [`Error::Session`] when the configuration is refused.
pub fn app(
    users: Users,
    pool: HashingPool,
    headers: SecurityHeadersBuilder,
) -> Result<Router, Error> {
    let throttle = LoginThrottle::memory(ThrottlePolicy::default());
    app_with_throttle(users, pool, throttle, headers)
}

/// [`app`] with the given login throttle (for instance [`redis_throttle`], shared by several
/// instances).
///
/// # Errors
/// [`Error::Headers`] or [`Error::Session`] when the configuration is refused.
pub fn app_with_throttle(
    users: Users,
    pool: HashingPool,
    throttle: LoginThrottle,
    headers: SecurityHeadersBuilder,
) -> Result<Router, Error> {
    let sessions = Sessions::builder(MemoryStore::default()).build()?;
    Ok(Router::new()
        .route("/", get(home))
        .route("/signup", get(templates::signup_form).post(signup))
        .route("/login", get(templates::login_form).post(login))
        .route("/logout", post(logout).layer(clear_site_data()))
        .layer(no_store())
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(headers.build().map_err(Error::Headers)?)
        .with_state(App {
            users,
            pool,
            sessions,
            throttle,
        }))
}

/// A login throttle with the default policy whose counters live in the Redis at `url`
/// (`redis://host:port`), under [`REDIS_NAMESPACE`]: every instance given the same Redis
/// throttles as one. Logins answer 503 while Redis is away and work again by themselves when
/// it is back (see [`redis_pool`]).
///
/// # Errors
/// [`Error::Redis`] when the URL is refused or Redis cannot be reached now.
pub async fn redis_throttle(url: &str) -> Result<LoginThrottle, Error> {
    Ok(LoginThrottle::redis(
        redis_pool(url).await?,
        REDIS_NAMESPACE,
        ThrottlePolicy::default(),
    ))
}

/// A connected pool of two Redis connections, reconnected for ever in the background (every
/// 200 ms), with a 500 ms command timeout and a bounded queue of commands waiting for a
/// connection.
///
/// # Errors
/// [`Error::Redis`] when the URL is refused or Redis cannot be reached now.
pub async fn redis_pool(url: &str) -> Result<fred::clients::Pool, Error> {
    use fred::interfaces::ClientLike as _;
    use fred::types::Builder;
    use fred::types::config::{Config, ReconnectPolicy};

    let config = Config::from_url(url).map_err(Error::Redis)?;
    let pool = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = REDIS_COMMAND_TIMEOUT;
            c.max_command_buffer_len = REDIS_MAX_QUEUED;
        })
        .with_performance_config(|c| c.default_command_timeout = REDIS_COMMAND_TIMEOUT)
        .set_policy(ReconnectPolicy::new_constant(0, REDIS_RECONNECT_DELAY_MS))
        .build_pool(2)
        .map_err(Error::Redis)?;
    pool.init().await.map_err(Error::Redis)?;
    Ok(pool)
}

async fn home(State(app): State<App>, headers: HeaderMap) -> Result<Html<String>, Error> {
    let session = app.sessions.load(&headers).await?;
    Ok(templates::home(session.as_ref().map(LoadedSession::user)))
}

async fn signup(State(app): State<App>, Form(c): Form<Credentials>) -> Result<Response, Error> {
    let name = c.username.trim();
    if name.is_empty()
        || name.chars().count() > MAX_USERNAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Ok(templates::bad_username(MAX_USERNAME_CHARS));
    }
    let words = [name, SERVICE_WORDS[0]];
    let violations = check_policy(
        &c.password,
        &PolicyContext {
            context_words: &words,
            ..PolicyContext::default()
        },
    );
    if !violations.is_empty() {
        return Ok(templates::weak_password(&violations));
    }
    // Hash before the uniqueness check so a taken name costs the same time as a new one.
    let phc = match app.pool.hash(c.password).await {
        Ok(phc) => phc,
        Err(paved_crypto::Error::Overloaded(busy)) => return Ok(busy.into_response()),
        Err(e) => return Err(Error::Hash(e)),
    };
    if !app.users.create(name, phc.as_str())? {
        return Ok(templates::name_taken());
    }
    Ok(Redirect::to("/login").into_response())
}

async fn login(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(c): Form<Credentials>,
) -> Result<Response, Error> {
    let username = c.username.trim();
    let ip = peer.ip();
    // Before the user table is read: the answer cannot depend on whether the account exists.
    match app.throttle.check(username, ip).await {
        Ok(()) => {}
        Err(ThrottleError::Throttled { retry_after }) => {
            return Ok(templates::login_throttled(retry_after));
        }
        Err(e) => {
            tracing::error!(error = %e, "login refused: the login throttle is unavailable");
            return Ok(templates::throttle_unavailable());
        }
    }
    let account = app.users.find(username)?;
    // The pool takes the password by value; a rehash needs it once more.
    let again = SecretString::from(c.password.expose_secret());
    let result = match &account {
        Some((_, phc)) => app.pool.verify(c.password, phc.clone()).await,
        None => app.pool.dummy_verify(c.password).await, // same work: no enumeration by timing
    };
    let name = match (account, result) {
        (_, Err(VerifyError::Overloaded(busy))) => {
            // No password was tried: the attempt does not count.
            if let Err(e) = app.throttle.release(username, ip).await {
                tracing::warn!(error = %e, "login throttle: pending attempt not released");
            }
            return Ok(busy.into_response());
        }
        (Some((name, old)), Ok(verified)) => {
            if verified.needs_rehash {
                match app.pool.hash(again).await {
                    Ok(new) => app.users.upgrade(&name, &old, new.as_str())?,
                    Err(e) => tracing::warn!(error = %e, "password hash upgrade postponed"),
                }
            }
            name
        }
        (Some(_), Err(e)) if e != VerifyError::WrongPassword => {
            tracing::warn!(error = %e, "stored password hash unusable; answered as a wrong password");
            return Ok(failed(&app.throttle, username, ip).await);
        }
        // Unknown accounts count too, or the throttle itself would reveal which exist.
        _ => return Ok(failed(&app.throttle, username, ip).await),
    };
    if let Err(e) = app.throttle.record_success(username, ip).await {
        // The attempt stays counted as pending until the counter expires: harmless.
        tracing::warn!(error = %e, "login throttle: success not recorded");
    }
    // The session the browser came with (possibly planted) is removed; the new id is fresh.
    let previous = app.sessions.session_id_from_headers(&headers);
    let started = app
        .sessions
        .start(&name, Zeroizing::new(Vec::new()), previous.as_ref())
        .await?;
    Ok((
        [(header::SET_COOKIE, started.set_cookie().clone())],
        Redirect::to("/"),
    )
        .into_response())
}

/// Records the failure and answers 401. If the store is down, the attempt stays counted as
/// pending (the same weight as a failure), so the answer is still 401.
async fn failed(throttle: &LoginThrottle, username: &str, ip: std::net::IpAddr) -> Response {
    if let Err(e) = throttle.record_failure(username, ip).await {
        tracing::warn!(error = %e, "login throttle: failure not recorded");
    }
    templates::login_failed()
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Result<Response, Error> {
    if let Some(id) = app.sessions.session_id_from_headers(&headers) {
        app.sessions.end(&id).await?;
    }
    Ok((
        [(header::SET_COOKIE, app.sessions.clear_cookie())],
        Redirect::to("/"),
    )
        .into_response())
}
