//! Property tests: round trips for arbitrary Unicode, NFC/NFD equivalence, sealing that opens
//! only with its purpose, key and before expiry, and single bit flips that never open.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::format_push_string
)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_crypto::{Clock, OpenError, PasswordHasher, PasswordPolicy, Sealer, VerifyError};
use paved_secrets::{Key, KeyRing, SecretString};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization as _;

fn hasher() -> &'static PasswordHasher {
    static H: OnceLock<PasswordHasher> = OnceLock::new();
    H.get_or_init(|| PasswordHasher::new(PasswordPolicy::new(7_168, 5, 1).unwrap()))
}

#[derive(Debug)]
struct TestClock(AtomicU64);
impl Clock for TestClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn password_round_trip_for_arbitrary_unicode(password in "\\PC{1,40}") {
        let stored = hasher().hash(&SecretString::from(password.as_str())).unwrap();
        prop_assert!(hasher().verify(&SecretString::from(password.as_str()), stored.as_str()).is_ok());
        // NFC and NFD spellings of the same text verify alike.
        let nfd: String = password.nfd().collect();
        let nfc: String = password.nfc().collect();
        prop_assert!(hasher().verify(&SecretString::from(nfd.as_str()), stored.as_str()).is_ok());
        prop_assert!(hasher().verify(&SecretString::from(nfc.as_str()), stored.as_str()).is_ok());
        let other = format!("{password}x");
        prop_assert_eq!(
            hasher().verify(&SecretString::from(other.as_str()), stored.as_str()),
            Err(VerifyError::WrongPassword)
        );
    }

    #[test]
    fn verify_never_panics_on_arbitrary_stored_text(stored in "\\$?[a-z0-9]{0,10}(\\$[a-zA-Z0-9=,+/]{0,40}){0,5}") {
        let _ = hasher().verify(&SecretString::from("x"), &stored);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn sealed_opens_only_with_its_purpose_key_and_before_expiry(
        payload in proptest::collection::vec(any::<u8>(), 0..300),
        ttl in 1u64..100_000,
        purpose in "[a-z-]{1,20}",
        other_purpose in "[a-z-]{1,20}",
    ) {
        let clock = Arc::new(TestClock(AtomicU64::new(1_700_000_000)));
        let ring = KeyRing::generate().unwrap();
        let sealer = Sealer::new(&ring, &purpose).unwrap().with_clock(clock.clone());
        let sealed = sealer.seal(&payload, Duration::from_secs(ttl)).unwrap();
        prop_assert_eq!(&sealer.open(&sealed).unwrap()[..], &payload[..]);
        if other_purpose != purpose {
            let other = Sealer::new(&ring, &other_purpose).unwrap().with_clock(clock.clone());
            prop_assert_eq!(other.open(&sealed), Err(OpenError::Invalid));
        }
        // Same key id, another key: authentication fails.
        let other_ring = KeyRing::new(Key::generate(ring.primary().id().clone()).unwrap());
        let stranger = Sealer::new(&other_ring, &purpose).unwrap().with_clock(clock.clone());
        prop_assert_eq!(stranger.open(&sealed), Err(OpenError::Invalid));
        clock.0.fetch_add(ttl, Ordering::SeqCst);
        prop_assert_eq!(sealer.open(&sealed), Err(OpenError::Expired));
    }

    #[test]
    fn a_single_flipped_bit_never_opens(
        payload in proptest::collection::vec(any::<u8>(), 0..64),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        static SEALER: OnceLock<Sealer> = OnceLock::new();
        let sealer = SEALER.get_or_init(|| Sealer::new(&KeyRing::generate().unwrap(), "p").unwrap());
        let sealed = sealer.seal(&payload, Duration::from_secs(60)).unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let i = position.index(raw.len());
        raw[i] ^= 1 << bit;
        prop_assert!(sealer.open(&URL_SAFE_NO_PAD.encode(&raw)).is_err());
    }

    #[test]
    fn open_never_panics_and_never_accepts_arbitrary_text(input in ".{0,200}") {
        static SEALER: OnceLock<Sealer> = OnceLock::new();
        let sealer = SEALER.get_or_init(|| Sealer::new(&KeyRing::generate().unwrap(), "p").unwrap());
        prop_assert!(sealer.open(&input).is_err());
    }

    #[test]
    fn ct_eq_agrees_with_eq(a in proptest::collection::vec(any::<u8>(), 0..40), b in proptest::collection::vec(any::<u8>(), 0..40)) {
        prop_assert_eq!(paved_crypto::ct_eq(&a, &b), a == b);
        prop_assert!(paved_crypto::ct_eq(&a, &a.clone()));
    }
}
