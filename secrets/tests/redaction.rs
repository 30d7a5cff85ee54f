//! SE-01 (never prints, no `==`), SE-02 (construction), SE-09 (errors and panics), SE-10
//! (tracing), and the property tests over arbitrary secrets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fmt;
use std::sync::{Arc, Mutex};

use paved_secrets::{
    ExposeSecret, ExposeSecretMut, Key, KeyId, Secret, SecretBytes, SecretSource, SecretString,
    ct_eq,
};
use proptest::prelude::*;
use support::{assert_no_leak, decoy_bytes, decoy_str};

#[test]
fn se_01_debug_is_redacted() {
    let s = SecretString::from("hunter2-but-longer");
    assert_eq!(format!("{s:?}"), "SecretString([REDACTED], len 16..32)");
    assert_eq!(format!("{s:#?}"), "SecretString([REDACTED], len 16..32)");
    let b = SecretBytes::from(vec![0x41; 40]);
    assert_eq!(format!("{b:?}"), "SecretBytes([REDACTED], len 32..64)");
    let g = Secret::new(Box::new([7u8; 4]));
    assert_eq!(format!("{g:?}"), "Secret<[u8; 4]>([REDACTED])");
    let k = Key::new(KeyId::new("k1").unwrap(), SecretBytes::from(vec![0x42; 32])).unwrap();
    assert_eq!(
        format!("{k:?}"),
        "Key { id: \"k1\", material: SecretBytes([REDACTED], len 32..64) }"
    );
}

#[test]
fn se_01_debug_length_classes_are_coarse() {
    let classes = [
        (0, "empty"),
        (1, "len 1..16"),
        (15, "len 1..16"),
        (16, "len 16..32"),
        (31, "len 16..32"),
        (32, "len 32..64"),
        (63, "len 32..64"),
        (64, "len 64.."),
        (10_000, "len 64.."),
    ];
    for (len, class) in classes {
        let s = SecretString::from("x".repeat(len));
        assert_eq!(
            format!("{s:?}"),
            format!("SecretString([REDACTED], {class})")
        );
        let b = SecretBytes::from(vec![1; len]);
        assert_eq!(
            format!("{b:?}"),
            format!("SecretBytes([REDACTED], {class})")
        );
    }
}

