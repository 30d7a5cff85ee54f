//! Why a token, a key or a configuration was refused.
//!
//! Messages name the check that failed and never quote token content: a rejected token is
//! attacker input, and these messages go to logs.

use std::fmt;

use crate::http_client::FetchError;
use crate::jwt::algorithm::{Algorithm, KeyFamily};

/// A part of a compact JWS (`header.payload.signature`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenPart {
    /// The protected header (first segment).
    Header,
    /// The payload, i.e. the claims (second segment).
    Payload,
    /// The signature (third segment).
    Signature,
}

impl fmt::Display for TokenPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// A header member that is never accepted (JW-08 … JW-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ForbiddenHeader {
    /// `jku`: a URL to fetch keys from, chosen by the token's author (JW-08).
    Jku,
    /// `x5u`: a URL to fetch a certificate from (JW-08).
    X5u,
    /// `jwk`: the verification key embedded in the token itself (JW-09, CVE-2018-0114).
    Jwk,
    /// `x5c`: a certificate chain in the token; no trust anchor is configured (JW-10).
    X5c,
    /// `crit`: extensions the validator would have to understand (JW-11).
    Crit,
    /// `b64`: unencoded payload, RFC 7797 (JW-12).
    B64,
    /// `zip`, `enc`, `epk`, …: JWE members in a JWS.
    Encryption,
    /// Any other member outside the allow-list (`alg`, `kid`, `typ`, `cty`).
    Unknown,
}

impl ForbiddenHeader {
    pub(crate) fn classify(name: &str) -> Self {
        match name {
            "jku" => Self::Jku,
            "x5u" => Self::X5u,
            "jwk" => Self::Jwk,
            "x5c" => Self::X5c,
            "crit" => Self::Crit,
            "b64" => Self::B64,
            "zip" | "enc" | "epk" | "apu" | "apv" | "iv" | "tag" | "p2s" | "p2c" => {
                Self::Encryption
            }
            _ => Self::Unknown,
        }
    }

    /// Whether the member is dangerous (rather than merely unknown): such a member can never
    /// be allowed by [`allow_ignored_header`](crate::jwt::JwtValidatorBuilder::allow_ignored_header).
    #[must_use]
    pub fn is_dangerous(self) -> bool {
        !matches!(self, Self::Unknown)
    }
}

impl fmt::Display for ForbiddenHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Jku => "`jku` (key URL chosen by the token)",
            Self::X5u => "`x5u` (certificate URL chosen by the token)",
            Self::Jwk => "`jwk` (key embedded in the token)",
            Self::X5c => "`x5c` (certificate chain in the token)",
            Self::Crit => "`crit` (critical extensions)",
            Self::B64 => "`b64` (unencoded payload)",
            Self::Encryption => "a JWE member",
            Self::Unknown => "a member outside the allow-list (alg, kid, typ, cty)",
        })
    }
}

