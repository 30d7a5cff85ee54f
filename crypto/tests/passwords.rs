//! PW rows of the password checklist, each a named test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use std::sync::{Arc, Mutex};

use paved_crypto::{
    Ceilings, Error, PasswordHasher, PasswordPolicy, PolicyContext, PolicyViolation, VerifyError,
    check_policy,
};
use paved_secrets::{KeyRing, SecretString};

fn pw(s: &str) -> SecretString {
    SecretString::from(s)
}

/// A cheap policy for tests that exercise logic, not cost (still within OWASP's floor).
fn cheap() -> PasswordHasher {
    PasswordHasher::new(PasswordPolicy::new(7_168, 5, 1).unwrap())
}

#[test]
fn pw_01_default_is_argon2id_owasp_params_with_random_salt() {
    let hasher = PasswordHasher::default();
    assert_eq!(*hasher.policy(), PasswordPolicy::OWASP);
    let a = hasher.hash(&pw("tulip rocket violin ember")).unwrap();
    let b = hasher.hash(&pw("tulip rocket violin ember")).unwrap();
    assert!(
        a.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{}",
        a.as_str()
    );
    // Random 16-byte salt: 22 base64 characters, different every time.
    let salt = |h: &str| h.split('$').nth(4).unwrap().to_owned();
    assert_eq!(salt(a.as_str()).len(), 22);
    assert_ne!(salt(a.as_str()), salt(b.as_str()));
    assert_ne!(a, b);
}

#[test]
fn pw_01_policy_refuses_params_below_owasp_floor() {
    for (m, t) in [
        (47_104, 1),
        (19_456, 2),
        (12_288, 3),
        (9_216, 4),
        (7_168, 5),
    ] {
        assert!(PasswordPolicy::new(m, t, 1).is_ok(), "m={m} t={t}");
        assert!(
            matches!(
                PasswordPolicy::new(m - 1, t, 1),
                Err(Error::PolicyBelowMinimum { .. })
            ) || PasswordPolicy::new(m - 1, t, 1).is_ok_and(|_| t > 1),
            "m={} t={t} must be refused unless another pair covers it",
            m - 1
        );
    }
    assert!(matches!(
        PasswordPolicy::new(7_167, 5, 1),
        Err(Error::PolicyBelowMinimum { .. })
    ));
    assert!(matches!(
        PasswordPolicy::new(47_103, 1, 1),
        Err(Error::PolicyBelowMinimum { .. })
    ));
    assert!(matches!(
        PasswordPolicy::new(19_456, 2, 0),
        Err(Error::PolicyBelowMinimum { .. })
    ));
    assert!(matches!(
        PasswordPolicy::new(Ceilings::MAX_M_COST + 1, 2, 1),
        Err(Error::PolicyAboveCeiling { name: "m", .. })
    ));
}

