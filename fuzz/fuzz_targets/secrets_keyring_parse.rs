//! The key ring text format (`paved_secrets::KeyRing::parse`) on arbitrary bytes (SE-07, SE-09):
//! never panics; an error is a pure function of its line and kind (so it cannot carry key
//! material) and never contains a known canary key; every accepted ring survives a text round
//! trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use paved_secrets::{ExposeSecret, KeyRing, KeyRingError};

/// base64url of `CANARY-key-material-must-never-leak-00` (38 bytes, a valid key).
const CANARY_KEY: &str = "Q0FOQVJZLWtleS1tYXRlcmlhbC1tdXN0LW5ldmVyLWxlYWstMDA";
const CANARY_BYTES: &[u8] = b"CANARY-key-material-must-never-leak-00";

fn check_error(err: &KeyRingError, text: &str) {
    let expected = match err.line() {
        Some(line) => format!("key ring line {line}: {}", err.kind()),
        None => format!("key ring: {}", err.kind()),
    };
    assert_eq!(err.to_string(), expected, "error message has a fixed shape");
    if let Some(line) = err.line() {
        assert!(
            line >= 1 && line <= text.lines().count(),
            "line {line} out of range"
        );
    }
}

fn contains_window(haystack: &str, needle: &[u8], width: usize) -> bool {
    needle
        .windows(width)
        .any(|w| haystack.as_bytes().windows(width).any(|h| h == w))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match KeyRing::parse(text) {
        Ok(ring) => {
            let exported = ring.to_text();
            let again = KeyRing::parse(exported.expose_secret()).expect("to_text output parses");
            assert_eq!(again.primary().id(), ring.primary().id());
            assert_eq!(again.keys().len(), ring.keys().len());
            for (a, b) in ring.keys().zip(again.keys()) {
                assert_eq!(a.id(), b.id());
                assert!(a.material().ct_eq(b.material()));
            }
            let debug = format!("{ring:?} {:?}", ring.primary());
            assert!(debug.contains("[REDACTED]"));
        }
        Err(err) => check_error(&err, text),
    }

    // The same input after a known key: whatever fails, the canary never shows.
    let with_canary = format!("*canary:{CANARY_KEY}\n{text}");
    if let Err(err) = KeyRing::parse(&with_canary) {
        check_error(&err, &with_canary);
        let rendered = format!("{err} {err:?}");
        assert!(
            !contains_window(&rendered, CANARY_KEY.as_bytes(), 8),
            "{rendered}"
        );
        assert!(!contains_window(&rendered, CANARY_BYTES, 8), "{rendered}");
    }
});