#[test]
fn se_01_no_display_no_partial_eq_no_serialize() {
    // The probe itself works:
    assert!(implements!(String: fmt::Display));
    assert!(implements!(String: PartialEq));
    assert!(implements!(String: fmt::Debug));

    assert!(!implements!(SecretString: fmt::Display));
    assert!(!implements!(SecretBytes: fmt::Display));
    assert!(!implements!(Secret<u64>: fmt::Display));
    assert!(!implements!(Key: fmt::Display));

    assert!(!implements!(SecretString: PartialEq));
    assert!(!implements!(SecretBytes: PartialEq));
    assert!(!implements!(Secret<u64>: PartialEq));
    assert!(!implements!(Key: PartialEq));
    assert!(!implements!(paved_secrets::KeyRing: PartialEq));

    #[cfg(feature = "serde")]
    {
        assert!(implements!(String: serde::Serialize));
        assert!(!implements!(SecretString: serde::Serialize));
        assert!(!implements!(SecretBytes: serde::Serialize));
        assert!(!implements!(Secret<u64>: serde::Serialize));
        assert!(!implements!(Key: serde::Serialize));
        assert!(
            implements!(paved_secrets::SerializeExposed<'static, SecretString>: serde::Serialize)
        );
    }
}

#[test]
fn se_01_ct_eq_instead_of_partial_eq() {
    let same = SecretString::from("same value");
    let twin = SecretString::from("same value");
    let other = SecretString::from("other valu");
    assert!(same.ct_eq(&twin));
    assert!(!same.ct_eq(&other));
    assert!(same.ct_eq_bytes("same value"));
    assert!(same.ct_eq_bytes(b"same value"));
    assert!(!same.ct_eq_bytes("same valu"));
    let bytes = SecretBytes::from(&b"k"[..]);
    assert!(bytes.ct_eq(&SecretBytes::from(vec![b'k'])));
    assert!(!bytes.ct_eq_bytes([]));
    let pin = Secret::new(Box::new(42u64));
    assert!(pin.ct_eq(&Secret::new(Box::new(42u64))));
    assert!(!pin.ct_eq(&Secret::new(Box::new(43u64))));
}

#[test]
fn se_02_exact_capacity_constructors_do_not_copy_exact_buffers() {
    let exact = String::from("exactly sized");
    let ptr = exact.as_ptr();
    let s = SecretString::from(exact);
    assert_eq!(
        s.expose_secret().as_ptr(),
        ptr,
        "exact String is moved, not copied"
    );

    let mut spare = String::with_capacity(64);
    spare.push_str("has spare capacity");
    let s = SecretString::from(spare);
    assert_eq!(s.expose_secret(), "has spare capacity");

    let v = vec![1u8, 2, 3];
    let ptr = v.as_ptr();
    let b = SecretBytes::from(v);
    assert_eq!(
        b.expose_secret().as_ptr(),
        ptr,
        "exact Vec is moved, not copied"
    );

    let mut v = Vec::with_capacity(10);
    v.extend_from_slice(&[4u8, 5, 6]);
    assert_eq!(SecretBytes::from(v).expose_secret(), &[4, 5, 6]);
}

#[test]
fn se_02_secret_buffers_cannot_grow() {
    // Mutable access is a fixed-length slice: there is no way to push into a secret.
    let mut b = SecretBytes::from(vec![0u8; 4]);
    let slice: &mut [u8] = b.expose_secret_mut();
    slice.copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(b.expose_secret(), &[1, 2, 3, 4]);
    assert!(!implements!(SecretBytes: std::ops::DerefMut));
    assert!(!implements!(SecretString: std::ops::DerefMut));
}

#[test]
fn se_02_zeroize_is_at_least_1_9() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock"))
        .expect("workspace Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"zeroize\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .and_then(|v| v.strip_suffix('"'))
        .expect("zeroize in Cargo.lock");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap());
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    assert!((major, minor) >= (1, 9), "zeroize {version} < 1.9 (SE-02)");
}

#[test]
fn se_09_panic_messages_are_redacted() {
    let secret = SecretString::from("panic-canary-0123456789");
    let payload = std::panic::catch_unwind(|| panic!("bad state: {secret:?}")).unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains("[REDACTED]"));
    assert!(!msg.contains("canary"));

    // `unwrap_err` on an `Ok` secret prints the secret's Debug.
    let ok: Result<SecretString, ()> = Ok(SecretString::from("panic-canary-0123456789"));
    let payload = std::panic::catch_unwind(|| std::hint::black_box(ok).unwrap_err()).unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("[REDACTED]") && !msg.contains("canary"),
        "{msg}"
    );

    // `unwrap` on a loader error prints the error's Debug: the source, not the secret.
    let err = SecretSource::file("/nonexistent/paved/secret")
        .unwrap()
        .load_string();
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.unwrap())).unwrap_err();
    let msg = payload.downcast_ref::<String>().unwrap();
    assert!(msg.contains("/nonexistent/paved/secret"), "{msg}");
}

#[test]
fn se_09_invalid_sources_are_not_echoed() {
    for input in [
        "hunter2",
        "sk_live_51Hx-secret",
        "env:API_KEY=sk_live_51Hx",
        "env:sk-live-51Hx",
        "credential:../sk_live_51Hx",
        "credential:a/sk_live_51Hx",
        "file:",
        "ENV:API_KEY",
    ] {
        let err = input.parse::<SecretSource>().unwrap_err();
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains("51Hx") && !text.contains("hunter2"),
                "{text}"
            );
        }
    }
}

/// Captures everything a `tracing` subscriber writes, at every level.
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

fn with_captured_tracing(f: impl FnOnce()) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