#[test]
fn pw_02_hostile_params_rejected_before_allocation() {
    // The allocation-counting proof lives in tests/alloc_guard.rs; here each ceiling is named.
    let hasher = cheap();
    let salt = "c29tZXNhbHRzb21lc2FsdA";
    let out = "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc";
    let cases = [
        (
            format!("$argon2id$v=19$m=4194304,t=2,p=1${salt}${out}"),
            "m",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=4294967295,p=1${salt}${out}"),
            "t",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=2,p=255${salt}${out}"),
            "p",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=2,p=1${salt}${}", "A".repeat(100)),
            "output",
        ),
        (
            format!("$argon2id$v=19$m=19456,t=2,p=1${salt}{}", "$A".repeat(300)),
            "length",
        ),
    ];
    for (stored, name) in cases {
        let err = hasher.verify(&pw("x"), &stored).unwrap_err();
        assert!(
            matches!(err, VerifyError::HashParamsOutOfBounds { name: n } if n == name)
                // The PHC parser itself refuses outputs over 64 bytes.
                || (name == "output" && err == VerifyError::MalformedHash),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn pw_03_needs_rehash_when_params_differ_from_policy() {
    let old = PasswordHasher::new(PasswordPolicy::new(7_168, 5, 1).unwrap());
    let new = PasswordHasher::new(PasswordPolicy::new(9_216, 4, 1).unwrap());
    let stored = old.hash(&pw("tulip rocket violin ember")).unwrap();
    assert!(
        !old.verify(&pw("tulip rocket violin ember"), stored.as_str())
            .unwrap()
            .needs_rehash
    );
    let v = new
        .verify(&pw("tulip rocket violin ember"), stored.as_str())
        .unwrap();
    assert!(v.needs_rehash, "older parameters must be flagged");
    // The upgraded hash no longer needs it.
    let upgraded = new.hash(&pw("tulip rocket violin ember")).unwrap();
    assert!(
        !new.verify(&pw("tulip rocket violin ember"), upgraded.as_str())
            .unwrap()
            .needs_rehash
    );
}

#[test]
fn pw_03_needs_rehash_for_argon2i_and_old_version() {
    // argon2i / v=16 hashes computed with the argon2 crate directly.
    use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version};
    let params = Params::new(7_168, 5, 1, Some(32)).unwrap();
    for (alg, ver) in [
        (Algorithm::Argon2i, Version::V0x13),
        (Algorithm::Argon2id, Version::V0x10),
    ] {
        let stored = Argon2::new(alg, ver, params.clone())
            .hash_password_with_salt(b"tulip rocket violin ember", b"0123456789abcdef")
            .unwrap()
            .to_string();
        let v = cheap()
            .verify(&pw("tulip rocket violin ember"), &stored)
            .unwrap();
        assert!(v.needs_rehash, "{stored}");
    }
}

#[cfg(feature = "legacy")]
#[test]
fn pw_04_legacy_bcrypt_verifies_and_needs_rehash() {
    let stored = bcrypt::hash("hunter2hunter2", 4).unwrap();
    let v = cheap().verify(&pw("hunter2hunter2"), &stored).unwrap();
    assert!(v.needs_rehash);
    assert_eq!(
        cheap().verify(&pw("hunter2hunter3"), &stored),
        Err(VerifyError::WrongPassword)
    );
    // A hostile cost is refused before any work.
    let hostile = format!("$2b$31${}", &stored[7..]);
    assert_eq!(
        cheap().verify(&pw("hunter2hunter2"), &hostile),
        Err(VerifyError::HashParamsOutOfBounds { name: "cost" })
    );
}

#[cfg(feature = "legacy")]
#[test]
fn pw_04_legacy_bcrypt_never_accepts_by_72_byte_prefix() {
    let long = "a".repeat(72);
    let stored = bcrypt::hash(&long, 4).unwrap();
    // A password that only shares the first 72 bytes must not verify.
    let longer = format!("{long}but-different");
    assert_eq!(
        cheap().verify(&pw(&longer), &stored),
        Err(VerifyError::WrongPassword)
    );
}

#[cfg(feature = "legacy")]
#[test]
fn pw_04_legacy_pbkdf2_sha256_verifies_and_needs_rehash() {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let salt = b"0123456789abcdef";
    let mut out = [0u8; 32];
    let iterations = std::num::NonZeroU32::new(1_000).unwrap();
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        b"tulip rocket violin ember",
        &mut out,
    );
    let stored = format!(
        "$pbkdf2-sha256$i=1000,l=32${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(out)
    );
    let v = cheap()
        .verify(&pw("tulip rocket violin ember"), &stored)
        .unwrap();
    assert!(v.needs_rehash);
    assert_eq!(
        cheap().verify(&pw("tulip rocket violin embers"), &stored),
        Err(VerifyError::WrongPassword)
    );
    let hostile = stored.replace("i=1000", "i=4000000000");
    assert_eq!(
        cheap().verify(&pw("tulip rocket violin ember"), &hostile),
        Err(VerifyError::HashParamsOutOfBounds { name: "rounds" })
    );
}

#[cfg(not(feature = "legacy"))]
#[test]
fn pw_04_legacy_formats_need_the_legacy_feature() {
    let stored = "$2b$04$2mHjNCLTnKqNkw8vAIClXOTS7uQm2vFyBpCgFKmHFBxBMNSt9m9Ha";
    assert!(cheap().verify(&pw("x"), stored).is_err());
}

fn ring_with(ids: &[&str]) -> KeyRing {
    let mut text = String::new();
    for (i, id) in ids.iter().enumerate() {
        let key = paved_crypto::random_token(32).unwrap();
        if i == 0 {
            text.push_str(&format!("*{id}:{key}\n"));
        } else {
            text.push_str(&format!("{id}:{key}\n"));
        }
    }
    KeyRing::parse(&text).unwrap()
}

#[test]
fn pw_05_pepper_is_required_and_rotates_by_key_id() {
    let ring = ring_with(&["p1"]);
    let peppered = cheap().with_pepper(&ring).unwrap();
    let stored = peppered.hash(&pw("tulip rocket violin ember")).unwrap();
    assert!(stored.as_str().contains("keyid="), "{}", stored.as_str());
    assert!(
        !peppered
            .verify(&pw("tulip rocket violin ember"), stored.as_str())
            .unwrap()
            .needs_rehash
    );

    // Without the pepper the hash cannot be verified at all: a stolen table is not enough.
    assert_eq!(
        cheap().verify(&pw("tulip rocket violin ember"), stored.as_str()),
        Err(VerifyError::UnknownPepperKey)
    );
    // Another pepper with the same id does not verify.
    let other = cheap().with_pepper(&ring_with(&["p1"])).unwrap();
    assert_eq!(
        other.verify(&pw("tulip rocket violin ember"), stored.as_str()),
        Err(VerifyError::WrongPassword)
    );

    // Rotation: a new primary; the old key still verifies and asks for a rehash.
    let rotated_ring = {
        let mut lines = String::new();
        lines.push_str(&format!(
            "*p2:{}\n",
            paved_crypto::random_token(32).unwrap()
        ));
        for key in ring.keys() {
            use base64::Engine as _;
            use paved_secrets::ExposeSecret as _;
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(key.material().expose_secret());
            lines.push_str(&format!("{}:{b64}\n", key.id()));
        }
        KeyRing::parse(&lines).unwrap()
    };
    let rotated = cheap().with_pepper(&rotated_ring).unwrap();
    let v = rotated
        .verify(&pw("tulip rocket violin ember"), stored.as_str())
        .unwrap();
    assert!(
        v.needs_rehash,
        "a hash under a non-primary pepper must be upgraded"
    );
    // With a pepper, an unpeppered hash was not made by this service: whoever can write the
    // user table could plant one. Refused unless the migration switch is on.
    let plain = cheap().hash(&pw("tulip rocket violin ember")).unwrap();
    assert_eq!(
        peppered.verify(&pw("tulip rocket violin ember"), plain.as_str()),
        Err(VerifyError::UnknownPepperKey)
    );
    let migrating = cheap()
        .with_pepper(&ring)
        .unwrap()
        .dangerous_accept_unpeppered_hashes();
    let v = migrating
        .verify(&pw("tulip rocket violin ember"), plain.as_str())
        .unwrap();
    assert!(
        v.needs_rehash,
        "unpeppered hashes are upgraded during migration"
    );
}

#[test]
fn pw_06_long_passwords_are_an_error_not_truncated() {
    let hasher = cheap();
    let max = paved_crypto::MAX_PASSWORD_BYTES;
    assert!(hasher.hash(&pw(&"a".repeat(max))).is_ok());
    assert_eq!(
        hasher.hash(&pw(&"a".repeat(max + 1))),
        Err(Error::PasswordTooLong { max })
    );
    let stored = hasher.hash(&pw(&"a".repeat(max))).unwrap();
    assert_eq!(
        hasher.verify(&pw(&"a".repeat(max + 1)), stored.as_str()),
        Err(VerifyError::PasswordTooLong { max })
    );
    // Expansion by NFKC is capped too (U+FDFA expands to 18 characters).
    let expands = "\u{FDFA}".repeat(100);
    assert!(expands.len() <= max);
    assert_eq!(
        hasher.hash(&pw(&expands)),
        Err(Error::PasswordTooLong { max })
    );
    // No truncation: two passwords sharing a 1000-byte prefix differ.
    let a = format!("{}a", "x".repeat(1000));
    let b = format!("{}b", "x".repeat(1000));
    let stored = hasher.hash(&pw(&a)).unwrap();
    assert_eq!(
        hasher.verify(&pw(&b), stored.as_str()),
        Err(VerifyError::WrongPassword)
    );
}

#[test]
fn pw_07_policy_length_blocklist_context_and_no_composition_rules() {
    let ctx = PolicyContext::default();
    assert_eq!(
        check_policy(&pw("Tr0ub4dor&3"), &ctx),
        [PolicyViolation::TooShort { min: 15 }]
    );
    // No composition rules: all lower-case letters and spaces pass.
    assert!(check_policy(&pw("tulip rocket violin ember"), &ctx).is_empty());
    // Every Unicode character counts as one, after NFKC.
    assert!(check_policy(&pw("🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦀🦁"), &ctx).is_empty());
    // 64 characters and more are accepted.
    assert!(check_policy(&pw(&"word ".repeat(40)), &ctx).is_empty());
    let long_ok = "the quick brown fox jumps over the lazy dog while seventy two owls watch";
    assert!(long_ok.chars().count() > 64);
    assert!(check_policy(&pw(long_ok), &ctx).is_empty());
    // MFA lowers the minimum to 8.
    let mfa = PolicyContext {
        mfa: true,
        ..PolicyContext::default()
    };
    assert!(check_policy(&pw("violin99ember"), &mfa).is_empty());
    assert_eq!(
        check_policy(&pw("violin9"), &mfa),
        [PolicyViolation::TooShort { min: 8 }]
    );
    // Blocklist, case-insensitively.
    assert!(check_policy(&pw("PasswordPassword"), &ctx).contains(&PolicyViolation::Blocklisted));
    assert!(check_policy(&pw("password1"), &mfa).contains(&PolicyViolation::Blocklisted));
    // Context words.
    let ctx_words = PolicyContext {
        context_words: &["alice", "paved"],
        ..PolicyContext::default()
    };
    assert_eq!(
        check_policy(&pw("my alice garden is lovely"), &ctx_words),
        [PolicyViolation::ContainsContextWord]
    );
    // Repetition and sequences.
    assert!(
        check_policy(&pw("aaaaaaaaaaaaaaaa"), &ctx)
            .contains(&PolicyViolation::RepetitiveOrSequential)
    );
    assert!(
        check_policy(&pw("abcdefghijklmnopq"), &ctx)
            .contains(&PolicyViolation::RepetitiveOrSequential)
    );
    // Too long.
    assert_eq!(
        check_policy(&pw(&"a".repeat(2000)), &ctx),
        [PolicyViolation::TooLong {
            max: paved_crypto::MAX_PASSWORD_BYTES
        }]
    );
}

#[test]
fn pw_07_custom_blocklist_hook() {
    struct Breached;
    impl paved_crypto::Blocklist for Breached {
        fn contains(&self, normalized: &str) -> bool {
            normalized == "tulip rocket violin ember"
        }
    }
    let ctx = PolicyContext {
        blocklist: &Breached,
        ..PolicyContext::default()
    };
    assert_eq!(
        check_policy(&pw("tulip rocket violin ember"), &ctx),
        [PolicyViolation::Blocklisted]
    );
}

#[test]
fn pw_07_nfkc_forms_of_the_same_text_verify() {
    let hasher = cheap();
    let nfc = "caf\u{e9} cr\u{e8}me br\u{fb}l\u{e9}e";
    let nfd = "cafe\u{301} cre\u{300}me bru\u{302}le\u{301}e";
    assert_ne!(nfc, nfd);
    let stored = hasher.hash(&pw(nfc)).unwrap();
    assert!(hasher.verify(&pw(nfd), stored.as_str()).is_ok());
    // Full-width compatibility forms normalise too.
    let stored = hasher.hash(&pw("ABC violin rocket")).unwrap();
    assert!(
        hasher
            .verify(&pw("ＡＢＣ violin rocket"), stored.as_str())
            .is_ok()
    );
}

#[test]
fn pw_08_dummy_verify_reports_wrong_password() {
    let hasher = cheap();
    assert_eq!(
        hasher.dummy_verify(&pw("anything")),
        Err(VerifyError::WrongPassword)
    );
    // Work equivalence is proven by allocation in tests/alloc_guard.rs.
}

#[test]
fn pw_09_comparison_uses_constant_time_eq() {
    // The derived hash is compared with `ct_eq` (subtle) over the whole output: a change in any
    // byte of the stored output is a wrong password, never a malformed hash or a panic.
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD_NO_PAD;
    let hasher = cheap();
    let stored = hasher
        .hash(&pw("tulip rocket violin ember"))
        .unwrap()
        .into_string();
    let (head, out) = stored.rsplit_once('$').unwrap();
    let out = STANDARD_NO_PAD.decode(out).unwrap();
    assert_eq!(out.len(), 32);
    for i in 0..out.len() {
        let mut tampered = out.clone();
        tampered[i] ^= 0x80;
        let tampered = format!("{head}${}", STANDARD_NO_PAD.encode(&tampered));
        assert_eq!(
            hasher.verify(&pw("tulip rocket violin ember"), &tampered),
            Err(VerifyError::WrongPassword),
            "byte {i} of the output is not compared"
        );
    }
    assert!(paved_crypto::ct_eq(b"abc", b"abc"));
    assert!(!paved_crypto::ct_eq(b"abc", b"abd"));
    assert!(!paved_crypto::ct_eq(b"abc", b"abcd"));
}

/// Captures `tracing` output into a string.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn pw_11_cost_is_traced_never_the_password() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let secret = "tulip rocket violin ember";
    tracing::subscriber::with_default(subscriber, || {
        let hasher = cheap();
        let stored = hasher.hash(&pw(secret)).unwrap();
        let _ = hasher.verify(&pw(secret), stored.as_str());
        let _ = hasher.verify(&pw("wrong guess"), stored.as_str());
    });
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("password hashed"), "{text}");
    assert!(text.contains("password verified"), "{text}");
    assert!(text.contains("elapsed_ms"), "{text}");
    assert!(
        !text.contains(secret),
        "the password leaked into tracing: {text}"
    );
    assert!(
        !text.contains("wrong guess"),
        "a guess leaked into tracing: {text}"
    );
}

