//! Verification keys: each pinned to its algorithm(s) and checked for family and size when it
//! is built, from PEM, DER, a JWK, a JWKS document or an HMAC secret from paved-secrets.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{DecodingKey, DecodingKeyKind};
use paved_secrets::{ExposeSecret, SecretBytes};
use serde_json::{Map, Value};

use crate::jwt::algorithm::{AlgSet, Algorithm, KeyFamily};
use crate::jwt::error::{ConfigError, JwkProblem, JwksError, JwtError, KeyError};
use crate::jwt::{der, json};

/// The most keys a JWKS document may hold; a larger document is refused as a whole.
pub const MAX_JWKS_KEYS: usize = 100;
/// The longest key id stored (and so the longest `kid` a token may carry).
pub const MAX_KID_LEN: usize = 256;
/// The smallest RSA modulus accepted (NIST SP 800-131A; ring refuses smaller).
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus accepted (ring's limit).
pub const MAX_RSA_BITS: usize = 8192;

/// A verification key pinned to the algorithm(s) it may verify.
///
/// The pin comes from the key, never from a token: from the algorithm given to the
/// constructor, or from the JWK's `alg` (or its curve, for EC and OKP keys). An RSA JWK without
/// `alg` is pinned to the RSA family, whose members the validator's allow-list then narrows.
/// Cheap to clone. `Debug` shows the id, family and algorithms, never key material.
#[derive(Clone)]
pub struct VerificationKey(Arc<KeyInner>);

struct KeyInner {
    kid: Option<Box<str>>,
    algs: AlgSet,
    family: KeyFamily,
    /// The RSA modulus length in bytes (the signature length); 0 for other families.
    rsa_len: usize,
    decoding: DecodingKey,
}

impl fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerificationKey")
            .field("kid", &self.0.kid)
            .field("family", &self.0.family)
            .field("algorithms", &self.0.algs)
            .finish_non_exhaustive()
    }
}

fn check_kid(kid: &str) -> Result<(), JwkProblem> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || kid.chars().any(char::is_control) {
        Err(JwkProblem::InvalidKid)
    } else {
        Ok(())
    }
}

/// `(n, e)` checked for size and exponent; returns the normalised key and its byte length.
fn rsa_key(n: &[u8], e: &[u8]) -> Result<(DecodingKey, usize), KeyError> {
    let first = n.iter().position(|b| *b != 0).unwrap_or(n.len());
    let n = &n[first..];
    let bits = der::bit_len(n);
    if bits < MIN_RSA_BITS {
        return Err(KeyError::RsaTooSmall { bits });
    }
    if bits > MAX_RSA_BITS {
        return Err(KeyError::RsaTooLarge { bits });
    }
    let e_first = e.iter().position(|b| *b != 0).unwrap_or(e.len());
    let e = &e[e_first..];
    let e_ok =
        der::bit_len(e) <= 33 && e.last().is_some_and(|b| b & 1 == 1) && der::bit_len(e) >= 2;
    if !e_ok {
        return Err(KeyError::InvalidRsaExponent);
    }
    Ok((DecodingKey::from_rsa_raw_components(n, e), n.len()))
}

fn ec_family(point_len: usize) -> Option<KeyFamily> {
    match point_len {
        65 => Some(KeyFamily::EcP256),
        97 => Some(KeyFamily::EcP384),
        _ => None,
    }
}

/// Parses public-key PEM of any supported family: `(family, key, rsa_len)`.
fn parse_public_pem(pem: &[u8]) -> Result<(KeyFamily, DecodingKey, usize), KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError::InvalidPem)?;
    let label = text
        .split("-----BEGIN ")
        .nth(1)
        .and_then(|rest| rest.split("-----").next())
        .ok_or(KeyError::InvalidPem)?;
    if label.contains("PRIVATE") {
        return Err(KeyError::PrivateKey);
    }
    if !matches!(label, "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE") {
        return Err(KeyError::InvalidPem);
    }
    if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        let DecodingKeyKind::SecretOrDer(pkcs1) = key.kind() else {
            return Err(KeyError::InvalidPem);
        };
        let (n, e) = der::rsa_public_key(pkcs1).ok_or(KeyError::InvalidPem)?;
        let (key, len) = rsa_key(n, e)?;
        return Ok((KeyFamily::Rsa, key, len));
    }
    if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        let point = key.try_get_as_bytes().map_err(|_| KeyError::InvalidPem)?;
        let family = ec_family(point.len()).ok_or(KeyError::InvalidEcPoint)?;
        if point.first() != Some(&4) {
            return Err(KeyError::InvalidEcPoint);
        }
        return Ok((family, key, 0));
    }
    if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        if key.try_get_as_bytes().map(<[u8]>::len) != Ok(32) {
            return Err(KeyError::InvalidEd25519);
        }
        return Ok((KeyFamily::Ed25519, key, 0));
    }
    Err(KeyError::InvalidPem)
}

