//! Report collector input: any `Content-Type` choice and body bytes.
//!
//! Invariants: no panic, and the status is one of 204/400/413/415 (checked inside
//! `paved_headers::fuzzing::report_body`), never a 5xx.
#![no_main]

use libfuzzer_sys::fuzz_target;

const CONTENT_TYPES: &[&[u8]] = &[
    b"application/reports+json",
    b"application/csp-report",
    b"application/json; charset=utf-8",
    b"text/plain",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ct = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let status = paved_headers::fuzzing::report_body(ct, body);
    assert!(matches!(status, 204 | 400 | 413 | 415), "status {status}");
    paved_headers::fuzzing::report_parse(selector, body);
});
