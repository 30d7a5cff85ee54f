//! [`KeyRing`]: keys with ids, one primary for new work, the others still accepted (SE-07).
//!
//! The text format and the rotation procedure are documented on [`KeyRing`].

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use secrecy::{ExposeSecret, ExposeSecretMut};
use zeroize::Zeroize;

use crate::error::{Error, KeyRingError, KeyRingErrorKind};
use crate::random;
use crate::secret::{SecretBytes, SecretString};
use crate::source::{LoadOptions, SecretSource};

/// The shortest key accepted: 32 bytes, 256 bits (SE-12).
pub const MIN_KEY_LEN: usize = 32;
/// The longest key accepted: 512 bytes (bounds the work and memory of parsing; far above any
/// HMAC or AEAD key size).
pub const MAX_KEY_LEN: usize = 512;
/// The most keys a ring holds (bounds lookups and parsing; a ring needs two or three).
pub const MAX_KEYS: usize = 64;
/// The longest key id accepted.
pub const MAX_KEY_ID_LEN: usize = 64;
/// Random bytes in a generated key id: 16 bytes, 128 bits (SE-12), 22 base64url characters.
const RANDOM_KEY_ID_LEN: usize = 16;

/// base64url (RFC 4648 §5), no padding written, padding accepted, canonical trailing bits.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const TEXT_HEADER: &str =
    "# paved-secrets key ring: one `kid:base64url` key per line; `*` marks the primary\n";

/// A key id: 1 to [`MAX_KEY_ID_LEN`] characters of `A-Z a-z 0-9 . _ -`. Not secret.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(Box<str>);

impl KeyId {
    /// Checks and wraps `id`.
    ///
    /// # Errors
    ///
    /// [`KeyRingErrorKind::InvalidKeyId`] for any other string.
    pub fn new(id: &str) -> Result<Self, KeyRingError> {
        let valid = !id.is_empty()
            && id.len() <= MAX_KEY_ID_LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if valid {
            Ok(Self(id.into()))
        } else {
            Err(KeyRingError::new(KeyRingErrorKind::InvalidKeyId))
        }
    }

    /// A random key id: 128 bits from the OS CSPRNG, base64url (22 characters).
    ///
    /// # Errors
    ///
    /// [`Error::Random`] if the OS generator fails.
    pub fn random() -> Result<Self, Error> {
        let mut bytes = [0u8; RANDOM_KEY_ID_LEN];
        random::fill(&mut bytes)?;
        Ok(Self(BASE64URL.encode(bytes).into_boxed_str()))
    }

