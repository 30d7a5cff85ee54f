//! Shared test helpers: keys generated at test time (RSA from the test-only file), token
//! minting that can build any hostile token, and an injectable clock.
#![allow(dead_code, unreachable_pub, clippy::missing_panics_doc)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use paved_auth::jwt::{Algorithm, JwtValidator, JwtValidatorBuilder, VerificationKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://issuer.example";
pub const AUDIENCE: &str = "https://api.example";
/// A fixed "now" for tests that use [`TestClock`].
pub const NOW: u64 = 1_800_000_000;

/// A clock the test moves by hand; clones share the time.
#[derive(Debug, Clone)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn at(now: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now)))
    }
    pub fn set(&self, now: u64) {
        self.0.store(now, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    pub fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl paved_crypto::Clock for TestClock {
    fn now_unix(&self) -> u64 {
        self.now()
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

/// DER tag-length-value.
pub fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = value.len();
    if len < 0x80 {
        out.push(u8::try_from(len).unwrap());
    } else if len < 0x100 {
        out.extend([0x81, u8::try_from(len).unwrap()]);
    } else {
        out.push(0x82);
        out.extend(u16::try_from(len).unwrap().to_be_bytes());
    }
    out.extend_from_slice(value);
    out
}

pub fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// A signing key of any family, generated in the test (RSA: the test-only file).
pub enum SigningKey {
    Ec {
        pair: sig::EcdsaKeyPair,
        alg: Algorithm,
    },
    Ed(sig::Ed25519KeyPair),
    Rsa(sig::RsaKeyPair),
    Hmac(Vec<u8>),
}

pub const RSA_TEST_KEY_PEM: &str = include_str!("../data/test-only-rsa-2048.pem");

impl SigningKey {
    pub fn es256() -> Self {
        Self::ec(Algorithm::ES256)
    }

    pub fn es384() -> Self {
        Self::ec(Algorithm::ES384)
    }

    fn ec(alg: Algorithm) -> Self {
        let signing = if alg == Algorithm::ES256 {
            &sig::ECDSA_P256_SHA256_FIXED_SIGNING
        } else {
            &sig::ECDSA_P384_SHA384_FIXED_SIGNING
        };
        let rng = SystemRandom::new();
        let pkcs8 = sig::EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
        let pair = sig::EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
        Self::Ec { pair, alg }
    }

    pub fn ed25519() -> Self {
        let pkcs8 = sig::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        Self::Ed(sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap())
    }

    /// The test-only RSA-2048 key from `tests/data`.
    pub fn rsa() -> Self {
        let body: String = RSA_TEST_KEY_PEM
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        let der = STANDARD.decode(body).unwrap();
        Self::Rsa(sig::RsaKeyPair::from_pkcs8(&der).unwrap())
    }

    pub fn hmac(len: usize) -> Self {
        let mut key = vec![0u8; len];
        ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut key).unwrap();
        Self::Hmac(key)
    }

    /// Signs `input` with `alg` (for RSA any RS*/PS*; for HMAC any HS*).
    pub fn sign(&self, alg: Algorithm, input: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match self {
            Self::Ec { pair, .. } => pair.sign(&rng, input).unwrap().as_ref().to_vec(),
            Self::Ed(pair) => pair.sign(input).as_ref().to_vec(),
            Self::Rsa(pair) => {
                let padding: &dyn sig::RsaEncoding = match alg {
                    Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &sig::RSA_PSS_SHA256,
                    Algorithm::PS384 => &sig::RSA_PSS_SHA384,
                    Algorithm::PS512 => &sig::RSA_PSS_SHA512,
                    other => panic!("not an RSA algorithm: {other}"),
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, input, &mut out).unwrap();
                out
            }
            Self::Hmac(key) => {
                let h = match alg {
                    Algorithm::HS384 => ring::hmac::HMAC_SHA384,
                    Algorithm::HS512 => ring::hmac::HMAC_SHA512,
                    _ => ring::hmac::HMAC_SHA256,
                };
                ring::hmac::sign(&ring::hmac::Key::new(h, key), input)
                    .as_ref()
                    .to_vec()
            }
        }
    }

    /// The natural algorithm of the key (RSA: PS256; HMAC: HS256).
    pub fn default_alg(&self) -> Algorithm {
        match self {
            Self::Ec { alg, .. } => *alg,
            Self::Ed(_) => Algorithm::EdDSA,
            Self::Rsa(_) => Algorithm::PS256,
            Self::Hmac(_) => Algorithm::HS256,
        }
    }

    /// The RSA public key as PKCS#1 `RSAPublicKey` DER.
    pub fn rsa_pkcs1_der(&self) -> Vec<u8> {
        let Self::Rsa(pair) = self else {
            panic!("not RSA")
        };
        pair.public().as_ref().to_vec()
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> Vec<u8> {
        let (alg_id, key): (Vec<u8>, Vec<u8>) = match self {
            Self::Ec { pair, alg } => {
                let curve: &[u8] = if *alg == Algorithm::ES256 {
                    &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
                } else {
                    &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
                };
                let mut id = vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
                id.extend_from_slice(curve);
                (id, pair.public_key().as_ref().to_vec())
            }
            Self::Ed(pair) => (
                vec![0x06, 0x03, 0x2b, 0x65, 0x70],
                pair.public_key().as_ref().to_vec(),
            ),
            Self::Rsa(pair) => (
                vec![
                    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
                ],
                pair.public().as_ref().to_vec(),
            ),
            Self::Hmac(_) => panic!("no public key"),
        };
        let mut bits = vec![0u8];
        bits.extend_from_slice(&key);
        let mut body = tlv(0x30, &alg_id);
        body.extend(tlv(0x03, &bits));
        tlv(0x30, &body)
    }

    pub fn public_pem(&self) -> String {
        pem("PUBLIC KEY", &self.spki_der())
    }

    /// The public JWK (without `kid`/`alg`).
    pub fn jwk(&self) -> Value {
        match self {
            Self::Ec { pair, alg } => {
                let point = pair.public_key().as_ref();
                let (crv, n) = if *alg == Algorithm::ES256 {
                    ("P-256", 32)
                } else {
                    ("P-384", 48)
                };
                json!({"kty":"EC","crv":crv,"x":b64(&point[1..=n]),"y":b64(&point[1 + n..])})
            }
            Self::Ed(pair) => {
                json!({"kty":"OKP","crv":"Ed25519","x":b64(pair.public_key().as_ref())})
            }
            Self::Rsa(pair) => {
                let c = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
                json!({"kty":"RSA","n":b64(&c.n),"e":b64(&c.e)})
            }
            Self::Hmac(k) => json!({"kty":"oct","k":b64(k)}),
        }
    }

    /// The verification key for `alg` with `kid`.
    pub fn verification_key(&self, alg: Algorithm, kid: &str) -> VerificationKey {
        let key = match self {
            Self::Hmac(k) => {
                VerificationKey::hmac(alg, &paved_secrets::SecretBytes::from(k.clone())).unwrap()
            }
            _ => VerificationKey::from_pem(alg, self.public_pem().as_bytes()).unwrap(),
        };
        key.with_kid(kid).unwrap()
    }
}

/// `header.payload.signature` from raw header and claims text (so duplicates and any
/// hostile JSON can be built), signed with `key` under `alg`.
pub fn mint_raw(header: &str, claims: &str, key: &SigningKey, alg: Algorithm) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", b64(signature))
}

/// A token with a JSON header and claims.
pub fn mint(header: &Value, claims: &Value, key: &SigningKey, alg: Algorithm) -> String {
    mint_raw(&header.to_string(), &claims.to_string(), key, alg)
}

/// Valid claims at `now`.
pub fn claims_at(now: u64) -> Value {
    json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "exp": now + 300,
        "scope": "items:read items:write",
    })
}

/// A valid token for `key` (its default algorithm) with `kid`, at `now`.
pub fn token(key: &SigningKey, kid: &str, now: u64) -> String {
    let alg = key.default_alg();
    mint(
        &json!({"alg": alg.name(), "kid": kid, "typ": "at+jwt"}),
        &claims_at(now),
        key,
        alg,
    )
}

/// A validator builder with a clock at [`NOW`].
pub fn builder(clock: &TestClock) -> JwtValidatorBuilder {
    JwtValidator::builder(ISSUER, AUDIENCE).clock(clock.clone())
}

/// A validator trusting `key` under `kid` for its default algorithm.
pub fn validator_for(key: &SigningKey, kid: &str, clock: &TestClock) -> JwtValidator {
    let alg = key.default_alg();
    let mut b = builder(clock).key(key.verification_key(alg, kid));
    if alg.name().starts_with("HS") {
        b = b.algorithms([alg]);
    }
    b.build().unwrap()
}

/// Runs a future that must be ready at once (static keys), without a runtime.
pub fn now<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("validation with static keys did not complete at once"),
    }
}
