//! `Sealer` (authenticated encryption with expiry) and `Hmac` (authentication only), both with
//! per-purpose keys derived from a key ring.
//!
//! # Format of a sealed value (base64url, no padding)
//! ```text
//! version (1) | kid length (1) | kid | salt (16) | AES-256-GCM( iat u64 | exp u64 | payload ) | tag (16)
//! ```
//! The key for each value is `HKDF-Expand(PRK_purpose, salt)`, where `PRK_purpose` is
//! `HKDF-SHA256(salt = "paved-crypto/seal/v1", ikm = ring key, info = purpose)` (RFC 5869).
//! A fresh 128-bit random salt per value gives every value its own AES key, so the 2^32 limit
//! on random 96-bit GCM nonces under one key (NIST SP 800-38D §8.3) does not apply; the GCM
//! nonce is then fixed. Two values share a key only if their salts collide: after 2^48 seals
//! under one ring key the chance is below 2^-32 (CR-01). The header (version, kid, salt) is the
//! associated data, so no byte of the output can change without failing authentication.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use paved_secrets::{ExposeSecret as _, KeyRing};
use ring::aead::{self, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::{hkdf, hmac};
use zeroize::Zeroizing;

use crate::clock::{Clock, SystemClock};
use crate::token::fill_random;
use crate::{Error, OpenError};

/// Format version of sealed values and MAC tags.
const VERSION: u8 = 1;
/// Random salt per sealed value, bytes.
const SALT_LEN: usize = 16;
/// iat + exp.
const TIMES_LEN: usize = 16;
/// Longest key id carried in the output.
const MAX_KID_LEN: usize = 64;
/// Largest payload [`Sealer::seal`] accepts: 64 KiB (cookies are at most 4 KiB).
pub const MAX_SEALED_PAYLOAD: usize = 64 * 1024;
/// Longest sealed string [`Sealer::open`] reads before it refuses, so hostile input is bounded.
const MAX_SEALED_LEN: usize =
    (MAX_SEALED_PAYLOAD + 2 + MAX_KID_LEN + SALT_LEN + TIMES_LEN + 16).div_ceil(3) * 4;

/// Domain-separation salts for the two derivations (RFC 5869 §3.1: a non-secret salt).
const SEAL_SALT: &[u8] = b"paved-crypto/seal/v1";
const MAC_SALT: &[u8] = b"paved-crypto/hmac/v1";

/// A purpose label: what a key is for. Values sealed for one purpose never open for another
/// (CR-02).
fn check_purpose(purpose: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&purpose.len())
        && purpose.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidPurpose)
    }
}

/// A ring key turned into a per-purpose key; the raw bytes stay in the ring's secret type and
/// ring's key schedules are dropped with this value.
struct DerivedKey<K> {
    kid: Box<str>,
    key: K,
}

/// Derives one per-purpose value for every key in the ring, primary first.
fn derive_all<K>(
    ring: &KeyRing,
    salt: &[u8],
    purpose: &str,
    make: impl Fn(&hkdf::Prk) -> Result<K, Error>,
) -> Result<Vec<DerivedKey<K>>, Error> {
    check_purpose(purpose)?;
    let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, salt);
    let primary = ring.primary();
    let ordered = std::iter::once(primary).chain(ring.keys().filter(|k| k.id() != primary.id()));
    let mut keys = Vec::with_capacity(ring.keys().len());
    for ring_key in ordered {
        let kid = ring_key.id().as_str();
        if kid.is_empty() || kid.len() > MAX_KID_LEN {
            return Err(Error::InvalidKeyId);
        }
        let bytes = ring_key.material().expose_secret();
        if bytes.len() < 32 {
            return Err(Error::KeyTooShort);
        }
        // The per-purpose key goes from ring's HKDF output straight into ring's key type: no
        // raw copy of it exists outside ring.
        let purpose_prk: hkdf::Prk = salt
            .extract(bytes)
            .expand(&[purpose.as_bytes()], hkdf::HKDF_SHA256)
            .map_err(|_| Error::Internal("hkdf expand"))?
            .into();
        let key = make(&purpose_prk)?;
        keys.push(DerivedKey {
            kid: kid.into(),
            key,
        });
    }
    if keys.is_empty() {
        return Err(Error::NoPrimaryKey);
    }
    Ok(keys)
}

fn kids<K>(keys: &[DerivedKey<K>]) -> Vec<&str> {
    keys.iter().map(|k| &*k.kid).collect()
}

