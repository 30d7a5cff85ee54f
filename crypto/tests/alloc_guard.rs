//! Allocation-counting proofs (one binary, a counting global allocator, tests run serially):
//! PW-02 (a hostile stored hash is refused before anything is allocated for it) and PW-08 (a
//! dummy verify does the same Argon2 work as a real one).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use std::alloc::System;
use std::sync::Mutex;

use paved_crypto::{PasswordHasher, VerifyError};
use paved_secrets::SecretString;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The counters are process-wide: one measurement at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn pw_02_hostile_m_cost_rejected_without_allocating() {
    let _serial = SERIAL.lock().unwrap();
    let hasher = PasswordHasher::default();
    let password = SecretString::from("tulip rocket violin ember");
    let hostile = "$argon2id$v=19$m=4194304,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    let region = Region::new(GLOBAL);
    let result = hasher.verify(&password, hostile);
    let stats = region.change();
    assert_eq!(
        result,
        Err(VerifyError::HashParamsOutOfBounds { name: "m" })
    );
    assert_eq!(
        stats.bytes_allocated, 0,
        "the hostile hash allocated {} bytes in {} allocations",
        stats.bytes_allocated, stats.allocations
    );
    // Each parameter with its own ceiling.
    for hostile in [
        "$argon2id$v=19$m=19456,t=1000000,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=19456,t=2,p=64$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    ] {
        let region = Region::new(GLOBAL);
        let result = hasher.verify(&password, hostile);
        assert!(
            matches!(result, Err(VerifyError::HashParamsOutOfBounds { .. })),
            "{result:?}"
        );
        assert_eq!(region.change().bytes_allocated, 0, "{hostile}");
    }
}

#[test]
fn pw_08_dummy_verify_does_the_same_argon2_work() {
    let _serial = SERIAL.lock().unwrap();
    let hasher = PasswordHasher::default();
    let stored = hasher
        .hash(&SecretString::from("tulip rocket violin ember"))
        .unwrap();
    let guess = SecretString::from("a wrong guess of some length");

    let region = Region::new(GLOBAL);
    assert_eq!(
        hasher.verify(&guess, stored.as_str()),
        Err(VerifyError::WrongPassword)
    );
    let real = region.change();

    let region = Region::new(GLOBAL);
    assert_eq!(hasher.dummy_verify(&guess), Err(VerifyError::WrongPassword));
    let dummy = region.change();

    // Argon2's working memory (m KiB) dominates both; they must allocate the same.
    let m_bytes = 19_456 * 1024;
    assert!(real.bytes_allocated >= m_bytes, "{real:?}");
    assert!(dummy.bytes_allocated >= m_bytes, "{dummy:?}");
    let diff = real.bytes_allocated.abs_diff(dummy.bytes_allocated);
    assert!(diff < 4096, "real {real:?} vs dummy {dummy:?}");
}
