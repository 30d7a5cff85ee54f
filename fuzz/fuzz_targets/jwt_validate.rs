//! Arbitrary token strings against a fixed validator (ES256 and HS256 keys generated at
//! start-up, verified-token cache on). Invariants: no panic, and nothing is ever accepted — the
//! fuzzer holds no key.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        paved_auth::fuzzing::jwt_validate(token);
    }
});