    /// The id as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for KeyId {
    type Err = KeyRingError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for KeyId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for KeyId {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for KeyId {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

/// A key: an id and [`MIN_KEY_LEN`] to [`MAX_KEY_LEN`] secret bytes.
///
/// `Debug` shows the id and redacts the material.
#[derive(Clone)]
pub struct Key {
    id: KeyId,
    material: SecretBytes,
}

impl Key {
    /// Pairs an id with key material.
    ///
    /// # Errors
    ///
    /// [`KeyRingErrorKind::KeyTooShort`] / [`KeyTooLong`](KeyRingErrorKind::KeyTooLong) unless
    /// the material is [`MIN_KEY_LEN`] to [`MAX_KEY_LEN`] bytes.
    pub fn new(id: KeyId, material: SecretBytes) -> Result<Self, KeyRingError> {
        check_key_len(material.len()).map_err(KeyRingError::new)?;
        Ok(Self { id, material })
    }

    /// A new key of [`GENERATED_KEY_LEN`](crate::GENERATED_KEY_LEN) (32) random bytes from the
    /// OS CSPRNG.
    ///
    /// # Errors
    ///
    /// [`Error::Random`] if the OS generator fails.
    pub fn generate(id: KeyId) -> Result<Self, Error> {
        Ok(Self {
            id,
            material: random::secret_bytes(random::GENERATED_KEY_LEN)?,
        })
    }

    /// The key id.
    #[must_use]
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The key material.
    #[must_use]
    pub fn material(&self) -> &SecretBytes {
        &self.material
    }
}

impl ExposeSecret<[u8]> for Key {
    fn expose_secret(&self) -> &[u8] {
        self.material.expose_secret()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .field("material", &self.material)
            .finish()
    }
}

/// Keys with ids: one primary for new work, the others accepted for verification and
/// decryption while they are rotated out.
///
/// # Text format
///
/// One key per line, `kid:base64url`; the primary key's line starts with `*`:
///
/// ```text
/// # paved-secrets key ring
/// *2025-06:Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLWtleS0wMDAwMDAwMDAw
/// 2025-01:b2xkZXIta2V5LWZvci1kb2NzLW9ubHktMDAwMDAwMDAwMDAwMDAw
/// ```
///
/// - `kid` is 1 to [`MAX_KEY_ID_LEN`](crate::MAX_KEY_ID_LEN) characters of `A-Z a-z 0-9 . _ -`, unique in the ring.
///   Key ids are not secret: they travel with what a key protects (a token header, a sealed
///   cookie prefix) so the right key can be found.
/// - the key is base64url (RFC 4648 §5), padding optional, [`MIN_KEY_LEN`] to [`MAX_KEY_LEN`]
///   bytes once decoded (at least 256 bits, SE-12);
/// - exactly one line starts with `*`; blank lines and lines starting with `#` are ignored;
///   spaces and tabs around a line are ignored; at most [`MAX_KEYS`] keys.
///
/// Errors name the line and the problem, never the line's content.
///
/// # Rotation without downtime
///
/// With several instances, a key must be *accepted* everywhere before any instance *uses* it:
///
/// 1. add the new key as a non-primary line and deploy: every instance accepts it;
/// 2. move the `*` to the new key and deploy: new work uses it, the old key is still accepted;
/// 3. once nothing protected by the old key is still valid (sessions expired, tokens rotated),
///    remove its line and deploy.
///
/// # Example
///
/// ```
/// use paved_secrets::{ExposeSecret, Key, KeyId, KeyRing};
///
/// let mut ring = KeyRing::generate()?;                 // one random primary key
/// let old = ring.primary().id().clone();
/// ring.rotate(Key::generate(KeyId::new("2025-06")?)?)?; // new primary, old one kept
/// assert_eq!(ring.primary().id(), "2025-06");
/// assert!(ring.get(old.as_str()).is_some());
///
/// // Text round trip (what an operator stores in a secret file or credential).
/// let text = ring.to_text();
/// let again = KeyRing::parse(text.expose_secret())?;
/// assert_eq!(again.primary().id(), "2025-06");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct KeyRing {
    keys: Vec<Key>,
    primary: usize,
}

impl KeyRing {
    /// A ring holding only `primary`.
    #[must_use]
    pub fn new(primary: Key) -> Self {
        Self {
            keys: vec![primary],
            primary: 0,
        }
    }

    /// A ring holding one new random key (256 bits) with a random id (128 bits).
    ///
    /// # Errors
    ///
    /// [`Error::Random`] if the OS generator fails.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self::new(Key::generate(KeyId::random()?)?))
    }

    /// Parses the [text format](KeyRing#text-format).
    ///
    /// # Errors
    ///
    /// [`KeyRingError`] with the line number and the problem; never the line's content.
    pub fn parse(text: &str) -> Result<Self, KeyRingError> {
        let mut keys: Vec<Key> = Vec::new();
        let mut key_lines: Vec<usize> = Vec::new();
        let mut primary: Option<(usize, usize)> = None;
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.trim_matches([' ', '\t']);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (is_primary, entry) = match line.strip_prefix('*') {
                Some(rest) => (true, rest),
                None => (false, line),
            };
            let at = |kind| KeyRingError::at(line_no, kind);
            let Some((kid, encoded)) = entry.split_once(':') else {
                return Err(at(KeyRingErrorKind::MissingSeparator));
            };
            let id = KeyId::new(kid).map_err(|_| at(KeyRingErrorKind::InvalidKeyId))?;
            if let Some(first) = keys.iter().position(|k| k.id == id) {
                return Err(at(KeyRingErrorKind::DuplicateKeyId {
                    first_line: key_lines.get(first).copied(),
                }));
            }
            if is_primary && let Some((_, first_line)) = primary {
                return Err(at(KeyRingErrorKind::MultiplePrimaries { first_line }));
            }
            if keys.len() == MAX_KEYS {
                return Err(at(KeyRingErrorKind::TooManyKeys));
            }
            let material = decode_key(encoded).map_err(at)?;
            if is_primary {
                primary = Some((keys.len(), line_no));
            }
            keys.push(Key { id, material });
            key_lines.push(line_no);
        }
        if keys.is_empty() {
            return Err(KeyRingError::new(KeyRingErrorKind::NoKeys));
        }
        let Some((primary, _)) = primary else {
            return Err(KeyRingError::new(KeyRingErrorKind::NoPrimary));
        };
        Ok(Self { keys, primary })
    }

