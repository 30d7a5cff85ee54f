//! SE-03 (`from_env` reads then removes) and SE-05 (`$CREDENTIALS_DIRECTORY`), with the real
//! process environment.
//!
//! `harness = false`: removing a variable needs a single-threaded process, and setting one in
//! a test needs `unsafe` (forbidden), so every scenario runs in a fresh child process whose
//! environment the parent prepares (see `support::runner`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use paved_secrets::{
    Error, ExposeSecret, InvalidSource, KeyRing, LoadFailure, LoadOptions, SecretBytes,
    SecretSource, SecretString,
};
use support::runner::{Case, main_with, no_setup, thread_count};

const VAR: &str = "PAVED_TEST_TOKEN";
const VALUE: &str = "env-secret-value-0123456789";
const NOISY_VARS: usize = 24;

fn set_token(command: &mut Command, _: &Path) {
    command.env(VAR, VALUE);
}

fn failure<T: std::fmt::Debug>(result: Result<T, Error>) -> (String, LoadFailure) {
    match result {
        Err(e @ Error::Load { .. }) => {
            let text = format!("{e} | {e:?}");
            let Error::Load { reason, .. } = e else {
                unreachable!()
            };
            (text, reason)
        }
        other => panic!("expected a load failure, got {other:?}"),
    }
}

fn se_03_from_env_reads_then_removes_the_variable() {
    let secret = SecretString::from_env(VAR).unwrap();
    assert_eq!(secret.expose_secret(), VALUE);
    assert!(
        std::env::var_os(VAR).is_none(),
        "removed from the environment"
    );
    // Child processes no longer inherit it.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("printf %s \"${{{VAR}-unset}}\""))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "unset");
    // A second read finds nothing.
    let (text, reason) = failure(SecretString::from_env(VAR));
    assert!(matches!(reason, LoadFailure::NotFound));
    assert!(text.contains("env:PAVED_TEST_TOKEN"), "{text}");
}

/// The caveat the docs state: `/proc/self/environ` shows the environment the process started
/// with, and removal cannot erase it. If this ever fails, the docs can be made stronger.
fn se_03_documented_caveat_proc_self_environ_keeps_the_original() {
    let _secret = SecretString::from_env(VAR).unwrap();
    assert!(std::env::var_os(VAR).is_none());
    let environ = std::fs::read("/proc/self/environ").unwrap();
    let needle = format!("{VAR}={VALUE}");
    assert!(
        environ
            .windows(needle.len())
            .any(|w| w == needle.as_bytes()),
        "expected the original environment block to still hold the value"
    );
}

fn se_03_from_env_refuses_while_other_threads_run() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || rx.recv().ok());
    let (text, reason) = failure(SecretString::from_env(VAR));
    assert!(
        matches!(reason, LoadFailure::OtherThreadsRunning { threads: 2 }),
        "{text}"
    );
    assert!(text.contains("env:PAVED_TEST_TOKEN") && text.contains("before starting threads"));
    assert!(!text.contains(VALUE), "{text}");
    assert!(
        std::env::var_os(VAR).is_some(),
        "nothing removed when refusing"
    );
    // The named escape hatch reads without removing.
    let kept = SecretSource::env(VAR)
        .unwrap()
        .load_string_with(&LoadOptions::new().dangerous_keep_env_var())
        .unwrap();
    assert_eq!(kept.expose_secret(), VALUE);
    assert!(std::env::var_os(VAR).is_some());
    // Once the process is single-threaded again, removal works.
    tx.send(()).unwrap();
    worker.join().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while thread_count() > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(SecretString::from_env(VAR).unwrap().expose_secret(), VALUE);
    assert!(std::env::var_os(VAR).is_none());
}

fn set_odd_values(command: &mut Command, _: &Path) {
    command
        .env("PAVED_EMPTY", "")
        .env(
            "PAVED_NOT_UTF8",
            OsString::from_vec(vec![0xff, 0xfe, b'a', b'b']),
        )
        .env(
            "PAVED_NOT_UTF8_BYTES",
            OsString::from_vec(vec![0xff, 0xfe, b'a', b'b']),
        )
        .env("PAVED_LONG", "x".repeat(100))
        .env_remove("PAVED_MISSING");
}

fn se_03_missing_empty_and_non_utf8_values() {
    let (_, reason) = failure(SecretString::from_env("PAVED_MISSING"));
    assert!(matches!(reason, LoadFailure::NotFound));
    let (_, reason) = failure(SecretString::from_env("PAVED_EMPTY"));
    assert!(matches!(reason, LoadFailure::Empty));
    assert!(
        std::env::var_os("PAVED_EMPTY").is_none(),
        "removed even when refused"
    );
    let (_, reason) = failure(SecretString::from_env("PAVED_NOT_UTF8"));
    assert!(matches!(reason, LoadFailure::NotUnicode));
    let bytes = SecretBytes::from_env("PAVED_NOT_UTF8_BYTES").unwrap();
    assert_eq!(bytes.expose_secret(), &[0xff, 0xfe, b'a', b'b']);
    let (_, reason) = failure(
        SecretSource::env("PAVED_LONG")
            .unwrap()
            .load_string_with(&LoadOptions::new().max_len(99)),
    );
    assert!(matches!(reason, LoadFailure::TooLarge { limit: 99 }));
    assert!(
        std::env::var_os("PAVED_LONG").is_none(),
        "removed even when too large"
    );
}

