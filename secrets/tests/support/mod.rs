//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

pub mod runner;

/// Whether a type implements a trait, decided at compile time on stable Rust (the inherent
/// associated constant wins over the blanket trait's when the bound holds).
#[macro_export]
macro_rules! implements {
    ($ty:ty: $($bound:tt)+) => {{
        #[allow(dead_code)]
        trait Fallback {
            const IMPLS: bool = false;
        }
        impl<T: ?Sized> Fallback for T {}
        struct Probe<T: ?Sized>(::std::marker::PhantomData<T>);
        #[allow(dead_code)]
        impl<T: ?Sized + $($bound)+> Probe<T> {
            const IMPLS: bool = true;
        }
        <Probe<$ty>>::IMPLS
    }};
}

/// The windows of `secret` a rendering must not contain: every 4-byte window, or the whole
/// secret when it is shorter than that.
pub fn windows(secret: &[u8]) -> Vec<&[u8]> {
    if secret.len() >= 4 {
        secret.windows(4).collect()
    } else if secret.is_empty() {
        Vec::new()
    } else {
        vec![secret]
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Fails if `text` contains `secret` or any 4-byte window of it that does not also occur in
/// `baseline`, the same rendering made for a decoy secret of the same shape. A window found in
/// both comes from the fixed wording (say the secret contains "line"), not from the secret.
pub fn assert_no_leak(what: &str, secret: &[u8], text: &str, baseline: &str) {
    for window in windows(secret) {
        assert!(
            !contains(text.as_bytes(), window) || contains(baseline.as_bytes(), window),
            "{what}: rendering contains a window of the secret: {window:?} in {text:?}"
        );
    }
}

/// A decoy with the same length and UTF-8 shape as `s`: ASCII letters and digits are rotated
/// (so every such character differs), everything else is kept (so escaping and lengths match).
pub fn decoy_str(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'a'..='z' => char::from(b'a' + (c as u8 - b'a' + 13) % 26),
            'A'..='Z' => char::from(b'A' + (c as u8 - b'A' + 13) % 26),
            '0'..='9' => char::from(b'0' + (c as u8 - b'0' + 5) % 10),
            other => other,
        })
        .collect()
}

/// A decoy with the same length as `bytes`, differing in every byte.
pub fn decoy_bytes(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().map(|b| b ^ 0x5a).collect()
}
