//! `LoginThrottle`: failed password attempts limited per account and per client address, with
//! exponential back-off (ASVS 5.0 V6.3.1, documented as V6.1.1 asks; NIST SP 800-63B §5.2.2).
//!
//! An online guessing attack sends many passwords for one account (brute force) or one
//! password each for many accounts (password spraying, credential stuffing). Two counters
//! answer both: one per account, one per client address (IPv6 grouped by /64, since one host
//! usually holds a whole /64). Each allows a number of free failures, then makes the next
//! attempt wait `base · 2^(failures − free)`, capped, and is forgotten a while after the last
//! failure. Both counters live in memory ([`LoginThrottle::memory`], one process) or in Redis
//! (`LoginThrottle::redis`, feature `redis`: several instances behind a load balancer throttle
//! as one, so guesses spread over instances gain nothing).
//!
//! # Use
//! Ask [`check`](LoginThrottle::check) before verifying the password, then report the outcome.
//! Record failures for unknown accounts too: otherwise the throttle itself reveals which
//! accounts exist (a real account starts answering 429, an unknown one never does).
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use paved_crypto::{LoginThrottle, ThrottleError, ThrottlePolicy};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ThrottleError> {
//! let throttle = LoginThrottle::memory(ThrottlePolicy::default());
//! let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));
//! for _ in 0..5 {
//!     throttle.check("alice", ip).await?; // then verify the password: wrong
//!     throttle.record_failure("alice", ip).await?;
//! }
//! // The sixth attempt must wait (answer 429 with `Retry-After`, the same page for every
//! // account, known or not).
//! match throttle.check("Alice", ip).await {
//!     Err(ThrottleError::Throttled { retry_after }) => assert_eq!(retry_after.as_secs(), 1),
//!     other => panic!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! # Parallel guesses
//! [`check`](LoginThrottle::check) counts the attempt at once as *pending*, and a pending
//! attempt counts as a failure until its outcome is recorded. Otherwise a burst of parallel
//! requests would all pass one check before any failure is recorded, and an attacker would get
//! a burst of guesses per back-off period instead of one. An attempt whose outcome is never
//! recorded (the client went away mid-request) stays counted as a failure until the counter
//! expires: the throttle errs on the side of the defender.
//!
//! # Lockout as a denial of service
//! Anyone may fail logins for an account they do not own, so a per-account counter lets an
//! attacker slow its owner down (OWASP Authentication Cheat Sheet, "Account Lockout"). The
//! back-off keeps that bounded: the wait never exceeds [`BackOff::max_delay`] (15 minutes by
//! default), the account is never locked for good, and a success clears the account's
//! counter. Applications that need more can add a second factor or a CAPTCHA after the free
//! failures, as NIST SP 800-63B §5.2.2 suggests.
//!
//! # What is stored
//! Never an account name or an address: the key is SHA-256 over a domain label and the
//! normalised name (or address group), so a Redis dump lists no user names. A SHA-256 of a
//! guessable name can still be confirmed by someone who guesses it; where that matters, key the
//! names with an [`Hmac`] from the application's key ring
//! ([`with_name_key`](LoginThrottle::with_name_key)), the same key on every instance.

mod memory;
#[cfg(feature = "redis")]
mod redis;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ring::digest;
use unicode_normalization::UnicodeNormalization as _;

use crate::{Clock, Hmac, SystemClock};

#[cfg(feature = "redis")]
pub use self::redis::DEFAULT_REDIS_TIMEOUT;

/// Exponential back-off for one kind of counter (accounts or client addresses).
///
/// After `free_failures` failures, the next attempt waits `base_delay`; each further failure
/// doubles the wait, up to `max_delay`. The counter is forgotten `window` after the last
/// failure. Times are whole seconds (the [`Clock`]'s resolution); a `window` shorter than
/// `max_delay` is treated as `max_delay`, since otherwise waiting out the longest delay would
/// also erase the count and restart the free failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackOff {
    /// Failures allowed before any wait.
    pub free_failures: u32,
    /// The first wait.
    pub base_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// How long after the last failure the counter is forgotten.
    pub window: Duration,
}

impl BackOff {
    /// Per account: 5 free failures (the rack-attack README's login example allows 5 attempts
    /// per e-mail address), then 1 s doubling up to 15 minutes (Keycloak's brute-force
    /// detection: maximum wait 15 minutes), forgotten 12 hours after the last failure
    /// (Keycloak's failure reset time). At the cap an attacker gets 4 guesses an hour on one
    /// account (96 a day) while the owner waits at most 15 minutes. This is a rate limit, not
    /// NIST SP 800-63B §5.2.2's cap of 100 *consecutive* failures per account (after which a
    /// step-up such as a CAPTCHA or a reset is required): an attacker who keeps guessing keeps
    /// the counter alive and passes 100 failures after about a day. The step-up is the
    /// application's; the failure count it needs is what this throttle keeps.
    pub const ACCOUNT: Self = Self {
        free_failures: 5,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
        window: Duration::from_secs(12 * 60 * 60),
    };

