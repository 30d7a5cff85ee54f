//! PW-10: a login storm through a pool of 2 is refused quickly beyond the queue, and memory stays
//! bounded. One test in its own binary, so the process's peak RSS is this test's alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use std::time::Duration;

use paved_crypto::{HashingPool, PasswordHasher, VerifyError};
use paved_secrets::SecretString;

/// Peak resident set size of this process (`VmHWM`), KiB.
fn vm_hwm_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn pw_10_login_storm_is_bounded_in_memory_and_refused_beyond_the_queue() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let hasher = PasswordHasher::default();
        let stored = hasher
            .hash(&SecretString::from("tulip rocket violin ember"))
            .unwrap();
        let stored = stored.into_string();
        let before = vm_hwm_kib();

        let pool = HashingPool::with_limits(hasher, 2, 64);
        let mut tasks = Vec::with_capacity(200);
        for i in 0..200 {
            let pool = pool.clone();
            let stored = stored.clone();
            tasks.push(tokio::spawn(async move {
                let started = std::time::Instant::now();
                let guess = SecretString::from(format!("guess number {i}").as_str());
                (pool.verify(guess, stored).await, started.elapsed())
            }));
        }
        let (mut wrong, mut overloaded) = (0, 0);
        let mut slowest_refusal = Duration::ZERO;
        for t in tasks {
            match t.await.unwrap() {
                (Err(VerifyError::WrongPassword), _) => wrong += 1,
                (Err(VerifyError::Overloaded(o)), took) => {
                    overloaded += 1;
                    assert_eq!(o.retry_after(), Duration::from_secs(1));
                    slowest_refusal = slowest_refusal.max(took);
                }
                (other, _) => panic!("unexpected {other:?}"),
            }
        }
        let growth_kib = vm_hwm_kib().saturating_sub(before);
        // 2 in flight + 64 queued ran (a few more if a slot freed while the storm was being
        // sent); the rest were refused without waiting for a slot.
        assert_eq!(wrong + overloaded, 200);
        assert!(
            (66..=80).contains(&wrong),
            "{wrong} ran: max_in_flight + queue is 66"
        );
        assert!(overloaded >= 120, "only {overloaded} refused");
        // "Quickly" means without waiting behind the hashes: far below one Argon2 run
        // multiplied by the queue (66 × ~20 ms). Refusal is a failed try_acquire.
        assert!(
            slowest_refusal < Duration::from_millis(500),
            "refusals waited {slowest_refusal:?}"
        );
        let bound_kib = 2 * 19 * 1024 + 32 * 1024;
        eprintln!("peak RSS growth under the storm: {growth_kib} KiB (bound {bound_kib} KiB)");
        assert!(
            growth_kib < bound_kib,
            "peak RSS grew by {growth_kib} KiB, bound {bound_kib} KiB"
        );
    });
}
