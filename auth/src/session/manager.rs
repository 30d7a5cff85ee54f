//! The session manager: start, load, replace and end sessions on a store.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use paved_crypto::{Clock, SystemClock};
use zeroize::Zeroizing;

use super::cookie::{self, DEFAULT_COOKIE_NAME};
use super::{
    Replaced, SessionError, SessionId, SessionKey, SessionRecord, SessionStore, SessionSummary,
    StoreError,
};

/// Default inactivity timeout: 30 minutes. OWASP Session Management Cheat Sheet ("Session
/// Expiration": 15–30 minutes of idle time for low-risk applications); ASVS V7.3.1.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Default absolute lifetime: 8 hours, one working day. OWASP Session Management Cheat Sheet
/// ("Absolute Timeout": 4–8 hours for applications used a full office day); ASVS V7.3.2.
pub const DEFAULT_ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(8 * 60 * 60);

/// The shortest idle timeout accepted: below a minute, the touch interval (see
/// [`MAX_TOUCH_INTERVAL`]) and clock skew between instances are a large share of it.
pub const MIN_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest absolute lifetime accepted: 30 days. ASVS V7.3.2 asks for a documented maximum;
/// past a month a stolen cookie stays useful too long, and "remember me" belongs to the identity
/// provider's session, not to this one.
pub const MAX_ABSOLUTE_TIMEOUT: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// The longest interval between two writes of `last_seen` for one session: 60 seconds. A
/// request writes `last_seen` only if this much (or a tenth of the idle timeout, whichever is
/// less) has passed since the stored value, so a busy session costs one store write a minute
/// instead of one per request. The price is granularity: a session can end up to one touch
/// interval before `idle_timeout` has passed since its very last request.
pub const MAX_TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// The longest user handle accepted by [`Sessions::start`]: 4 KiB. OIDC Core §2 caps `sub` at
/// 255 ASCII characters; an issuer URL plus that fits many times over, and the bound keeps the
/// per-user index from holding arbitrarily large keys.
pub const MAX_USER_BYTES: usize = 4096;

/// The most session data accepted: 64 KiB. Sealed ID, access and refresh tokens are a few KiB;
/// even tokens with large group claims stay well under. The bound caps what one session costs
/// the store.
pub const MAX_DATA_BYTES: usize = 64 * 1024;

/// How many fresh ids [`Sessions::start`] tries when the store reports one as taken. With
/// 256-bit ids a second try is already a sign of a broken RNG; the loop only keeps a flaky
/// store from failing a login, and is bounded.
const START_ATTEMPTS: usize = 3;

/// The validated settings of a [`Sessions`] manager.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    idle_timeout: Duration,
    absolute_timeout: Duration,
    touch_interval: Duration,
    cookie_name: String,
}

impl SessionConfig {
    /// Inactivity after which a session ends (ASVS V7.3.1).
    #[must_use]
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The longest a session lasts, however active (ASVS V7.3.2); also the cookie's `Max-Age`.
    #[must_use]
    pub fn absolute_timeout(&self) -> Duration {
        self.absolute_timeout
    }

    /// The least time between two `last_seen` writes: `min(60 s, idle_timeout / 10)`.
    #[must_use]
    pub fn touch_interval(&self) -> Duration {
        self.touch_interval
    }

    /// The session cookie's name (always `__Host-` prefixed).
    #[must_use]
    pub fn cookie_name(&self) -> &str {
        &self.cookie_name
    }
}

/// Builds a [`Sessions`] manager; see [`Sessions::builder`].
#[derive(Debug)]
#[must_use]
pub struct SessionsBuilder {
    store: Arc<dyn SessionStore>,
    idle_timeout: Duration,
    absolute_timeout: Duration,
    cookie_name: String,
    clock: Arc<dyn Clock>,
}

impl SessionsBuilder {
    /// Inactivity after which a session ends (default [`DEFAULT_IDLE_TIMEOUT`]); at least
    /// [`MIN_IDLE_TIMEOUT`] and at most the absolute timeout. Whole seconds count.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The longest a session lasts (default [`DEFAULT_ABSOLUTE_TIMEOUT`]); at most
    /// [`MAX_ABSOLUTE_TIMEOUT`]. Whole seconds count.
    pub fn absolute_timeout(mut self, timeout: Duration) -> Self {
        self.absolute_timeout = timeout;
        self
    }

