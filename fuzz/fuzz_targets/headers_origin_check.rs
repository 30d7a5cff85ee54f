//! Cross-origin protection with arbitrary Method / URI / Host / Origin / Sec-Fetch-Site.
//!
//! Input: up to five fields separated by 0x00 (method, uri, host, origin, sec-fetch-site); a
//! missing field means the header is absent. Invariants: no panic; an unsafe request whose
//! `Sec-Fetch-Site` is present and not `same-origin`/`none` never reaches the handler (no trusted
//! origin or bypass is configured).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fields = data.splitn(5, |&b| b == 0);
    let method = fields.next().unwrap_or_default();
    let uri = fields.next().unwrap_or(b"/".as_slice());
    let host = fields.next();
    let origin = fields.next();
    let site = fields.next();
    let Some(passed) = paved_headers::fuzzing::origin_check(method, uri, host, origin, site) else {
        return; // not a valid request (bad method, URI or header bytes)
    };
    let safe = matches!(method, b"GET" | b"HEAD" | b"OPTIONS");
    let cross = site.is_some_and(|s| !matches!(s, b"same-origin" | b"none" | b""));
    if !safe && cross {
        assert!(!passed, "cross-site unsafe request passed");
    }
});