/// Well-known placeholder secrets (jwt.io's sample secret, tutorial values), compared
/// case-insensitively as substrings of an ASCII secret. All are 6+ characters, so a random
/// secret contains one by chance with negligible probability.
const PLACEHOLDER_SECRETS: [&str; 5] = ["secret", "password", "passw0rd", "changeme", "qwerty"];

/// The JW-21 heuristic: a repeated pattern, fewer than 8 distinct bytes, or a placeholder. It
/// refuses obviously guessable secrets; it is not an entropy measurement.
fn is_weak_secret(secret: &[u8]) -> bool {
    let periodic =
        (1..=secret.len() / 2).any(|p| secret.iter().enumerate().all(|(i, b)| *b == secret[i % p]));
    let mut seen = [false; 256];
    for b in secret {
        seen[usize::from(*b)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count();
    let lower = secret.to_ascii_lowercase();
    let placeholder = PLACEHOLDER_SECRETS
        .iter()
        .any(|p| lower.windows(p.len()).any(|w| w == p.as_bytes()));
    periodic || distinct < 8 || placeholder
}

impl VerificationKey {
    fn new(
        kid: Option<Box<str>>,
        algs: AlgSet,
        family: KeyFamily,
        rsa_len: usize,
        decoding: DecodingKey,
    ) -> Self {
        Self(Arc::new(KeyInner {
            kid,
            algs,
            family,
            rsa_len,
            decoding,
        }))
    }

    /// A public key from PEM (`PUBLIC KEY`, i.e. `SubjectPublicKeyInfo`; `RSA PUBLIC KEY`; or
    /// the key of a `CERTIFICATE`, whose chain is not checked), pinned to `alg`.
    ///
    /// # Errors
    ///
    /// [`KeyError::PrivateKey`] for private-key PEM, [`KeyError::InvalidPem`],
    /// [`KeyError::WrongFamily`] if the key does not fit `alg`,
    /// [`KeyError::NotAPublicKeyAlgorithm`] for HMAC algorithms, and the RSA/EC/Ed25519 size
    /// errors.
    pub fn from_pem(alg: Algorithm, pem: &[u8]) -> Result<Self, KeyError> {
        if alg.family() == KeyFamily::Hmac {
            return Err(KeyError::NotAPublicKeyAlgorithm(alg));
        }
        let (family, decoding, rsa_len) = parse_public_pem(pem)?;
        if family != alg.family() {
            return Err(KeyError::WrongFamily { alg, found: family });
        }
        Ok(Self::new(
            None,
            AlgSet::of([alg]),
            family,
            rsa_len,
            decoding,
        ))
    }

    /// A public key from DER `SubjectPublicKeyInfo` (what `openssl pkey -pubout -outform DER`
    /// writes), pinned to `alg`.
    ///
    /// # Errors
    ///
    /// As [`from_pem`](Self::from_pem), with [`KeyError::InvalidDer`] for unparsable input.
    pub fn from_der(alg: Algorithm, spki: &[u8]) -> Result<Self, KeyError> {
        let body = STANDARD.encode(spki);
        let mut pem = String::with_capacity(body.len() + body.len() / 64 + 64);
        pem.push_str("-----BEGIN PUBLIC KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).map_err(|_| KeyError::InvalidDer)?);
            pem.push('\n');
        }
        pem.push_str("-----END PUBLIC KEY-----\n");
        Self::from_pem(alg, pem.as_bytes()).map_err(|e| match e {
            KeyError::InvalidPem => KeyError::InvalidDer,
            other => other,
        })
    }

    /// A public key from one JWK (RFC 7517), with the same rules as a key taken from a JWKS
    /// (JW-23): no `oct` keys (use [`hmac`](Self::hmac)), `use` must be `sig` if present,
    /// `key_ops` must allow `verify` if present, `alg` must fit `kty`/`crv`, RSA ≥ 2048 bits,
    /// no private members.
    ///
    /// # Errors
    ///
    /// [`KeyError::Jwk`] with the problem found.
    pub fn from_jwk(jwk: &str) -> Result<Self, KeyError> {
        let map =
            json::parse_object(jwk.as_bytes()).map_err(|_| KeyError::Jwk(JwkProblem::Malformed))?;
        Self::from_jwk_map(&map).map_err(KeyError::Jwk)
    }

    pub(crate) fn from_jwk_map(map: &Map<String, Value>) -> Result<Self, JwkProblem> {
        let string = |name: &'static str| -> Result<Option<&str>, JwkProblem> {
            match map.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(JwkProblem::InvalidMember(name)),
            }
        };
        let b64 = |name: &'static str| -> Result<Vec<u8>, JwkProblem> {
            let text = string(name)?.ok_or(JwkProblem::InvalidMember(name))?;
            URL_SAFE_NO_PAD
                .decode(text)
                .map_err(|_| JwkProblem::InvalidMember(name))
        };
        let kty = string("kty")?.ok_or(JwkProblem::InvalidMember("kty"))?;
        if kty == "oct" {
            return Err(JwkProblem::Symmetric);
        }
        if ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]
            .iter()
            .any(|m| map.contains_key(*m))
        {
            return Err(JwkProblem::PrivateKeyMaterial);
        }
        if let Some(usage) = string("use")?
            && usage != "sig"
        {
            return Err(JwkProblem::NotForSignatures);
        }
        if let Some(ops) = map.get("key_ops") {
            let Value::Array(ops) = ops else {
                return Err(JwkProblem::InvalidMember("key_ops"));
            };
            if !ops.iter().any(|op| op.as_str() == Some("verify")) {
                return Err(JwkProblem::NoVerifyOperation);
            }
        }
        let kid = string("kid")?;
        if let Some(kid) = kid {
            check_kid(kid)?;
        }
        let alg = match string("alg")? {
            None => None,
            Some(name) => Some(Algorithm::from_name(name).ok_or(JwkProblem::UnknownAlgorithm)?),
        };
        let (family, decoding, rsa_len) = match kty {
            "RSA" => {
                let (n, e) = (b64("n")?, b64("e")?);
                let (key, len) = rsa_key(&n, &e).map_err(|e| match e {
                    KeyError::RsaTooSmall { .. } => JwkProblem::RsaTooSmall,
                    _ => JwkProblem::BadKeyMaterial,
                })?;
                (KeyFamily::Rsa, key, len)
            }
            "EC" => {
                let (family, coord) = match string("crv")? {
                    Some("P-256") => (KeyFamily::EcP256, 32),
                    Some("P-384") => (KeyFamily::EcP384, 48),
                    Some(_) => return Err(JwkProblem::Unsupported),
                    None => return Err(JwkProblem::InvalidMember("crv")),
                };
                let (x, y) = (b64("x")?, b64("y")?);
                if x.len() != coord || y.len() != coord {
                    return Err(JwkProblem::BadKeyMaterial);
                }
                let mut point = Vec::with_capacity(1 + 2 * coord);
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                (family, DecodingKey::from_ec_der(&point), 0)
            }
            "OKP" => {
                match string("crv")? {
                    Some("Ed25519") => {}
                    Some(_) => return Err(JwkProblem::Unsupported),
                    None => return Err(JwkProblem::InvalidMember("crv")),
                }
                let x = b64("x")?;
                if x.len() != 32 {
                    return Err(JwkProblem::BadKeyMaterial);
                }
                (KeyFamily::Ed25519, DecodingKey::from_ed_der(&x), 0)
            }
            _ => return Err(JwkProblem::Unsupported),
        };
        let algs = match alg {
            Some(alg) if alg.family() == family => AlgSet::of([alg]),
            Some(_) => return Err(JwkProblem::AlgorithmMismatch),
            None => AlgSet::of(Algorithm::ALL.into_iter().filter(|a| a.family() == family)),
        };
        Ok(Self::new(
            kid.map(Into::into),
            algs,
            family,
            rsa_len,
            decoding,
        ))
    }

    /// An HMAC secret for `alg` (HS256/HS384/HS512), at least as long as the hash output and
    /// not obviously guessable (JW-21).
    ///
    /// # Errors
    ///
    /// [`KeyError::NotAPublicKeyAlgorithm`] unless `alg` is an HMAC algorithm,
    /// [`KeyError::HmacTooShort`], [`KeyError::WeakHmacKey`].
    pub fn hmac(alg: Algorithm, secret: &SecretBytes) -> Result<Self, KeyError> {
        if alg.family() != KeyFamily::Hmac {
            return Err(KeyError::NotAPublicKeyAlgorithm(alg));
        }
        let bytes = secret.expose_secret();
        let min = alg.min_hmac_key_len();
        if bytes.len() < min {
            return Err(KeyError::HmacTooShort {
                alg,
                min,
                actual: bytes.len(),
            });
        }
        if is_weak_secret(bytes) {
            return Err(KeyError::WeakHmacKey);
        }
        Ok(Self::new(
            None,
            AlgSet::of([alg]),
            KeyFamily::Hmac,
            0,
            DecodingKey::from_secret(bytes),
        ))
    }

    /// An HMAC key from a paved-secrets [`Key`](paved_secrets::Key) (for instance the primary
    /// key of a `KeyRing`); the key's id becomes the `kid`.
    ///
    /// # Errors
    ///
    /// As [`hmac`](Self::hmac), and [`KeyError::InvalidKid`].
    pub fn hmac_from_key(alg: Algorithm, key: &paved_secrets::Key) -> Result<Self, KeyError> {
        Self::hmac(alg, key.material())?.with_kid(key.id().as_str())
    }

    /// The same key under the id `kid`.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKid`] if `kid` is empty, longer than [`MAX_KID_LEN`] bytes or has
    /// control characters.
    pub fn with_kid(self, kid: &str) -> Result<Self, KeyError> {
        check_kid(kid).map_err(|_| KeyError::InvalidKid)?;
        let inner = &self.0;
        Ok(Self::new(
            Some(kid.into()),
            inner.algs,
            inner.family,
            inner.rsa_len,
            inner.decoding.clone(),
        ))
    }

    /// The key id, if any.
    #[must_use]
    pub fn kid(&self) -> Option<&str> {
        self.0.kid.as_deref()
    }

    /// The key's family.
    #[must_use]
    pub fn family(&self) -> KeyFamily {
        self.0.family
    }

    /// The algorithms this key is pinned to.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.0.algs.iter()
    }

    pub(crate) fn alg_set(&self) -> AlgSet {
        self.0.algs
    }

    pub(crate) fn decoding(&self) -> &DecodingKey {
        &self.0.decoding
    }

    /// The signature length this key produces with `alg`.
    pub(crate) fn signature_len(&self, alg: Algorithm) -> usize {
        alg.fixed_signature_len().unwrap_or(self.0.rsa_len)
    }
}

