//! What a store keeps per session.

use std::fmt;

use zeroize::Zeroizing;

use super::SessionKey;

/// One server-side session as a store keeps it. Times are Unix seconds.
///
/// A session ends at [`expires_at`](Self::expires_at): the earlier of its absolute expiry and
/// `last_seen + idle_timeout` (OA-13, ASVS V7.3.1 and V7.3.2 both apply at once). Both limits are
/// in the record itself, so a shared store can set its own expiry (Redis `EXPIREAT`) from it and
/// any instance can judge expiry without the configuration that made the record.
#[derive(Clone)]
pub struct SessionRecord {
    /// Who the session belongs to, as the caller names them (for OIDC, `"<iss> <sub>"`): the
    /// per-user index for "end all sessions of this user" (ASVS V7.4.2, V7.4.5).
    pub user: String,
    /// When the session started.
    pub created_at: u64,
    /// The last request seen (updated at most once per touch interval).
    pub last_seen: u64,
    /// The session ends at this time whatever the activity (ASVS V7.3.2).
    pub absolute_expiry: u64,
    /// Seconds of inactivity after which the session ends (ASVS V7.3.1).
    pub idle_timeout: u64,
    /// Counts data replacements; [`SessionStore::replace`](super::SessionStore::replace) succeeds
    /// only for the version it expects (compare-and-swap, OA-17).
    pub version: u64,
    /// Opaque to the store (the OIDC layer keeps sealed token data here); wiped when dropped.
    pub data: Zeroizing<Vec<u8>>,
}

impl SessionRecord {
    /// When the session ends: the earlier of the absolute expiry and the idle deadline.
    #[must_use]
    pub fn expires_at(&self) -> u64 {
        self.absolute_expiry
            .min(self.last_seen.saturating_add(self.idle_timeout))
    }

    /// Whether the session has ended at `now` (an expiry instant itself counts as ended).
    #[must_use]
    pub fn is_expired(&self, now: u64) -> bool {
        now >= self.expires_at()
    }

    /// What may be shown about the session: times and key, no id and no data.
    #[must_use]
    pub fn summary(&self, key: SessionKey) -> SessionSummary {
        SessionSummary {
            key,
            created_at: self.created_at,
            last_seen: self.last_seen,
            expires_at: self.expires_at(),
        }
    }
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `data` holds sealed tokens: never printed, not even its length pattern.
        f.debug_struct("SessionRecord")
            .field("user", &self.user)
            .field("created_at", &self.created_at)
            .field("last_seen", &self.last_seen)
            .field("absolute_expiry", &self.absolute_expiry)
            .field("idle_timeout", &self.idle_timeout)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A session as listed for its user (ASVS V7.5.2 "users can see their active sessions"): no id
/// and no data. The [`SessionKey`] lets an application mark the current session and end another
/// one with [`Sessions::end_by_key`](super::Sessions::end_by_key); it cannot be turned into a
/// cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSummary {
    /// The store key of the session.
    pub key: SessionKey,
    /// When the session started (Unix seconds).
    pub created_at: u64,
    /// The last request seen (Unix seconds, touch-interval granularity).
    pub last_seen: u64,
    /// When the session ends unless used again (Unix seconds).
    pub expires_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(last_seen: u64, idle: u64, absolute: u64) -> SessionRecord {
        SessionRecord {
            user: "u".into(),
            created_at: 0,
            last_seen,
            absolute_expiry: absolute,
            idle_timeout: idle,
            version: 1,
            data: Zeroizing::new(b"secret-bytes".to_vec()),
        }
    }

    #[test]
    fn expiry_is_the_earlier_of_idle_and_absolute() {
        assert_eq!(record(100, 50, 1000).expires_at(), 150);
        assert_eq!(record(990, 50, 1000).expires_at(), 1000);
        assert!(!record(100, 50, 1000).is_expired(149));
        assert!(record(100, 50, 1000).is_expired(150));
        assert!(record(990, 50, 1000).is_expired(1000));
    }

    #[test]
    fn expiry_saturates_instead_of_wrapping() {
        assert_eq!(record(u64::MAX - 1, 50, u64::MAX).expires_at(), u64::MAX);
    }

    #[test]
    fn debug_omits_data() {
        let text = format!("{:?}", record(1, 2, 3));
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("data"), "{text}");
    }
}
