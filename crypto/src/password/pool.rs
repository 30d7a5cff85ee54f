//! `HashingPool`: bounded password hashing for async servers (PW-10).

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use paved_secrets::SecretString;
use tokio::sync::oneshot;

use super::hasher::{PasswordHash, PasswordHasher, Scratch, Verified};
use crate::{Error, Overloaded, VerifyError};

/// Default queue length: requests that wait for a hashing slot before new ones are refused.
pub const DEFAULT_QUEUE: usize = 64;

/// Default `Retry-After` for refused requests.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// Runs Argon2 off the async executor with bounded concurrency and a bounded queue.
///
/// Argon2id at the default policy takes ~20 ms of CPU and 19 MiB of memory per call. Run
/// unbounded on an async server, a login storm either stalls the executor or allocates
/// `19 MiB × concurrent logins` until the process is killed. The pool owns `max_in_flight`
/// dedicated threads and a queue of `queue` jobs; a call beyond that fails at once with
/// [`Overloaded`] (answer 503 with `Retry-After`). Peak memory is therefore about
/// `max_in_flight × m_cost` however many logins arrive: the pool also refuses stored hashes
/// whose `m` is above the policy's (see [`max_stored_m_cost`](Self::max_stored_m_cost)), so a
/// planted hash cannot raise it. Dedicated threads (rather than the
/// runtime's shared blocking pool, which grows to hundreds of threads) each keep one Argon2
/// working buffer and reuse it, so the allocator never accumulates freed 19 MiB buffers; the
/// buffer is wiped after every hash (the direct [`PasswordHasher`] methods leave Argon2's memory
/// to the allocator, as the `argon2` crate does).
///
/// A running hash keeps its thread until it finishes, even if the request that asked for it is
/// cancelled (client gone, timeout), so cancellation never frees capacity early. A job still
/// waiting in the queue when its caller is cancelled is skipped: under a storm, clients that
/// gave up cost nothing.
///
/// ```
/// use paved_crypto::{HashingPool, PasswordHasher};
/// use paved_secrets::SecretString;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = HashingPool::new(PasswordHasher::default());
/// let stored = pool.hash(SecretString::from("tulip rocket violin ember")).await?;
/// let ok = pool.verify(SecretString::from("tulip rocket violin ember"), stored.into_string()).await?;
/// assert!(!ok.needs_rehash);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HashingPool {
    shared: Arc<Shared>,
}

struct Shared {
    hasher: Arc<PasswordHasher>,
    queue: Sender<Job>,
    /// Jobs queued or running; at most `max_in_flight + queue_len`.
    admitted: Arc<AtomicUsize>,
    max_in_flight: usize,
    queue_len: usize,
    retry_after: Duration,
    /// Largest Argon2 memory cost a stored hash may ask of a pool thread, KiB.
    max_m_cost: u32,
}

type Job = Box<dyn FnOnce(&PasswordHasher, &mut Scratch) + Send>;

impl fmt::Debug for HashingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashingPool")
            .field("max_in_flight", &self.shared.max_in_flight)
            .field("queue", &self.shared.queue_len)
            .finish_non_exhaustive()
    }
}

