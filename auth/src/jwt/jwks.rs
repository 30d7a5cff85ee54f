//! [`JwksCache`]: the issuer's remote key set, fetched with the hardened client.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use paved_crypto::{Clock, SystemClock};

use crate::http_client::HttpClient;
use crate::jwt::algorithm::Algorithm;
use crate::jwt::error::{ConfigError, JwksError, JwtError};
use crate::jwt::keys::{KeySet, VerificationKey, log_dropped};

/// How long a fetched key set is used before it is refreshed (the `jose` default).
pub const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(600);
/// The least time between two fetches caused by unknown `kid`s or failed refreshes (the
/// `jose` default).
pub const DEFAULT_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);
/// The shortest ttl accepted.
pub const MIN_JWKS_TTL: Duration = Duration::from_secs(30);
/// The longest ttl accepted: a day.
pub const MAX_JWKS_TTL: Duration = Duration::from_secs(24 * 3600);
/// How long last-known-good keys outlive their ttl while refreshes fail: one day. Past it the
/// cache answers "keys unavailable" (503 at the bearer layer) rather than keep trusting a key
/// the issuer may have rotated out because it leaked.
pub const MAX_LAST_KNOWN_GOOD_AGE: Duration = Duration::from_secs(24 * 3600);

/// The shortest cooldown accepted.
pub const MIN_REFETCH_COOLDOWN: Duration = Duration::from_secs(1);

const JWKS_ACCEPT: &str = "application/jwk-set+json, application/json";

/// The issuer's remote key set (`jwks_uri`), fetched with the hardened client and kept fresh
/// without letting tokens drive the fetching. Cheap to clone; clones share the cache.
///
/// - **ttl** ([`DEFAULT_JWKS_TTL`], 10 min): after it, the next validation refreshes the set;
///   while one refresh is in flight, other validations keep using the current keys.
/// - **unknown `kid`**: one refetch, at most once per **cooldown**
///   ([`DEFAULT_REFETCH_COOLDOWN`], 30 s, measured from the last attempt), so a flood of tokens
///   with invented `kid`s costs at most one request per cooldown (JW-07).
/// - **single flight**: concurrent validations that need a fetch share one request.
/// - **last-known-good**: when a refresh fails, the previous keys stay in use and a `warn`
///   event says so; the next attempt waits for the cooldown. With no earlier keys, validation
///   fails with [`JwtError::KeysUnavailable`] (the bearer layer answers 503).
/// - **filtering** (JW-23): `oct` keys, keys whose `use` is not `sig`, whose `key_ops` lack
///   `verify`, whose `alg` does not fit the key, RSA keys under 2048 bits, keys with private
///   members and keys sharing a `kid` are dropped (logged at `warn`); more than
///   [`MAX_JWKS_KEYS`](crate::jwt::MAX_JWKS_KEYS) keys or no usable key refuses the document.
/// - **transport**: https only (loopback http in the explicit dev client), no redirects, 5 s
///   timeout, 512 KiB body cap (see [`HttpClient`]).
///
/// Time for ttl and cooldown comes from an injectable [`Clock`]; the fetch timeout is real
/// time. Fetching needs a Tokio runtime with timers enabled (`#[tokio::main]` enables them),
/// as reqwest does.
#[derive(Clone)]
pub struct JwksCache(Arc<CacheInner>);

struct CacheInner {
    url: String,
    client: HttpClient,
    clock: Arc<dyn Clock>,
    ttl: u64,
    cooldown: u64,
    state: RwLock<State>,
    refresh: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct State {
    keys: Option<Arc<KeySet>>,
    fetched_at: u64,
    last_attempt: Option<u64>,
    generation: u64,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.read();
        f.debug_struct("JwksCache")
            .field("url", &self.0.url)
            .field("ttl_secs", &self.0.ttl)
            .field("cooldown_secs", &self.0.cooldown)
            .field("keys", &state.keys.as_ref().map(|k| k.len()))
            .finish_non_exhaustive()
    }
}

