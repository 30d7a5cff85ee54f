//! Arbitrary JWKS documents. Invariants: no panic; a kept set has 1 to 100 keys, no symmetric
//! key, no duplicate `kid`, and every key pinned only to algorithms of its own family (JW-23).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paved_auth::fuzzing::jwks_parse(data);
});