fn se_03_env_names_are_validated_and_not_echoed() {
    for bad in ["", "A=B", "1ABC", "A-B", "sk_live=51Hx", "A B", "É"] {
        let err = SecretString::from_env(bad).unwrap_err();
        assert!(
            matches!(err, Error::InvalidSource(InvalidSource::InvalidEnvName)),
            "{bad:?}"
        );
        if bad.len() > 2 {
            assert!(!err.to_string().contains(bad), "{err}");
        }
    }
}

fn set_ring(command: &mut Command, _: &Path) {
    command.env(
        "PAVED_RING",
        "*k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",
    );
}

fn se_03_env_source_strings_load_key_rings() {
    let source: SecretSource = "env:PAVED_RING".parse().unwrap();
    let ring = KeyRing::load(&source).unwrap();
    assert_eq!(ring.primary().id(), "k1");
    assert_eq!(
        ring.primary().expose_secret(),
        &(0u8..32).collect::<Vec<_>>()[..]
    );
    assert!(std::env::var_os("PAVED_RING").is_none());
}

fn set_credentials(command: &mut Command, scratch: &Path) {
    let dir = scratch.join("credentials");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let file = dir.join("api-token");
    std::fs::write(&file, "credential-secret\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    command.env("CREDENTIALS_DIRECTORY", &dir);
}

fn se_05_from_credential_reads_the_credentials_directory() {
    let secret = SecretString::from_credential("api-token").unwrap();
    assert_eq!(secret.expose_secret(), "credential-secret");
    let source: SecretSource = "credential:api-token".parse().unwrap();
    assert_eq!(
        source.load_bytes().unwrap().expose_secret(),
        b"credential-secret\n"
    );
    assert!(
        std::env::var_os("CREDENTIALS_DIRECTORY").is_some(),
        "the directory variable is not a secret and stays"
    );
    let (text, reason) = failure(SecretString::from_credential("absent"));
    assert!(matches!(reason, LoadFailure::NotFound));
    assert!(text.contains("credential:absent"), "{text}");
}

fn se_05_credentials_directory_must_be_set() {
    let (text, reason) = failure(SecretString::from_credential("api-token"));
    assert!(matches!(reason, LoadFailure::CredentialsDirectoryUnset));
    assert!(text.contains("LoadCredential="), "{text}");
}

fn set_relative_credentials(command: &mut Command, _: &Path) {
    command.env("CREDENTIALS_DIRECTORY", "relative/creds");
}

fn se_05_credentials_directory_must_be_absolute() {
    let (_, reason) = failure(SecretString::from_credential("api-token"));
    assert!(matches!(
        reason,
        LoadFailure::CredentialsDirectoryNotAbsolute
    ));
}

/// Deterministic pseudo-random bytes (splitmix64): the values differ per variable and are never
/// valid UTF-8 (each starts with 0xFF) and never contain NUL (not allowed in the environment).
fn noisy_value(i: usize) -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64 + 1);
    let mut out = vec![0xff];
    for _ in 0..(8 + i * 5) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        out.push((z ^ (z >> 31)).to_le_bytes()[0].max(1));
    }
    out
}

fn set_noisy_values(command: &mut Command, _: &Path) {
    for i in 0..NOISY_VARS {
        command.env(
            format!("PAVED_NOISY_{i}"),
            OsString::from_vec(noisy_value(i)),
        );
    }
}

/// SE-09 for the env loader: errors for arbitrary (non-UTF-8) values are exactly the fixed
/// message naming the variable, so no window of the value can be in them.
fn se_09_env_errors_never_contain_the_value() {
    for i in 0..NOISY_VARS {
        let name = format!("PAVED_NOISY_{i}");
        let (text, _) = failure(SecretString::from_env(&name));
        let expected = format!("cannot load secret from env:{name}: the secret is not valid UTF-8");
        assert!(text.starts_with(&format!("{expected} | ")), "{text}");
        support::assert_no_leak("env error", &noisy_value(i), &text, "");
    }
}

fn main() -> ExitCode {
    main_with(&[
        Case {
            name: "se_03_from_env_reads_then_removes_the_variable",
            setup: set_token,
            run: se_03_from_env_reads_then_removes_the_variable,
        },
        Case {
            name: "se_03_documented_caveat_proc_self_environ_keeps_the_original",
            setup: set_token,
            run: se_03_documented_caveat_proc_self_environ_keeps_the_original,
        },
        Case {
            name: "se_03_from_env_refuses_while_other_threads_run",
            setup: set_token,
            run: se_03_from_env_refuses_while_other_threads_run,
        },
        Case {
            name: "se_03_missing_empty_and_non_utf8_values",
            setup: set_odd_values,
            run: se_03_missing_empty_and_non_utf8_values,
        },
        Case {
            name: "se_03_env_names_are_validated_and_not_echoed",
            setup: no_setup,
            run: se_03_env_names_are_validated_and_not_echoed,
        },
        Case {
            name: "se_03_env_source_strings_load_key_rings",
            setup: set_ring,
            run: se_03_env_source_strings_load_key_rings,
        },
        Case {
            name: "se_05_from_credential_reads_the_credentials_directory",
            setup: set_credentials,
            run: se_05_from_credential_reads_the_credentials_directory,
        },
        Case {
            name: "se_05_credentials_directory_must_be_set",
            setup: no_setup,
            run: se_05_credentials_directory_must_be_set,
        },
        Case {
            name: "se_05_credentials_directory_must_be_absolute",
            setup: set_relative_credentials,
            run: se_05_credentials_directory_must_be_absolute,
        },
        Case {
            name: "se_09_env_errors_never_contain_the_value",
            setup: set_noisy_values,
            run: se_09_env_errors_never_contain_the_value,
        },
    ])
}