#[test]
fn pw_hash_debug_shows_no_salt_or_output() {
    let stored = cheap().hash(&pw("tulip rocket violin ember")).unwrap();
    let debug = format!("{stored:?}");
    let salt = stored.as_str().split('$').nth(4).unwrap();
    let out = stored.as_str().split('$').nth(5).unwrap();
    assert!(!debug.contains(salt) && !debug.contains(out), "{debug}");
    assert!(debug.contains("argon2id"), "{debug}");
}

#[test]
fn malformed_stored_hashes_are_typed_errors() {
    let hasher = cheap();
    for stored in [
        "",
        "plaintext",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1",
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ",
        "$argon2id$v=99$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=19456,t=2,p=1,x=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
        "$argon2id$v=19$m=1,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
    ] {
        let err = hasher.verify(&pw("x"), stored).unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::MalformedHash | VerifyError::UnsupportedAlgorithm
            ),
            "{stored:?}: {err:?}"
        );
    }
    assert_eq!(
        hasher.verify(
            &pw("x"),
            "$scrypt$ln=16,r=8,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
        ),
        Err(VerifyError::UnsupportedAlgorithm)
    );
}

#[cfg(feature = "axum")]
#[test]
fn pw_10_overloaded_is_503_with_retry_after() {
    use axum::response::IntoResponse as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let pool = paved_crypto::HashingPool::with_limits(cheap(), 1, 0)
        .retry_after(std::time::Duration::from_secs(7));
    let err = runtime.block_on(async {
        // One job fills the only slot; the queue is 0, so the next is refused at once.
        let first = pool.hash(pw("tulip rocket violin ember"));
        let second = pool.hash(pw("tulip rocket violin ember"));
        let (_, second) = tokio::join!(first, second);
        second.unwrap_err()
    });
    let Error::Overloaded(busy) = err else {
        panic!("{err:?}")
    };
    let response = busy.into_response();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "7");
}

