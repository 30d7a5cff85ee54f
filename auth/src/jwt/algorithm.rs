//! The JWS signature algorithms paved-auth knows, and which of them it accepts by default.

use std::fmt;

/// A JWS signature algorithm (RFC 7518 §3, RFC 8037 §3.1).
///
/// `none` is not a variant: an unsigned token is never valid. The names are the registered
/// `alg` header values, matched case-sensitively.
#[allow(
    clippy::upper_case_acronyms,
    reason = "the registered JOSE algorithm names, as they appear in the `alg` header"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (fixed-size `r‖s` signature, 64 bytes).
    ES256,
    /// ECDSA on P-384 with SHA-384 (fixed-size `r‖s` signature, 96 bytes).
    ES384,
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384 and MGF1-SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512 and MGF1-SHA-512.
    PS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256. **Legacy**: accepted only after
    /// [`allow_legacy_rsa_pkcs1`](crate::jwt::JwtValidatorBuilder::allow_legacy_rsa_pkcs1).
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384. **Legacy**, as [`RS256`](Self::RS256).
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512. **Legacy**, as [`RS256`](Self::RS256).
    RS512,
    /// HMAC with SHA-256; only with a locally configured key of at least 32 bytes.
    HS256,
    /// HMAC with SHA-384; only with a locally configured key of at least 48 bytes.
    HS384,
    /// HMAC with SHA-512; only with a locally configured key of at least 64 bytes.
    HS512,
}

/// The kind of key an algorithm needs. A key of one family never verifies a token that names an
/// algorithm of another (the RS256→HS256 confusion of CVE-2015-9235 needs exactly that).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyFamily {
    /// RSA public key (`kty: RSA`).
    Rsa,
    /// Elliptic-curve public key on P-256 (`kty: EC`, `crv: P-256`).
    EcP256,
    /// Elliptic-curve public key on P-384 (`kty: EC`, `crv: P-384`).
    EcP384,
    /// Ed25519 public key (`kty: OKP`, `crv: Ed25519`).
    Ed25519,
    /// Shared HMAC secret, configured locally, never from a JWKS.
    Hmac,
}

impl fmt::Display for KeyFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rsa => "RSA",
            Self::EcP256 => "EC P-256",
            Self::EcP384 => "EC P-384",
            Self::Ed25519 => "Ed25519",
            Self::Hmac => "HMAC secret",
        })
    }
}

impl Algorithm {
    /// Every algorithm, in the order of [`Algorithm`]'s variants.
    pub const ALL: [Self; 12] = [
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::HS256,
        Self::HS384,
        Self::HS512,
    ];

    /// What a validator accepts unless told otherwise: ES256, ES384, `EdDSA` and PS256/384/512.
    ///
    /// RSASSA-PKCS1-v1_5 (`RS*`) is left out because ASVS 5.0 (Appendix C, v5.0.0-11.6.1) lists
    /// it as disallowed; HMAC is left out because it needs a shared secret the validator cannot
    /// have by default.
    pub const DEFAULT_ALLOWED: [Self; 6] = [
        Self::ES256,
        Self::ES384,
        Self::EdDSA,
        Self::PS256,
        Self::PS384,
        Self::PS512,
    ];

    /// The RSASSA-PKCS1-v1_5 algorithms that need the legacy opt-in.
    pub const LEGACY_RSA_PKCS1: [Self; 3] = [Self::RS256, Self::RS384, Self::RS512];