/// Why a token was rejected.
///
/// The order of checks is fixed: shape and size, base64url, header, algorithm, key, signature,
/// claims. Only [`KeysUnavailable`](Self::KeysUnavailable) is not the token's fault (the bearer
/// layer answers it with 503 instead of 401).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtError {
    /// The token is empty.
    Empty,
    /// The token is longer than the configured cap (JW-18).
    TooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// The encoded header is longer than the configured cap (JW-18).
    HeaderTooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// A JWE (five segments) was presented; only signed tokens are accepted (JW-24).
    Encrypted,
    /// A JWS in JSON serialization was presented; only the compact form is accepted (JW-24).
    JsonSerialization,
    /// Not three dot-separated segments (JW-05).
    NotCompact,
    /// A segment is empty, e.g. a stripped signature `a.b.` (JW-05).
    EmptySegment(TokenPart),
    /// A segment is not canonical unpadded base64url (JW-20).
    InvalidBase64(TokenPart),
    /// The header or payload is not a JSON object.
    InvalidJson(TokenPart),
    /// The header or payload nests deeper than the parser allows (JW-27).
    TooDeep(TokenPart),
    /// The header or payload repeats a member name (JW-19).
    DuplicateMember(TokenPart),
    /// The header has a member outside the allow-list (JW-08 … JW-12).
    HeaderNotAllowed(ForbiddenHeader),
    /// A header member has the wrong type (e.g. a numeric `kid`) or `alg` is missing.
    InvalidHeader(&'static str),
    /// The `kid` is longer than any key id this crate stores (JW-07).
    KidTooLong,
    /// `alg` is `none` in some casing (JW-01).
    AlgNone,
    /// `alg` names no algorithm this crate knows.
    UnknownAlgorithm,
    /// `alg` is a known algorithm the validator does not allow (JW-04).
    AlgorithmNotAllowed(Algorithm),
    /// `alg` is RS256/RS384/RS512 and the legacy opt-in is off.
    LegacyAlgorithmNotEnabled(Algorithm),
    /// The `typ` header is missing or not the one required (JW-17).
    WrongType,
    /// `cty: JWT`: a nested token, which this crate does not unwrap.
    NestedToken,
    /// No key has the token's `kid`, even after a refresh (JW-07).
    UnknownKey,
    /// The token has no `kid` and several keys could verify it.
    AmbiguousKey,
    /// The key found is pinned to other algorithms than the token's `alg` (JW-02, JW-04).
    AlgorithmKeyMismatch {
        /// The token's `alg`.
        alg: Algorithm,
        /// The family of the key the `kid` selected.
        key: KeyFamily,
    },
    /// The remote key set could not be fetched and no earlier copy exists.
    KeysUnavailable,
    /// The signature has the wrong length for the algorithm, e.g. a DER-encoded ECDSA
    /// signature (JW-22).
    SignatureLength {
        /// The token's `alg`.
        alg: Algorithm,
        /// The length the algorithm and key produce.
        expected: usize,
        /// The decoded signature length.
        actual: usize,
    },
    /// The signature does not verify (JW-03, JW-06).
    InvalidSignature,
    /// A required claim is missing (`exp`, `iss`, `aud`, or one configured).
    MissingClaim(Box<str>),
    /// A registered claim has the wrong JSON type (e.g. `iss` as an array).
    InvalidClaimType(&'static str),
    /// `exp` is in the past, beyond the leeway (JW-13).
    Expired,
    /// `nbf` is in the future, beyond the leeway (JW-14).
    NotYetValid,
    /// `iat` is in the future, beyond the leeway (JW-14).
    IssuedInFuture,
    /// `iss` is not the configured issuer (JW-15).
    WrongIssuer,
    /// `aud` does not contain the configured audience (JW-16).
    WrongAudience,
    /// The claims do not deserialize into the application's claims type.
    CustomClaims,
    /// The crypto provider failed in a way that is not the token's fault; see the logs.
    Provider,
}

impl JwtError {
    /// Whether the failure is the server's, not the token's: the keys could not be obtained.
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::KeysUnavailable | Self::Provider)
    }
}

