//! Secrets from the operating system's CSPRNG (SE-12).

use secrecy::ExposeSecretMut;

use crate::error::Error;
use crate::secret::SecretBytes;

/// The fewest random bytes [`SecretBytes::random`] produces: 16 bytes, 128 bits, the minimum for
/// identifiers and tokens (OWASP Session Management Cheat Sheet asks for at least 64 bits of
/// entropy; 128 bits keeps a margin and matches NIST SP 800-90A's security strength tiers).
pub const MIN_RANDOM_LEN: usize = 16;

/// The most random bytes [`SecretBytes::random`] produces in one call: 64 KiB.
pub const MAX_RANDOM_LEN: usize = 64 * 1024;

/// The length of generated keys: 32 bytes, 256 bits (SE-12; NIST SP 800-57 Part 1 for a
/// security strength of 256 bits, and the key size of AES-256 and HMAC-SHA-256).
pub const GENERATED_KEY_LEN: usize = 32;

/// Fills `buf` from the OS CSPRNG (`getrandom(2)` on Linux).
pub(crate) fn fill(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Random {
        os_error: e.raw_os_error(),
    })
}

/// `len` random bytes in an exactly-sized secret buffer (filled in place, never copied).
pub(crate) fn secret_bytes(len: usize) -> Result<SecretBytes, Error> {
    if !(MIN_RANDOM_LEN..=MAX_RANDOM_LEN).contains(&len) {
        return Err(Error::InvalidLength {
            requested: len,
            min: MIN_RANDOM_LEN,
            max: MAX_RANDOM_LEN,
        });
    }
    let mut secret = SecretBytes::from(vec![0u8; len].into_boxed_slice());
    fill(secret.expose_secret_mut())?;
    Ok(secret)
}