    /// Per client address (IPv4 address, or IPv6 /64): 100 free failures (the number NIST
    /// SP 800-63B §5.2.2 uses for one account, here the budget of a whole address, so an
    /// office or a carrier-grade NAT has room for many users' typos), then the same back-off as an
    /// account, forgotten 1 hour after the last failure. This is what slows password spraying,
    /// where every account sees only a few failures.
    pub const IP: Self = Self {
        free_failures: 100,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(15 * 60),
        window: Duration::from_secs(60 * 60),
    };

    fn rule(&self) -> Rule {
        let base = secs_ceil(self.base_delay);
        let max = secs_ceil(self.max_delay).max(base);
        Rule {
            free: u64::from(self.free_failures),
            base,
            max,
            window: secs_ceil(self.window).max(max).max(1),
        }
    }
}

/// How failed logins are throttled. `Default` is [`BackOff::ACCOUNT`], [`BackOff::IP`] and
/// [`DEFAULT_MAX_ENTRIES`](Self::DEFAULT_MAX_ENTRIES).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Back-off per account name.
    pub account: BackOff,
    /// Back-off per client address (IPv6 grouped by /64).
    pub ip: BackOff,
    /// The memory backend's bound: accounts tracked, and separately addresses tracked. An
    /// attacker sending random user names fills it; then the entries with the fewest failures
    /// (oldest first) make room, so an account under attack keeps its count.
    pub max_entries: usize,
}

impl ThrottlePolicy {
    /// 65 536 entries per table: about 100 bytes each with the hash table's overhead, so
    /// under 16 MiB for both tables, and far more accounts than fail logins at once on one
    /// instance.
    pub const DEFAULT_MAX_ENTRIES: usize = 1 << 16;
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account: BackOff::ACCOUNT,
            ip: BackOff::IP,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
        }
    }
}

/// Why a login attempt may not go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThrottleError {
    /// This account or this client address must wait (answer 429 with `Retry-After`, the same
    /// response whether the account exists or not).
    Throttled {
        /// How long until the next attempt is allowed (at least 1 s).
        retry_after: Duration,
    },
    /// The throttle's store did not answer in time (Redis down or hung). Logins are refused
    /// (answer 503 with `Retry-After`): failing open would hand an attacker unlimited guesses
    /// whenever they can make the store slow.
    Unavailable,
}

impl fmt::Display for ThrottleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Throttled { retry_after } => write!(
                f,
                "too many failed logins for this account or client address; retry after {} s",
                retry_after.as_secs()
            ),
            Self::Unavailable => f.write_str(
                "the login throttle's store is unavailable; logins are refused until it is back",
            ),
        }
    }
}

impl std::error::Error for ThrottleError {}

/// Limits failed password attempts per account and per client address (see the
/// [module documentation](self)). Cheap to clone; clones share their counters.
#[derive(Clone)]
pub struct LoginThrottle {
    rules: Rules,
    max_entries: usize,
    clock: Option<Arc<dyn Clock>>,
    name_key: Option<Arc<Hmac>>,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Memory(Arc<memory::Memory>),
    #[cfg(feature = "redis")]
    Redis(Arc<redis::RedisBackend>),
}

impl fmt::Debug for LoginThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let backend = match &self.backend {
            Backend::Memory(_) => "memory",
            #[cfg(feature = "redis")]
            Backend::Redis(_) => "redis",
        };
        f.debug_struct("LoginThrottle")
            .field("backend", &backend)
            .field("account", &self.rules.account)
            .field("ip", &self.rules.ip)
            .field("max_entries", &self.max_entries)
            .field("keyed_names", &self.name_key.is_some())
            .finish_non_exhaustive()
    }
}

impl LoginThrottle {
    /// Counters in this process's memory, at most `policy.max_entries` accounts and as many
    /// addresses. For one instance; behind a load balancer use the Redis backend.
    #[must_use]
    pub fn memory(policy: ThrottlePolicy) -> Self {
        Self {
            rules: Rules::from(&policy),
            max_entries: policy.max_entries.max(1),
            clock: None,
            name_key: None,
            backend: Backend::Memory(Arc::new(memory::Memory::new(policy.max_entries.max(1)))),
        }
    }