impl fmt::Display for JwtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the token is empty"),
            Self::TooLarge { max } => write!(f, "the token is longer than {max} bytes"),
            Self::HeaderTooLarge { max } => {
                write!(f, "the token header is longer than {max} bytes")
            }
            Self::Encrypted => f.write_str(
                "the token is a JWE (five segments); only signed compact JWS tokens are accepted",
            ),
            Self::JsonSerialization => f.write_str(
                "the token uses the JWS JSON serialization; only the compact form is accepted",
            ),
            Self::NotCompact => {
                f.write_str("the token is not three dot-separated segments (compact JWS)")
            }
            Self::EmptySegment(TokenPart::Signature) => {
                f.write_str("the token has no signature (stripped or unsigned)")
            }
            Self::EmptySegment(part) => write!(f, "the token {part} segment is empty"),
            Self::InvalidBase64(part) => {
                write!(f, "the token {part} is not canonical unpadded base64url")
            }
            Self::InvalidJson(part) => write!(f, "the token {part} is not a JSON object"),
            Self::TooDeep(part) => write!(f, "the token {part} nests JSON too deeply"),
            Self::DuplicateMember(part) => {
                write!(f, "the token {part} repeats a member name")
            }
            Self::HeaderNotAllowed(member) => {
                write!(
                    f,
                    "the token header contains {member}, which is never accepted"
                )
            }
            Self::InvalidHeader(member) => {
                write!(
                    f,
                    "the token header member `{member}` is missing or has the wrong type"
                )
            }
            Self::KidTooLong => f.write_str("the token `kid` is too long"),
            Self::AlgNone => f.write_str("the token is unsigned (`alg: none`)"),
            Self::UnknownAlgorithm => f.write_str("the token `alg` is not a known algorithm"),
            Self::AlgorithmNotAllowed(alg) => {
                write!(
                    f,
                    "the token algorithm {alg} is not allowed by this validator"
                )
            }
            Self::LegacyAlgorithmNotEnabled(alg) => write!(
                f,
                "the token is signed with {alg} (RSASSA-PKCS1-v1_5), which is off by default \
                 because ASVS 5.0 (v5.0.0-11.6.1) disallows PKCS#1 v1.5 signatures; if the \
                 issuer cannot sign with PS256 or ES256, enable it with \
                 `JwtValidatorBuilder::allow_legacy_rsa_pkcs1()`"
            ),
            Self::WrongType => f.write_str("the token `typ` header is not the required type"),
            Self::NestedToken => {
                f.write_str("the token is a nested JWT (`cty: JWT`), which is not accepted")
            }
            Self::UnknownKey => f.write_str("no key matches the token `kid`"),
            Self::AmbiguousKey => {
                f.write_str("the token has no `kid` and more than one key could verify it")
            }
            Self::AlgorithmKeyMismatch { alg, key } => write!(
                f,
                "the token algorithm {alg} does not match the algorithm pinned to its {key} key"
            ),
            Self::KeysUnavailable => f.write_str(
                "the issuer's keys could not be fetched and no earlier copy is available",
            ),
            Self::SignatureLength {
                alg,
                expected,
                actual,
            } => write!(
                f,
                "the {alg} signature is {actual} bytes, expected {expected} (a JWS signature is \
                 fixed-size, not DER)"
            ),
            Self::InvalidSignature => f.write_str("the token signature does not verify"),
            Self::MissingClaim(name) => write!(f, "the token has no `{name}` claim"),
            Self::InvalidClaimType(name) => {
                write!(f, "the token `{name}` claim has the wrong JSON type")
            }
            Self::Expired => f.write_str("the token has expired"),
            Self::NotYetValid => f.write_str("the token is not valid yet (`nbf`)"),
            Self::IssuedInFuture => f.write_str("the token was issued in the future (`iat`)"),
            Self::WrongIssuer => f.write_str("the token issuer is not the expected one"),
            Self::WrongAudience => f.write_str("the token is not meant for this audience"),
            Self::CustomClaims => {
                f.write_str("the token claims do not match the application's claims type")
            }
            Self::Provider => f.write_str("the signature could not be checked (crypto provider)"),
        }
    }
}

impl std::error::Error for JwtError {}

