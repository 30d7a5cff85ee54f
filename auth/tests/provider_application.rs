//! If the application installed a `jsonwebtoken` `CryptoProvider` first, paved-auth uses it
//! instead of panicking. (Its own test binary: the provider is process-wide.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use jsonwebtoken::crypto::{CryptoProvider, JwtVerifier};
use jsonwebtoken::{Algorithm as JAlg, DecodingKey};
use paved_auth::jwt::{ActiveProvider, NoCustomClaims, RING_PROVIDER, install_crypto_provider};

static CALLS: AtomicUsize = AtomicUsize::new(0);

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "jsonwebtoken's factory signature"
)]
fn counting_verifier(
    alg: &JAlg,
    key: &DecodingKey,
) -> Result<Box<dyn JwtVerifier>, jsonwebtoken::errors::Error> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    (RING_PROVIDER.verifier_factory)(alg, key)
}

#[test]
fn application_provider_is_used_not_replaced() {
    let app: &'static CryptoProvider = Box::leak(Box::new(CryptoProvider {
        signer_factory: RING_PROVIDER.signer_factory,
        verifier_factory: counting_verifier,
        key_utils: RING_PROVIDER.key_utils.clone(),
    }));
    app.install_default().unwrap();
    assert_eq!(install_crypto_provider(), ActiveProvider::Application);

    let clock = TestClock::at(NOW);
    let key = SigningKey::es256();
    let validator = validator_for(&key, "k1", &clock);
    let before = CALLS.load(Ordering::SeqCst);
    now(validator.validate::<NoCustomClaims>(&token(&key, "k1", NOW))).unwrap();
    assert_eq!(
        CALLS.load(Ordering::SeqCst),
        before + 1,
        "verified through the app's provider"
    );
}
