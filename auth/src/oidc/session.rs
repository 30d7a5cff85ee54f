//! What a logged-in session holds, and [`Session`]: the user's view of it in a handler.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use paved_crypto::Sealer;
use paved_secrets::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::oidc::client::{IdTokenClaims, OidcClient, Tokens};
use crate::oidc::error::{IdTokenProblem, LoginError};
use crate::oidc::login::{LoginInner, OidcLogin};
use crate::session::{LoadedSession, Replaced, SessionId, StoreError};

/// The tokens and claims of one session. Serialised, sealed (AEAD, purpose-bound key) and
/// stored server-side; the browser only holds the session id (OA-12).
#[derive(Serialize, Deserialize)]
pub(crate) struct SessionData {
    /// The client the tokens were issued to.
    pub(crate) client_id: String,
    pub(crate) id: IdTokenClaims,
    pub(crate) id_token: Zeroizing<String>,
    pub(crate) access_token: Zeroizing<String>,
    pub(crate) access_expires_at: Option<u64>,
    /// When the access token was received: with the expiry, its lifetime.
    pub(crate) access_received_at: u64,
    pub(crate) refresh_token: Option<Zeroizing<String>>,
    pub(crate) scope: Option<String>,
    pub(crate) userinfo: Option<Map<String, Value>>,
}

impl SessionData {
    /// The session data of a completed login (the ID token was validated with the nonce).
    pub(crate) async fn from_login(
        client: &OidcClient,
        tokens: Tokens,
        fetch_userinfo: bool,
    ) -> Result<Self, LoginError> {
        let id = tokens.claims.ok_or(IdTokenProblem::Missing)?;
        let id_token = tokens.id_token.ok_or(IdTokenProblem::Missing)?;
        let userinfo = if fetch_userinfo {
            Some(client.userinfo(&tokens.access_token, &id.subject).await?)
        } else {
            None
        };
        Ok(Self {
            client_id: client.client_id().to_owned(),
            id,
            id_token,
            access_token: tokens.access_token,
            access_expires_at: tokens.access_expires_at,
            access_received_at: client.now(),
            refresh_token: tokens.refresh_token,
            scope: tokens.scope,
            userinfo,
        })
    }

    pub(crate) fn seal(
        &self,
        sealer: &Sealer,
        ttl: Duration,
    ) -> Result<Zeroizing<Vec<u8>>, LoginError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| LoginError::Internal("session encode"))?,
        );
        let sealed = sealer
            .seal(&json, ttl)
            .map_err(|_| LoginError::Internal("session seal"))?;
        Ok(Zeroizing::new(sealed.into_bytes()))
    }

    pub(crate) fn open(sealer: &Sealer, stored: &[u8]) -> Result<Self, LoginError> {
        let text = std::str::from_utf8(stored).map_err(|_| LoginError::SessionEnded)?;
        let json = sealer.open(text).map_err(|_| LoginError::SessionEnded)?;
        serde_json::from_slice(&json).map_err(|_| LoginError::SessionEnded)
    }

    /// Whether the session's tokens come from `client` (issuer and client id).
    pub(crate) fn belongs_to(&self, client: &OidcClient) -> bool {
        self.id.issuer == client.issuer() && self.client_id == client.client_id()
    }

    /// Refresh when the access token expires within the margin, but never earlier than half
    /// its lifetime: a margin at or above the lifetime would otherwise refresh on every call.
    fn needs_refresh(&self, now: u64, margin: Duration) -> bool {
        self.access_expires_at.is_some_and(|at| {
            let lifetime = at.saturating_sub(self.access_received_at);
            let margin = margin.as_secs().min(lifetime / 2);
            now.saturating_add(margin) >= at
        })
    }
}

/// The logged-in user of a request behind [`RequireLoginLayer`](crate::oidc::RequireLoginLayer):
/// the ID-token claims, and [`access_token`](Self::access_token) for calling APIs. With the
/// `axum` feature it is an extractor; otherwise read it from the request extensions.
///
/// `Debug` shows the issuer and subject only.
#[derive(Clone)]
pub struct Session(Arc<SessionInner>);

struct SessionInner {
    login: Weak<LoginInner>,
    id: SessionId,
    data: SessionData,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("issuer", &self.issuer())
            .field("subject", &self.subject())
            .finish_non_exhaustive()
    }
}

impl Session {
    pub(crate) fn new(login: &OidcLogin, loaded: &LoadedSession, data: SessionData) -> Self {
        Self(Arc::new(SessionInner {
            login: Arc::downgrade(&login.0),
            id: loaded.id().clone(),
            data,
        }))
    }