    /// The cookie name (default `__Host-session`); it must start with `__Host-` and be an HTTP
    /// token.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// The clock judging expiry (default: the system clock). Give a store with its own clock
    /// (such as [`MemoryStore::with_clock`](super::MemoryStore::with_clock)) the same one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Validates the settings and builds the manager.
    ///
    /// # Errors
    /// [`SessionError::Config`] when the idle timeout is under [`MIN_IDLE_TIMEOUT`] or above the
    /// absolute timeout, the absolute timeout is above [`MAX_ABSOLUTE_TIMEOUT`], or the cookie
    /// name lacks the `__Host-` prefix or is not a token.
    pub fn build(self) -> Result<Sessions, SessionError> {
        let idle = Duration::from_secs(self.idle_timeout.as_secs());
        let absolute = Duration::from_secs(self.absolute_timeout.as_secs());
        if idle < MIN_IDLE_TIMEOUT {
            return Err(SessionError::Config(
                "the idle timeout must be at least 1 minute",
            ));
        }
        if idle > absolute {
            return Err(SessionError::Config(
                "the idle timeout must not exceed the absolute timeout",
            ));
        }
        if absolute > MAX_ABSOLUTE_TIMEOUT {
            return Err(SessionError::Config(
                "the absolute timeout must not exceed 30 days",
            ));
        }
        cookie::validate_cookie_name(&self.cookie_name)?;
        let touch_interval = MAX_TOUCH_INTERVAL.min(idle / 10);
        let clear_cookie = cookie::set_cookie(&self.cookie_name, "", 0)?;
        Ok(Sessions {
            inner: Arc::new(Inner {
                store: self.store,
                clear_cookie,
                config: SessionConfig {
                    idle_timeout: idle,
                    absolute_timeout: absolute,
                    touch_interval,
                    cookie_name: self.cookie_name,
                },
                clock: self.clock,
            }),
        })
    }
}

