//! Process hardening: keep secrets out of core dumps and away from same-user debuggers (SE-08).

use crate::error::Error;
#[cfg(target_os = "linux")]
use crate::error::HardenStep;

/// What [`harden_process`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hardening {
    /// Both steps were applied: the process is not dumpable and its core size limit is 0.
    Applied,
    /// Nothing was done: this platform is not Linux. The call is a successful no-op there so
    /// that portable code can call it unconditionally; check for this value if you need the
    /// protection.
    Unsupported,
}

/// Makes the process non-dumpable and disables core dumps.
///
/// On Linux:
/// - `prctl(PR_SET_DUMPABLE, 0)`: no core dump is written, `/proc/self/{mem,environ,…}` become
///   owned by root, and other processes of the same user cannot `ptrace` (attach a debugger to)
///   this one. Side effect: profilers and debuggers that attach to a running process need
///   root.
/// - `setrlimit(RLIMIT_CORE, 0, 0)`: the core size limit is 0, soft *and* hard, so it survives
///   a later `PR_SET_DUMPABLE` reset (the kernel resets dumpability on `execve` and on some
///   credential changes) and cannot be raised again without `CAP_SYS_RESOURCE`.
///
/// Both steps are attempted even if the first fails. Call it first thing in `main`. It uses
/// `rustix`, so there is no `unsafe` here.
///
/// # Errors
///
/// [`Error::Harden`] naming the first step that failed (the other was still applied).
///
/// # Examples
///
/// ```
/// use paved_secrets::{harden_process, Hardening};
///
/// match harden_process()? {
///     Hardening::Applied => {}
///     Hardening::Unsupported => eprintln!("not Linux: no core-dump protection"),
///     _ => {}
/// }
/// # Ok::<(), paved_secrets::Error>(())
/// ```
pub fn harden_process() -> Result<Hardening, Error> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{DumpableBehavior, Resource, Rlimit};

        let dumpable = rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable);
        let core = rustix::process::setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
        if let Err(errno) = dumpable {
            return Err(Error::Harden {
                step: HardenStep::NotDumpable,
                errno: errno.raw_os_error(),
            });
        }
        if let Err(errno) = core {
            return Err(Error::Harden {
                step: HardenStep::NoCoreDumps,
                errno: errno.raw_os_error(),
            });
        }
        tracing::debug!("process hardened: not dumpable, core dumps disabled");
        Ok(Hardening::Applied)
    }
    #[cfg(not(target_os = "linux"))]
    {
        tracing::debug!("harden_process: not Linux, nothing done");
        Ok(Hardening::Unsupported)
    }
}
