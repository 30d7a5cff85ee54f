//! Arbitrary callback query strings and `Cookie` headers against an in-process login (its
//! provider is a key in memory). Invariants: no panic, every answer is a 400 — the fuzzer
//! never holds a sealed transaction cookie, so no login can complete.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use paved_auth::fuzzing::CallbackFixture;

static FIXTURE: OnceLock<CallbackFixture> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let fixture = FIXTURE.get_or_init(|| CallbackFixture::new().expect("fixture"));
    paved_auth::fuzzing::oidc_callback_query(fixture, data);
});
