//! PW-12: known-answer tests through the public verify API.
//!
//! Vectors from the Argon2 reference implementation's `src/test.c` (phc-winner-argon2), stored in
//! `tests/data/argon2id.kat`. The RFC 9106 §5.3 vector (which needs an 8-byte secret and
//! associated data) is checked in the crate's unit tests, through a test-only constructor.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use paved_crypto::{PasswordHasher, VerifyError};
use paved_secrets::SecretString;

fn vectors() -> Vec<(String, &'static str)> {
    include_str!("data/argon2id.kat")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (hex, phc) = l.split_once(' ').unwrap();
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect();
            (String::from_utf8(bytes).unwrap(), phc)
        })
        .collect()
}

#[test]
fn pw_12_reference_vectors_verify_through_our_api() {
    let hasher = PasswordHasher::default();
    let vectors = vectors();
    assert!(vectors.len() >= 4);
    for (password, phc) in vectors {
        let verified = hasher
            .verify(&SecretString::from(password.as_str()), phc)
            .unwrap_or_else(|e| panic!("{phc}: {e}"));
        // None of them uses the default policy's exact parameters.
        assert!(verified.needs_rehash, "{phc}");
        assert_eq!(
            hasher.verify(&SecretString::from("passwore"), phc),
            Err(VerifyError::WrongPassword),
            "{phc}"
        );
    }
}