impl HashingPool {
    /// A pool with `max_in_flight` = the number of cores and a queue of [`DEFAULT_QUEUE`].
    #[must_use]
    pub fn new(hasher: PasswordHasher) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::with_limits(hasher, cores, DEFAULT_QUEUE)
    }

    /// A pool with explicit limits; `max_in_flight` is raised to at least 1. Starts
    /// `max_in_flight` threads, which end when the last clone of the pool is dropped.
    #[must_use]
    pub fn with_limits(hasher: PasswordHasher, max_in_flight: usize, queue: usize) -> Self {
        Self::build(hasher, max_in_flight, queue, DEFAULT_RETRY_AFTER)
    }

    fn build(
        hasher: PasswordHasher,
        max_in_flight: usize,
        queue_len: usize,
        retry_after: Duration,
    ) -> Self {
        let max_in_flight = max_in_flight.max(1);
        let max_m_cost = hasher.policy().m_cost();
        let hasher = Arc::new(hasher);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        for i in 0..max_in_flight {
            let jobs = Arc::clone(&jobs);
            let hasher = Arc::clone(&hasher);
            let spawned = std::thread::Builder::new()
                .name(format!("paved-hash-{i}"))
                .spawn(move || worker(&jobs, &hasher));
            if let Err(e) = spawned {
                tracing::error!(target: "paved_crypto::password", error = %e, "could not start a hashing thread");
            }
        }
        Self {
            shared: Arc::new(Shared {
                hasher,
                queue,
                admitted: Arc::new(AtomicUsize::new(0)),
                max_in_flight,
                queue_len,
                retry_after,
                max_m_cost,
            }),
        }
    }

    /// Raises the memory cost a stored hash may ask of a pool thread (default: the policy's
    /// `m_cost`; at most [`Ceilings::MAX_M_COST`](crate::Ceilings::MAX_M_COST)). Needed only
    /// while a table still holds hashes made with a larger `m` than the current policy; the
    /// memory bound becomes `max_in_flight × max_m_cost`.
    #[must_use]
    pub fn max_stored_m_cost(self, m_cost: u32) -> Self {
        self.rebuild(|shared| shared.max_m_cost = m_cost.min(crate::Ceilings::MAX_M_COST))
    }

    fn rebuild(self, change: impl FnOnce(&mut Shared)) -> Self {
        let s = &self.shared;
        let mut shared = Shared {
            hasher: Arc::clone(&s.hasher),
            queue: s.queue.clone(),
            admitted: Arc::clone(&s.admitted),
            max_in_flight: s.max_in_flight,
            queue_len: s.queue_len,
            retry_after: s.retry_after,
            max_m_cost: s.max_m_cost,
        };
        change(&mut shared);
        Self {
            shared: Arc::new(shared),
        }
    }

    /// Sets the `Retry-After` that [`Overloaded`] reports.
    #[must_use]
    pub fn retry_after(self, retry_after: Duration) -> Self {
        self.rebuild(|shared| shared.retry_after = retry_after)
    }

    /// The hasher the pool runs.
    #[must_use]
    pub fn hasher(&self) -> &PasswordHasher {
        &self.shared.hasher
    }

    /// [`PasswordHasher::hash`] on a pool thread.
    ///
    /// # Errors
    /// [`Error::Overloaded`] when the pool and its queue are full; otherwise as `hash`.
    pub async fn hash(&self, password: SecretString) -> Result<PasswordHash, Error> {
        self.run(move |h, m| h.hash_in(&password, Some(m)))
            .await
            .map_err(Error::Overloaded)?
            .unwrap_or(Err(Error::Internal("hashing thread failed")))
    }

    /// [`PasswordHasher::verify`] on a pool thread.
    ///
    /// # Errors
    /// [`VerifyError::Overloaded`] when the pool and its queue are full; otherwise as `verify`.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: String,
    ) -> Result<Verified, VerifyError> {
        let max_m_cost = self.shared.max_m_cost;
        self.run(move |h, m| h.verify_in(&password, &stored, max_m_cost, Some(m)))
            .await
            .map_err(VerifyError::Overloaded)?
            .unwrap_or(Err(VerifyError::Internal("hashing thread failed")))
    }

    /// [`PasswordHasher::dummy_verify`] on a pool thread: the same queueing and work as a real
    /// verify, for unknown user names (PW-08).
    ///
    /// # Errors
    /// Always an error: [`VerifyError::WrongPassword`], or [`VerifyError::Overloaded`].
    pub async fn dummy_verify(&self, password: SecretString) -> Result<Verified, VerifyError> {
        self.run(move |h, m| h.dummy_verify_in(&password, Some(m)))
            .await
            .map_err(VerifyError::Overloaded)?
            .unwrap_or(Err(VerifyError::Internal("hashing thread failed")))
    }

    /// Queues the job or refuses it at once. `Ok(None)` if the job panicked.
    async fn run<T, F>(&self, job: F) -> Result<Option<T>, Overloaded>
    where
        F: FnOnce(&PasswordHasher, &mut Scratch) -> T + Send + 'static,
        T: Send + 'static,
    {
        let overloaded = Overloaded {
            retry_after: self.shared.retry_after,
        };
        let ticket = Ticket::take(
            &self.shared.admitted,
            self.shared
                .max_in_flight
                .saturating_add(self.shared.queue_len),
        )
        .ok_or(overloaded)?;
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |hasher, scratch| {
            // The caller was cancelled while the job waited: skip the work.
            if reply.is_closed() {
                drop(ticket);
                return;
            }
            let result = job(hasher, scratch);
            // The slot is free before the caller hears back: a caller that submits again at
            // once (a rehash after a verify) must not be refused by its own finished job.
            drop(ticket);
            let _ = reply.send(result);
        });
        self.shared.queue.send(job).map_err(|_| overloaded)?;
        Ok(answer.await.ok())
    }
}

/// One admitted job; the count goes down when the job is done, skipped or dropped.
struct Ticket(Arc<AtomicUsize>);

impl Ticket {
    fn take(admitted: &Arc<AtomicUsize>, capacity: usize) -> Option<Self> {
        admitted
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(Arc::clone(admitted)))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One pool thread: takes jobs until the pool is dropped. A panicking job is contained so the
/// pool keeps its capacity.
fn worker(jobs: &Mutex<Receiver<Job>>, hasher: &PasswordHasher) {
    let mut scratch = Scratch::for_policy(hasher.policy());
    loop {
        let next = match jobs.lock() {
            Ok(queue) => queue.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else { return };
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(hasher, &mut scratch))).is_err() {
            tracing::error!(target: "paved_crypto::password", "a hashing job panicked");
        }
    }
}
