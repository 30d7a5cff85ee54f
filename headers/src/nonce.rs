//! Per-response Content-Security-Policy nonces.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// Random bytes per nonce: 144 bits, above the 128-bit floor of CSP Level 3 §7.1 and
/// ASVS 5.0 V11.5.1; a multiple of 3 so the base64 form has no padding.
pub const NONCE_RANDOM_BYTES: usize = 18;

/// Length of a nonce in characters (base64 of [`NONCE_RANDOM_BYTES`]).
pub const NONCE_LEN: usize = NONCE_RANDOM_BYTES / 3 * 4;

/// The CSP nonce of one response.
///
/// [`SecurityHeadersLayer`](crate::SecurityHeadersLayer) puts a fresh one into the request's
/// extensions before the handler runs and writes the same value into that response's
/// `Content-Security-Policy` (`'nonce-…'`). Templates put it on their inline scripts and styles:
/// `<script nonce="{{ nonce }}">`. With the `axum` feature it is also an extractor.
///
/// It is 144 bits from the operating system's CSPRNG, base64-encoded (24 characters,
/// `A–Z a–z 0–9 + /`, safe inside a quoted HTML attribute). `Display` and [`as_str`](Self::as_str)
/// give the value; `Debug` does not, so it does not end up in logs by accident.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CspNonce {
    encoded: [u8; NONCE_LEN],
}

impl CspNonce {
    /// Draws a new nonce from `source`.
    pub(crate) fn generate(source: &dyn NonceSource) -> Result<Self, RandomnessUnavailable> {
        let mut raw = [0_u8; NONCE_RANDOM_BYTES];
        source.fill(&mut raw)?;
        let mut encoded = [0_u8; NONCE_LEN];
        // 18 bytes always encode to exactly 24 characters, so this cannot fail; map it anyway.
        match STANDARD_NO_PAD.encode_slice(raw, &mut encoded) {
            Ok(NONCE_LEN) => Ok(Self { encoded }),
            _ => Err(RandomnessUnavailable),
        }
    }

    /// The nonce as it appears in the policy and in the `nonce` attribute.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Always ASCII (base64 alphabet); the fallback is unreachable.
        std::str::from_utf8(&self.encoded).unwrap_or_default()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.encoded
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CspNonce(..)")
    }
}

/// A source of cryptographically secure random bytes for nonces.
///
/// The default is [`OsRandom`]. Replacing it (through
/// [`DangerousSecurityHeadersBuilder::nonce_source`](crate::security_headers::DangerousSecurityHeadersBuilder::nonce_source))
/// exists for tests; a predictable source makes the nonce worthless.
pub trait NonceSource: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// [`RandomnessUnavailable`] when no randomness can be had; the layer then answers
    /// `503 Service Unavailable` instead of sending a response with a guessable nonce.
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomnessUnavailable>;
}

/// Nonces drawn from one `getrandom` refill (64 nonces, 1152 bytes per thread).
const POOL_BYTES: usize = 64 * NONCE_RANDOM_BYTES;

struct Pool {
    buf: [u8; POOL_BYTES],
    pos: usize,
}

thread_local! {
    static POOL: std::cell::RefCell<Pool> = const {
        std::cell::RefCell::new(Pool { buf: [0; POOL_BYTES], pos: POOL_BYTES })
    };
}

/// The operating system's CSPRNG (`getrandom`), the default nonce source.
///
/// By default it asks the kernel for 1152 bytes at a time per thread and hands each byte out
/// once (zeroing it after use), so a nonce costs a copy instead of a system call (≈0.4 µs on
/// the reference machine). Every nonce is still fresh OS randomness. A process that `fork()`s
/// after serving would share the unused part of the buffer with its child; servers that fork
/// should use [`OsRandom::unbuffered`] (one `getrandom` call per nonce).
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom {
    unbuffered: bool,
}

impl OsRandom {
    /// The buffered source (the default).
    #[must_use]
    pub const fn buffered() -> Self {
        Self { unbuffered: false }
    }

    /// One `getrandom` call per nonce.
    #[must_use]
    pub const fn unbuffered() -> Self {
        Self { unbuffered: true }
    }
}

fn os_fill(buf: &mut [u8]) -> Result<(), RandomnessUnavailable> {
    getrandom::fill(buf).map_err(|_| RandomnessUnavailable)
}

impl NonceSource for OsRandom {
    fn fill(&self, out: &mut [u8]) -> Result<(), RandomnessUnavailable> {
        if self.unbuffered || out.len() > POOL_BYTES {
            return os_fill(out);
        }
        let pooled = POOL.try_with(|pool| {
            let Ok(mut pool) = pool.try_borrow_mut() else {
                return os_fill(out);
            };
            let pool = &mut *pool;
            if POOL_BYTES - pool.pos < out.len() {
                os_fill(&mut pool.buf)?;
                pool.pos = 0;
            }
            let end = pool.pos + out.len();
            out.copy_from_slice(&pool.buf[pool.pos..end]);
            pool.buf[pool.pos..end].fill(0);
            pool.pos = end;
            Ok(())
        });
        // Thread-local storage already torn down (thread exit): ask the kernel directly.
        pooled.unwrap_or_else(|_| os_fill(out))
    }
}

/// The randomness source failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomnessUnavailable;

impl fmt::Display for RandomnessUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the randomness source failed")
    }
}

impl std::error::Error for RandomnessUnavailable {}

pub(crate) type SharedNonceSource = Arc<dyn NonceSource>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_has_expected_shape() {
        let n = CspNonce::generate(&OsRandom::default()).unwrap();
        assert_eq!(n.as_str().len(), NONCE_LEN);
        assert!(
            n.as_str()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        assert_eq!(format!("{n:?}"), "CspNonce(..)");
        assert_eq!(n.to_string(), n.as_str());
    }

    #[test]
    fn pooled_bytes_are_never_handed_out_twice() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(3 * POOL_BYTES / NONCE_RANDOM_BYTES + 5) {
            let n = CspNonce::generate(&OsRandom::buffered()).unwrap();
            assert!(seen.insert(n));
            let u = CspNonce::generate(&OsRandom::unbuffered()).unwrap();
            assert!(seen.insert(u));
        }
        let mut big = [0_u8; POOL_BYTES + 1];
        OsRandom::buffered().fill(&mut big).unwrap();
    }

    #[test]
    fn failing_source_is_an_error() {
        struct Broken;
        impl NonceSource for Broken {
            fn fill(&self, _: &mut [u8]) -> Result<(), RandomnessUnavailable> {
                Err(RandomnessUnavailable)
            }
        }
        assert_eq!(CspNonce::generate(&Broken), Err(RandomnessUnavailable));
    }
}
