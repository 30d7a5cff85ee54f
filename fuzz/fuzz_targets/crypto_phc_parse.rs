//! Hostile stored password hashes: verify never panics and never computes a hash whose
//! parameters exceed the ceilings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        paved_crypto::fuzzing::phc_parse(text);
    }
});
