//! Signing keys (ring) for the server's ID tokens and for tests that play a `private_key_jwt`
//! client, and the JWS verification the server does on client assertions and `id_token_hint`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};
use serde_json::{Value, json};

use super::error::HostileError;

/// The DER prefix of a P-256 `SubjectPublicKeyInfo` (RFC 5480 §2: id-ecPublicKey, prime256v1,
/// then the BIT STRING header of a 65-byte uncompressed point).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The DER prefix of an Ed25519 `SubjectPublicKeyInfo` (RFC 8410 §4: id-Ed25519, then the BIT
/// STRING header of the 32-byte key).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The JWS algorithms the server signs with (the ones a paved client accepts by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SigningAlg {
    /// ECDSA on P-256 with SHA-256, fixed-size `r‖s` signatures (RFC 7518 §3.4).
    Es256,
    /// Ed25519 (RFC 8037).
    EdDsa,
}

impl SigningAlg {
    /// The JOSE `alg` name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

enum Pair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

/// A freshly generated private key with its key id: the server signs ID tokens with these, and
/// a test playing a `private_key_jwt` client (RFC 7523) generates one, registers
/// [`public_jwk`](Self::public_jwk) with the server and gives [`pkcs8_pem`](Self::pkcs8_pem) to
/// the client under test.
///
/// `Debug` shows the key id and algorithm only.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    pair: Pair,
    pkcs8: Vec<u8>,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a key for `alg` with the key id `kid`.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if ring cannot generate or parse the key.
    pub fn generate(alg: SigningAlg, kid: impl Into<String>) -> Result<Self, HostileError> {
        let rng = SystemRandom::new();
        let (pair, pkcs8) = match alg {
            SigningAlg::Es256 => {
                let doc =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                        .map_err(|_| HostileError::Crypto)?;
                let pair = EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    doc.as_ref(),
                    &rng,
                )
                .map_err(|_| HostileError::Crypto)?;
                (Pair::Es256(pair), doc.as_ref().to_vec())
            }
            SigningAlg::EdDsa => {
                let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| HostileError::Crypto)?;
                let pair =
                    Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| HostileError::Crypto)?;
                (Pair::EdDsa(pair), doc.as_ref().to_vec())
            }
        };
        Ok(Self {
            kid: kid.into(),
            alg,
            pair,
            pkcs8,
            rng,
        })
    }

    /// The key id (`kid`).
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm.
    #[must_use]
    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// The raw public key: the uncompressed point `04‖x‖y` (P-256) or the 32 Ed25519 bytes.
    #[must_use]
    pub fn public_key_bytes(&self) -> &[u8] {
        match &self.pair {
            Pair::Es256(p) => p.public_key().as_ref(),
            Pair::EdDsa(p) => p.public_key().as_ref(),
        }
    }

    /// The public key as a JWK with `kid`, `alg` and `use: "sig"`.
    #[must_use]
    pub fn public_jwk(&self) -> Value {
        let raw = self.public_key_bytes();
        match self.alg {
            SigningAlg::Es256 => {
                // Skip the `04` (uncompressed) tag; x and y are the two halves of the rest.
                let point = raw.get(1..).unwrap_or_default();
                let (x, y) = point.split_at(point.len() / 2);
                json!({
                    "kty": "EC",
                    "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(x),
                    "y": URL_SAFE_NO_PAD.encode(y),
                    "kid": self.kid,
                    "alg": "ES256",
                    "use": "sig",
                })
            }
            SigningAlg::EdDsa => json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(raw),
                "kid": self.kid,
                "alg": "EdDSA",
                "use": "sig",
            }),
        }
    }

    /// The public key as a DER `SubjectPublicKeyInfo`.
    #[must_use]
    pub fn public_key_der(&self) -> Vec<u8> {
        let prefix: &[u8] = match self.alg {
            SigningAlg::Es256 => &P256_SPKI_PREFIX,
            SigningAlg::EdDsa => &ED25519_SPKI_PREFIX,
        };
        [prefix, self.public_key_bytes()].concat()
    }

    /// The public key as a PEM `PUBLIC KEY` block.
    #[must_use]
    pub fn public_key_pem(&self) -> String {
        pem("PUBLIC KEY", &self.public_key_der())
    }

    /// The private key as PKCS#8 DER (as ring generated it).
    #[must_use]
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The private key as a PEM `PRIVATE KEY` block (PKCS#8).
    #[must_use]
    pub fn pkcs8_pem(&self) -> String {
        pem("PRIVATE KEY", &self.pkcs8)
    }

    /// Signs `message`: a fixed-size `r‖s` for ES256, the 64 Ed25519 bytes for `EdDSA`.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if ring fails to sign.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, HostileError> {
        match &self.pair {
            Pair::Es256(p) => p
                .sign(&self.rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| HostileError::Crypto),
            Pair::EdDsa(p) => Ok(p.sign(message).as_ref().to_vec()),
        }
    }

    /// A compact JWS of `claims` with the header `{"alg", "typ": "JWT", "kid"}`.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if ring fails to sign.
    pub fn sign_jwt(&self, claims: &Value) -> Result<String, HostileError> {
        let header = json!({ "alg": self.alg.name(), "typ": "JWT", "kid": self.kid });
        self.sign_jwt_with_header(&header, claims)
    }

    /// A compact JWS of `claims` under exactly `header` (which is not checked: put any `alg`,
    /// `kid`, `crit`, `jku`… in it), signed with this key.
    ///
    /// # Errors
    ///
    /// [`HostileError::Crypto`] if ring fails to sign.
    pub fn sign_jwt_with_header(
        &self,
        header: &Value,
        claims: &Value,
    ) -> Result<String, HostileError> {
        let input = signing_input(header, claims);
        let sig = self.sign(input.as_bytes())?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// `BASE64URL(header) . BASE64URL(claims)`, the JWS signing input (RFC 7515 §5.1).
pub(crate) fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// Why a JWS did not verify (only for the server's own records and error descriptions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsError {
    Malformed,
    Alg,
    Key,
    Signature,
}