/// Parses `version | kid len | kid` and returns (kid, rest).
fn split_header(raw: &[u8]) -> Result<(&str, &[u8]), OpenError> {
    let [version, kid_len, rest @ ..] = raw else {
        return Err(OpenError::Malformed);
    };
    if *version != VERSION {
        return Err(OpenError::Malformed);
    }
    let kid_len = usize::from(*kid_len);
    if kid_len == 0 || kid_len > MAX_KID_LEN || rest.len() < kid_len {
        return Err(OpenError::Malformed);
    }
    let (kid, rest) = rest.split_at(kid_len);
    let kid = std::str::from_utf8(kid).map_err(|_| OpenError::Malformed)?;
    Ok((kid, rest))
}

fn write_header(out: &mut Vec<u8>, kid: &str) {
    out.push(VERSION);
    // `derive_all` bounds kids to 64 bytes.
    out.push(u8::try_from(kid.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(kid.as_bytes());
}

fn decode_bounded(input: &str, max: usize) -> Result<Vec<u8>, OpenError> {
    if input.len() > max {
        return Err(OpenError::Malformed);
    }
    URL_SAFE_NO_PAD
        .decode(input)
        .map_err(|_| OpenError::Malformed)
}

/// Authenticated encryption for values that leave the process and come back: cookies, OAuth
/// transaction state, links in e-mails (CR-01…CR-04).
///
/// A `Sealer` is bound to one purpose. It seals with the key ring's primary key and opens with
/// any key still in the ring, so keys rotate without logging anyone out; values sealed with a
/// key that has been removed fail with [`OpenError::UnknownKey`].
///
/// ```
/// use std::time::Duration;
/// use paved_crypto::Sealer;
/// use paved_secrets::KeyRing;
///
/// let ring = KeyRing::generate()?;
/// let cookies = Sealer::new(&ring, "session-cookie")?;
/// let sealed = cookies.seal(b"user=42", Duration::from_secs(3600))?;
/// assert_eq!(&cookies.open(&sealed)?[..], b"user=42");
///
/// let links = Sealer::new(&ring, "password-reset")?;
/// assert!(links.open(&sealed).is_err()); // another purpose, another key
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Sealer {
    keys: Vec<DerivedKey<hkdf::Prk>>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealer")
            .field("key_ids", &kids(&self.keys))
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// A sealer for `purpose` (1–64 printable ASCII characters, e.g. `"session-cookie"`).
    ///
    /// # Errors
    /// [`Error::InvalidPurpose`], or [`Error::KeyTooShort`] for a ring key under 32 bytes.
    pub fn new(ring: &KeyRing, purpose: &str) -> Result<Self, Error> {
        Ok(Self {
            keys: derive_all(ring, SEAL_SALT, purpose, |prk| Ok(prk.clone()))?,
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the clock (tests, or a service with its own time source).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Seals `payload` so it opens until `ttl` from now (CR-04).
    ///
    /// # Errors
    /// [`Error::PayloadTooLarge`] above [`MAX_SEALED_PAYLOAD`]; [`Error::Rng`].
    pub fn seal(&self, payload: &[u8], ttl: Duration) -> Result<String, Error> {
        if payload.len() > MAX_SEALED_PAYLOAD {
            return Err(Error::PayloadTooLarge {
                max: MAX_SEALED_PAYLOAD,
            });
        }
        let primary = self.keys.first().ok_or(Error::NoPrimaryKey)?;
        let now = self.clock.now_unix();
        let exp = now.saturating_add(ttl.as_secs());

        let header_len = 2 + primary.kid.len() + SALT_LEN;
        let mut buf =
            Vec::with_capacity(header_len + TIMES_LEN + payload.len() + AES_256_GCM.tag_len());
        write_header(&mut buf, &primary.kid);
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt)?;
        buf.extend_from_slice(&salt);
        buf.extend_from_slice(&now.to_be_bytes());
        buf.extend_from_slice(&exp.to_be_bytes());
        buf.extend_from_slice(payload);

        let key = message_key(&primary.key, &salt).map_err(|()| Error::Internal("hkdf"))?;
        let (header, body) = buf.split_at_mut(header_len);
        let tag = key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key([0; aead::NONCE_LEN]),
                Aad::from(&*header),
                body,
            )
            .map_err(|_| Error::Internal("aead seal"))?;
        buf.extend_from_slice(tag.as_ref());
        let sealed = URL_SAFE_NO_PAD.encode(&buf);
        zeroize::Zeroize::zeroize(&mut buf);
        Ok(sealed)
    }

    /// Opens a value sealed for this purpose by a key still in the ring, before its expiry.
    ///
    /// # Errors
    /// [`OpenError`]: treat every variant as "no value".
    pub fn open(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let mut raw = Zeroizing::new(decode_bounded(sealed, MAX_SEALED_LEN)?);
        let (kid, rest) = split_header(&raw)?;
        let header_len = 2 + kid.len() + SALT_LEN;
        if rest.len() < SALT_LEN + TIMES_LEN + AES_256_GCM.tag_len() {
            return Err(OpenError::Malformed);
        }
        let derived = self
            .keys
            .iter()
            .find(|k| &*k.kid == kid)
            .ok_or(OpenError::UnknownKey)?;
        let key = message_key(&derived.key, &rest[..SALT_LEN]).map_err(|()| OpenError::Invalid)?;
        let (header, body) = raw.split_at_mut(header_len);
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key([0; aead::NONCE_LEN]),
                Aad::from(&*header),
                body,
            )
            .map_err(|_| OpenError::Invalid)?;
        let (times, payload) = plain.split_at(TIMES_LEN);
        let exp = u64::from_be_bytes(times[8..16].try_into().map_err(|_| OpenError::Malformed)?);
        if self.clock.now_unix() >= exp {
            return Err(OpenError::Expired);
        }
        Ok(Zeroizing::new(payload.to_vec()))
    }
}

fn message_key(prk: &hkdf::Prk, salt: &[u8]) -> Result<LessSafeKey, ()> {
    let info = [salt];
    let okm = prk.expand(&info, &AES_256_GCM).map_err(|_| ())?;
    let key = UnboundKey::from(okm);
    Ok(LessSafeKey::new(key))
}

/// Message authentication with per-purpose HMAC-SHA256 keys from a key ring (CR-05): for
/// values that may be read but must not be changed (signed URLs, webhook payloads, CSRF
/// tokens bound to a session).
///
/// ```
/// use paved_crypto::Hmac;
/// use paved_secrets::KeyRing;
///
/// let ring = KeyRing::generate()?;
/// let links = Hmac::new(&ring, "download-link")?;
/// let tag = links.sign(b"/files/42?exp=1700000000");
/// assert!(links.verify(b"/files/42?exp=1700000000", &tag).is_ok());
/// assert!(links.verify(b"/files/43?exp=1700000000", &tag).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Hmac {
    keys: Vec<DerivedKey<hmac::Key>>,
}

impl fmt::Debug for Hmac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hmac")
            .field("key_ids", &kids(&self.keys))
            .finish_non_exhaustive()
    }
}

