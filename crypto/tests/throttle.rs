//! `LoginThrottle` with the memory backend: the back-off curve, per-account and per-address
//! counting (IPv6 by /64), the pending mark that stops parallel guesses, expiry on an injected
//! clock, and the memory bound under a flood of random user names. The Redis backend runs the
//! same behaviour against a real Redis in `tests/tests/throttle_redis.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use paved_crypto::{BackOff, Clock, LoginThrottle, ThrottleError, ThrottlePolicy};
use proptest::prelude::*;

/// A clock the test moves by hand.
#[derive(Debug, Default)]
struct ManualClock(AtomicU64);

impl ManualClock {
    fn at(t: u64) -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(t)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

const T0: u64 = 1_700_000_000;

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

/// A back-off that never throttles within a test (for the counter a test does not look at).
const NEVER: BackOff = BackOff {
    free_failures: u32::MAX,
    base_delay: Duration::from_secs(1),
    max_delay: Duration::from_secs(1),
    window: Duration::from_secs(60),
};

fn throttle(policy: ThrottlePolicy) -> (LoginThrottle, Arc<ManualClock>) {
    let clock = ManualClock::at(T0);
    (
        LoginThrottle::memory(policy).with_clock(clock.clone()),
        clock,
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// One failed login: check (must be allowed) then record the failure.
async fn fail(t: &LoginThrottle, account: &str, addr: IpAddr) {
    t.check(account, addr).await.unwrap();
    t.record_failure(account, addr).await.unwrap();
}

fn wait_of(result: Result<(), ThrottleError>) -> u64 {
    match result {
        Ok(()) => 0,
        Err(ThrottleError::Throttled { retry_after }) => retry_after.as_secs(),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn defaults_are_the_documented_numbers() {
    let p = ThrottlePolicy::default();
    assert_eq!(p.account.free_failures, 5);
    assert_eq!(p.account.base_delay, Duration::from_secs(1));
    assert_eq!(p.account.max_delay, Duration::from_secs(900));
    assert_eq!(p.account.window, Duration::from_secs(12 * 3600));
    assert_eq!(p.ip.free_failures, 100);
    assert_eq!(p.ip.max_delay, Duration::from_secs(900));
    assert_eq!(p.ip.window, Duration::from_secs(3600));
    assert_eq!(p.max_entries, 65_536);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// After `k` failures the wait is 0 while `k < free`, then `base·2^(k−free)` capped at
    /// `max`: never decreasing, never above the cap.
    #[test]
    fn back_off_is_monotonic_capped_and_exponential(
        free in 0u32..8,
        base in 1u64..5,
        max in 1u64..3_000,
        failures in 1usize..90,
    ) {
        let max = max.max(base);
        let policy = ThrottlePolicy {
            account: BackOff {
                free_failures: free,
                base_delay: Duration::from_secs(base),
                max_delay: Duration::from_secs(max),
                window: Duration::from_secs(10_000),
            },
            ip: NEVER,
            max_entries: 16,
        };
        let (t, clock) = throttle(policy);
        rt().block_on(async {
            let mut previous = 0;
            for k in 1..=failures {
                // Wait out any delay so the next failure can be made, then look at the wait.
                let w = wait_of(t.check("victim", ip(1)).await);
                if w == 0 {
                    // That check was allowed and counted a pending attempt: take it back.
                    t.release("victim", ip(1)).await.unwrap();
                }
                clock.advance(w);
                fail(&t, "victim", ip(1)).await;
                let wait = wait_of(t.check("victim", ip(1)).await);
                let k = k as u64;
                let expected = if k < u64::from(free) {
                    0
                } else {
                    let doublings = u32::try_from(k - u64::from(free)).unwrap();
                    base.saturating_mul(2u64.saturating_pow(doublings)).min(max)
                };
                prop_assert_eq!(wait, expected, "after {} failures", k);
                prop_assert!(wait >= previous && wait <= max);
                previous = wait;
                if wait == 0 {
                    t.release("victim", ip(1)).await.unwrap();
                }
            }
            Ok(())
        })?;
    }

    /// However many distinct names fail, the tables hold at most `max_entries` each.
    #[test]
    fn memory_stays_bounded_under_random_user_names(
        names in proptest::collection::vec("[a-z0-9]{1,24}", 200..600),
        max_entries in 8usize..64,
    ) {
        let policy = ThrottlePolicy { account: BackOff::ACCOUNT, ip: NEVER, max_entries };
        let (t, _) = throttle(policy);
        rt().block_on(async {
            for (i, name) in names.iter().enumerate() {
                let addr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, u16::try_from(i).unwrap(), 0, 0, 0, 0, 1));
                fail(&t, name, addr).await;
                prop_assert!(t.tracked_entries().unwrap() <= 2 * max_entries);
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn a_flood_of_random_names_does_not_push_out_an_account_under_attack() {
    let policy = ThrottlePolicy {
        account: BackOff::ACCOUNT,
        ip: NEVER,
        max_entries: 100,
    };
    let (t, clock) = throttle(policy);
    for _ in 0..5 {
        fail(&t, "victim", ip(1)).await;
    }
    assert!(wait_of(t.check("victim", ip(1)).await) > 0);
    // Ten times the table's size in one-failure names, all newer than the victim's counter.
    for i in 0..1_000 {
        clock.advance(1);
        fail(&t, &format!("random-{i}"), ip(2)).await;
    }
    assert!(t.tracked_entries().unwrap() <= 200);
    // The victim's counter survived (still 5 failures: the next wait is due at once, and one
    // more failure makes it 2 s, not the 0 s of a forgotten account).
    assert_eq!(wait_of(t.check("victim", ip(3)).await), 0);
    t.record_failure("victim", ip(3)).await.unwrap();
    assert_eq!(wait_of(t.check("victim", ip(3)).await), 2);
}

#[tokio::test]
async fn the_sixth_attempt_on_one_account_waits_whatever_the_address() {
    let (t, _) = throttle(ThrottlePolicy::default());
    for i in 0..5 {
        fail(&t, "alice", ip(i)).await;
    }
    // A new address changes nothing for the account.
    assert_eq!(
        t.check("alice", ip(200)).await,
        Err(ThrottleError::Throttled {
            retry_after: Duration::from_secs(1)
        })
    );
    // Another account from the same addresses is not affected.
    assert_eq!(t.check("bob", ip(0)).await, Ok(()));
}

#[tokio::test]
async fn account_names_count_case_folded_and_trimmed() {
    let (t, _) = throttle(ThrottlePolicy::default());
    for name in ["Alice", "ALICE", " alice", "alice ", "ａｌｉｃｅ"] {
        fail(&t, name, ip(1)).await;
    }
    assert!(wait_of(t.check("aLiCe", ip(2)).await) > 0);
}

/// Names one `NOCASE` table row matches (ASCII case only) share one counter, also when a
/// combining mark follows the letter: NFKC composes `j` + U+030C but not `J` + U+030C.
#[tokio::test]
async fn names_equal_under_ascii_case_folding_share_a_counter() {
    let (t, _) = throttle(ThrottlePolicy::default());
    for name in [
        "J\u{30C}ane",
        "j\u{30C}ane",
        "J\u{30C}ANE",
        "j\u{30C}aNe",
        "J\u{30C}anE",
    ] {
        fail(&t, name, ip(1)).await;
    }
    assert!(wait_of(t.check("j\u{30C}ane", ip(2)).await) > 0);
}

#[tokio::test]
async fn the_address_budget_throttles_password_spraying_across_accounts() {
    let policy = ThrottlePolicy {
        account: BackOff::ACCOUNT,
        ip: BackOff {
            free_failures: 10,
            ..BackOff::IP
        },
        max_entries: 1_000,
    };
    let (t, _) = throttle(policy);
    for i in 0..10 {
        fail(&t, &format!("user{i}"), ip(9)).await;
    }
    // A fresh account from the same address must wait; from another address it need not.
    assert_eq!(wait_of(t.check("user99", ip(9)).await), 1);
    assert_eq!(wait_of(t.check("user99", ip(10)).await), 0);
}

#[tokio::test]
async fn ipv6_addresses_count_by_64_and_mapped_ipv4_as_ipv4() {
    let policy = ThrottlePolicy {
        account: NEVER,
        ip: BackOff {
            free_failures: 3,
            ..BackOff::IP
        },
        max_entries: 1_000,
    };
    let (t, _) = throttle(policy);
    let in_64 = |last: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
    for i in 1..=3 {
        fail(&t, &format!("u{i}"), in_64(i)).await;
    }
    // Any address in the same /64 is throttled, including one far away in it.
    let far = IpAddr::V6(Ipv6Addr::new(
        0x2001, 0xdb8, 1, 2, 0xffff, 0xffff, 0xffff, 0xffff,
    ));
    assert_eq!(wait_of(t.check("u9", far).await), 1);
    // The neighbouring /64 is another subject.
    let next = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
    assert_eq!(wait_of(t.check("u9", next).await), 0);

    // ::ffff:192.0.2.50 and 192.0.2.50 are one client.
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 50).to_ipv6_mapped());
    for i in 0..3 {
        fail(&t, &format!("m{i}"), mapped).await;
    }
    assert_eq!(wait_of(t.check("m9", ip(50)).await), 1);
}

#[tokio::test]
async fn success_clears_the_account_counter_but_not_the_address_counter() {
    let policy = ThrottlePolicy {
        account: BackOff::ACCOUNT,
        ip: BackOff {
            free_failures: 6,
            ..BackOff::IP
        },
        max_entries: 1_000,
    };
    let (t, clock) = throttle(policy);
    for _ in 0..5 {
        fail(&t, "alice", ip(1)).await;
    }
    let w = wait_of(t.check("alice", ip(1)).await);
    assert_eq!(w, 1);
    clock.advance(w);
    t.check("alice", ip(1)).await.unwrap();
    t.record_success("alice", ip(1)).await.unwrap();
    // The account starts afresh: five more free failures from another address.
    for _ in 0..5 {
        fail(&t, "alice", ip(2)).await;
    }
    // The address kept its five failures: one more fills its budget of six.
    fail(&t, "carol", ip(1)).await;
    assert_eq!(wait_of(t.check("dave", ip(1)).await), 1);
}

#[tokio::test]
async fn parallel_attempts_cannot_all_pass_one_check() {
    let (t, _) = throttle(ThrottlePolicy::default());
    // Ten checks before any outcome is known, as in a burst of parallel requests.
    let mut allowed = 0;
    for _ in 0..10 {
        if t.check("alice", ip(1)).await.is_ok() {
            allowed += 1;
        }
    }
    assert_eq!(
        allowed, 5,
        "only the free failures may be in flight at once"
    );
    // Taking the pending attempts back (no password was tried) frees them again.
    for _ in 0..5 {
        t.release("alice", ip(1)).await.unwrap();
    }
    assert_eq!(t.check("alice", ip(1)).await, Ok(()));
}

#[tokio::test]
async fn counters_expire_a_window_after_the_last_failure() {
    let (t, clock) = throttle(ThrottlePolicy::default());
    for _ in 0..5 {
        fail(&t, "alice", ip(1)).await;
    }
    assert_eq!(wait_of(t.check("alice", ip(1)).await), 1);
    clock.advance(12 * 3600 - 1);
    // Still counted just before the window ends: the sixth failure waits 1 s, the seventh 2 s.
    fail(&t, "alice", ip(1)).await;
    assert_eq!(wait_of(t.check("alice", ip(1)).await), 2);
    // A window after the last failure, the account starts afresh.
    clock.advance(12 * 3600);
    for _ in 0..5 {
        fail(&t, "alice", ip(1)).await;
    }
    assert_eq!(wait_of(t.check("alice", ip(1)).await), 1);
}

#[tokio::test]
async fn a_window_shorter_than_the_longest_wait_does_not_erase_the_count() {
    let policy = ThrottlePolicy {
        account: BackOff {
            free_failures: 1,
            base_delay: Duration::from_secs(100),
            max_delay: Duration::from_secs(100),
            window: Duration::from_secs(10),
        },
        ip: NEVER,
        max_entries: 16,
    };
    let (t, clock) = throttle(policy);
    fail(&t, "alice", ip(1)).await;
    assert_eq!(wait_of(t.check("alice", ip(1)).await), 100);
    clock.advance(100);
    fail(&t, "alice", ip(1)).await;
    // Had the 10 s window applied, the count would be gone and no wait due.
    assert_eq!(wait_of(t.check("alice", ip(1)).await), 100);
}

#[test]
fn debug_and_errors_name_no_account() {
    let t = LoginThrottle::memory(ThrottlePolicy::default());
    let debug = format!("{t:?}");
    assert!(debug.contains("memory"), "{debug}");
    rt().block_on(async {
        for _ in 0..6 {
            let _ = t.check("secret-user@example.com", ip(1)).await;
            let _ = t.record_failure("secret-user@example.com", ip(1)).await;
        }
        let err = t.check("secret-user@example.com", ip(1)).await.unwrap_err();
        assert!(!err.to_string().contains("secret-user"), "{err}");
    });
    assert!(!format!("{t:?}").contains("secret-user"));
    assert!(
        ThrottleError::Unavailable
            .to_string()
            .contains("unavailable")
    );
}
