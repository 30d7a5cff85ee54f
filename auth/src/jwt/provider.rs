//! A ring-based `CryptoProvider` for `jsonwebtoken` 11, and the once-per-process install.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error as JwtLibError, ErrorKind};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm as JAlg, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature as sig;
use ring::{digest, hmac};

use crate::jwt::der;

/// The ring [`CryptoProvider`] for `jsonwebtoken` 11.
///
/// `jsonwebtoken` 11 built without its `aws_lc_rs`/`rust_crypto` features has no crypto
/// backend: every sign or verify panics until a process-wide provider is installed. paved-auth
/// keeps ring the only crypto library in the tree, so it brings this provider:
///
/// - verification: RS256/384/512, PS256/384/512, ES256/ES384 (fixed-size `r‖s`), `EdDSA`
///   (Ed25519) and HS256/384/512 (constant-time HMAC compare);
/// - signing with the same algorithms (for tests, and for client assertions in the OAuth
///   module);
/// - the JWK helpers (`KeyUtils`) on ring.
///
/// Every factory checks that the key's family matches the algorithm (and, for EC keys, that the
/// point has the curve's size) before building anything; RSA moduli keep ring's 2048…8192-bit
/// bounds, and a leading zero byte in a JWK `n` is stripped (ring rejects it, several identity
/// providers publish it). [`install_crypto_provider`] installs it; an application may also
/// install it itself with `RING_PROVIDER.install_default()`.
pub static RING_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key: rsa_components_from_private_key,
        rsa_pub_components_from_public_key: rsa_components_from_public_key,
        ec_pub_components_from_private_key: ec_components_from_private_key,
        ed_pub_components_from_private_key: ed_component_from_private_key,
        compute_digest,
    },
};

/// Which provider paved-auth verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActiveProvider {
    /// paved-auth's [`RING_PROVIDER`], installed as the process default.
    Ring,
    /// A provider installed before paved-auth was first used (by the application, or another
    /// library); paved-auth verifies through `jsonwebtoken::crypto::verify`, i.e. with it.
    Application,
    /// `jsonwebtoken` latched its panicking placeholder; paved-auth verifies with
    /// [`RING_PROVIDER`] directly (the application's own `jsonwebtoken` calls still panic).
    RingFallback,
}

static ACTIVE: OnceLock<ActiveProvider> = OnceLock::new();

/// Installs [`RING_PROVIDER`] as `jsonwebtoken`'s process default unless a provider is
/// already installed, once per process, and says which provider paved-auth verifies with.
/// Never panics.
///
/// Building a [`JwtValidator`](crate::jwt::JwtValidator) calls it; call it first thing in
/// `main` if the application itself uses `jsonwebtoken` before that.
///
/// - Nothing installed yet: [`RING_PROVIDER`] becomes the process default
///   ([`ActiveProvider::Ring`]).
/// - The application (or another library) installed a provider first: `jsonwebtoken` refuses a
///   second install, and paved-auth **uses that provider** for its own verifications, through
///   `jsonwebtoken::crypto::verify`, instead of panicking ([`ActiveProvider::Application`];
///   logged at `debug`).
/// - `jsonwebtoken` was used before any provider was installed: it latched its panicking
///   placeholder (that earlier call panicked). paved-auth detects it with a one-time probe
///   (whose panic message the panic hook prints once) and verifies with [`RING_PROVIDER`]
///   directly ([`ActiveProvider::RingFallback`]; logged at `error`).
///
/// The algorithm policy (allow-list, pinning, key family, RSA size, signature length) is
/// enforced by paved-auth before any provider is called, so it holds whichever provider is
/// active.
pub fn install_crypto_provider() -> ActiveProvider {
    *ACTIVE.get_or_init(|| {
        if RING_PROVIDER.install_default().is_ok() {
            tracing::debug!("paved-auth: installed the ring CryptoProvider for jsonwebtoken");
            return ActiveProvider::Ring;
        }
        if installed_provider_is_usable() {
            tracing::debug!(
                "paved-auth: a jsonwebtoken CryptoProvider was already installed; using it"
            );
            ActiveProvider::Application
        } else {
            tracing::error!(
                "paved-auth: jsonwebtoken was used before any CryptoProvider was installed and \
                 latched its panicking placeholder; paved-auth verifies with its ring provider, \
                 other jsonwebtoken calls in this process will panic. Call \
                 `paved_auth::jwt::install_crypto_provider()` first thing in main."
            );
            ActiveProvider::RingFallback
        }
    })
}

