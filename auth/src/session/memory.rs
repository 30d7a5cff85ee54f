//! The default store: bounded, in this process's memory.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::future::ready;
use std::sync::{Arc, Mutex, MutexGuard};

use paved_crypto::{Clock, SystemClock};
use zeroize::Zeroizing;

use super::{
    BoxFuture, Replaced, SessionKey, SessionRecord, SessionStore, SessionSummary, StoreError,
};

/// Sessions a [`MemoryStore`] holds by default.
///
/// Sized for one instance serving up to ~100 000 users active within the absolute timeout: with
/// the OIDC layer's sealed tokens at 2–4 KiB a session that is 200–400 MiB when full (at most
/// 6.4 GiB with every session at [`MAX_DATA_BYTES`](super::MAX_DATA_BYTES)). Lower it on small
/// hosts; past it, use a shared store, which also survives restarts and spans instances.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// Sessions one user may hold at once in a [`MemoryStore`] by default; a new login past it
/// evicts that user's least-recently-seen session.
///
/// Well above the devices and browsers one person uses, and it caps what one account can take
/// of a full store (0.1 % of [`DEFAULT_CAPACITY`]): a script logging in one account in a loop
/// churns its own sessions instead of evicting everybody else's.
pub const DEFAULT_MAX_SESSIONS_PER_USER: usize = 100;

/// An in-memory [`SessionStore`]: the default, for one instance.
///
/// Bounded: every new session first sweeps the expired records (soonest first, from an expiry
/// index, so the sweep costs only what it removes); if the store is still at
/// [`capacity`](Self::capacity), the least-recently-seen live session is evicted. Evicting beats
/// refusing new logins: a store that
/// refuses when full lets anyone who can fill it (a login loop, a traffic spike) lock every user
/// out, while eviction costs only the idlest session a fresh login. Records also leave when
/// ended, when found expired, and by the per-user limit ([`DEFAULT_MAX_SESSIONS_PER_USER`]). Data
/// of every removed record is wiped (`Zeroizing`).
///
/// Cloning is cheap and shares the records. Locks are std mutexes held only for the map
/// operation, never across an `.await`; every future is ready when returned. A poisoned lock
/// gives [`StoreError::Poisoned`], not a panic.
///
/// Sessions are lost on restart and are not shared between instances.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    capacity: usize,
    max_per_user: usize,
    clock: Arc<dyn Clock>,
}

