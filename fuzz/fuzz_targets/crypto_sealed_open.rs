//! Arbitrary input to `Sealer::open`: never a panic, never `Ok`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        paved_crypto::fuzzing::sealed_open(text);
    }
});
