//! SE-07 (key ring) property tests: round trips, and parse errors that never carry key
//! material (SE-09).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_secrets::{
    ExposeSecret, Key, KeyId, KeyRing, KeyRingError, MAX_KEY_LEN, MIN_KEY_LEN, SecretBytes,
};
use proptest::prelude::*;
use support::assert_no_leak;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A structure-preserving decoy of a key ring text: every base64url character after the first
/// `:` of a line moves 32 places in the alphabet. Membership, length and the low bits that make
/// trailing characters canonical are kept, so a well-formed key stays well formed (and a
/// malformed one stays malformed in the same way), while every key character changes.
fn decoy_key_material(text: &str) -> String {
    text.split('\n')
        .map(|line| match line.split_once(':') {
            Some((head, key)) => {
                let key: String = key
                    .bytes()
                    .map(|b| match ALPHABET.iter().position(|&a| a == b) {
                        Some(i) => char::from(ALPHABET[(i + 32) % 64]),
                        None => char::from(b),
                    })
                    .collect();
                format!("{head}:{key}")
            }
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The only shape a key ring error message may have: a function of line and kind alone.
fn expected_message(err: &KeyRingError) -> String {
    match err.line() {
        Some(line) => format!("key ring line {line}: {}", err.kind()),
        None => format!("key ring: {}", err.kind()),
    }
}

fn ring_strategy() -> impl Strategy<Value = (Vec<(String, Vec<u8>)>, usize)> {
    proptest::collection::btree_set("[A-Za-z0-9._-]{1,64}", 1..6)
        .prop_flat_map(|ids: BTreeSet<String>| {
            let n = ids.len();
            let keys = proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), MIN_KEY_LEN..=80),
                n,
            );
            (Just(ids.into_iter().collect::<Vec<_>>()), keys, 0..n)
        })
        .prop_map(|(ids, keys, primary)| (ids.into_iter().zip(keys).collect(), primary))
}

fn build(keys: &[(String, Vec<u8>)], primary: usize) -> KeyRing {
    let mut iter = keys.iter().map(|(id, material)| {
        Key::new(KeyId::new(id).unwrap(), SecretBytes::from(&material[..])).unwrap()
    });
    let mut ring = KeyRing::new(iter.next().unwrap());
    for key in iter {
        ring.insert(key).unwrap();
    }
    ring.set_primary(&keys[primary].0).unwrap();
    ring
}

#[derive(Debug, Clone)]
enum Mutation {
    DeleteChar(usize),
    InsertChar(usize, char),
    DuplicateLine(usize),
    DropPrimaryMark,
    MarkAnother(usize),
    Truncate(usize),
}

