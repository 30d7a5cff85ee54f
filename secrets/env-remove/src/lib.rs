//! Removes an environment variable from the current process, but only when that is sound.
//!
//! This is an internal helper of `paved-secrets` (its `from_env` loader reads a secret and then
//! removes the variable). It exists as a separate crate for one reason: since Rust 2024,
//! [`std::env::remove_var`] is an `unsafe fn`, and `paved-secrets` forbids `unsafe` code. The
//! function is not unsafe by accident: on Unix, libc's `getenv` is not synchronised with
//! `unsetenv`, so removing a variable while another thread (including C code such as
//! `getaddrinfo` or `localtime`) reads the environment is a data race.
//!
//! The honest way to call it without a caller-side `unsafe` is to *prove* the precondition at
//! run time: on Linux this crate reads the thread count of the process from
//! `/proc/self/status` and removes the variable only when the calling thread is the only
//! thread. A process with one thread cannot have a concurrent reader, and no new thread can
//! appear while this thread is busy calling us. When the count is above one, or cannot be read,
//! nothing is removed and an error says why (fail closed). On Windows, where the standard
//! library documents the call as always safe, the variable is removed directly. Elsewhere the
//! call is refused.
//!
//! (A crate on edition 2021 could call `remove_var` with no `unsafe` token at all, because the
//! older editions keep its old safe signature. That would satisfy the lint without satisfying
//! the contract, so it is deliberately not done here.)
//!
//! Audit surface: exactly one `#[allow(unsafe_code)]`, in [`remove_var`].

use std::fmt;

/// Why a variable was not removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoveVarError {
    /// The name is empty, contains `=` or NUL (the standard library would panic on it).
    InvalidName,
    /// Other threads are running, so removal could race with a concurrent reader.
    OtherThreadsRunning {
        /// The number of threads the process had, including the calling one.
        threads: usize,
    },
    /// The thread count could not be read (for example `/proc` is not mounted).
    ThreadCountUnknown,
    /// This platform offers no way to prove the call sound.
    Unsupported,
}

impl fmt::Display for RemoveVarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName => f.write_str("invalid environment variable name"),
            Self::OtherThreadsRunning { threads } => write!(
                f,
                "{threads} threads are running; an environment variable can only be removed \
                 safely while the process has a single thread"
            ),
            Self::ThreadCountUnknown => {
                f.write_str("cannot tell whether other threads are running (is /proc mounted?)")
            }
            Self::Unsupported => {
                f.write_str("removing environment variables is not supported on this platform")
            }
        }
    }
}

impl std::error::Error for RemoveVarError {}

/// Removes `name` from the process environment if the process is single-threaded.
///
/// Removing a variable that is not set succeeds.
///
/// # Errors
///
/// [`RemoveVarError`] when the name is invalid, when other threads are running, when the thread
/// count cannot be read, or on platforms other than Linux and Windows. Nothing is removed then.
pub fn remove_var(name: &str) -> Result<(), RemoveVarError> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(RemoveVarError::InvalidName);
    }
    ensure_sound()?;
    #[allow(unsafe_code)]
    // SAFETY: `std::env::remove_var` requires that no other thread reads or writes the
    // environment concurrently. `ensure_sound` returned `Ok`: on Linux the process had exactly
    // one thread (this one) when it was checked, and only this thread could have created
    // another since, which it did not; on Windows the standard library documents the call as
    // always safe. The name was validated above, so the call cannot panic either.
    unsafe {
        std::env::remove_var(name);
    }
    Ok(())
}

/// Returns the number of threads of this process, if the platform can tell.
///
/// # Errors
///
/// [`RemoveVarError::ThreadCountUnknown`] when `/proc/self/status` is missing or unreadable,
/// [`RemoveVarError::Unsupported`] on platforms other than Linux.
pub fn thread_count() -> Result<usize, RemoveVarError> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|_| RemoveVarError::ThreadCountUnknown)?;
        parse_thread_count(&status).ok_or(RemoveVarError::ThreadCountUnknown)
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(RemoveVarError::Unsupported)
    }
}

#[cfg(target_os = "linux")]
fn ensure_sound() -> Result<(), RemoveVarError> {
    match thread_count()? {
        1 => Ok(()),
        threads => Err(RemoveVarError::OtherThreadsRunning { threads }),
    }
}

#[cfg(windows)]
fn ensure_sound() -> Result<(), RemoveVarError> {
    Ok(())
}

#[cfg(not(any(target_os = "linux", windows)))]
fn ensure_sound() -> Result<(), RemoveVarError> {
    Err(RemoveVarError::Unsupported)
}

/// Reads the `Threads:` field of a `/proc/<pid>/status` document.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_thread_count(status: &str) -> Option<usize> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|value| value.trim().parse().ok())
        .filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_threads_field() {
        let status = "Name:\tx\nUmask:\t0022\nThreads:\t7\nSigQ:\t0/1\n";
        assert_eq!(parse_thread_count(status), Some(7));
        assert_eq!(parse_thread_count("Name:\tx\n"), None);
        assert_eq!(parse_thread_count("Threads:\tmany\n"), None);
        assert_eq!(parse_thread_count("Threads:\t0\n"), None);
    }

    #[test]
    fn invalid_names_are_refused_before_anything_else() {
        for name in ["", "A=B", "A\0B", "="] {
            assert_eq!(remove_var(name), Err(RemoveVarError::InvalidName));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn refuses_while_the_test_harness_runs_other_threads() {
        // libtest runs each test on its own thread, so the main thread is also alive.
        let threads = thread_count().unwrap();
        assert!(
            threads >= 2,
            "expected the harness thread and this one, got {threads}"
        );
        assert!(matches!(
            remove_var("PAVED_ENV_REMOVE_NOT_SET"),
            Err(RemoveVarError::OtherThreadsRunning { .. })
        ));
    }
}
