//! SE-11: after a secret is dropped, its bytes are nowhere on the heap.
//!
//! The test binary installs `paved-heap-probe` as its global allocator. While armed, the probe
//! scans every block before it is freed (including the old block of a reallocation) and, at the
//! end, every block still live, for any 16-byte window of the watched secrets. Each scenario
//! builds secrets through the public API (constructors and loaders), drops them, and requires
//! zero hits. A control scenario proves the probe does see a secret freed without zeroizing and
//! a leaked copy, so a silent probe cannot pass the test.
//!
//! Keeping the test honest: the secret is derived from a seed into a stack array, written to
//! files from that stack array, and handed to the child's environment by the parent process;
//! the probe stores its copy in static arrays. So the only heap copies are the ones the code
//! under test makes.
//!
//! `harness = false`: every scenario runs in a fresh single-threaded child (needed for
//! `from_env`, and keeps other tests' allocations out of the scan).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, ExitCode};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_heap_probe::HeapProbe;
use paved_secrets::{
    ExposeSecret, ExposeSecretMut, KeyRing, Secret, SecretBytes, SecretSource, SecretString,
};
use support::runner::{Case, main_with};

#[global_allocator]
static ALLOC: HeapProbe = HeapProbe;

const SEED_VAR: &str = "PAVED_HEAP_SEED";
const SECRET_VAR: &str = "PAVED_HEAP_SECRET";
const LEN: usize = 48;
const BASE62: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// splitmix64: a deterministic byte stream from a seed, without allocating.
fn stream(seed: u64) -> impl FnMut() -> u8 {
    let mut state = seed;
    move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()[0]
    }
}

/// The text secret for `seed`: 48 base62 characters, on the stack.
fn text_secret(seed: u64) -> [u8; LEN] {
    let mut next = stream(seed);
    let mut out = [0u8; LEN];
    for b in &mut out {
        *b = BASE62[usize::from(next()) % BASE62.len()];
    }
    out
}

/// A raw 32-byte key for `seed` (no zero bytes, so a zeroized block never matches).
fn key_secret(seed: u64) -> [u8; 32] {
    let mut next = stream(seed ^ 0x005E_C2E7);
    let mut out = [0u8; 32];
    for b in &mut out {
        *b = next().max(1);
    }
    out
}

fn seed() -> u64 {
    std::env::var(SEED_VAR).unwrap().parse().unwrap()
}

fn new_seed() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

fn set_seed(command: &mut Command, _: &Path) {
    command.env(SEED_VAR, new_seed().to_string());
}

fn watch(pattern: &[u8]) {
    assert!(
        paved_heap_probe::watch(pattern),
        "probe refused the pattern"
    );
}

/// Runs `scenario` with the probe armed, then requires that no freed or live block holds a
/// watched pattern, and that the scenario freed something (so the scan was not vacuous).
fn assert_no_trace(what: &str, scenario: impl FnOnce()) {
    paved_heap_probe::arm();
    scenario();
    paved_heap_probe::disarm();
    let freed_hits = paved_heap_probe::freed_hits();
    let live_hits = paved_heap_probe::live_hits();
    let scanned = paved_heap_probe::freed_scanned();
    assert!(
        !paved_heap_probe::table_overflowed(),
        "{what}: inconclusive, table overflowed"
    );
    assert!(
        scanned > 0,
        "{what}: nothing was freed, the check proves nothing"
    );
    assert_eq!(
        freed_hits, 0,
        "{what}: {freed_hits} freed block(s) still held the secret"
    );
    assert_eq!(
        live_hits, 0,
        "{what}: {live_hits} live block(s) still hold the secret after drop"
    );
    eprintln!("{what}: {scanned} freed blocks scanned, no trace of the secret");
}