/// Why a key (PEM, DER, JWK or HMAC secret) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The PEM text could not be parsed, or its content is not a key of the expected kind.
    InvalidPem,
    /// The PEM or DER holds a private key; configure the public key.
    PrivateKey,
    /// The DER is not a `SubjectPublicKeyInfo` of the expected kind.
    InvalidDer,
    /// The key belongs to another family than the algorithm needs (JW-02).
    WrongFamily {
        /// The algorithm the key was configured for.
        alg: Algorithm,
        /// The family the key material belongs to.
        found: KeyFamily,
    },
    /// The RSA modulus is shorter than 2048 bits (JW-23).
    RsaTooSmall {
        /// The modulus length in bits.
        bits: usize,
    },
    /// The RSA modulus is longer than 8192 bits (ring's limit).
    RsaTooLarge {
        /// The modulus length in bits.
        bits: usize,
    },
    /// The RSA public exponent is not an odd number between 3 and 2^33.
    InvalidRsaExponent,
    /// The elliptic-curve point does not have the curve's uncompressed form.
    InvalidEcPoint,
    /// The Ed25519 public key is not 32 bytes.
    InvalidEd25519,
    /// The HMAC secret is shorter than the hash output (JW-21).
    HmacTooShort {
        /// The HMAC algorithm.
        alg: Algorithm,
        /// The minimum length in bytes.
        min: usize,
        /// The given length in bytes.
        actual: usize,
    },
    /// The HMAC secret looks guessable: a repeated pattern, few distinct bytes, or a
    /// well-known placeholder (JW-21).
    WeakHmacKey,
    /// An HMAC algorithm was given to a constructor for public keys, or the reverse.
    NotAPublicKeyAlgorithm(Algorithm),
    /// The key id is empty, longer than 256 bytes or contains control characters.
    InvalidKid,
    /// The JWK was refused; see the problem.
    Jwk(JwkProblem),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPem => {
                f.write_str("the PEM text is not a public key of the expected kind")
            }
            Self::PrivateKey => {
                f.write_str("the key is a private key; configure the issuer's public key instead")
            }
            Self::InvalidDer => {
                f.write_str("the DER is not a SubjectPublicKeyInfo public key of the expected kind")
            }
            Self::WrongFamily { alg, found } => {
                write!(
                    f,
                    "{alg} needs a {} key, this is a {found} key",
                    alg.family()
                )
            }
            Self::RsaTooSmall { bits } => {
                write!(f, "the RSA key has {bits} bits; at least 2048 are required")
            }
            Self::RsaTooLarge { bits } => {
                write!(f, "the RSA key has {bits} bits; at most 8192 are supported")
            }
            Self::InvalidRsaExponent => f.write_str("the RSA public exponent is not acceptable"),
            Self::InvalidEcPoint => {
                f.write_str("the EC public key is not an uncompressed point of the curve's size")
            }
            Self::InvalidEd25519 => f.write_str("the Ed25519 public key is not 32 bytes"),
            Self::HmacTooShort { alg, min, actual } => write!(
                f,
                "the {alg} secret is {actual} bytes; at least {min} (the hash size) are required"
            ),
            Self::WeakHmacKey => f.write_str(
                "the HMAC secret looks guessable (repeated pattern, few distinct bytes or a \
                 placeholder); generate one with `SecretBytes::random`",
            ),
            Self::NotAPublicKeyAlgorithm(alg) => write!(
                f,
                "{alg} does not fit this constructor (HMAC secrets use `VerificationKey::hmac`)"
            ),
            Self::InvalidKid => {
                f.write_str("the key id must be 1 to 256 bytes without control characters")
            }
            Self::Jwk(problem) => write!(f, "the JWK was refused: {problem}"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Why a JWK was refused, or dropped from a key set (JW-23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwkProblem {
    /// Not a JSON object, or a member repeated.
    Malformed,
    /// A member is missing or has the wrong type.
    InvalidMember(&'static str),
    /// `kty: oct`: a symmetric key is never taken from a key set.
    Symmetric,
    /// `kty` or `crv` is not supported (e.g. Ed448, P-521).
    Unsupported,
    /// `use` is present and not `sig`.
    NotForSignatures,
    /// `key_ops` is present and does not contain `verify`.
    NoVerifyOperation,
    /// `alg` is not a signature algorithm this crate knows.
    UnknownAlgorithm,
    /// `alg` does not fit `kty`/`crv` (e.g. `RS256` on an EC key).
    AlgorithmMismatch,
    /// The key material is unusable (size, encoding, exponent).
    BadKeyMaterial,
    /// The RSA modulus is shorter than 2048 bits.
    RsaTooSmall,
    /// The JWK carries private key members (`d`, `p`, `q`, …): it must not be published.
    PrivateKeyMaterial,
    /// Another key in the set has the same `kid`; both are dropped.
    DuplicateKid,
    /// The `kid` is empty, over 256 bytes or has control characters.
    InvalidKid,
}

impl fmt::Display for JwkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "not a JSON object with unique member names",
            Self::InvalidMember(name) => return write!(f, "member `{name}` is missing or invalid"),
            Self::Symmetric => "symmetric (`oct`) keys are never taken from a key set",
            Self::Unsupported => "unsupported key type or curve",
            Self::NotForSignatures => "`use` is not `sig`",
            Self::NoVerifyOperation => "`key_ops` does not allow `verify`",
            Self::UnknownAlgorithm => "`alg` is not a known signature algorithm",
            Self::AlgorithmMismatch => "`alg` does not fit the key type",
            Self::BadKeyMaterial => "the key material is unusable",
            Self::RsaTooSmall => "the RSA modulus is shorter than 2048 bits",
            Self::PrivateKeyMaterial => "the key carries private key material",
            Self::DuplicateKid => "another key in the set has the same `kid`",
            Self::InvalidKid => "the `kid` is empty, too long or has control characters",
        })
    }
}