    /// Loads and parses a key ring from a source, with the default [`LoadOptions`].
    ///
    /// ```no_run
    /// use paved_secrets::KeyRing;
    ///
    /// let ring = KeyRing::load(&"credential:cookie-keys".parse()?)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Load`] naming the source, for a load failure or a parse error
    /// ([`LoadFailure::KeyRing`](crate::LoadFailure::KeyRing)).
    pub fn load(source: &SecretSource) -> Result<Self, Error> {
        Self::load_with(source, &LoadOptions::new())
    }

    /// Loads and parses a key ring from a source.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load).
    pub fn load_with(source: &SecretSource, options: &LoadOptions) -> Result<Self, Error> {
        let text = source.load_string_with(options)?;
        Self::parse(text.expose_secret())
            .map_err(|e| source.failed(crate::error::LoadFailure::KeyRing(e)))
    }

    /// The key for new work (signing, encrypting).
    #[must_use]
    pub fn primary(&self) -> &Key {
        &self.keys[self.primary]
    }

    /// The key with id `id`, primary or not (for verifying, decrypting).
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Key> {
        self.keys.iter().find(|k| k.id.as_str() == id)
    }

    /// All keys, in the order they were added (or appear in the text).
    pub fn keys(&self) -> std::slice::Iter<'_, Key> {
        self.keys.iter()
    }

    /// Adds a non-primary key (step 1 of a rotation).
    ///
    /// # Errors
    ///
    /// [`KeyRingErrorKind::DuplicateKeyId`] or [`KeyRingErrorKind::TooManyKeys`]; the ring is
    /// unchanged then.
    pub fn insert(&mut self, key: Key) -> Result<(), KeyRingError> {
        if self.get(key.id.as_str()).is_some() {
            return Err(KeyRingError::new(KeyRingErrorKind::DuplicateKeyId {
                first_line: None,
            }));
        }
        if self.keys.len() == MAX_KEYS {
            return Err(KeyRingError::new(KeyRingErrorKind::TooManyKeys));
        }
        self.keys.push(key);
        Ok(())
    }

    /// Makes the key `id` the primary (step 2 of a rotation).
    ///
    /// # Errors
    ///
    /// [`KeyRingErrorKind::UnknownKeyId`]; the ring is unchanged then.
    pub fn set_primary(&mut self, id: &str) -> Result<(), KeyRingError> {
        let index = self.index_of(id)?;
        self.primary = index;
        Ok(())
    }

    /// Removes and returns the key `id` (step 3 of a rotation).
    ///
    /// # Errors
    ///
    /// [`KeyRingErrorKind::UnknownKeyId`] or [`KeyRingErrorKind::CannotRemovePrimary`]; the ring
    /// is unchanged then.
    pub fn remove(&mut self, id: &str) -> Result<Key, KeyRingError> {
        let index = self.index_of(id)?;
        if index == self.primary {
            return Err(KeyRingError::new(KeyRingErrorKind::CannotRemovePrimary));
        }
        let key = self.keys.remove(index);
        if index < self.primary {
            self.primary -= 1;
        }
        Ok(key)
    }

    /// Adds `key` and makes it the primary at once; the previous primary stays for
    /// verification. Fine for a single instance; with several, see
    /// [rotation without downtime](KeyRing#rotation-without-downtime).
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert); the ring is unchanged then.
    pub fn rotate(&mut self, key: Key) -> Result<(), KeyRingError> {
        let index = self.keys.len();
        self.insert(key)?;
        self.primary = index;
        Ok(())
    }

    /// The ring in the [text format](KeyRing#text-format), built in one exactly-sized buffer.
    #[must_use]
    pub fn to_text(&self) -> SecretString {
        let line_len = |(index, k): (usize, &Key)| {
            usize::from(index == self.primary)
                + k.id.0.len()
                + 1
                + base64::encoded_len(k.material.len(), false).unwrap_or(0)
                + 1
        };
        let total = TEXT_HEADER.len() + self.keys.iter().enumerate().map(line_len).sum::<usize>();
        let mut buf = vec![0u8; total];
        let mut at = 0;
        put(&mut buf, &mut at, TEXT_HEADER.as_bytes());
        for (index, key) in self.keys.iter().enumerate() {
            if index == self.primary {
                put(&mut buf, &mut at, b"*");
            }
            put(&mut buf, &mut at, key.id.0.as_bytes());
            put(&mut buf, &mut at, b":");
            let written = BASE64URL
                .encode_slice(
                    key.material.expose_secret(),
                    buf.get_mut(at..).unwrap_or_default(),
                )
                .unwrap_or(0);
            at += written;
            put(&mut buf, &mut at, b"\n");
        }
        // Every byte written is ASCII, so this cannot fail; if it somehow did, wipe and return
        // an empty ring text rather than panic.
        match String::from_utf8(buf) {
            Ok(text) => SecretString::from(text),
            Err(e) => {
                e.into_bytes().zeroize();
                SecretString::from("")
            }
        }
    }

    fn index_of(&self, id: &str) -> Result<usize, KeyRingError> {
        self.keys
            .iter()
            .position(|k| k.id.as_str() == id)
            .ok_or(KeyRingError::new(KeyRingErrorKind::UnknownKeyId))
    }
}

