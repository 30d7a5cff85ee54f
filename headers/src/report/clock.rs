use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A monotonic clock for the report collector's rate limiter (injectable so tests can move time
/// without sleeping).
pub trait Clock: Send + Sync + 'static {
    /// Time elapsed since an arbitrary fixed origin; never decreases.
    fn now(&self) -> Duration;
}

/// The real clock ([`Instant`]).
#[derive(Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    #[must_use]
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MonotonicClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MonotonicClock")
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that only moves when told to (for tests).
#[derive(Debug, Default)]
pub struct ManualClock {
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at time zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let add = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(add))
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// Token bucket: `rate` tokens per second, at most `burst` stored.
#[derive(Debug)]
pub(crate) struct Bucket {
    tokens: f64,
    last: Duration,
}

impl Bucket {
    pub(crate) fn full(burst: u32) -> Self {
        Self {
            tokens: f64::from(burst),
            last: Duration::ZERO,
        }
    }

    pub(crate) fn try_take(&mut self, now: Duration, rate: u32, burst: u32) -> bool {
        let elapsed = now.saturating_sub(self.last).as_secs_f64();
        self.tokens = elapsed
            .mul_add(f64::from(rate), self.tokens)
            .min(f64::from(burst));
        if now > self.last {
            self.last = now;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_rate() {
        let mut b = Bucket::full(2);
        let t0 = Duration::ZERO;
        assert!(b.try_take(t0, 1, 2));
        assert!(b.try_take(t0, 1, 2));
        assert!(!b.try_take(t0, 1, 2));
        assert!(!b.try_take(Duration::from_millis(500), 1, 2));
        assert!(b.try_take(Duration::from_secs(1), 1, 2));
        // Long idle never stores more than the burst.
        let late = Duration::from_secs(3600);
        assert!(b.try_take(late, 1, 2));
        assert!(b.try_take(late, 1, 2));
        assert!(!b.try_take(late, 1, 2));
    }

    #[test]
    fn manual_clock() {
        let c = ManualClock::new();
        c.advance(Duration::from_secs(2));
        assert_eq!(c.now(), Duration::from_secs(2));
        c.advance(Duration::MAX);
        assert_eq!(c.now(), Duration::from_nanos(u64::MAX));
    }
}
