//! Properties: no single-character change to a valid token is accepted, and the validator
//! never panics, whatever string it is given.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::LazyLock;

use common::*;
use paved_auth::jwt::{JwtValidator, NoCustomClaims};
use proptest::prelude::*;

struct Fixture {
    tokens: Vec<String>,
    validators: Vec<JwtValidator>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let clock = TestClock::at(NOW);
    let keys = [
        SigningKey::es256(),
        SigningKey::ed25519(),
        SigningKey::hmac(32),
        SigningKey::rsa(),
    ];
    let tokens = keys.iter().map(|k| token(k, "k1", NOW)).collect();
    let validators = keys
        .iter()
        .map(|k| validator_for(k, "k1", &clock))
        .collect();
    Fixture { tokens, validators }
});

fn accepted(validator: &JwtValidator, token: &str) -> bool {
    now(validator.validate::<NoCustomClaims>(token)).is_ok()
}

#[test]
fn fixture_tokens_are_valid() {
    for (t, v) in FIXTURE.tokens.iter().zip(&FIXTURE.validators) {
        assert!(accepted(v, t));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Replacing any one byte of a valid token with any other character is refused.
    #[test]
    fn any_single_byte_change_fails(which in 0usize..4, index in any::<prop::sample::Index>(), replacement in any::<char>()) {
        let token = &FIXTURE.tokens[which];
        let i = index.index(token.len());
        let original = token.as_bytes()[i] as char;
        prop_assume!(replacement != original);
        let mut changed = token.clone();
        changed.replace_range(i..=i, &replacement.to_string());
        prop_assert!(!accepted(&FIXTURE.validators[which], &changed), "accepted {changed}");
    }

    /// Deleting or inserting one character is refused too.
    #[test]
    fn any_single_insertion_or_deletion_fails(which in 0usize..4, index in any::<prop::sample::Index>(), inserted in any::<char>(), delete in any::<bool>()) {
        let token = &FIXTURE.tokens[which];
        let i = index.index(token.len());
        let mut changed = token.clone();
        if delete {
            changed.remove(i);
        } else {
            changed.insert(i, inserted);
        }
        prop_assert!(!accepted(&FIXTURE.validators[which], &changed));
    }

    /// Arbitrary strings never panic and are never accepted.
    #[test]
    fn validator_never_panics_on_arbitrary_strings(input in any::<String>()) {
        for v in &FIXTURE.validators {
            prop_assert!(!accepted(v, &input));
        }
    }

    /// Three base64url segments of arbitrary JSON-ish bytes: the shape passes, the rest must
    /// refuse without panicking.
    #[test]
    fn validator_never_panics_on_structured_garbage(
        header in prop_oneof![
            Just(r#"{"alg":"ES256","kid":"k1"}"#.to_owned()),
            Just(r#"{"alg":"HS256"}"#.to_owned()),
            "\\{\"alg\":\"[A-Za-z0-9]{0,6}\"(,\"[a-z]{1,4}\":[0-9\\[\\]{}\"a,:]{0,12})?\\}",
            any::<String>(),
        ],
        payload in prop_oneof!["\\{[\"a-z0-9:,\\[\\]{} ]{0,60}\\}", any::<String>()],
        signature in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let token = format!("{}.{}.{}", b64(&header), b64(&payload), b64(&signature));
        for v in &FIXTURE.validators {
            prop_assert!(!accepted(v, &token));
        }
    }
}