    /// The issuer that authenticated the user.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.0.data.id.issuer
    }

    /// The user's subject identifier at the issuer. Identify users by issuer and subject
    /// together (ASVS V6.8.1).
    #[must_use]
    pub fn subject(&self) -> &str {
        &self.0.data.id.subject
    }

    /// Every claim of the login's ID token.
    #[must_use]
    pub fn claims(&self) -> &Map<String, Value> {
        &self.0.data.id.claims
    }

    /// `auth_time`, if the provider sent it (step-up decisions, ASVS V6.8.4).
    #[must_use]
    pub fn auth_time(&self) -> Option<u64> {
        self.0.data.id.auth_time
    }

    /// The UserInfo claims, if [`fetch_userinfo`](crate::oidc::OidcLoginBuilder::fetch_userinfo)
    /// is on.
    #[must_use]
    pub fn userinfo(&self) -> Option<&Map<String, Value>> {
        self.0.data.userinfo.as_ref()
    }

    /// The granted scopes, if the provider stated them.
    #[must_use]
    pub fn scope(&self) -> Option<&str> {
        self.0.data.scope.as_deref()
    }

    /// An access token valid for at least the refresh margin, refreshed first if needed
    /// (OA-17): one refresh per session at a time, across every instance sharing the session
    /// store (concurrent callers wait for it and share its result), the rotated tokens stored
    /// with a compare-and-swap, and a refused refresh (`invalid_grant`) ends the session.
    ///
    /// # Errors
    ///
    /// [`LoginError::SessionEnded`] when the session is gone or can no longer be refreshed;
    /// [`LoginError::Store`] (503) when the session store fails or another instance's refresh
    /// of this session does not finish in time; the provider's failures
    /// ([`LoginError::Unavailable`], [`LoginError::BadResponse`], [`LoginError::IdToken`])
    /// otherwise.
    pub async fn access_token(&self) -> Result<SecretString, LoginError> {
        let login = self.0.login.upgrade().ok_or(LoginError::SessionEnded)?;
        let now = login.client.now();
        if !self.0.data.needs_refresh(now, login.refresh_margin) {
            return Ok(secret(&self.0.data.access_token));
        }
        // The refresh runs in its own task: a request cancelled after the provider rotated
        // the refresh token (the browser navigated away, a stream reset) must not drop the new
        // one before it is stored, or the next refresh presents a spent token and the provider
        // revokes the grant (RFC 9700 §4.14.2).
        let id = self.0.id.clone();
        tokio::spawn(async move { refresh(&login, &id).await })
            .await
            .unwrap_or(Err(LoginError::Internal("refresh task")))
    }
}

fn secret(token: &str) -> SecretString {
    SecretString::from(token.to_owned())
}

/// The single flight lock of one session in this process (across processes: the store's refresh
/// lock, then its compare-and-swap).
fn refresh_lock(login: &LoginInner, id: &SessionId) -> Arc<tokio::sync::Mutex<()>> {
    let key = id.key().to_hex();
    let Ok(mut locks) = login.refresh_locks.lock() else {
        return Arc::new(tokio::sync::Mutex::new(()));
    };
    if let Some(lock) = locks.get(&key).and_then(Weak::upgrade) {
        return lock;
    }
    if locks.len() >= 1024 {
        locks.retain(|_, weak| weak.strong_count() > 0);
    }
    let lock = Arc::new(tokio::sync::Mutex::new(()));
    locks.insert(key, Arc::downgrade(&lock));
    lock
}

/// The access token stored in `loaded` (after another request or instance refreshed it).
fn stored_access_token(
    login: &LoginInner,
    loaded: &LoadedSession,
) -> Result<SecretString, LoginError> {
    let data = SessionData::open(&login.data_sealer, loaded.data())?;
    Ok(secret(&data.access_token))
}

/// How long the store's refresh lock lives at least: 20 s. Its holder makes one token request
/// and perhaps one key-set fetch for a rotated signing key, each bounded by the back channel's
/// timeout ([`DEFAULT_TIMEOUT`](crate::http_client::DEFAULT_TIMEOUT), 5 s), plus a few store
/// calls (2 s each at most with the Redis store's default): 16 s in the worst case. A back
/// channel configured slower gets a longer lock ([`refresh_lock_ttl`]): a holder that outlived
/// its lock would let a second instance present the same rotating refresh token, which the
/// provider may take as a replay and answer by revoking the grant (RFC 9700 §4.14.2). The ttl
/// otherwise only matters when a holder dies mid-refresh: it bounds how long the session
/// cannot refresh.
pub(crate) const REFRESH_LOCK_TTL: Duration = Duration::from_secs(20);