/// Asks the installed provider to check an HMAC: the placeholder panics, a real provider
/// answers. The placeholder's panic message is printed once by the panic hook; that is the
/// only trace of this probe (the hook is process-wide and not ours to swap).
fn installed_provider_is_usable() -> bool {
    let probe_key = DecodingKey::from_secret(&[0x5a; 32]);
    catch_unwind(AssertUnwindSafe(|| {
        let _ = jsonwebtoken::crypto::verify("AAAA", b"probe", &probe_key, JAlg::HS256);
    }))
    .is_ok()
}

/// Verifies `signature` (also given as its base64url text) over `message` with the active
/// provider. `Err(())` when the provider cannot use the key (logged).
pub(crate) fn verify(
    alg: JAlg,
    key: &DecodingKey,
    message: &[u8],
    signature: &[u8],
    signature_b64: &str,
) -> Result<bool, ()> {
    match install_crypto_provider() {
        ActiveProvider::Application => {
            jsonwebtoken::crypto::verify(signature_b64, message, key, alg).map_err(|e| {
                tracing::warn!(error = %e, ?alg, "paved-auth: the crypto provider refused a key");
            })
        }
        // Ours: the same code as `RING_PROVIDER.verifier_factory`, without copying the key
        // into a boxed verifier for each token.
        ActiveProvider::Ring | ActiveProvider::RingFallback => {
            let Some(with) = ring_algorithm(alg, key) else {
                tracing::warn!(?alg, "paved-auth: the ring provider refused a key");
                return Err(());
            };
            Ok(ring_verify(with, key, message, signature))
        }
    }
}