impl MemoryStore {
    /// A store holding at most `capacity` sessions (at least 1: 0 is taken as 1), on the system
    /// clock.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(State::default())),
            capacity: capacity.max(1),
            max_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
            clock: Arc::new(SystemClock),
        }
    }

    /// Uses `clock` to judge expiry (tests move time without sleeping). Clones made before this
    /// call share the records but keep their clock.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets how many sessions one user may hold (at least 1: 0 is taken as 1).
    #[must_use]
    pub fn with_max_sessions_per_user(mut self, max: usize) -> Self {
        self.max_per_user = max.max(1);
        self
    }

    /// The most sessions this store holds.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most sessions one user may hold.
    #[must_use]
    pub fn max_sessions_per_user(&self) -> usize {
        self.max_per_user
    }

    /// Records held now, expired ones not yet swept included.
    ///
    /// # Errors
    /// [`StoreError::Poisoned`] if a panic poisoned the store's lock.
    pub fn len(&self) -> Result<usize, StoreError> {
        Ok(self.lock()?.records.len())
    }

    /// Whether the store holds no record.
    ///
    /// # Errors
    /// [`StoreError::Poisoned`] if a panic poisoned the store's lock.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        self.state.lock().map_err(|_| StoreError::Poisoned)
    }

    fn insert_now(&self, key: SessionKey, record: SessionRecord) -> Result<(), StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        state.sweep_expired(now);
        if state.records.contains_key(&key) {
            return Err(StoreError::Exists);
        }
        if let Some(keys) = state.by_user.get(&record.user)
            && keys.len() >= self.max_per_user
        {
            let oldest = keys
                .iter()
                .filter_map(|k| state.records.get(k).map(|r| (r.last_seen, *k)))
                .min();
            if let Some((_, k)) = oldest {
                state.unlink(&k);
            }
        }
        while state.records.len() >= self.capacity {
            if !state.evict_least_recently_seen() {
                break;
            }
        }
        state.link(key, record);
        Ok(())
    }

    fn get_now(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        Ok(state.live(key, now).cloned())
    }

    fn touch_now(&self, key: &SessionKey, last_seen: u64) -> Result<bool, StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        let Some(record) = state.live(key, now) else {
            return Ok(false);
        };
        if last_seen > record.last_seen {
            let old = (record.last_seen, record.expires_at());
            record.last_seen = last_seen;
            let new = (record.last_seen, record.expires_at());
            state.reorder(*key, old, new);
        }
        Ok(true)
    }

    fn replace_now(
        &self,
        key: &SessionKey,
        expected_version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> Result<Replaced, StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        let Some(record) = state.live(key, now) else {
            return Ok(Replaced::Missing);
        };
        if record.version != expected_version {
            return Ok(Replaced::Conflict);
        }
        // A version at u64::MAX cannot move on; refusing keeps the "one winner" rule intact.
        let Some(version) = record.version.checked_add(1) else {
            return Ok(Replaced::Conflict);
        };
        record.data = data;
        record.version = version;
        Ok(Replaced::Done { version })
    }

    fn remove_now(&self, key: &SessionKey) -> Result<bool, StoreError> {
        Ok(self.lock()?.unlink(key).is_some())
    }

    fn remove_user_now(&self, user: &str) -> Result<usize, StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        let keys: Vec<SessionKey> = state
            .by_user
            .get(user)
            .map(|keys| keys.iter().copied().collect())
            .unwrap_or_default();
        Ok(keys
            .iter()
            .filter_map(|k| state.unlink(k))
            .filter(|r| !r.is_expired(now))
            .count())
    }

    fn list_user_now(&self, user: &str) -> Result<Vec<SessionSummary>, StoreError> {
        let now = self.clock.now_unix();
        let mut state = self.lock()?;
        let keys: Vec<SessionKey> = state
            .by_user
            .get(user)
            .map(|keys| keys.iter().copied().collect())
            .unwrap_or_default();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(record) = state.live(&key, now) {
                out.push(record.summary(key));
            }
        }
        out.sort_by_key(|s| (s.created_at, s.key));
        Ok(out)
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY)
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counts only: records hold user handles and sealed data.
        let len = self.state.try_lock().ok().map(|s| s.records.len());
        f.debug_struct("MemoryStore")
            .field("capacity", &self.capacity)
            .field("max_sessions_per_user", &self.max_per_user)
            .field("len", &len)
            .field("clock", &self.clock)
            .finish()
    }
}

impl SessionStore for MemoryStore {
    fn insert<'a>(
        &'a self,
        key: &'a SessionKey,
        record: SessionRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(ready(self.insert_now(*key, record)))
    }

    fn get<'a>(
        &'a self,
        key: &'a SessionKey,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        Box::pin(ready(self.get_now(key)))
    }

    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        last_seen: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(ready(self.touch_now(key, last_seen)))
    }

    fn replace<'a>(
        &'a self,
        key: &'a SessionKey,
        expected_version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(ready(self.replace_now(key, expected_version, data)))
    }

    fn remove<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(ready(self.remove_now(key)))
    }

    fn remove_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(ready(self.remove_user_now(user)))
    }

    fn list_user<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSummary>, StoreError>> {
        Box::pin(ready(self.list_user_now(user)))
    }
}

/// The records and three indexes kept in step by `link`/`unlink`/`reorder`: per user (for
/// "end all"), by `last_seen` (eviction order) and by expiry (sweeping).
#[derive(Default)]
struct State {
    records: HashMap<SessionKey, SessionRecord>,
    by_user: HashMap<String, HashSet<SessionKey>>,
    by_last_seen: BTreeSet<(u64, SessionKey)>,
    by_expiry: BTreeSet<(u64, SessionKey)>,
}

impl State {
    fn link(&mut self, key: SessionKey, record: SessionRecord) {
        self.by_last_seen.insert((record.last_seen, key));
        self.by_expiry.insert((record.expires_at(), key));
        self.by_user
            .entry(record.user.clone())
            .or_default()
            .insert(key);
        self.records.insert(key, record);
    }