/// Why a JWKS document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwksError {
    /// Not a JSON object with unique member names and a bounded depth.
    InvalidJson,
    /// No `keys` array.
    NoKeys,
    /// More keys than the cap ([`MAX_JWKS_KEYS`](crate::jwt::MAX_JWKS_KEYS)).
    TooManyKeys {
        /// The cap.
        max: usize,
    },
    /// After dropping unusable keys, none is left.
    NoUsableKeys,
    /// The document could not be fetched.
    Fetch(FetchError),
}

impl fmt::Display for JwksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidJson => f.write_str("the JWKS is not a JSON object with unique members"),
            Self::NoKeys => f.write_str("the JWKS has no `keys` array"),
            Self::TooManyKeys { max } => write!(f, "the JWKS has more than {max} keys"),
            Self::NoUsableKeys => f.write_str("the JWKS has no usable signature key"),
            Self::Fetch(e) => write!(f, "the JWKS could not be fetched: {e}"),
        }
    }
}

impl std::error::Error for JwksError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Fetch(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FetchError> for JwksError {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

/// A validator or key-source configuration that is refused when it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is empty.
    EmptyIssuer,
    /// The audience is empty.
    EmptyAudience,
    /// The leeway exceeds [`MAX_LEEWAY`](crate::jwt::MAX_LEEWAY).
    LeewayTooLarge,
    /// The allow-list of algorithms is empty.
    NoAlgorithms,
    /// RS256/RS384/RS512 was listed without the legacy opt-in.
    LegacyAlgorithmWithoutOptIn(Algorithm),
    /// Neither static keys nor a JWKS cache were given.
    NoKeySource,
    /// Both static keys and a JWKS cache were given; a validator has one key source.
    ConflictingKeySources,
    /// A static key is pinned to an algorithm the validator does not allow.
    KeyAlgorithmNotAllowed(Algorithm),
    /// Two static keys have the same `kid`.
    DuplicateKeyId,
    /// A header member that is dangerous cannot be allowed.
    HeaderNeverAllowed(ForbiddenHeader),
    /// The header member name given to `allow_ignored_header` is one the validator reads.
    HeaderAlreadyHandled,
    /// A size, time or count setting is outside its permitted range.
    OutOfRange(&'static str),
    /// The JWKS URL is not a valid URL, or not https (outside the loopback dev mode).
    InvalidUrl(FetchError),
    /// The HTTP client could not be built.
    HttpClient,
    /// An extra trust anchor given to the HTTP client is not a PEM certificate.
    RootCertificate,
    /// A key was refused.
    Key(KeyError),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyIssuer => f.write_str("the issuer must not be empty"),
            Self::EmptyAudience => f.write_str("the audience must not be empty"),
            Self::LeewayTooLarge => f.write_str("the leeway must be at most 300 seconds"),
            Self::NoAlgorithms => f.write_str("at least one algorithm must be allowed"),
            Self::LegacyAlgorithmWithoutOptIn(alg) => write!(
                f,
                "{alg} is RSASSA-PKCS1-v1_5, disallowed by ASVS 5.0; call \
                 `allow_legacy_rsa_pkcs1()` to accept it knowingly"
            ),
            Self::NoKeySource => f.write_str("no keys: give static keys or a JWKS cache"),
            Self::ConflictingKeySources => {
                f.write_str("give either static keys or a JWKS cache, not both")
            }
            Self::KeyAlgorithmNotAllowed(alg) => write!(
                f,
                "a configured key is pinned to {alg}, which the validator does not allow"
            ),
            Self::DuplicateKeyId => f.write_str("two keys have the same `kid`"),
            Self::HeaderNeverAllowed(member) => {
                write!(f, "the header member {member} can never be allowed")
            }
            Self::HeaderAlreadyHandled => {
                f.write_str("alg, kid, typ and cty are read by the validator itself")
            }
            Self::OutOfRange(setting) => write!(f, "`{setting}` is outside its permitted range"),
            Self::InvalidUrl(e) => write!(f, "the JWKS URL is refused: {e}"),
            Self::HttpClient => f.write_str("the HTTP client could not be built"),
            Self::RootCertificate => {
                f.write_str("the extra root certificate is not a PEM CERTIFICATE block")
            }
            Self::Key(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidUrl(e) => Some(e),
            Self::Key(e) => Some(e),
            _ => None,
        }
    }
}

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}
