//! The verified-token cache: a bounded map from SHA-256(token) to the validated result.
//!
//! Only fully validated tokens enter. An entry lives until `min(exp + leeway, insertion + ttl)`,
//! and a hit still checks `exp` and `nbf` against the clock, so a hit never accepts a token
//! that a full validation would refuse for time. What a hit does skip is the signature: a key
//! removed from the issuer's set keeps verifying the tokens already cached for at most `ttl`.
//!
//! The key is the token's SHA-256, so the map holds no bearer token, and a different token can
//! only hit an entry by a SHA-256 collision. Entries are type-erased (`Any`), so one validator can
//! serve several claims types; a hit for another claims type is treated as a miss.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ring::digest;

/// The largest capacity accepted.
pub const MAX_CACHE_CAPACITY: usize = 1_000_000;
/// The longest entry lifetime accepted: 10 minutes, the JWKS refresh period, so a rotated-out
/// key stops verifying cached tokens within one key-set period.
pub const MAX_CACHE_TTL_SECS: u64 = 600;

pub(crate) type Digest = [u8; 32];

struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    /// `min(exp + leeway, inserted + ttl)`: the first second the entry is no longer valid.
    expires: u64,
    /// `nbf - leeway`, if the token has `nbf`.
    not_before: Option<u64>,
}

pub(crate) struct TokenCache {
    map: Mutex<HashMap<Digest, Entry>>,
    capacity: usize,
    ttl: u64,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize, ttl: u64) -> Self {
        Self {
            map: Mutex::new(HashMap::with_capacity(capacity.min(4096))),
            capacity,
            ttl,
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(crate) fn digest(token: &str) -> Digest {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
        out
    }

    /// The cached value of type `T` for `key`, if it is still valid at `now`.
    pub(crate) fn get<T: Any + Send + Sync>(&self, key: &Digest, now: u64) -> Option<Arc<T>> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = map.get(key)?;
        let in_time = now < entry.expires && entry.not_before.is_none_or(|nb| now >= nb);
        if !in_time {
            if now >= entry.expires {
                map.remove(key);
            }
            return None;
        }
        Arc::clone(&entry.value).downcast::<T>().ok()
    }

    pub(crate) fn insert<T: Any + Send + Sync>(
        &self,
        key: Digest,
        value: Arc<T>,
        now: u64,
        exp_plus_leeway: u64,
        not_before: Option<u64>,
    ) {
        let expires = exp_plus_leeway.min(now.saturating_add(self.ttl));
        if expires <= now {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= self.capacity && !map.contains_key(&key) {
            map.retain(|_, e| e.expires > now);
            if map.len() >= self.capacity {
                // Still full of live entries: drop an arbitrary eighth, so the O(n) sweep is
                // paid once per capacity/8 insertions, not on each.
                let drop = (self.capacity / 8).max(1);
                let victims: Vec<Digest> = map.keys().take(drop).copied().collect();
                for victim in victims {
                    map.remove(&victim);
                }
            }
        }
        map.insert(
            key,
            Entry {
                value,
                expires,
                not_before,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_respect_nbf() {
        let cache = TokenCache::new(10, 100);
        let k = TokenCache::digest("t");
        cache.insert(k, Arc::new(5u32), 1000, 1050, Some(990));
        assert_eq!(cache.get::<u32>(&k, 1000).as_deref(), Some(&5));
        assert_eq!(cache.get::<u32>(&k, 985), None, "before nbf");
        assert_eq!(cache.get::<u64>(&k, 1000), None, "other type is a miss");
        assert_eq!(cache.get::<u32>(&k, 1050), None, "exp + leeway reached");
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn ttl_bounds_the_entry() {
        let cache = TokenCache::new(10, 100);
        let k = TokenCache::digest("t");
        cache.insert(k, Arc::new(1u8), 1000, 9999, None);
        assert!(cache.get::<u8>(&k, 1099).is_some());
        assert!(cache.get::<u8>(&k, 1100).is_none());
    }

    #[test]
    fn capacity_is_a_bound() {
        let cache = TokenCache::new(16, 100);
        for i in 0..1000 {
            cache.insert(TokenCache::digest(&i.to_string()), Arc::new(i), 0, 50, None);
            assert!(cache.len() <= 16);
        }
    }
}