impl JwsError {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "the JWT is malformed",
            Self::Alg => "the JWT algorithm is not allowed for this key",
            Self::Key => "the registered key is unusable",
            Self::Signature => "the JWT signature does not verify",
        }
    }
}

/// A decoded compact JWS.
pub(crate) struct Jws {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    input_len: usize,
    signature: Vec<u8>,
}

impl Jws {
    /// Splits and decodes `token` (three base64url parts, JSON objects in the first two).
    pub(crate) fn parse(token: &str) -> Result<Self, JwsError> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwsError::Malformed);
        };
        let json = |part: &str| -> Result<Value, JwsError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwsError::Malformed)?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|_| JwsError::Malformed)?;
            if value.is_object() {
                Ok(value)
            } else {
                Err(JwsError::Malformed)
            }
        };
        Ok(Self {
            header: json(h)?,
            claims: json(p)?,
            input_len: h.len() + 1 + p.len(),
            signature: URL_SAFE_NO_PAD.decode(s).map_err(|_| JwsError::Malformed)?,
        })
    }

    /// The `alg` header.
    pub(crate) fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// Verifies the signature of `token` (the string this was parsed from) with the public
    /// `jwk`: the header `alg` must fit the key type (and the JWK's own `alg`, if it has one);
    /// `none` and the HMAC algorithms are never accepted.
    pub(crate) fn verify(&self, token: &str, jwk: &Value) -> Result<(), JwsError> {
        let alg = self.alg().ok_or(JwsError::Alg)?;
        if let Some(pinned) = jwk.get("alg").and_then(Value::as_str)
            && pinned != alg
        {
            return Err(JwsError::Alg);
        }
        let message = token
            .as_bytes()
            .get(..self.input_len)
            .ok_or(JwsError::Malformed)?;
        let member = |name: &str| -> Result<Vec<u8>, JwsError> {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
                .ok_or(JwsError::Key)
        };
        let kty = jwk
            .get("kty")
            .and_then(Value::as_str)
            .ok_or(JwsError::Key)?;
        let crv = jwk.get("crv").and_then(Value::as_str);
        let ec_point = || -> Result<Vec<u8>, JwsError> {
            Ok([vec![0x04], member("x")?, member("y")?].concat())
        };
        let result = match (alg, kty, crv) {
            ("ES256", "EC", Some("P-256")) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, ec_point()?)
                    .verify(message, &self.signature)
            }
            ("ES384", "EC", Some("P-384")) => {
                signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, ec_point()?)
                    .verify(message, &self.signature)
            }
            ("EdDSA" | "Ed25519", "OKP", Some("Ed25519")) => {
                signature::UnparsedPublicKey::new(&signature::ED25519, member("x")?)
                    .verify(message, &self.signature)
            }
            ("RS256" | "PS256", "RSA", _) => {
                let params: &signature::RsaParameters = if alg == "RS256" {
                    &signature::RSA_PKCS1_2048_8192_SHA256
                } else {
                    &signature::RSA_PSS_2048_8192_SHA256
                };
                signature::RsaPublicKeyComponents {
                    n: member("n")?,
                    e: member("e")?,
                }
                .verify(params, message, &self.signature)
            }
            _ => return Err(JwsError::Alg),
        };
        result.map_err(|_| JwsError::Signature)
    }
}