/// The outcome of a lookup that may not wait.
pub(crate) enum Lookup {
    Ready(Result<VerificationKey, JwtError>),
    Fetch,
}

impl JwksCache {
    /// A builder for the key set at `url` (an `https` URL, usually the `jwks_uri` of the
    /// issuer's discovery document).
    pub fn builder(url: impl Into<String>) -> JwksCacheBuilder {
        JwksCacheBuilder {
            url: url.into(),
            client: None,
            ttl: DEFAULT_JWKS_TTL,
            cooldown: DEFAULT_REFETCH_COOLDOWN,
            clock: Arc::new(SystemClock),
        }
    }

    /// The URL the keys come from.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// Fetches the key set now (single flight with concurrent validations), e.g. at startup so
    /// that a misconfiguration shows before the first request.
    ///
    /// # Errors
    ///
    /// The [`JwksError`] of the fetch; earlier keys, if any, stay in use.
    pub async fn prefetch(&self) -> Result<usize, JwksError> {
        let _guard = self.0.refresh.lock().await;
        self.refresh_locked().await
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.0.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn decide(&self, state: &State, kid: Option<&str>, alg: Algorithm, may_fetch: bool) -> Lookup {
        let now = self.0.clock.now_unix();
        let can_fetch = may_fetch
            && state
                .last_attempt
                .is_none_or(|t| now >= t.saturating_add(self.0.cooldown));
        let too_old = state
            .fetched_at
            .saturating_add(self.0.ttl)
            .saturating_add(MAX_LAST_KNOWN_GOOD_AGE.as_secs());
        let Some(set) = state.keys.as_ref().filter(|_| now < too_old) else {
            return if can_fetch {
                Lookup::Fetch
            } else {
                Lookup::Ready(Err(JwtError::KeysUnavailable))
            };
        };
        let stale = now >= state.fetched_at.saturating_add(self.0.ttl);
        match set.find(kid, alg) {
            Ok(_) if stale && can_fetch => Lookup::Fetch,
            Ok(key) => Lookup::Ready(Ok(key.clone())),
            Err(JwtError::UnknownKey) if can_fetch => Lookup::Fetch,
            Err(e) => Lookup::Ready(Err(e)),
        }
    }

    /// The key for `kid`/`alg` if it can be answered without waiting.
    pub(crate) fn lookup_now(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let state = self.read();
        self.decide(&state, kid, alg, true)
    }

    /// The key for `kid`/`alg`, fetching the set if the rules allow it.
    pub(crate) async fn lookup(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<VerificationKey, JwtError> {
        let (generation, current) = {
            let state = self.read();
            match self.decide(&state, kid, alg, true) {
                Lookup::Ready(result) => return result,
                Lookup::Fetch => (
                    state.generation,
                    state
                        .keys
                        .as_ref()
                        .and_then(|s| s.find(kid, alg).ok().cloned()),
                ),
            }
        };
        let guard = match current {
            // A stale set that has the key: refresh if nobody else is, else use it.
            Some(key) => match self.0.refresh.try_lock() {
                Ok(guard) => guard,
                Err(_busy) => return Ok(key),
            },
            None => self.0.refresh.lock().await,
        };
        let fetched_meanwhile = self.read().generation != generation;
        if !fetched_meanwhile {
            // The outcome is recorded in the state and logged.
            let _ = self.refresh_locked().await;
        }
        drop(guard);
        let state = self.read();
        match self.decide(&state, kid, alg, false) {
            Lookup::Ready(result) => result,
            Lookup::Fetch => Err(JwtError::KeysUnavailable),
        }
    }

    /// One fetch; the caller holds the refresh lock.
    async fn refresh_locked(&self) -> Result<usize, JwksError> {
        let result = match self.0.client.get(&self.0.url, JWKS_ACCEPT).await {
            Ok(body) => KeySet::parse_jwks(&body),
            Err(e) => Err(JwksError::Fetch(e)),
        };
        let now = self.0.clock.now_unix();
        let mut state = self.0.state.write().unwrap_or_else(PoisonError::into_inner);
        state.generation = state.generation.wrapping_add(1);
        state.last_attempt = Some(now);
        match result {
            Ok((set, dropped)) => {
                log_dropped(&dropped);
                let count = set.len();
                tracing::debug!(url = %self.0.url, keys = count, "paved-auth: JWKS fetched");
                state.keys = Some(Arc::new(set));
                state.fetched_at = now;
                Ok(count)
            }
            Err(e) => {
                if state.keys.is_some() {
                    tracing::warn!(
                        url = %self.0.url,
                        error = %e,
                        age_secs = now.saturating_sub(state.fetched_at),
                        "paved-auth: JWKS refresh failed; keeping the last-known-good keys"
                    );
                } else {
                    tracing::warn!(
                        url = %self.0.url,
                        error = %e,
                        "paved-auth: JWKS fetch failed and no earlier key set exists"
                    );
                }
                Err(e)
            }
        }
    }

    /// Whether the cache holds a key with this `kid` (for tests and diagnostics).
    #[must_use]
    pub fn has_kid(&self, kid: &str) -> bool {
        self.read()
            .keys
            .as_ref()
            .is_some_and(|k| k.contains_kid(kid))
    }
}

/// Builds a [`JwksCache`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct JwksCacheBuilder {
    url: String,
    client: Option<HttpClient>,
    ttl: Duration,
    cooldown: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for JwksCacheBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCacheBuilder")
            .field("url", &self.url)
            .field("ttl", &self.ttl)
            .field("cooldown", &self.cooldown)
            .finish_non_exhaustive()
    }
}

