//! Why a session operation failed.
//!
//! Messages never contain a session id, a store key or session data: they go to logs, and a
//! logged id is a usable cookie.

use std::fmt;

/// A session store could not do what was asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// [`insert`](super::SessionStore::insert) found a record under the key already. With 256-bit
    /// random ids this means a broken random generator, never a normal collision.
    Exists,
    /// The store's backend could not be reached or did not answer in time.
    Unavailable,
    /// A lock inside the store was poisoned by a panic on another thread; the store refuses to
    /// read state that may be half-updated.
    Poisoned,
    /// A stored record could not be decoded (a shared store written by something else).
    Corrupt,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Exists => "a session record already exists under this key",
            Self::Unavailable => "the session store is unavailable",
            Self::Poisoned => {
                "the session store's lock was poisoned by a panic; its state is not trusted"
            }
            Self::Corrupt => "a stored session record could not be decoded",
        })
    }
}

impl std::error::Error for StoreError {}

/// A session could not be started, loaded, changed or ended, or a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionError {
    /// The store failed.
    Store(StoreError),
    /// The operating system's random number generator failed; no session id was made.
    Rng,
    /// A [`SessionsBuilder`](super::SessionsBuilder) setting was refused; the text names the rule.
    Config(&'static str),
    /// The user handle given to [`Sessions::start`](super::Sessions::start) was empty or longer
    /// than [`MAX_USER_BYTES`](super::MAX_USER_BYTES).
    InvalidUser,
    /// Session data was larger than [`MAX_DATA_BYTES`](super::MAX_DATA_BYTES).
    DataTooLarge {
        /// The limit, in bytes.
        max: usize,
    },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Store(e) => fmt::Display::fmt(e, f),
            Self::Rng => f.write_str(
                "the operating system's random number generator failed; no session id was made",
            ),
            Self::Config(rule) => write!(f, "session configuration refused: {rule}"),
            Self::InvalidUser => f.write_str("the session's user handle is empty or too long"),
            Self::DataTooLarge { max } => {
                write!(f, "session data is larger than the limit of {max} bytes")
            }
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for SessionError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}