/// Server-side sessions on a [`SessionStore`]: the browser holds only a random id in a
/// `__Host-` cookie, the data stays in the store (OA-12). Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn SessionStore>,
    clear_cookie: HeaderValue,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl Sessions {
    /// Starts configuring a manager on `store` (defaults: idle 30 min, absolute 8 h, cookie
    /// `__Host-session`, system clock).
    pub fn builder(store: impl SessionStore) -> SessionsBuilder {
        Self::builder_arc(Arc::new(store))
    }

    /// [`builder`](Self::builder) for a store already behind an `Arc` (shared with other code).
    pub fn builder_arc(store: Arc<dyn SessionStore>) -> SessionsBuilder {
        SessionsBuilder {
            store,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            absolute_timeout: DEFAULT_ABSOLUTE_TIMEOUT,
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }

    /// The validated settings.
    #[must_use]
    pub fn config(&self) -> &SessionConfig {
        &self.inner.config
    }

    /// The store (the OIDC layer takes its refresh lock there).
    pub(crate) fn store(&self) -> &dyn SessionStore {
        &*self.inner.store
    }

    /// Starts a session for `user` after a successful login and returns its new id with the
    /// `Set-Cookie` header to send.
    ///
    /// `replacing` is the session the request came with, if any: it is removed first, and the
    /// new session always gets a fresh random id (session fixation, OA-13 / ASVS V7.2.4). An id
    /// planted in the browser before login is therefore never the one that becomes logged in.
    ///
    /// # Errors
    /// [`SessionError::InvalidUser`] for an empty user or one over [`MAX_USER_BYTES`],
    /// [`SessionError::DataTooLarge`] over [`MAX_DATA_BYTES`], [`SessionError::Rng`], and
    /// [`SessionError::Store`] when the store fails.
    pub async fn start(
        &self,
        user: &str,
        data: Zeroizing<Vec<u8>>,
        replacing: Option<&SessionId>,
    ) -> Result<StartedSession, SessionError> {
        if user.is_empty() || user.len() > MAX_USER_BYTES {
            return Err(SessionError::InvalidUser);
        }
        check_data(&data)?;
        let store = &self.inner.store;
        if let Some(old) = replacing {
            store.remove(&old.key()).await?;
        }
        let config = &self.inner.config;
        let now = self.inner.clock.now_unix();
        let absolute = config.absolute_timeout.as_secs();
        let record = SessionRecord {
            user: user.to_owned(),
            created_at: now,
            last_seen: now,
            absolute_expiry: now.saturating_add(absolute),
            idle_timeout: config.idle_timeout.as_secs(),
            version: 1,
            data,
        };
        let mut attempts = 0;
        let id = loop {
            attempts += 1;
            let id = SessionId::generate()?;
            match store.insert(&id.key(), record.clone()).await {
                Ok(()) => break id,
                Err(StoreError::Exists) if attempts < START_ATTEMPTS => {}
                Err(e) => return Err(e.into()),
            }
        };
        let set_cookie =
            cookie::set_cookie(&config.cookie_name, id.expose_cookie_value(), absolute)?;
        Ok(StartedSession { id, set_cookie })
    }

    /// Loads the request's session: the session cookie from the `Cookie` headers, parsed
    /// strictly, then the live record from the store.
    ///
    /// `None` when there is no session cookie, when the cookie name occurs more than once (see
    /// [`session_id_from_headers`](Self::session_id_from_headers)), when the value is malformed,
    /// when no record exists, and when the session has passed its idle or absolute limit; an
    /// expired record is removed from the store. A loaded session's `last_seen` is written back
    /// when at least [`SessionConfig::touch_interval`] has passed since the stored value.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn load(&self, headers: &HeaderMap) -> Result<Option<LoadedSession>, SessionError> {
        let Some(id) = self.session_id_from_headers(headers) else {
            return Ok(None);
        };
        self.load_id(id).await
    }

    /// Loads the session `id` directly, with the same expiry checks and touch as
    /// [`load`](Self::load) (a refresh re-reads the session it is refreshing).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn load_id(&self, id: SessionId) -> Result<Option<LoadedSession>, SessionError> {
        let key = id.key();
        let store = &self.inner.store;
        let Some(mut record) = store.get(&key).await? else {
            return Ok(None);
        };
        let now = self.inner.clock.now_unix();
        // The store judged expiry by its own clock; this manager's clock decides too, so a store
        // on a lagging clock cannot stretch a session (ASVS V7.3.1, V7.3.2).
        if record.is_expired(now) {
            store.remove(&key).await?;
            return Ok(None);
        }
        if now.saturating_sub(record.last_seen) >= self.inner.config.touch_interval.as_secs() {
            if !store.touch(&key, now).await? {
                return Ok(None);
            }
            record.last_seen = record.last_seen.max(now);
        }
        Ok(Some(LoadedSession { id, key, record }))
    }

    /// Replaces the session's data if nobody replaced it since `loaded` was read
    /// (compare-and-swap on [`LoadedSession::version`]). Use it after a token refresh: of two
    /// requests (or instances) that both refreshed, exactly one stores its tokens; the other
    /// gets [`Replaced::Conflict`] and should reload and use the winner's (OA-17).
    ///
    /// # Errors
    /// [`SessionError::DataTooLarge`] over [`MAX_DATA_BYTES`]; [`SessionError::Store`] when the
    /// store fails.
    pub async fn replace(
        &self,
        loaded: &LoadedSession,
        data: Zeroizing<Vec<u8>>,
    ) -> Result<Replaced, SessionError> {
        check_data(&data)?;
        Ok(self
            .inner
            .store
            .replace(&loaded.key, loaded.record.version, data)
            .await?)
    }

    /// Ends the session (logout, ASVS V7.4.1): its record is removed, so the cookie stops
    /// working even if the browser keeps it. Send [`clear_cookie`](Self::clear_cookie) too.
    /// `Ok(true)` if there was a session.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn end(&self, id: &SessionId) -> Result<bool, SessionError> {
        Ok(self.inner.store.remove(&id.key()).await?)
    }

    /// Ends one of `user`'s sessions by its store key, as listed by
    /// [`list_for_user`](Self::list_for_user) (ASVS V7.5.2: "end some of them"). Only a session
    /// that belongs to `user` is ended, so a key sent by a browser cannot end somebody else's.
    /// `Ok(true)` if one was ended.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn end_by_key(&self, user: &str, key: &SessionKey) -> Result<bool, SessionError> {
        let store = &self.inner.store;
        match store.get(key).await? {
            Some(record) if record.user == user => Ok(store.remove(key).await?),
            _ => Ok(false),
        }
    }

    /// Ends every session of `user` (account disabled or deleted, credentials changed, an
    /// administrator's action: ASVS V7.4.2, V7.4.3, V7.4.5) and returns how many were live.
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn end_all_for_user(&self, user: &str) -> Result<usize, SessionError> {
        Ok(self.inner.store.remove_user(user).await?)
    }

    /// The live sessions of `user`, oldest first, without ids or data (ASVS V7.5.2).
    ///
    /// # Errors
    /// [`SessionError::Store`] when the store fails.
    pub async fn list_for_user(&self, user: &str) -> Result<Vec<SessionSummary>, SessionError> {
        Ok(self.inner.store.list_user(user).await?)
    }

    /// `Set-Cookie` that removes the session cookie: empty value, same attributes, `Max-Age=0`.
    #[must_use]
    pub fn clear_cookie(&self) -> HeaderValue {
        self.inner.clear_cookie.clone()
    }

    /// The session id in the request's `Cookie` headers, if the session cookie occurs exactly
    /// once and its value is a well-formed id.
    ///
    /// A cookie name occurring twice gives `None`: a cookie-tossing attacker on a sibling
    /// subdomain can plant a second cookie that the browser sends alongside ours (through a
    /// nameless cookie whose value reads `__Host-session=…`, a name variant a parser
    /// normalises, or a browser without `__Host-` support), and nothing in the header says
    /// which one the server set; using either could log the victim into the attacker's session.
    #[must_use]
    pub fn session_id_from_headers(&self, headers: &HeaderMap) -> Option<SessionId> {
        cookie::find_session_id(headers, &self.inner.config.cookie_name)
    }
}

