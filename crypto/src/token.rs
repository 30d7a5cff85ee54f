//! Random tokens and constant-time comparison.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::{SecureRandom, SystemRandom};

use crate::Error;

/// The fewest random bytes [`random_token`] hands out: 128 bits, the floor for identifiers and
/// tokens that must not be guessed (OWASP Session Management Cheat Sheet; NIST SP 800-63B §5.1).
pub const MIN_TOKEN_BYTES: usize = 16;

/// The most random bytes [`random_token`] hands out in one call (a bound, not a recommendation).
pub const MAX_TOKEN_BYTES: usize = 1024;

/// Returns `bytes` random bytes from the operating system's CSPRNG, base64url-encoded without
/// padding (safe in URLs, cookies and headers).
///
/// # Errors
/// [`Error::TokenTooShort`] when `bytes < 16` (CR-06: fewer than 128 bits can be guessed),
/// [`Error::TokenTooLong`] above [`MAX_TOKEN_BYTES`], and [`Error::Rng`] if the operating system
/// has no randomness to give.
///
/// # Example
/// ```
/// let state = paved_crypto::random_token(32)?;
/// assert_eq!(state.len(), 43); // 32 bytes in base64url
/// assert!(paved_crypto::random_token(8).is_err());
/// # Ok::<(), paved_crypto::Error>(())
/// ```
pub fn random_token(bytes: usize) -> Result<String, Error> {
    if bytes < MIN_TOKEN_BYTES {
        return Err(Error::TokenTooShort {
            min: MIN_TOKEN_BYTES,
        });
    }
    if bytes > MAX_TOKEN_BYTES {
        return Err(Error::TokenTooLong {
            max: MAX_TOKEN_BYTES,
        });
    }
    let mut buf = [0u8; MAX_TOKEN_BYTES];
    let buf = &mut buf[..bytes];
    fill_random(buf)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Fills `out` from the operating system's CSPRNG.
pub(crate) fn fill_random(out: &mut [u8]) -> Result<(), Error> {
    SystemRandom::new().fill(out).map_err(|_| Error::Rng)
}

/// Compares two byte strings in time that depends only on their lengths, never on where they
/// first differ (CR-05). Use it for every comparison of a secret with an attacker's guess.
///
/// The lengths themselves are not hidden: compare fixed-length values (MACs, hashes, tokens).
///
/// ```
/// assert!(paved_crypto::ct_eq(b"token", b"token"));
/// assert!(!paved_crypto::ct_eq(b"token", b"tokex"));
/// ```
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}