#[test]
fn se_10_tracing_fields_render_redacted() {
    let token = SecretString::from("tracing-canary-token-0123");
    let key = SecretBytes::from(&b"tracing-canary-bytes-0123456789ab"[..]);
    let pin = Secret::new(Box::new(987_654_321u64));
    let out = with_captured_tracing(|| {
        tracing::info!(token = ?token, key = ?key, pin = ?pin, "event with secret fields");
        tracing::info!(
            token = tracing::field::debug(&token),
            "through field::debug"
        );
        let span = tracing::info_span!("request", token = ?token);
        span.in_scope(|| tracing::warn!("inside a span with a secret field"));
        tracing::error!("formatted message {token:?}");
    });
    assert!(out.contains("event with secret fields"), "{out}");
    assert!(out.contains("inside a span"), "{out}");
    assert!(out.matches("[REDACTED]").count() >= 6, "{out}");
    assert!(!out.contains("canary"), "{out}");
    assert!(!out.contains("987654321"), "{out}");
    // `tracing::Value` is sealed, and with no `Display`, `%token` does not compile: Debug
    // (`?token`) is the only way to record a secret, and it is redacted.
    assert!(!implements!(SecretString: fmt::Display));
}

#[test]
fn se_10_loader_events_name_the_source_not_the_secret() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "loader-event-canary\n").unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let out = with_captured_tracing(|| {
        let s = SecretString::from_file(&path).unwrap();
        assert_eq!(s.expose_secret(), "loader-event-canary");
        let relaxed = paved_secrets::LoadOptions::new().dangerous_allow_group_or_other_read();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o640))
            .unwrap();
        SecretSource::file(&path)
            .unwrap()
            .load_string_with(&relaxed)
            .unwrap();
    });
    assert!(out.contains("secret loaded"), "{out}");
    assert!(out.contains(&path.display().to_string()), "{out}");
    assert!(
        out.contains("dangerous_allow_group_or_other_read"),
        "warned: {out}"
    );
    assert!(!out.contains("canary"), "{out}");
}

