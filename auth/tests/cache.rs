//! The verified-token cache: only fully validated tokens enter, a hit still checks time, and
//! entries never outlive `exp` or the ttl.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use paved_auth::jwt::{Algorithm, ConfigError, JwtError, JwtValidator, NoCustomClaims};
use serde_json::json;

fn cached(key: &SigningKey, clock: &TestClock, ttl: u64) -> JwtValidator {
    builder(clock)
        .key(key.verification_key(Algorithm::ES256, "k1"))
        .cache_verified_tokens(100, Duration::from_secs(ttl))
        .build()
        .unwrap()
}

#[test]
fn cache_hit_returns_the_same_validation() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = cached(&key, &clock, 60);
    let t = token(&key, "k1", NOW);
    let first = now(validator.validate::<serde_json::Value>(&t)).unwrap();
    let second = now(validator.validate::<serde_json::Value>(&t)).unwrap();
    assert_eq!(first.standard(), second.standard());
    assert_eq!(first["sub"], "user-1");
    // Another claims type for the same token is a miss, then validates on its own.
    assert!(now(validator.validate::<NoCustomClaims>(&t)).is_ok());
}

#[test]
fn cache_hit_still_checks_exp_and_nbf() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = cached(&key, &clock, 600);
    let mut claims = claims_at(NOW);
    claims["exp"] = json!(NOW + 10);
    claims["nbf"] = json!(NOW - 5);
    let t = mint(
        &json!({"alg":"ES256","kid":"k1"}),
        &claims,
        &key,
        Algorithm::ES256,
    );
    assert!(now(validator.validate::<NoCustomClaims>(&t)).is_ok());
    clock.set(NOW + 10 + 60);
    assert_eq!(
        now(validator.validate::<NoCustomClaims>(&t)).unwrap_err(),
        JwtError::Expired
    );
    // A clock moved back before nbf - leeway: the hit is refused, full validation decides.
    clock.set(NOW - 5 - 61);
    assert_eq!(
        now(validator.validate::<NoCustomClaims>(&t)).unwrap_err(),
        JwtError::NotYetValid
    );
}

#[test]
fn cache_entry_lives_at_most_ttl() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = cached(&key, &clock, 30);
    let t = token(&key, "k1", NOW);
    assert!(now(validator.validate::<NoCustomClaims>(&t)).is_ok());
    clock.advance(31);
    // After the ttl the token is validated again (and is still valid).
    assert!(now(validator.validate::<NoCustomClaims>(&t)).is_ok());
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct NeedsRole {
    role: String,
}

#[test]
fn cache_only_holds_fully_validated_tokens() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = cached(&key, &clock, 60);
    let mut claims = claims_at(NOW);
    claims["aud"] = json!("someone-else");
    let t = mint(
        &json!({"alg":"ES256","kid":"k1"}),
        &claims,
        &key,
        Algorithm::ES256,
    );
    for _ in 0..3 {
        assert_eq!(
            now(validator.validate::<NoCustomClaims>(&t)).unwrap_err(),
            JwtError::WrongAudience
        );
    }
    // A token that fails only the claims type is not cached either.
    let t = token(&key, "k1", NOW);
    assert_eq!(
        now(validator.validate::<NeedsRole>(&t)).err(),
        Some(JwtError::CustomClaims)
    );
    assert_eq!(
        now(validator.validate::<NeedsRole>(&t)).err(),
        Some(JwtError::CustomClaims)
    );
}

#[test]
fn cache_settings_are_bounded() {
    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let b = || builder(&clock).key(key.verification_key(Algorithm::ES256, "k1"));
    assert_eq!(
        b().cache_verified_tokens(0, Duration::from_secs(60))
            .build()
            .unwrap_err(),
        ConfigError::OutOfRange("cache capacity")
    );
    assert_eq!(
        b().cache_verified_tokens(10, Duration::from_secs(601))
            .build()
            .unwrap_err(),
        ConfigError::OutOfRange("cache ttl")
    );
}
