//! paved-crypto: password hashing and symmetric cryptography on the paved road.
//!
//! # What it guards
//! - **Stored passwords**: [`PasswordHasher`] makes Argon2id hashes (OWASP parameters, PHC
//!   strings), verifies them under ceilings so a hostile stored hash cannot exhaust memory,
//!   reports when a hash should be upgraded, supports a pepper from a key ring, and
//!   [`HashingPool`] keeps memory bounded under a login storm. [`check_policy`] applies the
//!   NIST SP 800-63B-4 rules to new passwords.
//! - **Values that leave the process**: [`Sealer`] (AES-256-GCM with a per-value key, expiry
//!   inside, per-purpose keys from a `paved_secrets::KeyRing`) and [`Hmac`].
//! - **Online guessing**: [`LoginThrottle`] limits failed logins per account and per client
//!   address with exponential back-off, in memory or (feature `redis`) shared through Redis.
//! - **Randomness and comparison**: [`random_token`] (≥ 128 bits from the OS) and [`ct_eq`].
//!
//! # What it deliberately does not do
//! No primitives of its own: Argon2 comes from `RustCrypto`'s `argon2`; AES-GCM, HKDF, HMAC,
//! PBKDF2 and randomness from `ring`. No asymmetric signatures (JWTs live in paved-auth). No
//! storage: where hashes and keys are kept is the application's choice.
//!
//! # Quick start
//! ```
//! use std::time::Duration;
//! use paved_crypto::{PasswordHasher, Sealer};
//! use paved_secrets::{KeyRing, SecretString};
//!
//! let hasher = PasswordHasher::default();
//! let stored = hasher.hash(&SecretString::from("tulip rocket violin ember"))?;
//! let verified = hasher.verify(&SecretString::from("tulip rocket violin ember"), stored.as_str())?;
//! assert!(!verified.needs_rehash);
//!
//! let cookies = Sealer::new(&KeyRing::generate()?, "session-cookie")?;
//! let sealed = cookies.seal(b"session-id", Duration::from_secs(3600))?;
//! assert_eq!(&cookies.open(&sealed)?[..], b"session-id");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod clock;
mod error;
mod password;
mod seal;
pub mod throttle;
mod token;

#[doc(hidden)]
pub mod fuzzing;

pub use clock::{Clock, SystemClock};
pub use error::{Error, OpenError, Overloaded, VerifyError};
pub use password::{
    Blocklist, COMMON_PASSWORDS, Ceilings, CommonPasswords, DEFAULT_QUEUE, DEFAULT_RETRY_AFTER,
    HashingPool, MAX_PASSWORD_BYTES, MIN_CHARS_SINGLE_FACTOR, MIN_CHARS_WITH_MFA, OWASP_MINIMUMS,
    PasswordHash, PasswordHasher, PasswordPolicy, PolicyContext, PolicyViolation, Verified,
    check_policy,
};
pub use seal::{Hmac, MAX_SEALED_PAYLOAD, Sealer};
#[cfg(feature = "redis")]
pub use throttle::DEFAULT_REDIS_TIMEOUT;
pub use throttle::{BackOff, LoginThrottle, ThrottleError, ThrottlePolicy};
pub use token::{MAX_TOKEN_BYTES, MIN_TOKEN_BYTES, ct_eq, random_token};