/// A set of verification keys, looked up by `kid`.
///
/// Built from keys one by one ([`with`](Self::with)) or from a JWKS document held locally
/// ([`from_jwks`](Self::from_jwks)); the [`JwksCache`](crate::jwt::JwksCache) builds one per
/// fetch.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
    by_kid: HashMap<Box<str>, usize>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

/// A key dropped from a JWKS and why (JW-23); for logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dropped {
    pub(crate) kid: Option<String>,
    pub(crate) problem: JwkProblem,
}

impl KeySet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The set with `key` added.
    ///
    /// # Errors
    ///
    /// [`ConfigError::DuplicateKeyId`] if a key with the same `kid` is already in the set.
    pub fn with(mut self, key: VerificationKey) -> Result<Self, ConfigError> {
        if let Some(kid) = key.kid() {
            if self.by_kid.contains_key(kid) {
                return Err(ConfigError::DuplicateKeyId);
            }
            self.by_kid.insert(kid.into(), self.keys.len());
        }
        self.keys.push(key);
        Ok(self)
    }

    /// The usable keys of a JWKS document (e.g. one shipped with the application), with the
    /// same filtering as a fetched one (JW-23). Keys that break a rule are dropped and logged
    /// at `warn`.
    ///
    /// # Errors
    ///
    /// [`JwksError`] if the document is not a JSON object with a `keys` array, has more than
    /// [`MAX_JWKS_KEYS`] keys, or has no usable key.
    pub fn from_jwks(document: &[u8]) -> Result<Self, JwksError> {
        let (set, dropped) = Self::parse_jwks(document)?;
        log_dropped(&dropped);
        Ok(set)
    }

    pub(crate) fn parse_jwks(document: &[u8]) -> Result<(Self, Vec<Dropped>), JwksError> {
        let map = json::parse_object(document).map_err(|_| JwksError::InvalidJson)?;
        let Some(Value::Array(entries)) = map.get("keys") else {
            return Err(JwksError::NoKeys);
        };
        if entries.len() > MAX_JWKS_KEYS {
            return Err(JwksError::TooManyKeys { max: MAX_JWKS_KEYS });
        }
        let mut dropped = Vec::new();
        let mut accepted = Vec::with_capacity(entries.len());
        for entry in entries {
            let kid = entry
                .get("kid")
                .and_then(Value::as_str)
                .map(|k| k.chars().take(64).collect::<String>());
            let result = match entry {
                Value::Object(map) => VerificationKey::from_jwk_map(map),
                _ => Err(JwkProblem::Malformed),
            };
            match result {
                Ok(key) => accepted.push(key),
                Err(problem) => dropped.push(Dropped { kid, problem }),
            }
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for key in &accepted {
            if let Some(kid) = key.kid() {
                *counts.entry(kid).or_default() += 1;
            }
        }
        let duplicated: Vec<String> = counts
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(kid, _)| kid.to_owned())
            .collect();
        let mut set = Self::new();
        for key in accepted {
            if key.kid().is_some_and(|k| duplicated.iter().any(|d| d == k)) {
                dropped.push(Dropped {
                    kid: key.kid().map(|k| k.chars().take(64).collect()),
                    problem: JwkProblem::DuplicateKid,
                });
                continue;
            }
            set = set.with(key).map_err(|_| JwksError::InvalidJson)?;
        }
        if set.is_empty() {
            log_dropped(&dropped);
            return Err(JwksError::NoUsableKeys);
        }
        Ok((set, dropped))
    }

    /// The number of keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = &VerificationKey> {
        self.keys.iter()
    }

    pub(crate) fn contains_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    /// The key for a token: by `kid`, or, without one, the only key pinned to `alg`.
    pub(crate) fn find(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerificationKey, JwtError> {
        if let Some(kid) = kid {
            return self
                .by_kid
                .get(kid)
                .and_then(|i| self.keys.get(*i))
                .ok_or(JwtError::UnknownKey);
        }
        let mut candidates = self.keys.iter().filter(|k| k.alg_set().contains(alg));
        match (candidates.next(), candidates.next()) {
            (Some(key), None) => Ok(key),
            (None, _) => Err(JwtError::UnknownKey),
            (Some(_), Some(_)) => Err(JwtError::AmbiguousKey),
        }
    }
}