#[test]
fn se_12_random_secret_lengths_are_bounded() {
    use paved_secrets::{Error, MAX_RANDOM_LEN, MIN_RANDOM_LEN};
    assert_eq!(MIN_RANDOM_LEN, 16, "128 bits");
    assert_eq!(paved_secrets::GENERATED_KEY_LEN, 32, "256 bits");
    for len in [0, 1, 15, MAX_RANDOM_LEN + 1] {
        assert!(matches!(
            SecretBytes::random(len),
            Err(Error::InvalidLength { requested, .. }) if requested == len
        ));
    }
    let a = SecretBytes::random(16).unwrap();
    let b = SecretBytes::random(16).unwrap();
    assert_eq!(a.len(), 16);
    assert!(
        !a.ct_eq(&b),
        "two 128-bit draws collide with probability 2^-128"
    );
    assert!(a.expose_secret().iter().any(|&x| x != 0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// SE-01/SE-09: `Debug` depends on nothing but the length class, so it never contains the
    /// secret or any 4-byte window of it.
    #[test]
    fn se_09_prop_debug_never_contains_the_secret(secret in proptest::collection::vec(any::<u8>(), 0..200)) {
        let decoy = decoy_bytes(&secret);
        let text = format!("{:?} {:#?}", SecretBytes::from(secret.clone()), SecretBytes::from(&secret[..]));
        let baseline = format!("{:?} {:#?}", SecretBytes::from(decoy.clone()), SecretBytes::from(&decoy[..]));
        prop_assert_eq!(&text, &baseline);
        assert_no_leak("SecretBytes Debug", &secret, &text, &baseline);
    }

    #[test]
    fn se_09_prop_string_debug_never_contains_the_secret(secret in "\\PC{0,80}") {
        let decoy = "#".repeat(secret.len());
        let text = format!("{:?}", SecretString::from(secret.as_str()));
        let baseline = format!("{:?}", SecretString::from(decoy.as_str()));
        prop_assert_eq!(&text, &baseline);
        assert_no_leak("SecretString Debug", secret.as_bytes(), &text, &baseline);
    }

    /// `ct_eq` agrees with `==` on bytes (unequal, equal, and one-bit-apart inputs).
    #[test]
    fn se_01_prop_ct_eq_agrees_with_eq(
        a in proptest::collection::vec(any::<u8>(), 0..64),
        b in proptest::collection::vec(any::<u8>(), 0..64),
        flip in any::<(usize, u8)>(),
    ) {
        let mut near = a.clone();
        if !near.is_empty() {
            let i = flip.0 % near.len();
            near[i] ^= 1 << (flip.1 % 8);
        }
        for other in [&b, &a, &near] {
            let expected = a == *other;
            prop_assert_eq!(ct_eq(&a, other), expected);
            prop_assert_eq!(SecretBytes::from(&a[..]).ct_eq(&SecretBytes::from(&other[..])), expected);
            prop_assert_eq!(SecretBytes::from(&a[..]).ct_eq_bytes(other), expected);
        }
    }

    #[test]
    fn se_01_prop_ct_eq_agrees_with_eq_on_strings(a in "\\PC{0,24}", b in "\\PC{0,24}") {
        for other in [&b, &a] {
            prop_assert_eq!(SecretString::from(a.as_str()).ct_eq(&SecretString::from(other.as_str())), a == *other);
            prop_assert_eq!(SecretString::from(a.as_str()).ct_eq_bytes(other), a == *other);
        }
    }

    /// Invalid source strings are described, never echoed (they may be pasted secrets).
    #[test]
    fn se_09_prop_source_errors_never_contain_the_input(input in "\\PC{1,64}") {
        let is_source = |s: &str| ["env:", "file:", "credential:"].iter().any(|p| s.starts_with(p));
        prop_assume!(!is_source(&input) && !is_source(&decoy_str(&input)));
        let text = input.parse::<SecretSource>().unwrap_err().to_string();
        let baseline = decoy_str(&input).parse::<SecretSource>().map_or_else(|e| e.to_string(), |_| String::new());
        prop_assert_eq!(&text, &baseline);
        assert_no_leak("SecretSource parse error", input.as_bytes(), &text, &baseline);
    }
}

/// serde: `Deserialize` error messages never quote the value (SE-01, SE-09).
#[cfg(feature = "serde")]
mod serde_errors {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Config {
        token: SecretString,
    }

    fn json_err<T: serde::de::DeserializeOwned + fmt::Debug>(json: &str) -> String {
        let err = serde_json::from_str::<T>(json).unwrap_err();
        format!("{err} | {err:?}")
    }

    #[test]
    fn se_01_deserialize_accepts_the_right_shapes() {
        let s: SecretString = serde_json::from_str("\"tok\\u0065n\"").unwrap();
        assert_eq!(s.expose_secret(), "token");
        let b: SecretBytes = serde_json::from_str("[1,2,255]").unwrap();
        assert_eq!(b.expose_secret(), &[1, 2, 255]);
        let b: SecretBytes = serde_json::from_str("\"raw\"").unwrap();
        assert_eq!(b.expose_secret(), b"raw");
        let n: Secret<u64> = serde_json::from_str("42").unwrap();
        assert_eq!(*n.expose_secret(), 42);
        let c: Config = serde_json::from_str(r#"{"token":"abc"}"#).unwrap();
        assert_eq!(c.token.expose_secret(), "abc");
        let src: SecretSource = serde_json::from_str("\"env:API_TOKEN\"").unwrap();
        assert_eq!(src.to_string(), "env:API_TOKEN");
        assert_eq!(serde_json::to_string(&src).unwrap(), "\"env:API_TOKEN\"");
        let big: SecretBytes = serde_json::from_str(&format!("{:?}", vec![7u8; 10_000])).unwrap();
        assert_eq!(big.len(), 10_000);
    }

    #[test]
    fn se_09_serde_errors_never_contain_the_value() {
        for (text, value) in [
            (json_err::<SecretString>("123456789"), "123456789"),
            (json_err::<SecretString>("[104,117,110,116]"), "104"),
            (json_err::<SecretString>("true"), "true"),
            (json_err::<SecretBytes>("[1,2,300]"), "300"),
            (json_err::<SecretBytes>("-5"), "-5"),
            (json_err::<Secret<u64>>("\"hunter2hunter2\""), "hunter2"),
            (json_err::<Config>(r#"{"token": 987654321}"#), "987654321"),
            (json_err::<SecretSource>("\"hunter2hunter2\""), "hunter2"),
        ] {
            assert!(!text.contains(value), "{value} leaked: {text}");
        }
    }

    #[test]
    fn se_01_serialize_only_through_the_named_wrapper() {
        use paved_secrets::SerializeExposed;
        let s = SecretString::from("exported");
        assert_eq!(
            serde_json::to_string(&SerializeExposed::new(&s)).unwrap(),
            "\"exported\""
        );
        let b = SecretBytes::from(vec![1u8, 2]);
        assert_eq!(
            serde_json::to_string(&SerializeExposed::new(&b)).unwrap(),
            "[1,2]"
        );
        let n = Secret::new(Box::new(7u32));
        assert_eq!(
            serde_json::to_string(&SerializeExposed::new(&n)).unwrap(),
            "7"
        );
        assert_eq!(
            format!("{:?}", SerializeExposed::new(&s)),
            "SerializeExposed([REDACTED])"
        );
    }

    fn digits_decoy(digits: &str) -> String {
        digits
            .chars()
            .enumerate()
            .map(|(i, c)| {
                // Every digit changes; the first stays non-zero so the length is kept.
                let d = c.to_digit(10).unwrap();
                let shifted = if i == 0 { d % 9 + 1 } else { (d + 5) % 10 };
                char::from_digit(shifted, 10).unwrap()
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A secret that arrives as a JSON number (a PIN, a numeric key) is not quoted.
        #[test]
        fn se_09_prop_serde_number_errors(secret in 0..10_000_000_000_000_000_000u64) {
            let digits = secret.to_string();
            let decoy = digits_decoy(&digits);
            let text = json_err::<SecretString>(&digits);
            let baseline = json_err::<SecretString>(&decoy);
            prop_assert_eq!(&text, &baseline);
            assert_no_leak("SecretString from number", digits.as_bytes(), &text, &baseline);
            let wrapped = format!(r#"{{"token": {digits}}}"#);
            let text = json_err::<Config>(&wrapped);
            let baseline = json_err::<Config>(&format!(r#"{{"token": {decoy}}}"#));
            prop_assert_eq!(&text, &baseline);
        }

        /// Arbitrary secret bytes as a JSON array: refused as a string, and elements out of
        /// byte range are not quoted either.
        #[test]
        fn se_09_prop_serde_sequence_errors(secret in proptest::collection::vec(any::<u8>(), 1..48)) {
            let as_json = |b: &[u8]| format!("{b:?}").replace(' ', "");
            let decoy: Vec<u8> = secret.iter().map(|&b| match b { 0..=9 => (b + 1) % 10, 10..=99 => 10 + (b - 10 + 7) % 90, _ => 100 + (b - 100 + 7) % 156 }).collect();
            let text = json_err::<SecretString>(&as_json(&secret));
            let baseline = json_err::<SecretString>(&as_json(&decoy));
            prop_assert_eq!(&text, &baseline);
            assert_no_leak("SecretString from sequence", &secret, &text, &baseline);

            let shifted: Vec<u16> = secret.iter().map(|&b| u16::from(b) + 256).collect();
            let shifted_decoy: Vec<u16> = decoy.iter().map(|&b| 511 - u16::from(b)).collect();
            let text = json_err::<SecretBytes>(&format!("{shifted:?}").replace(' ', ""));
            let baseline = json_err::<SecretBytes>(&format!("{shifted_decoy:?}").replace(' ', ""));
            prop_assert_eq!(&text, &baseline);
            for n in &shifted {
                prop_assert!(!text.contains(&n.to_string()), "{} quoted in {}", n, text);
            }
        }

        /// A string where a number secret was expected: `Secret<T>` replaces `T`'s error.
        #[test]
        fn se_09_prop_serde_string_errors(secret in "\\PC{1,48}") {
            let json = serde_json::to_string(&secret).unwrap();
            let decoy = serde_json::to_string(&decoy_str(&secret)).unwrap();
            let text = json_err::<Secret<u64>>(&json);
            let baseline = json_err::<Secret<u64>>(&decoy);
            prop_assert_eq!(&text, &baseline);
            assert_no_leak("Secret<u64> from string", secret.as_bytes(), &text, &baseline);
        }
    }
}
