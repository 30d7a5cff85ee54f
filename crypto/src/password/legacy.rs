//! Verification of hashes from an older system (PW-04): bcrypt (`$2a$`, `$2b$`, `$2y$`) and
//! PBKDF2-SHA256 in PHC form (`$pbkdf2-sha256$i=…,l=…$salt$hash`). They verify, always report
//! `needs_rehash`, and are bounded like Argon2 hashes so a hostile row cannot burn CPU.
//!
//! Legacy hashes are checked against the password as typed (not NFKC-normalised): that is how
//! the older system hashed it.

use std::num::NonZeroU32;

// nosemgrep: paved.password-hash-outside-paved -- legacy hashes are verified here for upgrade
use password_hash::phc;

use super::hasher::Verified;
use super::policy::Ceilings;
use crate::VerifyError;

/// bcrypt strings are exactly this long (`$2b$` + cost + `$` + 53 characters).
const BCRYPT_LEN: usize = 60;

/// `Some(result)` when `stored` is a legacy format, `None` to let Argon2 handle it.
pub(crate) fn verify(password: &str, stored: &str) -> Option<Result<Verified, VerifyError>> {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        Some(verify_bcrypt(password, stored))
    } else if stored.starts_with("$pbkdf2-sha256$") {
        Some(verify_pbkdf2_sha256(password, stored))
    } else {
        None
    }
}

fn verify_bcrypt(password: &str, stored: &str) -> Result<Verified, VerifyError> {
    if stored.len() != BCRYPT_LEN {
        return Err(VerifyError::MalformedHash);
    }
    let cost: u32 = stored
        .get(4..6)
        .and_then(|c| c.parse().ok())
        .ok_or(VerifyError::MalformedHash)?;
    if cost > Ceilings::MAX_BCRYPT_COST {
        return Err(VerifyError::HashParamsOutOfBounds { name: "cost" });
    }
    // bcrypt reads at most 72 bytes. The non-truncating check refuses longer passwords instead
    // of comparing their first 72 bytes, so a long password is never "correct" by its prefix.
    // nosemgrep: paved.password-hash-outside-paved -- legacy bcrypt hashes are verified here for upgrade
    match bcrypt::non_truncating_verify(password.as_bytes(), stored) {
        Ok(true) => Ok(Verified { needs_rehash: true }),
        // nosemgrep: paved.password-hash-outside-paved -- legacy bcrypt hashes are verified here for upgrade
        Ok(false) | Err(bcrypt::BcryptError::Truncation(_)) => Err(VerifyError::WrongPassword),
        Err(_) => Err(VerifyError::MalformedHash),
    }
}

fn verify_pbkdf2_sha256(password: &str, stored: &str) -> Result<Verified, VerifyError> {
    let parsed = phc::PasswordHash::new(stored).map_err(|_| VerifyError::MalformedHash)?;
    let iterations = parsed
        .params
        .get_decimal("i")
        .ok_or(VerifyError::MalformedHash)?;
    if iterations > Ceilings::MAX_PBKDF2_ITERATIONS {
        return Err(VerifyError::HashParamsOutOfBounds { name: "rounds" });
    }
    let iterations = NonZeroU32::new(iterations).ok_or(VerifyError::MalformedHash)?;
    let salt = parsed.salt.as_ref().ok_or(VerifyError::MalformedHash)?;
    let expected = parsed.hash.as_ref().ok_or(VerifyError::MalformedHash)?;
    if expected.len() > Ceilings::MAX_OUTPUT_LEN {
        return Err(VerifyError::HashParamsOutOfBounds { name: "output" });
    }
    if let Some(l) = parsed.params.get_decimal("l")
        && usize::try_from(l).ok() != Some(expected.len())
    {
        return Err(VerifyError::MalformedHash);
    }
    // ring compares in constant time.
    // nosemgrep: paved.password-hash-outside-paved -- legacy PBKDF2 hashes are verified here for upgrade
    ring::pbkdf2::verify(
        // nosemgrep: paved.password-hash-outside-paved -- legacy PBKDF2 hashes are verified here for upgrade
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt.as_ref(),
        password.as_bytes(),
        expected.as_bytes(),
    )
    .map(|()| Verified { needs_rehash: true })
    .map_err(|_| VerifyError::WrongPassword)
}
