//! The storage interface: what any session store (memory, Redis, …) must do, atomically.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

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
}
