//! CR rows of the symmetric-crypto checklist, each a named test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_crypto::{Clock, Error, Hmac, OpenError, Sealer, random_token};
use paved_secrets::{ExposeSecret as _, KeyRing};

#[derive(Debug, Default)]
struct TestClock(AtomicU64);

impl Clock for TestClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn ring(primary: &str, others: &[&KeyRing]) -> KeyRing {
    let mut text = format!("*{primary}:{}\n", random_token(32).unwrap());
    for ring in others {
        for key in ring.keys() {
            let b64 = URL_SAFE_NO_PAD.encode(key.material().expose_secret());
            text.push_str(&format!("{}:{b64}\n", key.id()));
        }
    }
    KeyRing::parse(&text).unwrap()
}

#[test]
fn cr_01_sealed_values_are_aead_with_key_id_and_fresh_salt() {
    let ring = ring("k1", &[]);
    let sealer = Sealer::new(&ring, "session-cookie").unwrap();
    let a = sealer.seal(b"user=42", Duration::from_secs(60)).unwrap();
    let b = sealer.seal(b"user=42", Duration::from_secs(60)).unwrap();
    assert_ne!(
        a, b,
        "each seal draws a fresh salt, so equal payloads differ"
    );
    let raw = URL_SAFE_NO_PAD.decode(&a).unwrap();
    assert_eq!(raw[0], 1, "format version");
    assert_eq!(
        &raw[2..2 + usize::from(raw[1])],
        b"k1",
        "key id in the clear"
    );
    assert!(!a.contains("user"), "payload must not be readable");
    assert!(!raw.windows(7).any(|w| w == b"user=42"));
    assert_eq!(&sealer.open(&a).unwrap()[..], b"user=42");
    // URL- and cookie-safe alphabet.
    assert!(
        a.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
}

#[test]
fn cr_01_every_byte_is_authenticated() {
    let sealer = Sealer::new(&ring("k1", &[]), "session-cookie").unwrap();
    let sealed = sealer.seal(b"0123456789", Duration::from_secs(60)).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
    for i in 0..raw.len() {
        for bit in 0..8 {
            let mut flipped = raw.clone();
            flipped[i] ^= 1 << bit;
            let text = URL_SAFE_NO_PAD.encode(&flipped);
            assert!(
                sealer.open(&text).is_err(),
                "byte {i} bit {bit} not authenticated"
            );
        }
    }
}

#[test]
fn cr_01_header_is_associated_data() {
    // Two ids with the same key material derive the same per-value key: only the associated
    // data tells them apart, so rewriting the kid must fail authentication.
    let material = random_token(32).unwrap();
    let ring = KeyRing::parse(&format!("*k1:{material}\nk2:{material}\n")).unwrap();
    let sealer = Sealer::new(&ring, "c").unwrap();
    let sealed = sealer.seal(b"v", Duration::from_secs(60)).unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
    assert_eq!(&raw[2..4], b"k1");
    raw[3] = b'2';
    assert_eq!(
        sealer.open(&URL_SAFE_NO_PAD.encode(&raw)),
        Err(OpenError::Invalid)
    );
}

#[test]
fn cr_02_purpose_separation() {
    let ring = ring("k1", &[]);
    let cookies = Sealer::new(&ring, "session-cookie").unwrap();
    let resets = Sealer::new(&ring, "password-reset").unwrap();
    let sealed = cookies.seal(b"user=42", Duration::from_secs(60)).unwrap();
    assert_eq!(resets.open(&sealed), Err(OpenError::Invalid));
    let mac_a = Hmac::new(&ring, "a").unwrap();
    let mac_b = Hmac::new(&ring, "b").unwrap();
    let tag = mac_a.sign(b"msg");
    assert_eq!(mac_b.verify(b"msg", &tag), Err(OpenError::Invalid));
    // The sealing key and the MAC key for one purpose differ too.
    assert!(Sealer::new(&ring, "").is_err());
    assert!(matches!(
        Sealer::new(&ring, "bad\npurpose"),
        Err(Error::InvalidPurpose)
    ));
}

#[test]
fn cr_03_rotation_old_keys_open_removed_keys_fail() {
    let old = ring("k1", &[]);
    let sealed_old = Sealer::new(&old, "c")
        .unwrap()
        .seal(b"v", Duration::from_secs(60))
        .unwrap();
    let rotated = ring("k2", &[&old]);
    let sealer = Sealer::new(&rotated, "c").unwrap();
    assert_eq!(&sealer.open(&sealed_old).unwrap()[..], b"v");
    let sealed_new = sealer.seal(b"v", Duration::from_secs(60)).unwrap();
    let raw = URL_SAFE_NO_PAD.decode(&sealed_new).unwrap();
    assert_eq!(&raw[2..4], b"k2", "new values use the new primary");
    let removed = ring("k3", &[]);
    assert_eq!(
        Sealer::new(&removed, "c").unwrap().open(&sealed_old),
        Err(OpenError::UnknownKey)
    );
    // Same for MACs.
    let tag = Hmac::new(&old, "m").unwrap().sign(b"x");
    assert!(Hmac::new(&rotated, "m").unwrap().verify(b"x", &tag).is_ok());
    assert_eq!(
        Hmac::new(&removed, "m").unwrap().verify(b"x", &tag),
        Err(OpenError::UnknownKey)
    );
}

#[test]
fn cr_04_expiry_inside_the_sealed_payload() {
    let clock = Arc::new(TestClock(AtomicU64::new(1_700_000_000)));
    let sealer = Sealer::new(&ring("k1", &[]), "c")
        .unwrap()
        .with_clock(clock.clone());
    let sealed = sealer.seal(b"v", Duration::from_secs(300)).unwrap();
    clock.0.store(1_700_000_299, Ordering::SeqCst);
    assert!(sealer.open(&sealed).is_ok());
    clock.0.store(1_700_000_300, Ordering::SeqCst);
    assert_eq!(sealer.open(&sealed), Err(OpenError::Expired));
    // A zero TTL is already expired.
    let sealed = sealer.seal(b"v", Duration::ZERO).unwrap();
    assert_eq!(sealer.open(&sealed), Err(OpenError::Expired));
}

#[test]
fn cr_05_hmac_sign_verify_and_ct_eq() {
    let mac = Hmac::new(&ring("k1", &[]), "webhook").unwrap();
    let tag = mac.sign(b"payload");
    assert!(mac.verify(b"payload", &tag).is_ok());
    assert_eq!(mac.verify(b"payloae", &tag), Err(OpenError::Invalid));
    let raw = URL_SAFE_NO_PAD.decode(&tag).unwrap();
    // Every bit of the 32-byte MAC (after the version, kid length and kid) is checked.
    let mac_start = raw.len() - 32;
    for i in mac_start..raw.len() {
        for bit in 0..8 {
            let mut flipped = raw.clone();
            flipped[i] ^= 1 << bit;
            assert_eq!(
                mac.verify(b"payload", &URL_SAFE_NO_PAD.encode(&flipped)),
                Err(OpenError::Invalid),
                "MAC byte {i} bit {bit}"
            );
        }
    }
    assert_eq!(mac.verify(b"payload", "!!"), Err(OpenError::Malformed));
    assert_eq!(mac.verify(b"payload", ""), Err(OpenError::Malformed));
    assert!(paved_crypto::ct_eq(b"same", b"same"));
    assert!(!paved_crypto::ct_eq(b"same", b"diff"));
}

#[test]
fn cr_06_random_tokens_have_at_least_128_bits() {
    assert!(matches!(
        random_token(15),
        Err(Error::TokenTooShort { min: 16 })
    ));
    assert!(random_token(0).is_err());
    let t = random_token(16).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.decode(&t).unwrap().len(), 16);
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        assert!(
            seen.insert(random_token(16).unwrap()),
            "a 128-bit token repeated"
        );
    }
}

