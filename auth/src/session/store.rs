//! The storage interface: what any session store (memory, Redis, …) must do, atomically.

use std::fmt;
use std::future::{Future, ready};
use std::pin::Pin;
use std::time::Duration;

use zeroize::Zeroizing;

use super::{SessionKey, SessionRecord, SessionSummary, StoreError};

/// A boxed, `Send` future: what [`SessionStore`] methods return, so the trait stays
/// dyn-compatible (`Arc<dyn SessionStore>`) without an `async-trait` dependency.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outcome of [`SessionStore::replace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Replaced {
    /// The data was replaced; the record now has this version.
    Done {
        /// The new version (the expected one plus one).
        version: u64,
    },
    /// The record's version was not the expected one: someone else replaced the data first.
    /// Nothing was written; reload and decide again.
    Conflict,
    /// No live record under the key (ended, expired or evicted).
    Missing,
}

/// Where session records live.
///
/// Every method is one atomic step on the backend, so several application instances can share
/// a store:
///
/// | method | Redis sketch (one `MULTI`/Lua step) |
/// |---|---|
/// | `insert` | `SET s:<key> <record> NX EXAT <expires_at>` + `SADD u:<user> <key>` |
/// | `get` | `GET s:<key>`; the record's own `expires_at` is checked too |
/// | `touch` | Lua: raise `last_seen`, `EXPIREAT` to the new `expires_at` |
/// | `replace` | Lua: compare `version`, write data with `version + 1`, keep the TTL |
/// | `remove` | `DEL s:<key>` + `SREM u:<user> <key>` |
/// | `remove_user` | `SMEMBERS u:<user>`, `DEL` each, `DEL u:<user>` |
/// | `try_lock` | `SET l:<key> <token> NX PX <ttl>` |
/// | `unlock` | Lua: `DEL l:<key>` if its value is still `<token>` |
///
/// Rules for implementations:
/// - Never return, touch or replace an expired record: compare the record's own
///   [`expires_at`](SessionRecord::expires_at) with `now` from a clock (a backend TTL alone is
///   not enough: it may lag, and it is set by whoever wrote last). An expired record found is
///   removed.
/// - Keep the per-user index consistent with the records: every removal (explicit, expiry,
///   eviction) leaves the index too.
/// - Index by [`SessionKey`] only; the cookie value never reaches a store.
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// Stores a new record.
    ///
    /// # Errors
    /// [`StoreError::Exists`] if a record is stored under `key` already (never overwritten:
    /// overwriting would hand one browser another user's session).
    fn insert<'a>(
        &'a self,
        key: &'a SessionKey,
        record: SessionRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The live record under `key`, or `None` if there is none or it has expired.
    fn get<'a>(
        &'a self,
        key: &'a SessionKey,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>>;

    /// Raises the record's `last_seen` to `last_seen` (never lowers it) and with it the idle
    /// deadline. `Ok(false)` if there is no live record. Does not change `version`: activity
    /// must not make a concurrent [`replace`](Self::replace) fail.
    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        last_seen: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Replaces the record's data if and only if its version is still `expected_version`, and
    /// then increments the version, in one atomic step (compare-and-swap). Two instances that
    /// both rotated a refresh token cannot both store theirs: one gets
    /// [`Replaced::Conflict`] (OA-17).
    fn replace<'a>(
        &'a self,
        key: &'a SessionKey,
        expected_version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>>;

    /// Removes the record; `Ok(true)` if there was one.
    fn remove<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Removes every record of `user` and returns how many live ones there were (ASVS V7.4.2,
    /// V7.4.5).
    fn remove_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>>;

    /// The live sessions of `user`, oldest first (ASVS V7.5.2).
    fn list_user<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSummary>, StoreError>>;

    /// Takes the refresh lock of `key` for at most `ttl`: `Ok(Some(token))` when taken,
    /// `Ok(None)` while another holder has it.
    ///
    /// The OIDC layer holds it around a token refresh so that of several instances sharing the
    /// store exactly one presents the session's refresh token; the others wait for the stored
    /// result instead of presenting the same (rotating) token again, which the provider would
    /// refuse with `invalid_grant` or take for token theft (OA-17, RFC 9700 §4.14.2). The lock
    /// expires after `ttl` so a holder that died cannot block the session for longer.
    ///
    /// The default implementation always grants it: right for a store that lives in one
    /// process ([`MemoryStore`](super::MemoryStore)), where the OIDC layer's per-process lock
    /// already excludes concurrent refreshes. A store shared between processes must override
    /// both this and [`unlock`](Self::unlock).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be asked.
    fn try_lock<'a>(
        &'a self,
        key: &'a SessionKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>, StoreError>> {
        let _ = (key, ttl);
        Box::pin(ready(Ok(Some(LockToken::LOCAL))))
    }

    /// Releases the refresh lock of `key` if `token` still owns it, in one step
    /// (compare-and-delete): a holder whose lock expired and was taken by another instance
    /// must not release the new holder's lock.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when the backend cannot be asked (the lock then expires by
    /// its ttl).
    fn unlock<'a>(
        &'a self,
        key: &'a SessionKey,
        token: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (key, token);
        Box::pin(ready(Ok(())))
    }
}

/// Bytes in a [`LockToken`]: 128 random bits, so no other holder (or a guess) can produce the
/// token of a lock it does not own.
pub const LOCK_TOKEN_BYTES: usize = 16;

/// Proof of holding a refresh lock (see [`SessionStore::try_lock`]): 128 random bits that only
/// the holder knows, so only the holder can release it.
///
/// Not a credential (it opens nothing and lives for seconds), but whoever knew it could release
/// somebody else's lock, so `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct LockToken([u8; LOCK_TOKEN_BYTES]);

impl LockToken {
    /// The token of the per-process default [`SessionStore::try_lock`]: nothing to tell apart.
    const LOCAL: Self = Self([0; LOCK_TOKEN_BYTES]);

    /// A new token from the operating system's CSPRNG.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] if the operating system has no randomness to give (no lock
    /// can be taken safely then).
    pub fn generate() -> Result<Self, StoreError> {
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; LOCK_TOKEN_BYTES];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| StoreError::Unavailable)?;
        Ok(Self(bytes))
    }

    /// The token bytes (what a store keeps as the lock's value).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; LOCK_TOKEN_BYTES] {
        &self.0
    }
}

impl fmt::Debug for LockToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockToken([REDACTED])")
    }
}
