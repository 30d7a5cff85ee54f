//! Errors. No message ever contains a password, a key or a sealed payload.

use std::fmt;
use std::time::Duration;

/// Everything that can go wrong outside password verification and unsealing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A token of fewer than `min` bytes was asked for (CR-06).
    TokenTooShort {
        /// The floor, [`crate::MIN_TOKEN_BYTES`].
        min: usize,
    },
    /// A token of more than `max` bytes was asked for.
    TokenTooLong {
        /// The bound, [`crate::MAX_TOKEN_BYTES`].
        max: usize,
    },
    /// The operating system's random number generator failed.
    Rng,
    /// A password policy weaker than OWASP's published minimum for Argon2id.
    PolicyBelowMinimum {
        /// Memory cost asked for, KiB.
        m_cost: u32,
        /// Time cost asked for.
        t_cost: u32,
    },
    /// A password policy parameter above the ceiling that verification enforces.
    PolicyAboveCeiling {
        /// `m`, `t` or `p`.
        name: &'static str,
        /// The ceiling.
        max: u32,
    },
    /// The password is longer than [`crate::MAX_PASSWORD_BYTES`] (PW-06; never truncated).
    PasswordTooLong {
        /// The bound in bytes.
        max: usize,
    },
    /// The pepper's key id could not be encoded in a PHC string.
    PepperKeyId,
    /// A key id is empty or longer than 64 bytes.
    InvalidKeyId,
    /// A key in the key ring is shorter than 32 bytes.
    KeyTooShort,
    /// The key ring has no primary key.
    NoPrimaryKey,
    /// A purpose label is empty, too long, or not printable ASCII.
    InvalidPurpose,
    /// A payload to seal is larger than [`crate::MAX_SEALED_PAYLOAD`].
    PayloadTooLarge {
        /// The bound in bytes.
        max: usize,
    },
    /// The hashing pool is saturated; try again later (maps to 503 + `Retry-After`).
    Overloaded(Overloaded),
    /// The hash function failed for a reason that is not the caller's input (a bug).
    Internal(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TokenTooShort { min } => write!(
                f,
                "random tokens must be at least {min} bytes (128 bits) so they cannot be guessed"
            ),
            Self::TokenTooLong { max } => write!(f, "random tokens are at most {max} bytes"),
            Self::Rng => f.write_str("the operating system's random number generator failed"),
            Self::PolicyBelowMinimum { m_cost, t_cost } => write!(
                f,
                "Argon2id m={m_cost} KiB, t={t_cost} is below OWASP's minimum \
                 (one of m=47104/t=1, m=19456/t=2, m=12288/t=3, m=9216/t=4, m=7168/t=5)"
            ),
            Self::PolicyAboveCeiling { name, max } => write!(
                f,
                "Argon2id parameter `{name}` is above {max}, the ceiling verification enforces: \
                 hashes made with it could never be verified"
            ),
            Self::PasswordTooLong { max } => {
                write!(f, "the password is longer than {max} bytes")
            }
            Self::PepperKeyId => {
                f.write_str("the pepper's key id cannot be encoded in a PHC string")
            }
            Self::InvalidKeyId => f.write_str("key ids are 1 to 64 bytes"),
            Self::KeyTooShort => f.write_str("keys must be at least 32 bytes (256 bits)"),
            Self::NoPrimaryKey => f.write_str("the key ring has no primary key"),
            Self::InvalidPurpose => f.write_str(
                "a purpose label is 1 to 64 printable ASCII characters, e.g. \"session-cookie\"",
            ),
            Self::PayloadTooLarge { max } => {
                write!(f, "the payload to seal is larger than {max} bytes")
            }
            Self::Overloaded(o) => o.fmt(f),
            Self::Internal(what) => write!(f, "internal error: {what} (please file a bug)"),
        }
    }
}

impl std::error::Error for Error {}

/// Why a password did not verify. A wrong password is its own variant, apart from a stored hash
/// that is malformed or hostile, so the caller can answer "wrong password" and alert on the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The password does not match the stored hash.
    WrongPassword,
    /// The submitted password is longer than [`crate::MAX_PASSWORD_BYTES`].
    PasswordTooLong {
        /// The bound in bytes.
        max: usize,
    },
    /// The stored hash is not a PHC string we can parse.
    MalformedHash,
    /// The stored hash asks for more than the ceilings allow (PW-02); rejected before any
    /// memory was allocated for it.
    HashParamsOutOfBounds {
        /// The parameter (`m`, `t`, `p`, `output`, `salt`, `length`, `cost`, `rounds`).
        name: &'static str,
    },
    /// The stored hash uses an algorithm this hasher does not verify (enable `legacy` for
    /// bcrypt and PBKDF2).
    UnsupportedAlgorithm,
    /// The stored hash was peppered with a key that is no longer in the key ring.
    UnknownPepperKey,
    /// The hashing pool is saturated; try again later (maps to 503 + `Retry-After`).
    Overloaded(Overloaded),
    /// The hash function failed for a reason that is not the caller's input (a bug).
    Internal(&'static str),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WrongPassword => f.write_str("wrong password"),
            Self::PasswordTooLong { max } => {
                write!(f, "the password is longer than {max} bytes")
            }
            Self::MalformedHash => f.write_str("the stored password hash is malformed"),
            Self::HashParamsOutOfBounds { name } => write!(
                f,
                "the stored password hash's `{name}` is beyond the ceiling; refusing to compute it"
            ),
            Self::UnsupportedAlgorithm => {
                f.write_str("the stored password hash uses an unsupported algorithm")
            }
            Self::UnknownPepperKey => f.write_str(
                "the stored password hash was peppered with a key that is not in the key ring",
            ),
            Self::Overloaded(o) => o.fmt(f),
            Self::Internal(what) => write!(f, "internal error: {what} (please file a bug)"),
        }
    }
}

impl std::error::Error for VerifyError {}

/// Why a sealed value or a MAC did not open. Callers should treat every variant as "no value";
/// the distinction is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenError {
    /// Not base64url, too short, too long, or an unknown format version.
    Malformed,
    /// Sealed with a key id that is not in the key ring (removed after rotation).
    UnknownKey,
    /// Authentication failed: altered, sealed for another purpose, or forged.
    Invalid,
    /// Authentic, but past its expiry.
    Expired,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "sealed value is malformed",
            Self::UnknownKey => "sealed value names a key that is not in the key ring",
            Self::Invalid => "sealed value failed authentication",
            Self::Expired => "sealed value has expired",
        })
    }
}

impl std::error::Error for OpenError {}

/// The hashing pool is full: the request was refused at once instead of queueing without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded {
    pub(crate) retry_after: Duration,
}

impl Overloaded {
    /// How long a client should wait before retrying (the `Retry-After` header value).
    #[must_use]
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}

impl fmt::Display for Overloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "password hashing is overloaded; retry after {} s",
            self.retry_after.as_secs()
        )
    }
}

impl std::error::Error for Overloaded {}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Overloaded {
    fn into_response(self) -> axum_core::response::Response {
        let mut response = (
            http::StatusCode::SERVICE_UNAVAILABLE,
            "service busy, retry later",
        )
            .into_response();
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from(self.retry_after.as_secs().max(1)),
        );
        response
    }
}
