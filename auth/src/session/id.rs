//! The session id the browser holds, and the key stores index records by.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::digest;
use zeroize::Zeroizing;

use super::SessionError;

/// Random bytes in a session id: 256 bits. ASVS V7.2.3 asks for at least 128 bits of CSPRNG
/// output; twice that keeps collisions and guessing out of reach however many sessions exist
/// (OWASP Session Management Cheat Sheet, "Session ID Entropy").
pub const SESSION_ID_BYTES: usize = 32;

/// Length of a session id in the cookie: [`SESSION_ID_BYTES`] in base64url without padding
/// (`ceil(32 * 8 / 6)` = 43 characters).
pub const SESSION_ID_COOKIE_LEN: usize = 43;

/// An opaque, random session id: what the browser holds in the session cookie (OA-12).
///
/// The value is a bearer secret: whoever has it is logged in. So it has no `Display`, its
/// `Debug` is redacted, equality is constant-time, and the only way to read it is the greppable
/// [`expose_cookie_value`](Self::expose_cookie_value). Stores never see it: they index by
/// [`SessionKey`], its SHA-256.
#[derive(Clone)]
pub struct SessionId {
    value: Zeroizing<String>,
}

impl SessionId {
    /// A new id of [`SESSION_ID_BYTES`] from the operating system's CSPRNG (ring `SystemRandom`).
    ///
    /// # Errors
    /// [`SessionError::Rng`] if the operating system has no randomness to give.
    pub fn generate() -> Result<Self, SessionError> {
        let value = paved_crypto::random_token(SESSION_ID_BYTES).map_err(|_| SessionError::Rng)?;
        Ok(Self {
            value: Zeroizing::new(value),
        })
    }

    /// Parses a cookie value strictly: exactly [`SESSION_ID_COOKIE_LEN`] characters of the
    /// base64url alphabet, in canonical form (the two spare bits of the last character zero), so
    /// each id has exactly one spelling. Anything else is `None`: the value is attacker input.
    #[must_use]
    pub fn from_cookie_value(value: &str) -> Option<Self> {
        let bytes = value.as_bytes();
        if bytes.len() != SESSION_ID_COOKIE_LEN
            || !bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return None;
        }
        let mut decoded = Zeroizing::new([0u8; SESSION_ID_BYTES + 1]);
        let n = URL_SAFE_NO_PAD.decode_slice(bytes, &mut decoded[..]).ok()?;
        if n != SESSION_ID_BYTES {
            return None;
        }
        // The engine already refuses non-zero trailing bits; re-encoding makes canonical form a
        // property of this function rather than of an engine setting.
        let canonical = Zeroizing::new(URL_SAFE_NO_PAD.encode(&decoded[..n]));
        if !paved_crypto::ct_eq(canonical.as_bytes(), bytes) {
            return None;
        }
        Some(Self {
            value: Zeroizing::new(value.to_owned()),
        })
    }

    /// The cookie value (43 base64url characters). It is the session's bearer secret: put it in
    /// the `Set-Cookie` header and nowhere else (not in logs, URLs or response bodies).
    #[must_use]
    pub fn expose_cookie_value(&self) -> &str {
        &self.value
    }

    /// The key stores index this session by: SHA-256 of the cookie value.
    #[must_use]
    pub fn key(&self) -> SessionKey {
        SessionKey::of_cookie_value(self.value.as_bytes())
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId([REDACTED])")
    }
}

impl PartialEq for SessionId {
    /// Constant-time: the time taken never tells where two ids first differ.
    fn eq(&self, other: &Self) -> bool {
        paved_crypto::ct_eq(self.value.as_bytes(), other.value.as_bytes())
    }
}

impl Eq for SessionId {}

/// Length of a SHA-256 digest.
const KEY_BYTES: usize = 32;

/// What stores index session records by: `SHA-256(ASCII cookie value)`, shown as 64 lowercase
/// hex digits.
///
/// A dump of a shared store (a Redis snapshot, a backup, a replica) then holds no usable cookie:
/// getting from a key back to an id means inverting SHA-256 on 256 random bits. The key is not
/// a secret, so it may appear in logs to correlate events of one session.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey([u8; KEY_BYTES]);

impl SessionKey {
    fn of_cookie_value(value: &[u8]) -> Self {
        let digest = digest::digest(&digest::SHA256, value);
        let mut out = [0u8; KEY_BYTES];
        out.copy_from_slice(digest.as_ref());
        Self(out)
    }

    /// The digest bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The key as 64 lowercase hex digits (what a shared store uses in its key names).
    #[must_use]
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(KEY_BYTES * 2);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        s
    }

    /// Parses 64 lowercase hex digits, as a shared store reads keys back from a per-user index.
    #[must_use]
    pub fn from_hex(hex: &str) -> Option<Self> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let bytes = hex.as_bytes();
        if bytes.len() != KEY_BYTES * 2 {
            return None;
        }
        let mut out = [0u8; KEY_BYTES];
        for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *o = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionKey({})", self.to_hex())
    }
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_are_43_chars() {
        let id = SessionId::generate().unwrap();
        assert_eq!(id.expose_cookie_value().len(), SESSION_ID_COOKIE_LEN);
        let parsed = SessionId::from_cookie_value(id.expose_cookie_value()).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.key(), id.key());
    }

    #[test]
    fn non_canonical_last_character_is_refused() {
        // 32 zero bytes encode as 42 'A's and a final 'A'; 'B' sets a spare bit.
        let canonical = "A".repeat(SESSION_ID_COOKIE_LEN);
        assert!(SessionId::from_cookie_value(&canonical).is_some());
        let non_canonical = format!("{}B", "A".repeat(SESSION_ID_COOKIE_LEN - 1));
        assert!(SessionId::from_cookie_value(&non_canonical).is_none());
    }

    #[test]
    fn wrong_length_padding_and_other_alphabets_are_refused() {
        let id = SessionId::generate().unwrap();
        let v = id.expose_cookie_value();
        for bad in [
            &v[..42],
            &format!("{v}A"),
            &format!("{}=", &v[..42]),
            &format!("{}+", &v[..42]),
            &format!("{}/", &v[..42]),
            &format!(" {}", &v[..42]),
            &format!("\"{}\"", &v[..41]),
            "",
        ] {
            assert!(SessionId::from_cookie_value(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn key_hex_round_trips_and_rejects_uppercase() {
        let key = SessionId::generate().unwrap().key();
        let hex = key.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(SessionKey::from_hex(&hex), Some(key));
        assert_eq!(SessionKey::from_hex(&hex.to_uppercase()), None);
        assert_eq!(SessionKey::from_hex(&hex[..63]), None);
    }

    #[test]
    fn different_ids_compare_unequal() {
        let a = SessionId::generate().unwrap();
        let b = SessionId::generate().unwrap();
        assert_ne!(a, b);
        assert_ne!(a.key(), b.key());
    }
}
