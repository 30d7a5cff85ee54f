//! Arbitrary `Authorization` header values. Invariants: no panic; an accepted token is a
//! non-empty token68 right after `Bearer ` (any case); two headers are always refused.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paved_auth::fuzzing::bearer_header(data);
});