pub(crate) fn log_dropped(dropped: &[Dropped]) {
    for d in dropped {
        tracing::warn!(
            kid = ?d.kid,
            reason = %d.problem,
            "paved-auth: dropped a key from the JWKS"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secret_heuristic() {
        assert!(is_weak_secret(&[0; 32]));
        assert!(is_weak_secret(b"abababababababababababababababab"));
        assert!(is_weak_secret(b"my-super-secret-key-for-jwt-2024"));
        assert!(is_weak_secret(b"CHANGEME-please-0123456789abcdefgh"));
        assert!(!is_weak_secret(b"k3v9QpZ2rW7xT1mN8bY4cH6jL0dF5gSa"));
        let random = ring::rand::generate::<[u8; 32]>(&ring::rand::SystemRandom::new())
            .unwrap()
            .expose();
        assert!(!is_weak_secret(&random));
    }

    #[test]
    fn hmac_keys_need_the_hash_size() {
        let short = SecretBytes::from(vec![1u8; 31]);
        assert!(matches!(
            VerificationKey::hmac(Algorithm::HS256, &short),
            Err(KeyError::HmacTooShort {
                min: 32,
                actual: 31,
                ..
            })
        ));
        let k = SecretBytes::random(48).unwrap();
        assert!(VerificationKey::hmac(Algorithm::HS512, &k).is_err());
        assert!(VerificationKey::hmac(Algorithm::HS384, &k).is_ok());
        assert!(matches!(
            VerificationKey::hmac(Algorithm::ES256, &k),
            Err(KeyError::NotAPublicKeyAlgorithm(_))
        ));
    }

    #[test]
    fn kid_rules() {
        assert!(check_kid("a").is_ok());
        assert!(check_kid("").is_err());
        assert!(check_kid("a\nb").is_err());
        assert!(check_kid(&"k".repeat(MAX_KID_LEN + 1)).is_err());
    }
}