impl Hmac {
    /// HMAC keys for `purpose`, one per ring key.
    ///
    /// # Errors
    /// [`Error::InvalidPurpose`], or [`Error::KeyTooShort`] for a ring key under 32 bytes.
    pub fn new(ring: &KeyRing, purpose: &str) -> Result<Self, Error> {
        let keys = derive_all(ring, MAC_SALT, purpose, |prk| {
            prk.expand(&[b"hmac-sha256"], hmac::HMAC_SHA256)
                .map(hmac::Key::from)
                .map_err(|_| Error::Internal("hkdf expand"))
        })?;
        Ok(Self { keys })
    }

    /// A base64url tag over `message` that names the primary key.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> String {
        let Some(primary) = self.keys.first() else {
            // `new` refuses an empty ring, so there is always a primary key.
            return String::new();
        };
        let tag = hmac::sign(&primary.key, message);
        let mut buf = Vec::with_capacity(2 + primary.kid.len() + tag.as_ref().len());
        write_header(&mut buf, &primary.kid);
        buf.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(&buf)
    }

    /// Checks `tag` over `message` in constant time with the key the tag names.
    ///
    /// # Errors
    /// [`OpenError::Malformed`], [`OpenError::UnknownKey`], or [`OpenError::Invalid`].
    pub fn verify(&self, message: &[u8], tag: &str) -> Result<(), OpenError> {
        let raw = decode_bounded(tag, 4 * (2 + MAX_KID_LEN + 32).div_ceil(3))?;
        let (kid, mac) = split_header(&raw)?;
        let key = self
            .keys
            .iter()
            .find(|k| &*k.kid == kid)
            .ok_or(OpenError::UnknownKey)?;
        hmac::verify(&key.key, message, mac).map_err(|_| OpenError::Invalid)
    }
}
