//! If `jsonwebtoken` was used before any provider was installed, it latches a panicking
//! placeholder; paved-auth detects it and verifies with its ring provider instead of
//! panicking. (Its own test binary: the provider is process-wide.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm as JAlg, DecodingKey};
use paved_auth::jwt::{ActiveProvider, NoCustomClaims, install_crypto_provider};

#[test]
fn latched_placeholder_falls_back_to_ring() {
    // The application's own early use of jsonwebtoken panics (its bug), and latches.
    let early = std::panic::catch_unwind(|| {
        jsonwebtoken::crypto::verify("AA", b"m", &DecodingKey::from_secret(&[1; 32]), JAlg::HS256)
    });
    assert!(early.is_err());
    assert_eq!(install_crypto_provider(), ActiveProvider::RingFallback);
    let clock = TestClock::at(NOW);
    let key = SigningKey::ed25519();
    let validator = validator_for(&key, "k1", &clock);
    assert!(now(validator.validate::<NoCustomClaims>(&token(&key, "k1", NOW))).is_ok());
}