    fn unlink(&mut self, key: &SessionKey) -> Option<SessionRecord> {
        let record = self.records.remove(key)?;
        self.by_last_seen.remove(&(record.last_seen, *key));
        self.by_expiry.remove(&(record.expires_at(), *key));
        if let Some(keys) = self.by_user.get_mut(&record.user) {
            keys.remove(key);
            if keys.is_empty() {
                self.by_user.remove(&record.user);
            }
        }
        Some(record)
    }

    /// Moves `key` in the ordered indexes from `(last_seen, expires_at)` `old` to `new`.
    fn reorder(&mut self, key: SessionKey, old: (u64, u64), new: (u64, u64)) {
        self.by_last_seen.remove(&(old.0, key));
        self.by_expiry.remove(&(old.1, key));
        self.by_last_seen.insert((new.0, key));
        self.by_expiry.insert((new.1, key));
    }

    /// The live record under `key`; an expired one is removed instead.
    fn live(&mut self, key: &SessionKey, now: u64) -> Option<&mut SessionRecord> {
        if self.records.get(key)?.is_expired(now) {
            self.unlink(key);
            return None;
        }
        self.records.get_mut(key)
    }

    /// Removes every record expired at `now`, soonest first.
    fn sweep_expired(&mut self, now: u64) {
        while let Some(&(expires_at, key)) = self.by_expiry.first() {
            if expires_at > now {
                break;
            }
            self.unlink(&key);
        }
    }

    /// Removes the record seen longest ago; `false` if there is none.
    fn evict_least_recently_seen(&mut self) -> bool {
        match self.by_last_seen.first() {
            Some(&(_, key)) => self.unlink(&key).is_some(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(user: &str) -> SessionRecord {
        SessionRecord {
            user: user.into(),
            created_at: 0,
            last_seen: 0,
            absolute_expiry: u64::MAX,
            idle_timeout: u64::MAX,
            version: 1,
            data: Zeroizing::new(Vec::new()),
        }
    }

    #[test]
    fn poisoned_lock_is_a_typed_error_not_a_panic() {
        let store = MemoryStore::new(4);
        let key = super::super::SessionId::generate().unwrap().key();
        let shared = Arc::clone(&store.state);
        let joined = std::thread::spawn(move || {
            let _guard = shared.lock().unwrap();
            panic!("poison the store lock");
        })
        .join();
        assert!(joined.is_err());
        assert_eq!(store.get_now(&key).unwrap_err(), StoreError::Poisoned);
        assert_eq!(
            store.insert_now(key, record("u")).unwrap_err(),
            StoreError::Poisoned
        );
        assert_eq!(store.len().unwrap_err(), StoreError::Poisoned);
    }

    #[test]
    fn indexes_stay_in_step_with_records() {
        let store = MemoryStore::new(3);
        let keys: Vec<SessionKey> = (0..5)
            .map(|_| super::super::SessionId::generate().unwrap().key())
            .collect();
        for (i, k) in keys.iter().enumerate() {
            store
                .insert_now(*k, record(if i % 2 == 0 { "a" } else { "b" }))
                .unwrap();
        }
        let state = store.lock().unwrap();
        assert_eq!(state.records.len(), 3);
        assert_eq!(state.by_last_seen.len(), 3);
        assert_eq!(state.by_expiry.len(), 3);
        let indexed: usize = state.by_user.values().map(HashSet::len).sum();
        assert_eq!(indexed, 3);
        for keys in state.by_user.values() {
            assert!(keys.iter().all(|k| state.records.contains_key(k)));
        }
        drop(state);
        for user in ["a", "b"] {
            store.remove_user_now(user).unwrap();
        }
        let state = store.lock().unwrap();
        assert!(state.records.is_empty());
        assert!(
            state.by_user.is_empty(),
            "no empty per-user sets left behind"
        );
        assert!(state.by_last_seen.is_empty());
        assert!(state.by_expiry.is_empty());
    }

    #[test]
    fn zero_capacity_and_per_user_limit_are_taken_as_one() {
        let store = MemoryStore::new(0).with_max_sessions_per_user(0);
        assert_eq!(store.capacity(), 1);
        assert_eq!(store.max_sessions_per_user(), 1);
    }
}