/// The store calls a refresh makes at most, each bounded by the store's own timeout.
const REFRESH_STORE_ALLOWANCE: Duration = Duration::from_secs(8);

/// The refresh lock's ttl for this login: [`REFRESH_LOCK_TTL`], or two back-channel exchanges
/// (token request, key-set fetch) plus the store calls when that is longer.
fn refresh_lock_ttl(login: &LoginInner) -> Duration {
    refresh_lock_ttl_for(login.client.http_timeout())
}

fn refresh_lock_ttl_for(http_timeout: Duration) -> Duration {
    (http_timeout * 2 + REFRESH_STORE_ALLOWANCE).max(REFRESH_LOCK_TTL)
}

/// How long a request waits for another instance's refresh before giving up with a 503: 10 s,
/// enough for a holder's token request at the default back-channel timeout plus its store
/// calls. Shorter than [`REFRESH_LOCK_TTL`]: a holder that died makes the session's requests
/// fail fast (503, retryable) until its lock expires, rather than hang.
pub(crate) const REFRESH_WAIT: Duration = Duration::from_secs(10);

/// How often a waiting request looks whether the holder has stored its result: 50 ms. Only one
/// request per instance and session polls (the others queue on the per-process lock), so this
/// costs at most two store calls per 50 ms per instance.
pub(crate) const REFRESH_POLL: Duration = Duration::from_millis(50);

/// Refreshes the session's tokens, once across every instance sharing the store.
///
/// The per-process lock comes first (waiting requests of this instance cost no store round
/// trip), then the store's lock ([`SessionStore::try_lock`](crate::session::SessionStore::try_lock)):
/// the instance that takes it refreshes; the others poll the stored session until it no longer
/// needs a refresh (the holder stored the rotated tokens) or the lock is free again. Presenting
/// the same rotating refresh token from two instances would make the provider refuse one with
/// `invalid_grant`, or revoke the whole grant as a replay (RFC 9700 §4.14.2).
async fn refresh(login: &LoginInner, id: &SessionId) -> Result<SecretString, LoginError> {
    // One deadline for the whole wait, the per-process queue included: the tenth request of
    // this instance waits no longer than the first.
    let deadline = tokio::time::Instant::now() + REFRESH_WAIT;
    let lock = refresh_lock(login, id);
    let Ok(_guard) = tokio::time::timeout_at(deadline, lock.lock()).await else {
        tracing::warn!("paved-auth: a refresh of this session did not finish in time");
        return Err(LoginError::Store(StoreError::Unavailable.into()));
    };
    let key = id.key();
    let store = login.sessions.store();
    loop {
        // Whoever held a lock before may have refreshed already: read the stored session again.
        let (_, data) = load_session_data(login, id).await?;
        if !data.needs_refresh(login.client.now(), login.refresh_margin) {
            return Ok(secret(&data.access_token));
        }
        let taken = store
            .try_lock(&key, refresh_lock_ttl(login))
            .await
            .map_err(|e| LoginError::Store(e.into()))?;
        if let Some(token) = taken {
            let result = refresh_locked(login, id).await;
            // Released on every outcome; if the store cannot be reached the lock expires by
            // its ttl.
            if let Err(error) = store.unlock(&key, token).await {
                tracing::warn!(%error, "paved-auth: refresh lock not released");
            }
            return result;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("paved-auth: another instance's refresh did not finish in time");
            return Err(LoginError::Store(StoreError::Unavailable.into()));
        }
        tokio::time::sleep(REFRESH_POLL).await;
    }
}

/// The stored session and its opened data; [`LoginError::SessionEnded`] when it is gone.
async fn load_session_data(
    login: &LoginInner,
    id: &SessionId,
) -> Result<(LoadedSession, SessionData), LoginError> {
    let current = login
        .sessions
        .load_id(id.clone())
        .await?
        .ok_or(LoginError::SessionEnded)?;
    let data = SessionData::open(&login.data_sealer, current.data())?;
    Ok((current, data))
}