impl fmt::Debug for KeyRing {
    /// Ids only: `KeyRing { primary: "2025-06", keys: ["2025-01", "2025-06"] }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Ids<'a>(&'a [Key]);
        impl fmt::Debug for Ids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|k| &k.id))
                    .finish()
            }
        }
        f.debug_struct("KeyRing")
            .field("primary", &self.primary().id)
            .field("keys", &Ids(&self.keys))
            .finish()
    }
}

/// Copies `bytes` to `buf[*at..]` and advances `at`. The buffer was sized exactly beforehand.
fn put(buf: &mut [u8], at: &mut usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(*at..*at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
    *at += bytes.len();
}

fn check_key_len(len: usize) -> Result<(), KeyRingErrorKind> {
    if len < MIN_KEY_LEN {
        Err(KeyRingErrorKind::KeyTooShort)
    } else if len > MAX_KEY_LEN {
        Err(KeyRingErrorKind::KeyTooLong)
    } else {
        Ok(())
    }
}

/// Decodes base64url key material straight into an exactly-sized secret buffer.
fn decode_key(encoded: &str) -> Result<SecretBytes, KeyRingErrorKind> {
    let unpadded = encoded.trim_end_matches('=');
    let padding = encoded.len() - unpadded.len();
    let alphabet_ok = unpadded
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !alphabet_ok || padding > 2 || unpadded.len() % 4 == 1 {
        return Err(KeyRingErrorKind::InvalidBase64);
    }
    let decoded_len = unpadded.len() / 4 * 3
        + match unpadded.len() % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        };
    check_key_len(decoded_len)?;
    let mut material = SecretBytes::from(vec![0u8; decoded_len].into_boxed_slice());
    match BASE64URL.decode_slice(encoded.as_bytes(), material.expose_secret_mut()) {
        Ok(written) if written == decoded_len => Ok(material),
        // `material` is zeroized when it drops.
        _ => Err(KeyRingErrorKind::InvalidBase64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str, byte: u8) -> Key {
        Key::new(KeyId::new(id).unwrap(), SecretBytes::from(vec![byte; 32])).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        BASE64URL.encode(bytes)
    }

    #[test]
    fn se_07_primary_for_new_work_others_for_verification() {
        let text = format!(
            "# comment\n\n*new:{}\nold:{}\n",
            b64(&[2; 32]),
            b64(&[1; 40])
        );
        let ring = KeyRing::parse(&text).unwrap();
        assert_eq!(ring.primary().id(), "new");
        assert_eq!(ring.primary().expose_secret(), &[2; 32]);
        assert_eq!(ring.get("old").unwrap().expose_secret(), &[1; 40][..]);
        assert!(ring.get("gone").is_none());
        assert_eq!(ring.keys().len(), 2);
    }

    #[test]
    fn se_07_rotation_keeps_old_keys_until_removed() {
        let mut ring = KeyRing::new(key("k1", 1));
        ring.insert(key("k2", 2)).unwrap();
        assert_eq!(ring.primary().id(), "k1", "inserting does not promote");
        ring.set_primary("k2").unwrap();
        assert_eq!(ring.primary().id(), "k2");
        assert!(ring.get("k1").is_some(), "the old key still verifies");
        assert_eq!(
            ring.remove("k2").unwrap_err().kind(),
            KeyRingErrorKind::CannotRemovePrimary
        );
        let removed = ring.remove("k1").unwrap();
        assert_eq!(removed.id(), "k1");
        assert_eq!(
            ring.primary().id(),
            "k2",
            "primary index follows the removal"
        );
        assert!(ring.get("k1").is_none());
        ring.rotate(key("k3", 3)).unwrap();
        assert_eq!(ring.primary().id(), "k3");
        assert!(ring.get("k2").is_some());
    }

    #[test]
    fn se_07_duplicate_ids_rejected() {
        let text = format!(
            "*a:{}\nb:{}\na:{}\n",
            b64(&[1; 32]),
            b64(&[2; 32]),
            b64(&[3; 32])
        );
        let err = KeyRing::parse(&text).err().unwrap();
        assert_eq!(err.line(), Some(3));
        assert_eq!(
            err.kind(),
            KeyRingErrorKind::DuplicateKeyId {
                first_line: Some(1)
            }
        );
        let mut ring = KeyRing::new(key("a", 1));
        assert!(matches!(
            ring.insert(key("a", 2)).unwrap_err().kind(),
            KeyRingErrorKind::DuplicateKeyId { first_line: None }
        ));
        assert_eq!(
            ring.primary().expose_secret(),
            &[1; 32],
            "unchanged on error"
        );
    }

    #[test]
    fn se_07_keys_shorter_than_32_bytes_rejected() {
        let text = format!("*a:{}\n", b64(&[7; 31]));
        let err = KeyRing::parse(&text).err().unwrap();
        assert_eq!(
            (err.line(), err.kind()),
            (Some(1), KeyRingErrorKind::KeyTooShort)
        );
        assert_eq!(
            Key::new(KeyId::new("a").unwrap(), SecretBytes::from(vec![0; 31]))
                .unwrap_err()
                .kind(),
            KeyRingErrorKind::KeyTooShort
        );
        let text = format!("*a:{}\n", b64(&[7; MAX_KEY_LEN + 1]));
        assert_eq!(
            KeyRing::parse(&text).err().unwrap().kind(),
            KeyRingErrorKind::KeyTooLong
        );
        let text = format!("*a:{}\n", b64(&[7; 32]));
        assert!(KeyRing::parse(&text).is_ok());
    }

    #[test]
    fn se_07_exactly_one_primary() {
        let k = b64(&[1; 32]);
        let none = format!("a:{k}\nb:{k}\n");
        assert_eq!(
            KeyRing::parse(&none).err().unwrap().kind(),
            KeyRingErrorKind::NoPrimary
        );
        let two = format!("*a:{k}\n*b:{k}\n");
        let err = KeyRing::parse(&two).err().unwrap();
        assert_eq!(err.line(), Some(2));
        assert_eq!(
            err.kind(),
            KeyRingErrorKind::MultiplePrimaries { first_line: 1 }
        );
        assert_eq!(
            KeyRing::parse("# nothing\n\n").err().unwrap().kind(),
            KeyRingErrorKind::NoKeys
        );
    }

    #[test]
    fn se_07_format_details() {
        use std::fmt::Write as _;

        let k = [9u8; 32];
        // Padding optional; CRLF and surrounding blanks tolerated.
        let padded = format!("  *a:{}=  \r\n", b64(&k));
        assert_eq!(
            KeyRing::parse(&padded).unwrap().primary().expose_secret(),
            &k
        );
        for (text, kind) in [
            ("*a\n".to_owned(), KeyRingErrorKind::MissingSeparator),
            (format!("*:{}\n", b64(&k)), KeyRingErrorKind::InvalidKeyId),
            (
                format!("*a b:{}\n", b64(&k)),
                KeyRingErrorKind::InvalidKeyId,
            ),
            (
                format!("*a:+{}\n", &b64(&k)[1..]),
                KeyRingErrorKind::InvalidBase64,
            ),
            ("*a:!!!!\n".to_owned(), KeyRingErrorKind::InvalidBase64),
            (
                format!("*a:{}xy\n", b64(&k)),
                KeyRingErrorKind::InvalidBase64,
            ),
            (
                format!("*a:{}===\n", b64(&k)),
                KeyRingErrorKind::InvalidBase64,
            ),
            (
                format!("*a: {}\n", b64(&k)),
                KeyRingErrorKind::InvalidBase64,
            ),
        ] {
            let err = KeyRing::parse(&text).err();
            assert_eq!(err.map(|e| e.kind()), Some(kind), "{text:?}");
        }
        // Non-canonical trailing bits are refused, so each key has exactly one encoding.
        let mut noncanonical = b64(&[0u8; 32]);
        noncanonical.pop();
        noncanonical.push('B');
        assert_eq!(
            KeyRing::parse(&format!("*a:{noncanonical}"))
                .err()
                .unwrap()
                .kind(),
            KeyRingErrorKind::InvalidBase64
        );
        let mut too_many = String::new();
        for i in 0..=MAX_KEYS {
            let mark = if i == 0 { "*" } else { "" };
            writeln!(too_many, "{mark}k{i}:{}", b64(&k)).unwrap();
        }
        assert_eq!(
            KeyRing::parse(&too_many).err().unwrap().kind(),
            KeyRingErrorKind::TooManyKeys
        );
    }

    #[test]
    fn se_07_documented_example_parses() {
        let ring = KeyRing::parse(
            "# paved-secrets key ring\n\
             *2025-06:Zm9yLWRvY3Mtb25seS1ub3QtYS1yZWFsLWtleS0wMDAwMDAwMDAw\n\
             2025-01:b2xkZXIta2V5LWZvci1kb2NzLW9ubHktMDAwMDAwMDAwMDAwMDAw\n",
        )
        .unwrap();
        assert_eq!(ring.primary().id(), "2025-06");
        assert!(ring.get("2025-01").is_some());
    }

    #[test]
    fn se_07_text_round_trip() {
        let mut ring = KeyRing::new(key("a", 1));
        ring.insert(key("b", 2)).unwrap();
        ring.set_primary("b").unwrap();
        let text = ring.to_text();
        assert!(text.expose_secret().starts_with('#'));
        assert_eq!(text.len(), text.expose_secret().len());
        let again = KeyRing::parse(text.expose_secret()).unwrap();
        assert_eq!(again.primary().id(), "b");
        for (x, y) in ring.keys().zip(again.keys()) {
            assert_eq!(x.id(), y.id());
            assert!(x.material().ct_eq(y.material()));
        }
    }

    #[test]
    fn se_12_generated_keys_and_ids_have_enough_entropy() {
        let ring = KeyRing::generate().unwrap();
        assert_eq!(ring.primary().material().len(), 32, "256-bit key");
        assert_eq!(
            ring.primary().id().as_str().len(),
            22,
            "128-bit id, base64url"
        );
        let other = KeyRing::generate().unwrap();
        assert_ne!(ring.primary().id(), other.primary().id());
        assert!(!ring.primary().material().ct_eq(other.primary().material()));
    }

    #[test]
    fn se_01_key_ring_debug_shows_ids_only() {
        let mut ring = KeyRing::new(key("a", 0x41));
        ring.insert(key("b", 0x42)).unwrap();
        let dbg = format!("{ring:?} {:?}", ring.primary());
        assert_eq!(
            dbg,
            "KeyRing { primary: \"a\", keys: [\"a\", \"b\"] } \
             Key { id: \"a\", material: SecretBytes([REDACTED], len 32..64) }"
        );
    }
}