    /// Counters in Redis under `{namespace}:…`, shared by every instance that uses the same
    /// Redis and namespace. Each update is one Lua script (atomic); each call gives up after
    /// [`DEFAULT_REDIS_TIMEOUT`] (see [`redis_timeout`](Self::redis_timeout)) and returns
    /// [`ThrottleError::Unavailable`].
    ///
    /// `pool` must be initialised (`init().await`) and should have a reconnect policy, so that
    /// the throttle works again by itself once Redis is back. Times come from the Redis
    /// server's clock (`TIME`), so instances with skewed clocks still agree; `with_clock`
    /// overrides that. The braces in the key names put both of an attempt's keys in one Redis
    /// Cluster hash slot.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis(pool: fred::clients::Pool, namespace: &str, policy: ThrottlePolicy) -> Self {
        Self {
            rules: Rules::from(&policy),
            max_entries: policy.max_entries.max(1),
            clock: None,
            name_key: None,
            backend: Backend::Redis(Arc::new(redis::RedisBackend::new(
                pool,
                namespace,
                DEFAULT_REDIS_TIMEOUT,
            ))),
        }
    }

    /// Sets how long one Redis call may take before the attempt is refused with
    /// [`ThrottleError::Unavailable`] (no effect on the memory backend).
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis_timeout(mut self, timeout: Duration) -> Self {
        if let Backend::Redis(backend) = &self.backend {
            self.backend = Backend::Redis(Arc::new(backend.with_timeout(timeout)));
        }
        self
    }

    /// Takes the time from `clock` (tests; the default is the system clock, or Redis's clock
    /// for the Redis backend).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Keys account names and addresses with `key` (HMAC-SHA256) instead of plain SHA-256, so
    /// a copy of the store cannot be checked against a list of likely user names. Every
    /// instance sharing a Redis must use the same key.
    #[must_use]
    pub fn with_name_key(mut self, key: Hmac) -> Self {
        self.name_key = Some(Arc::new(key));
        self
    }

    /// Accounts plus addresses the memory backend tracks now (`None` for Redis): for metrics,
    /// and for checking the bound.
    #[must_use]
    pub fn tracked_entries(&self) -> Option<usize> {
        match &self.backend {
            Backend::Memory(memory) => Some(memory.len()),
            #[cfg(feature = "redis")]
            Backend::Redis(_) => None,
        }
    }

    /// Call before verifying a password. When allowed, the attempt is counted as pending
    /// (a failure until its outcome is recorded; see the module documentation).
    ///
    /// # Errors
    /// [`ThrottleError::Throttled`] when this account or this address must wait (nothing is
    /// counted then); [`ThrottleError::Unavailable`] when Redis does not answer in time.
    pub async fn check(&self, account: &str, ip: IpAddr) -> Result<(), ThrottleError> {
        self.run(Op::Check, account, ip).await
    }

    /// The password was wrong, or the account does not exist: the pending attempt becomes a
    /// failure of both the account and the address.
    ///
    /// # Errors
    /// [`ThrottleError::Unavailable`] when Redis does not answer in time (the attempt then
    /// stays counted as pending, which weighs the same).
    pub async fn record_failure(&self, account: &str, ip: IpAddr) -> Result<(), ThrottleError> {
        self.run(Op::Failure, account, ip).await
    }

    /// The password was right: clears the account's counter. The address's counter keeps its
    /// failures (a spraying attacker who guesses one account right must not get a fresh budget
    /// for the others); only the pending attempt is taken back.
    ///
    /// # Errors
    /// [`ThrottleError::Unavailable`] when Redis does not answer in time.
    pub async fn record_success(&self, account: &str, ip: IpAddr) -> Result<(), ThrottleError> {
        self.run(Op::Success, account, ip).await
    }

    /// No password was tried after all (the hashing pool refused the attempt with 503): takes
    /// the pending attempt back from both counters.
    ///
    /// # Errors
    /// [`ThrottleError::Unavailable`] when Redis does not answer in time.
    pub async fn release(&self, account: &str, ip: IpAddr) -> Result<(), ThrottleError> {
        self.run(Op::Release, account, ip).await
    }

    // Without the `redis` feature nothing here awaits; the methods stay async for the backends.
    #[cfg_attr(not(feature = "redis"), allow(clippy::unused_async))]
    async fn run(&self, op: Op, account: &str, ip: IpAddr) -> Result<(), ThrottleError> {
        let keys = Keys {
            account: self.subject_key(ACCOUNT_DOMAIN, normalise_account(account).as_bytes()),
            ip: self.subject_key(IP_DOMAIN, &ip_group(ip)),
        };
        let wait = match &self.backend {
            Backend::Memory(memory) => {
                let now = self
                    .clock
                    .as_ref()
                    .map_or_else(|| SystemClock.now_unix(), |c| c.now_unix());
                memory.apply(op, &keys, &self.rules, now)
            }
            #[cfg(feature = "redis")]
            Backend::Redis(redis) => {
                let now = self.clock.as_ref().map(|c| c.now_unix());
                redis.apply(op, &keys, &self.rules, now).await?
            }
        };
        if wait == 0 {
            Ok(())
        } else {
            Err(ThrottleError::Throttled {
                retry_after: Duration::from_secs(wait),
            })
        }
    }

    fn subject_key(&self, domain: &[u8], subject: &[u8]) -> [u8; 32] {
        let mut message = Vec::with_capacity(domain.len() + 1 + subject.len());
        message.extend_from_slice(domain);
        message.push(0);
        message.extend_from_slice(subject);
        let digest = match &self.name_key {
            Some(key) => digest::digest(&digest::SHA256, key.sign(&message).as_bytes()),
            None => digest::digest(&digest::SHA256, &message),
        };
        let mut out = [0; 32];
        out.copy_from_slice(digest.as_ref());
        out
    }
}