impl JwksCacheBuilder {
    /// The HTTP client (default: [`HttpClient::new`], https only). Share one with the OAuth
    /// client, or pass [`HttpClient::dev_loopback`] for a local identity provider.
    pub fn client(mut self, client: HttpClient) -> Self {
        self.client = Some(client);
        self
    }

    /// How long a fetched set is used (default [`DEFAULT_JWKS_TTL`]).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The least time between fetches caused by unknown `kid`s or failures (default
    /// [`DEFAULT_REFETCH_COOLDOWN`]).
    pub fn refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The clock for ttl and cooldown (default: the system clock).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The cache. Nothing is fetched until the first validation or
    /// [`prefetch`](JwksCache::prefetch).
    ///
    /// # Errors
    ///
    /// [`ConfigError::InvalidUrl`] if the URL breaks the client's policy;
    /// [`ConfigError::OutOfRange`] for a ttl outside [`MIN_JWKS_TTL`]..=[`MAX_JWKS_TTL`] or a
    /// cooldown outside [`MIN_REFETCH_COOLDOWN`]..=ttl; [`ConfigError::HttpClient`].
    pub fn build(self) -> Result<JwksCache, ConfigError> {
        let client = match self.client {
            Some(client) => client,
            None => HttpClient::new()?,
        };
        client
            .check_url(&self.url)
            .map_err(ConfigError::InvalidUrl)?;
        if !(MIN_JWKS_TTL..=MAX_JWKS_TTL).contains(&self.ttl) {
            return Err(ConfigError::OutOfRange("ttl"));
        }
        if !(MIN_REFETCH_COOLDOWN..=self.ttl).contains(&self.cooldown) {
            return Err(ConfigError::OutOfRange("refetch_cooldown"));
        }
        Ok(JwksCache(Arc::new(CacheInner {
            url: self.url,
            client,
            clock: self.clock,
            ttl: self.ttl.as_secs(),
            cooldown: self.cooldown.as_secs(),
            state: RwLock::new(State::default()),
            refresh: tokio::sync::Mutex::new(()),
        })))
    }
}
