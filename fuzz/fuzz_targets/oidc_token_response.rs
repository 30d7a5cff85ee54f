//! Arbitrary token-endpoint answers to a genuine callback of an in-process login. Invariants:
//! no panic, every answer is a 502 — the fuzzer cannot sign an ID token, so no login can
//! complete, and a malformed answer is the provider's fault, never a 500.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paved_auth::fuzzing::CallbackFixture;

static FIXTURE: OnceLock<CallbackFixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(|| CallbackFixture::new().expect("fixture"));
    paved_auth::fuzzing::oidc_token_response(fixture, data);
});
