//! SE-08: `harden_process`. In its own test binary: it changes the process for good.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paved_secrets::{Hardening, harden_process};

#[cfg(target_os = "linux")]
#[test]
fn se_08_harden_process_disables_core_dumps_and_dumpability() {
    use rustix::process::{DumpableBehavior, Resource, dumpable_behavior, getrlimit};

    assert_eq!(harden_process().unwrap(), Hardening::Applied);
    assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
    let core = getrlimit(Resource::Core);
    assert_eq!(core.current, Some(0), "soft core limit");
    assert_eq!(
        core.maximum,
        Some(0),
        "hard core limit, so it cannot be raised again"
    );
    // Idempotent.
    assert_eq!(harden_process().unwrap(), Hardening::Applied);
}

#[cfg(not(target_os = "linux"))]
#[test]
fn se_08_harden_process_is_a_documented_no_op_elsewhere() {
    assert_eq!(harden_process().unwrap(), Hardening::Unsupported);
}