impl fmt::Debug for Sessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sessions")
            .field("config", &self.inner.config)
            .field("store", &self.inner.store)
            .field("clock", &self.inner.clock)
            .finish()
    }
}

fn check_data(data: &[u8]) -> Result<(), SessionError> {
    if data.len() > MAX_DATA_BYTES {
        return Err(SessionError::DataTooLarge {
            max: MAX_DATA_BYTES,
        });
    }
    Ok(())
}

/// A session just started: its id and the `Set-Cookie` header that gives it to the browser.
pub struct StartedSession {
    id: SessionId,
    set_cookie: HeaderValue,
}

impl StartedSession {
    /// The new session's id.
    #[must_use]
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The `Set-Cookie` value to send with the login response (marked sensitive).
    #[must_use]
    pub fn set_cookie(&self) -> &HeaderValue {
        &self.set_cookie
    }

    /// The id and the `Set-Cookie` value.
    #[must_use]
    pub fn into_parts(self) -> (SessionId, HeaderValue) {
        (self.id, self.set_cookie)
    }
}

impl fmt::Debug for StartedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Set-Cookie value contains the id.
        f.debug_struct("StartedSession")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A live session read from the store for one request.
#[derive(Clone)]
pub struct LoadedSession {
    id: SessionId,
    key: SessionKey,
    record: SessionRecord,
}

impl LoadedSession {
    /// The session's id (from the request's cookie).
    #[must_use]
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The session's store key (loggable: it is not the cookie).
    #[must_use]
    pub fn key(&self) -> &SessionKey {
        &self.key
    }

    /// Who the session belongs to.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.record.user
    }

    /// The session data as stored (opaque bytes).
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.record.data
    }

    /// The data version this request read; [`Sessions::replace`] succeeds only if it is still
    /// current.
    #[must_use]
    pub fn version(&self) -> u64 {
        self.record.version
    }

    /// When the session started (Unix seconds).
    #[must_use]
    pub fn created_at(&self) -> u64 {
        self.record.created_at
    }

    /// The last activity recorded, this request included (Unix seconds, touch-interval
    /// granularity).
    #[must_use]
    pub fn last_seen(&self) -> u64 {
        self.record.last_seen
    }

    /// When the session ends unless used again (Unix seconds).
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.record.expires_at()
    }

    /// The whole record.
    #[must_use]
    pub fn record(&self) -> &SessionRecord {
        &self.record
    }
}

impl fmt::Debug for LoadedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedSession")
            .field("id", &self.id)
            .field("key", &self.key)
            .field("record", &self.record)
            .finish()
    }
}