const ACCOUNT_DOMAIN: &[u8] = b"paved-crypto/throttle/account/v1";
const IP_DOMAIN: &[u8] = b"paved-crypto/throttle/ip/v1";

/// The name as the user table compares it, or looser: trimmed, ASCII-lower-cased (all that
/// `SQLite`'s `NOCASE` folds), then NFKC and full lower-casing. The ASCII step comes first:
/// NFKC composes `j` + U+030C into `ǰ` but leaves `J` + U+030C apart, so two spellings one
/// table row matches would otherwise count separately. Folding more than the table merges
/// some distinct accounts' counters, which only throttles sooner.
fn normalise_account(account: &str) -> String {
    account
        .trim()
        .to_ascii_lowercase()
        .nfkc()
        .collect::<String>()
        .to_lowercase()
}

/// An IPv4 address as is (an IPv4-mapped IPv6 address counts as its IPv4 address); an IPv6
/// address by its /64, the smallest block a site or a host is usually assigned (RFC 6177,
/// RFC 7421), so an attacker cannot rotate through the 2^64 addresses of one allocation.
fn ip_group(ip: IpAddr) -> Vec<u8> {
    let v4 = match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    };
    match (v4, ip) {
        (Some(v4), _) => [&[4][..], &v4.octets()].concat(),
        (None, IpAddr::V6(v6)) => [&[6][..], &v6.octets()[..8]].concat(),
        (None, IpAddr::V4(_)) => Vec::new(), // unreachable: a V4 address always maps
    }
}

fn secs_ceil(d: Duration) -> u64 {
    d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0))
}

/// What one call does to the two counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Check,
    Failure,
    Success,
    Release,
}

/// The two counters' keys for one attempt.
struct Keys {
    account: [u8; 32],
    ip: [u8; 32],
}

/// A [`BackOff`] in whole seconds, window already at least `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rule {
    free: u64,
    base: u64,
    max: u64,
    window: u64,
}

impl Rule {
    /// The wait after `n` failures (pending attempts included).
    fn delay(&self, n: u64) -> u64 {
        // No failure, no wait, even with no free failures at all.
        if n == 0 || n < self.free {
            return 0;
        }
        let doublings = n - self.free;
        if doublings >= 63 {
            return self.max;
        }
        self.base.saturating_mul(1 << doublings).min(self.max)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rules {
    account: Rule,
    ip: Rule,
}

impl From<&ThrottlePolicy> for Rules {
    fn from(policy: &ThrottlePolicy) -> Self {
        Self {
            account: policy.account.rule(),
            ip: policy.ip.rule(),
        }
    }
}

/// One counter: failures, attempts checked but not yet reported, and the time of the last of
/// either (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Counter {
    failures: u64,
    pending: u64,
    last: u64,
}

impl Counter {
    fn expired(&self, rule: &Rule, now: u64) -> bool {
        now >= self.last.saturating_add(rule.window)
    }

    /// Seconds until the next attempt is allowed (0: now).
    fn wait(&self, rule: &Rule, now: u64) -> u64 {
        if self.expired(rule, now) {
            return 0;
        }
        let until = self
            .last
            .saturating_add(rule.delay(self.failures.saturating_add(self.pending)));
        until.saturating_sub(now)
    }

    fn weight(&self) -> u64 {
        self.failures.saturating_add(self.pending)
    }
}