/// The refresh itself, under both locks.
async fn refresh_locked(login: &LoginInner, id: &SessionId) -> Result<SecretString, LoginError> {
    // The lock's previous holder may have stored new tokens between our check and taking it.
    let (current, data) = load_session_data(login, id).await?;
    let now = login.client.now();
    if !data.needs_refresh(now, login.refresh_margin) {
        return Ok(secret(&data.access_token));
    }
    let Some(refresh_token) = data.refresh_token.as_deref() else {
        // Nothing to refresh with and the access token is (nearly) expired: the user has to
        // log in again.
        login.sessions.end(id).await?;
        return Err(LoginError::SessionEnded);
    };
    let tokens = match login.client.refresh(refresh_token).await {
        Ok(tokens) => tokens,
        Err(LoginError::Refused(code)) if code == "invalid_grant" => {
            // Another instance may have rotated the refresh token a moment ago: if the stored
            // session moved on, use its tokens instead of ending it.
            if let Some(latest) = login.sessions.load_id(id.clone()).await?
                && latest.version() != current.version()
            {
                return stored_access_token(login, &latest);
            }
            tracing::info!(error = %code, "paved-auth: refresh refused, session ended");
            login.sessions.end(id).await?;
            return Err(LoginError::SessionEnded);
        }
        Err(error @ (LoginError::IdToken(_) | LoginError::BadResponse(_))) => {
            // OA-18: a refreshed ID token from another issuer, for another audience or not
            // signed by the provider is refused by the validator before `check_refresh` below
            // sees it; such a provider is no more trusted with this session than one that
            // changes `sub`. And whatever the reason (a key set that cannot be fetched
            // included), the provider did answer, so it has probably rotated the refresh token
            // already: the stored one is spent, and presenting it again would look like token
            // theft (RFC 9700 §4.14.2) and revoke the grant. The session ends.
            tracing::info!(%error, "paved-auth: refresh answer refused, session ended");
            login.sessions.end(id).await?;
            return Err(error);
        }
        // Unreachable provider, or a refusal that is not about the grant (`invalid_client`
        // after a secret rotation, …): nothing was rotated, the session stays and a later
        // request tries again.
        Err(other) => return Err(other),
    };
    if let Some(claims) = &tokens.claims
        && let Err(problem) = data.id.check_refresh(claims)
    {
        // OA-18: a provider that changes the user on refresh is not trusted with this session
        // any longer.
        login.sessions.end(id).await?;
        return Err(LoginError::IdToken(problem));
    }
    let updated = SessionData {
        client_id: data.client_id.clone(),
        id: data.id.clone(),
        id_token: tokens.id_token.unwrap_or_else(|| data.id_token.clone()),
        access_token: tokens.access_token,
        access_expires_at: tokens.access_expires_at,
        access_received_at: now,
        // RFC 6749 §6: without a new refresh token the old one stays valid.
        refresh_token: tokens.refresh_token.or_else(|| data.refresh_token.clone()),
        scope: tokens.scope.or_else(|| data.scope.clone()),
        userinfo: data.userinfo.clone(),
    };
    let sealed = updated.seal(&login.data_sealer, login.session_ttl)?;
    match login.sessions.replace(&current, sealed).await? {
        Replaced::Done { .. } => {
            tracing::debug!("paved-auth: tokens refreshed");
            Ok(secret(&updated.access_token))
        }
        Replaced::Conflict => {
            // Another instance stored a refresh first; its tokens are the current ones.
            let latest = login
                .sessions
                .load_id(id.clone())
                .await?
                .ok_or(LoginError::SessionEnded)?;
            stored_access_token(login, &latest)
        }
        Replaced::Missing => Err(LoginError::SessionEnded),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http_client::{DEFAULT_TIMEOUT, MAX_TIMEOUT};

    /// A holder must not outlive its lock: the lock covers two back-channel exchanges and the
    /// store calls whatever timeout the back channel is given.
    #[test]
    fn the_refresh_lock_outlives_a_slow_back_channel() {
        assert_eq!(refresh_lock_ttl_for(DEFAULT_TIMEOUT), REFRESH_LOCK_TTL);
        for timeout in [DEFAULT_TIMEOUT, Duration::from_secs(15), MAX_TIMEOUT] {
            let ttl = refresh_lock_ttl_for(timeout);
            assert!(
                ttl >= timeout * 2 + REFRESH_STORE_ALLOWANCE,
                "{timeout:?}: {ttl:?}"
            );
        }
        assert_eq!(
            refresh_lock_ttl_for(MAX_TIMEOUT),
            MAX_TIMEOUT * 2 + REFRESH_STORE_ALLOWANCE
        );
    }
}
