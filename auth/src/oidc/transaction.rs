//! The per-login transaction: what the callback needs to finish one login, sealed into a
//! short-lived cookie named after its `state` (OA-03, OA-04).
//!
//! One cookie per transaction, not one per browser, so several tabs can log in at once (the
//! "state mismatch" bug of clients that keep a single slot per session). The cookie is
//! `__Host-` prefixed (no `Domain`, `Path=/`, `Secure`), `HttpOnly`, `SameSite=Lax` (the
//! callback is a cross-site top-level navigation from the provider, which `Strict` would
//! strip), lives at most [`TRANSACTION_TTL`] and is deleted by every callback response.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use paved_crypto::Sealer;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::oidc::cookies;
use crate::oidc::error::LoginError;

/// How long a login may take from `/login` to `/callback`: 10 minutes (RFC 9700 §2.1 and
/// OA-03 ask for short-lived state; 600 s is also `oauth4webapi`'s default cookie age).
pub const TRANSACTION_TTL: Duration = Duration::from_secs(600);

/// Random bytes in `state`, `nonce` and the PKCE verifier: 32 (256 bits; RFC 9700 §2.1 and
/// OA-03 ask for at least 128; RFC 7636 §4.1 recommends 32 octets for the verifier).
pub(crate) const RANDOM_BYTES: usize = 32;

/// The length of a base64url-encoded [`RANDOM_BYTES`] value.
pub(crate) const RANDOM_LEN: usize = 43;

/// Transaction cookies are `__Host-paved-tx-<state>`.
pub(crate) const COOKIE_PREFIX: &str = "__Host-paved-tx-";

/// At most this many pending logins per browser, the new one included: when a login starts,
/// the oldest transaction cookies beyond it are deleted. A transaction cookie is under 2 KiB
/// even with the longest `return_to` (all of it escaped), so a page that starts logins in a
/// loop adds under 6 KiB to the `Cookie` header, below the 8 KiB a proxy accepts by default.
pub(crate) const MAX_PENDING: usize = 3;

/// The largest cookie, name and value, that browsers must store (RFC 6265 §6.1, ASVS V3.3.5):
/// a larger transaction cookie is refused here rather than silently dropped by the browser.
pub(crate) const MAX_TRANSACTION_COOKIE_LEN: usize = 4096;

/// What one login transaction carries from `/login` to `/callback`.
#[derive(Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub(crate) struct Transaction {
    /// The `state` sent to the provider; compared in constant time with the callback's.
    pub(crate) state: String,
    /// The PKCE code verifier (RFC 7636).
    pub(crate) verifier: String,
    /// The OIDC nonce.
    pub(crate) nonce: String,
    /// The issuer this login started with (RFC 9207, OA-06).
    pub(crate) issuer: String,
    /// When the login started (seconds since the epoch): the oldest pending login is the one
    /// dropped when a browser holds too many.
    pub(crate) created: u64,
    /// Where to go after the login: a checked same-origin path.
    pub(crate) return_to: String,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("issuer", &self.issuer)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// Seals the transaction and returns its `Set-Cookie` value.
    pub(crate) fn seal(&self, sealer: &Sealer) -> Result<HeaderValue, LoginError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self).map_err(|_| LoginError::Internal("transaction encode"))?,
        );
        let sealed = sealer
            .seal(&json, TRANSACTION_TTL)
            .map_err(|_| LoginError::Internal("transaction seal"))?;
        let name = cookie_name(&self.state);
        if name.len() + 1 + sealed.len() > MAX_TRANSACTION_COOKIE_LEN {
            return Err(LoginError::Internal("transaction cookie too large"));
        }
        cookies::set_cookie(&name, &sealed, TRANSACTION_TTL.as_secs())
    }

    /// Opens the transaction cookie for `state` (already checked to be well-formed) and checks
    /// that it was issued for this `state`.
    pub(crate) fn open(sealer: &Sealer, state: &str, sealed: &str) -> Result<Self, LoginError> {
        let json = sealer
            .open(sealed)
            .map_err(|_| LoginError::UnknownTransaction)?;
        let tx: Self = serde_json::from_slice(&json).map_err(|_| LoginError::UnknownTransaction)?;
        // The cookie name already carries the state, but the name is not authenticated: the
        // sealed copy is, and it must be the same (a cookie renamed by an attacker who can
        // write cookies is refused here).
        if !paved_crypto::ct_eq(tx.state.as_bytes(), state.as_bytes()) {
            return Err(LoginError::UnknownTransaction);
        }
        Ok(tx)
    }
}

/// The transaction cookie's name for `state`.
pub(crate) fn cookie_name(state: &str) -> String {
    let mut name = String::with_capacity(COOKIE_PREFIX.len() + state.len());
    name.push_str(COOKIE_PREFIX);
    name.push_str(state);
    name
}

/// Whether `value` has the shape of a value this client generates (`state`, `nonce`): exactly
/// [`RANDOM_LEN`] base64url characters. Everything else is refused before any lookup.
pub(crate) fn is_well_formed_random(value: &str) -> bool {
    value.len() == RANDOM_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh random value of [`RANDOM_BYTES`] bytes, base64url.
pub(crate) fn random_value() -> Result<String, LoginError> {
    paved_crypto::random_token(RANDOM_BYTES).map_err(|_| LoginError::Internal("rng"))
}

/// The PKCE S256 challenge of `verifier` (RFC 7636 §4.2): `BASE64URL(SHA256(verifier))`.
pub(crate) fn s256_challenge(verifier: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// A short, non-reversible label for a transaction in traces (OA-25: the state itself is a
/// credential for the callback and is never logged).
pub(crate) fn trace_label(state: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, state.as_bytes());
    // 48 bits of the hash: enough to follow one login through the logs, useless for guessing.
    URL_SAFE_NO_PAD.encode(&digest.as_ref()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn random_values_are_well_formed_and_distinct() {
        let a = random_value().unwrap();
        let b = random_value().unwrap();
        assert!(is_well_formed_random(&a));
        assert_ne!(a, b);
        assert!(!is_well_formed_random(&a[1..]));
        assert!(!is_well_formed_random(&format!("{}=", &a[1..])));
    }
}