    /// The registered `alg` name (`"ES256"`, `"EdDSA"`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::EdDSA => "EdDSA",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
        }
    }

    /// The algorithm registered under `name`, compared case-sensitively as RFC 7515 §4.1.1
    /// requires (`"es256"` is not ES256). `none`, in any casing, is never an algorithm.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "ES256" => Self::ES256,
            "ES384" => Self::ES384,
            "EdDSA" => Self::EdDSA,
            "PS256" => Self::PS256,
            "PS384" => Self::PS384,
            "PS512" => Self::PS512,
            "RS256" => Self::RS256,
            "RS384" => Self::RS384,
            "RS512" => Self::RS512,
            "HS256" => Self::HS256,
            "HS384" => Self::HS384,
            "HS512" => Self::HS512,
            _ => return None,
        })
    }

    /// The key family this algorithm verifies with.
    #[must_use]
    pub const fn family(self) -> KeyFamily {
        match self {
            Self::ES256 => KeyFamily::EcP256,
            Self::ES384 => KeyFamily::EcP384,
            Self::EdDSA => KeyFamily::Ed25519,
            Self::PS256 | Self::PS384 | Self::PS512 | Self::RS256 | Self::RS384 | Self::RS512 => {
                KeyFamily::Rsa
            }
            Self::HS256 | Self::HS384 | Self::HS512 => KeyFamily::Hmac,
        }
    }

    /// Whether this is an RSASSA-PKCS1-v1_5 algorithm (needs the legacy opt-in).
    #[must_use]
    pub const fn is_legacy_rsa_pkcs1(self) -> bool {
        matches!(self, Self::RS256 | Self::RS384 | Self::RS512)
    }

    /// The signature length in bytes for the fixed-size algorithms; `None` for RSA, whose
    /// signature is as long as the key's modulus.
    #[must_use]
    pub(crate) const fn fixed_signature_len(self) -> Option<usize> {
        match self {
            Self::ES256 | Self::EdDSA | Self::HS512 => Some(64),
            Self::ES384 => Some(96),
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::PS256 | Self::PS384 | Self::PS512 | Self::RS256 | Self::RS384 | Self::RS512 => {
                None
            }
        }
    }

    /// The minimum HMAC key length: the hash output size (RFC 7518 §3.2).
    #[must_use]
    pub(crate) const fn min_hmac_key_len(self) -> usize {
        match self {
            Self::HS384 => 48,
            Self::HS512 => 64,
            _ => 32,
        }
    }

    pub(crate) const fn to_jsonwebtoken(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
            Self::ES384 => jsonwebtoken::Algorithm::ES384,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Self::PS256 => jsonwebtoken::Algorithm::PS256,
            Self::PS384 => jsonwebtoken::Algorithm::PS384,
            Self::PS512 => jsonwebtoken::Algorithm::PS512,
            Self::RS256 => jsonwebtoken::Algorithm::RS256,
            Self::RS384 => jsonwebtoken::Algorithm::RS384,
            Self::RS512 => jsonwebtoken::Algorithm::RS512,
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
            Self::HS384 => jsonwebtoken::Algorithm::HS384,
            Self::HS512 => jsonwebtoken::Algorithm::HS512,
        }
    }

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A small set of algorithms (a bit set over [`Algorithm`]).
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AlgSet(u16);

impl AlgSet {
    pub(crate) const EMPTY: Self = Self(0);

    pub(crate) fn of(algs: impl IntoIterator<Item = Algorithm>) -> Self {
        algs.into_iter().fold(Self::EMPTY, Self::with)
    }

    pub(crate) const fn with(self, alg: Algorithm) -> Self {
        Self(self.0 | alg.bit())
    }

    pub(crate) const fn contains(self, alg: Algorithm) -> bool {
        self.0 & alg.bit() != 0
    }

    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub(crate) const fn intersect(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |a| self.contains(*a))
    }
}

impl fmt::Debug for AlgSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_case_sensitive() {
        for alg in Algorithm::ALL {
            assert_eq!(Algorithm::from_name(alg.name()), Some(alg));
            assert_eq!(Algorithm::from_name(&alg.name().to_ascii_lowercase()), None);
        }
        assert_eq!(Algorithm::from_name("none"), None);
    }

    #[test]
    fn defaults_exclude_legacy_and_hmac() {
        for alg in Algorithm::DEFAULT_ALLOWED {
            assert!(!alg.is_legacy_rsa_pkcs1());
            assert_ne!(alg.family(), KeyFamily::Hmac);
        }
    }

    #[test]
    fn alg_set_operations() {
        let set = AlgSet::of([Algorithm::ES256, Algorithm::HS512]);
        assert!(set.contains(Algorithm::ES256) && set.contains(Algorithm::HS512));
        assert!(!set.contains(Algorithm::RS256));
        assert_eq!(set.iter().count(), 2);
        assert!(set.intersect(AlgSet::of([Algorithm::RS256])).is_empty());
    }
}