#[test]
fn cr_07_ring_is_at_least_0_17_12() {
    // RUSTSEC-2025-0009 affects ring < 0.17.12; the lockfile pins what we build with.
    let lock = include_str!("../../Cargo.lock");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"ring\"" {
            let version = lines
                .next()
                .unwrap()
                .trim_start_matches("version = ")
                .trim_matches('"');
            let parts: Vec<u32> = version.split('.').map(|p| p.parse().unwrap()).collect();
            assert!(
                parts >= vec![0, 17, 12],
                "ring {version} has a known advisory"
            );
            return;
        }
    }
    panic!("ring not found in Cargo.lock");
}

#[test]
fn cr_07_sealer_and_hmac_debug_show_key_ids_only() {
    // Derived keys live only in ring's key types; Debug names the key ids and nothing else.
    let ring = ring("k1", &[]);
    assert_eq!(
        format!("{:?}", Sealer::new(&ring, "c").unwrap()),
        r#"Sealer { key_ids: ["k1"], .. }"#
    );
    assert_eq!(
        format!("{:?}", Hmac::new(&ring, "c").unwrap()),
        r#"Hmac { key_ids: ["k1"], .. }"#
    );
}

#[test]
fn open_rejects_garbage_with_typed_errors() {
    let sealer = Sealer::new(&ring("k1", &[]), "c").unwrap();
    for input in ["", "a", "!!!!", "AQJrMQ", &"A".repeat(200_000)] {
        assert!(
            matches!(sealer.open(input), Err(OpenError::Malformed)),
            "{input:.20}"
        );
    }
    assert!(matches!(
        sealer.seal(
            &vec![0; paved_crypto::MAX_SEALED_PAYLOAD + 1],
            Duration::from_secs(1)
        ),
        Err(Error::PayloadTooLarge { .. })
    ));
}