fn write_private(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Control: the probe must see a secret freed without zeroizing, and a leaked copy.
fn probe_self_check_detects_unzeroized_and_leaked_copies() {
    let secret = text_secret(seed());
    watch(&secret);
    paved_heap_probe::arm();
    let plain = std::hint::black_box(secret.to_vec());
    drop(plain);
    let leaked: &'static mut [u8] = Box::leak(secret.to_vec().into_boxed_slice());
    std::hint::black_box(&leaked);
    paved_heap_probe::disarm();
    assert!(
        paved_heap_probe::freed_hits() >= 1,
        "probe missed a freed, unzeroized copy"
    );
    assert!(
        paved_heap_probe::live_hits() >= 1,
        "probe missed a leaked copy"
    );
}

fn se_11_secret_string_is_zeroized_on_drop() {
    let secret = text_secret(seed());
    let text = std::str::from_utf8(&secret).unwrap();
    watch(&secret);
    assert_no_trace("SecretString", || {
        // Exact capacity: the String's buffer becomes the secret.
        let s = SecretString::from(String::from(text));
        assert!(s.expose_secret().as_bytes() == secret);
        let copy = s.clone();
        drop(s);
        drop(copy);
        // Spare capacity: copied once, the original zeroized.
        let mut spare = String::with_capacity(4 * LEN);
        spare.push_str(text);
        let s = SecretString::from(spare);
        assert!(s.expose_secret().as_bytes() == secret);
        drop(s);
        // From a borrowed str and through FromStr.
        drop(SecretString::from(text));
        drop(text.parse::<SecretString>().unwrap());
    });
}

fn se_11_secret_bytes_and_secret_t_are_zeroized_on_drop() {
    let secret = text_secret(seed());
    watch(&secret);
    assert_no_trace("SecretBytes / Secret<T>", || {
        drop(SecretBytes::from(secret.to_vec()));
        let mut spare = Vec::with_capacity(4 * LEN);
        spare.extend_from_slice(&secret);
        drop(SecretBytes::from(spare));
        drop(SecretBytes::from(&secret[..]));
        let mut b = SecretBytes::from(vec![0u8; LEN]);
        b.expose_secret_mut().copy_from_slice(&secret);
        drop(b.clone());
        drop(b);
        // `Default` (needed to build in place) exists for arrays of up to 32 elements.
        let t = Secret::init_with_mut(|slot: &mut [u8; 32]| slot.copy_from_slice(&secret[..32]));
        assert!(t.expose_secret()[..] == secret[..32]);
        drop(t);
    });
}

fn se_11_random_secrets_are_zeroized_on_drop() {
    paved_heap_probe::arm();
    let random = SecretBytes::random(64).unwrap();
    watch(random.expose_secret()); // The probe copies it into static memory.
    let key = KeyRing::generate().unwrap();
    watch(key.primary().expose_secret());
    paved_heap_probe::disarm();
    assert_no_trace("random secrets", || {
        drop(random);
        drop(key);
    });
}

fn se_11_from_file_leaves_no_copy() {
    let secret = text_secret(seed());
    let mut contents = [b'\n'; LEN + 1];
    contents[..LEN].copy_from_slice(&secret);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    write_private(&path, &contents);
    watch(&secret);
    assert_no_trace("SecretString::from_file", || {
        let s = SecretString::from_file(&path).unwrap();
        assert!(s.expose_secret().as_bytes() == secret, "trimmed, loaded");
        drop(s);
        let b = SecretBytes::from_file(&path).unwrap();
        assert!(b.expose_secret() == contents);
        drop(b);
    });
}

fn set_seed_and_env_secret(command: &mut Command, _: &Path) {
    let seed = new_seed();
    let secret = text_secret(seed);
    command
        .env(SEED_VAR, seed.to_string())
        .env(SECRET_VAR, std::str::from_utf8(&secret).unwrap());
}

fn se_11_from_env_leaves_no_copy() {
    let secret = text_secret(seed());
    watch(&secret);
    assert_no_trace("SecretString::from_env", || {
        let s = SecretString::from_env(SECRET_VAR).unwrap();
        assert!(s.expose_secret().as_bytes() == secret);
        drop(s);
    });
    assert!(std::env::var_os(SECRET_VAR).is_none());
}

fn set_seed_and_credential(command: &mut Command, scratch: &Path) {
    let seed = new_seed();
    let mut contents = text_secret(seed).to_vec();
    contents.push(b'\n');
    let dir = scratch.join("credentials");
    std::fs::create_dir(&dir).unwrap();
    write_private(&dir.join("token"), &contents);
    command
        .env(SEED_VAR, seed.to_string())
        .env("CREDENTIALS_DIRECTORY", &dir);
}

fn se_11_from_credential_leaves_no_copy() {
    let secret = text_secret(seed());
    watch(&secret);
    assert_no_trace("SecretString::from_credential", || {
        let source: SecretSource = "credential:token".parse().unwrap();
        let s = source.load_string().unwrap();
        assert!(s.expose_secret().as_bytes() == secret);
        drop(s);
    });
}

fn se_11_key_ring_leaves_no_copy() {
    let key = key_secret(seed());
    // "*k1:" + base64url(key) + "\n", built on the stack.
    let mut text = [0u8; 4 + 43 + 1];
    text[..4].copy_from_slice(b"*k1:");
    let written = URL_SAFE_NO_PAD.encode_slice(key, &mut text[4..47]).unwrap();
    assert_eq!(written, 43);
    text[47] = b'\n';
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ring");
    write_private(&path, &text);
    let source = SecretSource::file(&path).unwrap();
    watch(&key); // The raw key bytes …
    watch(&text[4..47]); // … and their base64url text.
    assert_no_trace("KeyRing::load / to_text", || {
        let ring = KeyRing::load(&source).unwrap();
        assert!(ring.primary().expose_secret() == key);
        let exported = ring.to_text();
        assert!(exported.len() > 43);
        drop(exported);
        let copy = ring.clone();
        drop(ring);
        drop(copy);
    });
}

#[cfg(feature = "serde")]
fn se_11_deserialized_secrets_leave_no_copy() {
    use std::io::Write as _;

    let secret = text_secret(seed());
    let mut json = [b'"'; LEN + 2];
    json[1..=LEN].copy_from_slice(&secret);
    // A JSON array of the bytes, on the stack: exercises the growing-buffer path.
    let mut array = [b' '; 4 * LEN + 2];
    let mut cursor = std::io::Cursor::new(&mut array[..]);
    write!(cursor, "[").unwrap();
    for (i, b) in secret.iter().enumerate() {
        write!(cursor, "{}{b}", if i == 0 { "" } else { "," }).unwrap();
    }
    write!(cursor, "]").unwrap();
    let end = usize::try_from(cursor.position()).unwrap();
    watch(&secret);
    assert_no_trace("Deserialize", || {
        let s: SecretString = serde_json::from_slice(&json).unwrap();
        assert!(s.expose_secret().as_bytes() == secret);
        drop(s);
        let b: SecretBytes = serde_json::from_slice(&array[..end]).unwrap();
        assert!(b.expose_secret() == secret);
        drop(b);
    });
}

fn main() -> ExitCode {
    #[allow(unused_mut)] // Only the `serde` feature pushes to it.
    let mut cases = vec![
        Case {
            name: "probe_self_check_detects_unzeroized_and_leaked_copies",
            setup: set_seed,
            run: probe_self_check_detects_unzeroized_and_leaked_copies,
        },
        Case {
            name: "se_11_secret_string_is_zeroized_on_drop",
            setup: set_seed,
            run: se_11_secret_string_is_zeroized_on_drop,
        },
        Case {
            name: "se_11_secret_bytes_and_secret_t_are_zeroized_on_drop",
            setup: set_seed,
            run: se_11_secret_bytes_and_secret_t_are_zeroized_on_drop,
        },
        Case {
            name: "se_11_random_secrets_are_zeroized_on_drop",
            setup: set_seed,
            run: se_11_random_secrets_are_zeroized_on_drop,
        },
        Case {
            name: "se_11_from_file_leaves_no_copy",
            setup: set_seed,
            run: se_11_from_file_leaves_no_copy,
        },
        Case {
            name: "se_11_from_env_leaves_no_copy",
            setup: set_seed_and_env_secret,
            run: se_11_from_env_leaves_no_copy,
        },
        Case {
            name: "se_11_from_credential_leaves_no_copy",
            setup: set_seed_and_credential,
            run: se_11_from_credential_leaves_no_copy,
        },
        Case {
            name: "se_11_key_ring_leaves_no_copy",
            setup: set_seed,
            run: se_11_key_ring_leaves_no_copy,
        },
    ];
    #[cfg(feature = "serde")]
    cases.push(Case {
        name: "se_11_deserialized_secrets_leave_no_copy",
        setup: set_seed,
        run: se_11_deserialized_secrets_leave_no_copy,
    });
    main_with(&cases)
}
