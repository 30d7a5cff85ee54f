//! Arbitrary discovery documents, parsed for an https and a loopback issuer under both
//! endpoint policies. Invariants: no panic; an accepted document names exactly the configured
//! issuer, every URL in it parses without fragment or credentials and is https (loopback only
//! in dev mode), S256 and `code` are listed, and required PAR comes with its endpoint.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    paved_auth::fuzzing::oidc_discovery_parse(data);
});
