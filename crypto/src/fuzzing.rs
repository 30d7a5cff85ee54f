//! Entry points for the fuzz targets in `fuzz/`; not part of the public API.

use paved_secrets::{KeyRing, SecretString};
use std::sync::OnceLock;

use crate::{PasswordHasher, Sealer, VerifyError};

/// Verifies a fixed password against arbitrary stored-hash text and checks the invariants: no
/// panic, and nothing above the ceilings is ever computed (it must be refused first).
pub fn phc_parse(stored: &str) {
    static HASHER: OnceLock<PasswordHasher> = OnceLock::new();
    let hasher = HASHER.get_or_init(PasswordHasher::default);
    // Only inputs that pass the ceilings reach Argon2; keep the fuzzer fast by refusing big
    // (but legal) costs here, after checking that the ceilings themselves hold.
    // nosemgrep: paved.password-hash-outside-paved -- fuzzes the PHC parser PasswordHasher uses
    if let Ok(parsed) = password_hash::phc::PasswordHash::new(stored) {
        let over = |name: &str, max: u32| parsed.params.get_decimal(name).is_some_and(|v| v > max);
        if over("m", crate::Ceilings::MAX_M_COST)
            || over("t", crate::Ceilings::MAX_T_COST)
            || over("p", crate::Ceilings::MAX_P_COST)
        {
            let result = hasher.verify(&SecretString::from("fuzz"), stored);
            assert!(
                matches!(
                    result,
                    Err(VerifyError::HashParamsOutOfBounds { .. }
                        | VerifyError::MalformedHash
                        | VerifyError::UnsupportedAlgorithm)
                ),
                "a hash above the ceilings was not refused: {result:?}"
            );
            return;
        }
        let cheap = |name: &str, max: u32| parsed.params.get_decimal(name).is_none_or(|v| v <= max);
        if !(cheap("m", 64) && cheap("t", 2)) {
            return;
        }
    }
    let _ = hasher.verify(&SecretString::from("fuzz"), stored);
}

/// Opens arbitrary text with a fixed sealer; it must never succeed (the fuzzer cannot forge a
/// GCM tag) and never panic.
pub fn sealed_open(input: &str) {
    static SEALER: OnceLock<Option<Sealer>> = OnceLock::new();
    let Some(sealer) = SEALER.get_or_init(|| {
        KeyRing::generate()
            .ok()
            .and_then(|ring| Sealer::new(&ring, "fuzz").ok())
    }) else {
        return;
    };
    assert!(sealer.open(input).is_err(), "forged input opened");
}