fn key_error() -> JwtLibError {
    ErrorKind::InvalidKeyFormat.into()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// The ring verification algorithm for `alg`, if `key` has the family and shape it needs.
fn ring_algorithm(alg: JAlg, key: &DecodingKey) -> Option<VerifyWith> {
    if key.family() != alg.family() {
        return None;
    }
    let raw_len = match key.kind() {
        DecodingKeyKind::SecretOrDer(bytes) => Some(bytes.len()),
        DecodingKeyKind::RsaModulusExponent { .. } => None,
    };
    let rsa = |params: &'static sig::RsaParameters| Some(VerifyWith::Rsa(params));
    match alg {
        JAlg::HS256 => Some(VerifyWith::Hmac(hmac::HMAC_SHA256)),
        JAlg::HS384 => Some(VerifyWith::Hmac(hmac::HMAC_SHA384)),
        JAlg::HS512 => Some(VerifyWith::Hmac(hmac::HMAC_SHA512)),
        JAlg::RS256 => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        JAlg::RS384 => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        JAlg::RS512 => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        JAlg::PS256 => rsa(&sig::RSA_PSS_2048_8192_SHA256),
        JAlg::PS384 => rsa(&sig::RSA_PSS_2048_8192_SHA384),
        JAlg::PS512 => rsa(&sig::RSA_PSS_2048_8192_SHA512),
        // An EC point's length names its curve: ES256 with a P-384 key is refused here.
        JAlg::ES256 if raw_len == Some(65) => {
            Some(VerifyWith::Other(&sig::ECDSA_P256_SHA256_FIXED))
        }
        JAlg::ES384 if raw_len == Some(97) => {
            Some(VerifyWith::Other(&sig::ECDSA_P384_SHA384_FIXED))
        }
        JAlg::EdDSA if raw_len == Some(32) => Some(VerifyWith::Other(&sig::ED25519)),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum VerifyWith {
    Hmac(hmac::Algorithm),
    Rsa(&'static sig::RsaParameters),
    Other(&'static dyn sig::VerificationAlgorithm),
}

/// One verification with ring; the key was checked by [`ring_algorithm`].
fn ring_verify(with: VerifyWith, key: &DecodingKey, message: &[u8], signature: &[u8]) -> bool {
    match (with, key.kind()) {
        (VerifyWith::Hmac(h), DecodingKeyKind::SecretOrDer(secret)) => {
            hmac::verify(&hmac::Key::new(h, secret), message, signature).is_ok()
        }
        (VerifyWith::Rsa(params), DecodingKeyKind::RsaModulusExponent { n, e }) => {
            sig::RsaPublicKeyComponents {
                n: strip_leading_zeros(n),
                e: strip_leading_zeros(e),
            }
            .verify(params, message, signature)
            .is_ok()
        }
        (VerifyWith::Rsa(params), DecodingKeyKind::SecretOrDer(der)) => {
            sig::UnparsedPublicKey::new(params, der)
                .verify(message, signature)
                .is_ok()
        }
        (VerifyWith::Other(alg), DecodingKeyKind::SecretOrDer(public)) => {
            sig::UnparsedPublicKey::new(alg, public)
                .verify(message, signature)
                .is_ok()
        }
        (
            VerifyWith::Hmac(_) | VerifyWith::Other(_),
            DecodingKeyKind::RsaModulusExponent { .. },
        ) => false,
    }
}

struct RingVerifier {
    alg: JAlg,
    with: VerifyWith,
    key: DecodingKey,
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the signature is fixed by jsonwebtoken's CryptoProvider"
)]
fn new_verifier(alg: &JAlg, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, JwtLibError> {
    let with = ring_algorithm(*alg, key).ok_or_else(key_error)?;
    Ok(Box::new(RingVerifier {
        alg: *alg,
        with,
        key: key.clone(),
    }))
}

impl Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        if ring_verify(self.with, &self.key, msg, signature) {
            Ok(())
        } else {
            Err(signature::Error::new())
        }
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> JAlg {
        self.alg
    }
}

struct RingSigner {
    alg: JAlg,
    kind: SignerKind,
}

enum SignerKind {
    Hmac(hmac::Key),
    Rsa(&'static dyn sig::RsaEncoding, sig::RsaKeyPair),
    Ecdsa(sig::EcdsaKeyPair),
    Ed25519(sig::Ed25519KeyPair),
}

fn rsa_key_pair(der: &[u8]) -> Result<sig::RsaKeyPair, JwtLibError> {
    sig::RsaKeyPair::from_der(der)
        .or_else(|_| sig::RsaKeyPair::from_pkcs8(der))
        .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()).into())
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the signature is fixed by jsonwebtoken's CryptoProvider"
)]
fn new_signer(alg: &JAlg, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, JwtLibError> {
    if key.family() != alg.family() {
        return Err(key_error());
    }
    let rng = SystemRandom::new();
    let bytes = key.as_bytes();
    let kind = match alg {
        JAlg::HS256 => SignerKind::Hmac(hmac::Key::new(hmac::HMAC_SHA256, bytes)),
        JAlg::HS384 => SignerKind::Hmac(hmac::Key::new(hmac::HMAC_SHA384, bytes)),
        JAlg::HS512 => SignerKind::Hmac(hmac::Key::new(hmac::HMAC_SHA512, bytes)),
        JAlg::RS256 => SignerKind::Rsa(&sig::RSA_PKCS1_SHA256, rsa_key_pair(bytes)?),
        JAlg::RS384 => SignerKind::Rsa(&sig::RSA_PKCS1_SHA384, rsa_key_pair(bytes)?),
        JAlg::RS512 => SignerKind::Rsa(&sig::RSA_PKCS1_SHA512, rsa_key_pair(bytes)?),
        JAlg::PS256 => SignerKind::Rsa(&sig::RSA_PSS_SHA256, rsa_key_pair(bytes)?),
        JAlg::PS384 => SignerKind::Rsa(&sig::RSA_PSS_SHA384, rsa_key_pair(bytes)?),
        JAlg::PS512 => SignerKind::Rsa(&sig::RSA_PSS_SHA512, rsa_key_pair(bytes)?),
        JAlg::ES256 => SignerKind::Ecdsa(
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, bytes, &rng)
                .map_err(|_| JwtLibError::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        JAlg::ES384 => SignerKind::Ecdsa(
            sig::EcdsaKeyPair::from_pkcs8(&sig::ECDSA_P384_SHA384_FIXED_SIGNING, bytes, &rng)
                .map_err(|_| JwtLibError::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        JAlg::EdDSA => SignerKind::Ed25519(
            sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(bytes)
                .map_err(|_| JwtLibError::from(ErrorKind::InvalidEddsaKey))?,
        ),
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(Box::new(RingSigner { alg: *alg, kind }))
}

impl Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &self.kind {
            SignerKind::Hmac(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
            SignerKind::Rsa(padding, pair) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(*padding, &rng, msg, &mut out)
                    .map_err(|_| signature::Error::new())?;
                Ok(out)
            }
            SignerKind::Ecdsa(pair) => pair
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| signature::Error::new()),
            SignerKind::Ed25519(pair) => Ok(pair.sign(msg).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> JAlg {
        self.alg
    }
}

fn rsa_components_from_private_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), JwtLibError> {
    let pair = rsa_key_pair(der)?;
    let public = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((public.n, public.e))
}

fn rsa_components_from_public_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>), JwtLibError> {
    let (n, e) = der::rsa_public_key(der).ok_or_else(key_error)?;
    Ok((n.to_vec(), e.to_vec()))
}

fn ec_components_from_private_key(
    der: &[u8],
    alg: JAlg,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>), JwtLibError> {
    let (signing, curve, coord) = match alg {
        JAlg::ES256 => (
            &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            EllipticCurve::P256,
            32,
        ),
        JAlg::ES384 => (
            &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            EllipticCurve::P384,
            48,
        ),
        _ => return Err(ErrorKind::InvalidEcdsaKey.into()),
    };
    let pair = sig::EcdsaKeyPair::from_pkcs8(signing, der, &SystemRandom::new())
        .map_err(|_| JwtLibError::from(ErrorKind::InvalidEcdsaKey))?;
    let point = sig::KeyPair::public_key(&pair).as_ref();
    match point.split_first() {
        Some((4, xy)) if xy.len() == 2 * coord => {
            let (x, y) = xy.split_at(coord);
            Ok((curve, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

fn ed_component_from_private_key(
    der: &[u8],
    curve: &EllipticCurve,
) -> Result<Vec<u8>, JwtLibError> {
    if *curve != EllipticCurve::Ed25519 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .map_err(|_| JwtLibError::from(ErrorKind::InvalidEddsaKey))?;
    Ok(sig::KeyPair::public_key(&pair).as_ref().to_vec())
}

#[allow(
    clippy::needless_pass_by_value,
    reason = "the signature is fixed by jsonwebtoken's KeyUtils"
)]
fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>, JwtLibError> {
    let alg = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(ErrorKind::UnsupportedAlgorithm.into()),
    };
    Ok(digest::digest(alg, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair as _;

    #[test]
    fn provider_install_is_idempotent_and_never_panics() {
        let first = install_crypto_provider();
        assert_eq!(first, install_crypto_provider());
        assert_eq!(first, ActiveProvider::Ring);
    }

    #[test]
    fn verifier_refuses_a_key_of_another_family() {
        let hmac = DecodingKey::from_secret(&[7; 32]);
        assert!(new_verifier(&JAlg::RS256, &hmac).is_err());
        assert!(new_verifier(&JAlg::ES256, &hmac).is_err());
        let ec = DecodingKey::from_ec_der(&[4; 65]);
        assert!(new_verifier(&JAlg::HS256, &ec).is_err());
        assert!(
            new_verifier(&JAlg::ES384, &ec).is_err(),
            "P-256 point for ES384"
        );
        assert!(new_verifier(&JAlg::ES256, &ec).is_ok());
    }

    #[test]
    fn signer_and_verifier_round_trip_es256_and_eddsa_and_hmac() {
        let rng = SystemRandom::new();
        let pkcs8 =
            sig::EcdsaKeyPair::generate_pkcs8(&sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = sig::EcdsaKeyPair::from_pkcs8(
            &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &rng,
        )
        .unwrap();
        let signer = new_signer(&JAlg::ES256, &EncodingKey::from_ec_der(pkcs8.as_ref())).unwrap();
        let signature = signer.try_sign(b"msg").unwrap();
        let verifier = new_verifier(
            &JAlg::ES256,
            &DecodingKey::from_ec_der(pair.public_key().as_ref()),
        )
        .unwrap();
        assert!(verifier.verify(b"msg", &signature).is_ok());
        assert!(verifier.verify(b"msh", &signature).is_err());

        let ed = sig::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let signer = new_signer(&JAlg::EdDSA, &EncodingKey::from_ed_der(ed.as_ref())).unwrap();
        let signature = signer.try_sign(b"msg").unwrap();
        let public = ed_component_from_private_key(ed.as_ref(), &EllipticCurve::Ed25519).unwrap();
        let verifier = new_verifier(&JAlg::EdDSA, &DecodingKey::from_ed_der(&public)).unwrap();
        assert!(verifier.verify(b"msg", &signature).is_ok());

        let signer = new_signer(&JAlg::HS384, &EncodingKey::from_secret(&[1; 48])).unwrap();
        let mac = signer.try_sign(b"msg").unwrap();
        let verifier = new_verifier(&JAlg::HS384, &DecodingKey::from_secret(&[1; 48])).unwrap();
        assert!(verifier.verify(b"msg", &mac).is_ok());
        assert!(
            new_verifier(&JAlg::HS384, &DecodingKey::from_secret(&[2; 48]))
                .unwrap()
                .verify(b"msg", &mac)
                .is_err()
        );
    }

    #[test]
    fn digests_match_ring() {
        let d = compute_digest(b"abc", ThumbprintHash::SHA256).unwrap();
        assert_eq!(d, digest::digest(&digest::SHA256, b"abc").as_ref());
    }
}