#[cfg(feature = "legacy")]
#[test]
fn pw_05_pepper_refuses_legacy_hashes_unless_migrating() {
    let stored = bcrypt::hash("hunter2hunter2", 4).unwrap();
    let peppered = cheap().with_pepper(&ring_with(&["p1"])).unwrap();
    assert_eq!(
        peppered.verify(&pw("hunter2hunter2"), &stored),
        Err(VerifyError::UnknownPepperKey)
    );
    let migrating = cheap()
        .with_pepper(&ring_with(&["p1"]))
        .unwrap()
        .dangerous_accept_unpeppered_hashes();
    assert!(
        migrating
            .verify(&pw("hunter2hunter2"), &stored)
            .unwrap()
            .needs_rehash
    );
}

#[test]
fn pw_10_pool_refuses_stored_hashes_above_its_memory_budget() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let policy = PasswordPolicy::new(7_168, 5, 1).unwrap();
    // A legal hash (under the ceilings) that asks for 4× the policy's memory: a planted row.
    let bigger = PasswordHasher::new(PasswordPolicy::new(4 * 7_168, 5, 1).unwrap())
        .hash(&pw("tulip rocket violin ember"))
        .unwrap()
        .into_string();
    let pool = paved_crypto::HashingPool::with_limits(PasswordHasher::new(policy), 1, 1);
    let refused = runtime.block_on(pool.verify(pw("tulip rocket violin ember"), bigger.clone()));
    assert_eq!(
        refused,
        Err(VerifyError::HashParamsOutOfBounds { name: "m" })
    );
    // A table mid-migration opts in explicitly.
    let migrating = pool.max_stored_m_cost(4 * 7_168);
    let ok = runtime.block_on(migrating.verify(pw("tulip rocket violin ember"), bigger));
    assert!(ok.unwrap().needs_rehash);
}

/// PW-10: a job's admission slot is free before its caller hears back, so a caller that
/// submits again at once (a rehash right after a verify) is never refused by its own finished
/// job, even with one slot and no queue.
#[test]
fn pw_10_a_finished_job_frees_its_slot_before_answering() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let pool = paved_crypto::HashingPool::with_limits(cheap(), 1, 0);
    runtime.block_on(async {
        let stored = pool
            .hash(pw("tulip rocket violin ember"))
            .await
            .unwrap()
            .into_string();
        for _ in 0..20 {
            let verified = pool
                .verify(pw("tulip rocket violin ember"), stored.clone())
                .await
                .unwrap();
            assert!(!verified.needs_rehash);
            pool.hash(pw("tulip rocket violin ember")).await.unwrap();
        }
    });
}