fn mutation_strategy() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteChar),
        (
            any::<usize>(),
            prop::sample::select(vec!['!', ' ', ':', '*', '=', '+', '/', 'A', '\n', 'é'])
        )
            .prop_map(|(i, c)| Mutation::InsertChar(i, c)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        Just(Mutation::DropPrimaryMark),
        any::<usize>().prop_map(Mutation::MarkAnother),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(text: &str, mutation: &Mutation) -> String {
    let chars: Vec<char> = text.chars().collect();
    let lines: Vec<&str> = text.lines().collect();
    match *mutation {
        Mutation::DeleteChar(i) => {
            let i = i % chars.len();
            chars[..i].iter().chain(&chars[i + 1..]).collect()
        }
        Mutation::InsertChar(i, c) => {
            let i = i % (chars.len() + 1);
            chars[..i].iter().chain([&c]).chain(&chars[i..]).collect()
        }
        Mutation::DuplicateLine(i) => {
            let line = lines[1 + i % (lines.len() - 1)];
            format!("{text}{line}\n")
        }
        Mutation::DropPrimaryMark => text.replacen("\n*", "\n", 1),
        Mutation::MarkAnother(i) => {
            let target = 1 + i % (lines.len() - 1);
            lines
                .iter()
                .enumerate()
                .map(|(n, l)| {
                    if n == target && !l.starts_with('*') {
                        format!("*{l}")
                    } else {
                        (*l).to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        }
        Mutation::Truncate(i) => chars[..i % chars.len()].iter().collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any ring survives `to_text` and `parse` unchanged: ids, order, primary, material; and
    /// the text form is canonical.
    #[test]
    fn se_07_prop_key_ring_round_trips((keys, primary) in ring_strategy()) {
        let ring = build(&keys, primary);
        let text = ring.to_text();
        let again = KeyRing::parse(text.expose_secret()).unwrap();
        prop_assert_eq!(again.primary().id().as_str(), keys[primary].0.as_str());
        prop_assert_eq!(again.keys().len(), keys.len());
        for ((id, material), key) in keys.iter().zip(again.keys()) {
            prop_assert_eq!(key.id().as_str(), id.as_str());
            prop_assert!(key.material().ct_eq_bytes(material));
            prop_assert!(again.get(id).is_some());
        }
        let text_again = again.to_text();
        prop_assert_eq!(text_again.expose_secret(), text.expose_secret());
    }

    /// A damaged ring text fails with an error that depends only on line and kind: the same
    /// error as the decoy text (whose key material differs in every character), worded
    /// exactly as `expected_message`, and containing no window of any key or its encoding.
    #[test]
    fn se_09_prop_key_ring_errors_never_contain_key_material(
        (keys, primary) in ring_strategy(),
        mutation in mutation_strategy(),
    ) {
        let text = build(&keys, primary).to_text().expose_secret().to_owned();
        let damaged = mutate(&text, &mutation);
        let decoy = decoy_key_material(&damaged);
        match (KeyRing::parse(&damaged), KeyRing::parse(&decoy)) {
            (Ok(_), Ok(_)) => {}
            (Err(err), Err(decoy_err)) => {
                prop_assert_eq!(err, decoy_err);
                let message = err.to_string();
                prop_assert_eq!(&message, &expected_message(&err));
                for (_, material) in &keys {
                    assert_no_leak("key bytes", material, &message, &decoy_err.to_string());
                    let encoded = URL_SAFE_NO_PAD.encode(material);
                    assert_no_leak("key text", encoded.as_bytes(), &message, &decoy_err.to_string());
                }
                let debug = format!("{err:?}");
                prop_assert!(!debug.contains(&URL_SAFE_NO_PAD.encode(&keys[0].1)[..8]));
            }
            (a, b) => prop_assert!(false, "decoy changed the outcome: {:?} vs {:?}", a.err(), b.err()),
        }
    }

    /// Arbitrary text never panics the parser and errors keep their shape.
    #[test]
    fn se_09_prop_key_ring_parse_arbitrary_text(text in "\\PC{0,300}") {
        if let Err(err) = KeyRing::parse(&text) {
            prop_assert_eq!(err.to_string(), expected_message(&err));
            if let Some(line) = err.line() {
                prop_assert!(line >= 1 && line <= text.lines().count());
            }
        }
    }
}

#[test]
fn se_07_key_length_bounds_are_exact() {
    for len in [MIN_KEY_LEN, MIN_KEY_LEN + 1, MAX_KEY_LEN] {
        let text = format!("*k:{}", URL_SAFE_NO_PAD.encode(vec![1u8; len]));
        assert_eq!(
            KeyRing::parse(&text).unwrap().primary().material().len(),
            len
        );
    }
    for len in [0, 1, MIN_KEY_LEN - 1, MAX_KEY_LEN + 1] {
        let text = format!("*k:{}", URL_SAFE_NO_PAD.encode(vec![1u8; len]));
        assert!(KeyRing::parse(&text).is_err(), "{len}");
    }
}

#[test]
fn se_07_ids_are_validated() {
    assert!(KeyId::new(&"a".repeat(64)).is_ok());
    for bad in ["", &"a".repeat(65), "a b", "a:b", "*a", "é", "a/b"] {
        assert!(KeyId::new(bad).is_err(), "{bad:?}");
    }
    let id: KeyId = "2025-06_v1.2".parse().unwrap();
    assert_eq!(id.to_string(), "2025-06_v1.2");
    assert_eq!(format!("{id:?}"), "\"2025-06_v1.2\"");
}
