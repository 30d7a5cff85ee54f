//! JWT validation: compact JWS tokens checked against every forgery in the attack catalogue
//! before their claims are trusted.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use paved_auth::jwt::{Algorithm, JwtValidator, NoCustomClaims, VerificationKey};
//! # let pem = paved_auth::fuzzing::example_es256_public_pem();
//!
//! let validator = JwtValidator::builder("https://idp.example", "https://api.example")
//!     .key(VerificationKey::from_pem(Algorithm::ES256, pem.as_bytes())?.with_kid("k1")?)
//!     .require_typ("at+jwt")
//!     .leeway(Duration::from_secs(30))
//!     .build()?;
//!
//! // An `alg: none` token is refused before anything else is looked at.
//! let forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.c2ln";
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! # rt.block_on(async {
//! let err = validator.validate::<NoCustomClaims>(forged).await.unwrap_err();
//! assert_eq!(err, paved_auth::jwt::JwtError::AlgNone);
//! # });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Building blocks
//!
//! - [`JwtValidator`] and its builder: the checks and their order are listed on the type.
//! - Key sources: static [`VerificationKey`]s (PEM, DER, JWK, HMAC secrets from
//!   paved-secrets) in a [`KeySet`], or a [`JwksCache`] for a remote `jwks_uri`.
//! - [`Validated<C>`]: the typed claims and the [`StandardClaims`].
//! - The ring [`CryptoProvider`](jsonwebtoken::crypto::CryptoProvider) for `jsonwebtoken` 11:
//!   [`RING_PROVIDER`] and [`install_crypto_provider`].
//!
//! # Why the token is parsed here, not by `jsonwebtoken::decode`
//!
//! `decode` reads the header with serde's "last member wins", ignores members it does not
//! know (`jku`, `x5u`, `jwk`, `x5c`, `crit`, `b64` pass silently), takes the algorithm from the
//! token and leaves `typ`, `iat`, claim types and size limits to the caller. The validator
//! therefore parses the compact form itself (strict base64url, strict JSON) and calls the
//! installed provider's verifier with the algorithm pinned to the key; `jsonwebtoken` supplies
//! key parsing (PEM), the key type and the provider interface. JWKS documents are read here too:
//! `jsonwebtoken`'s `JwkSet` refuses a whole set when one key has a type or algorithm it does
//! not know (an encryption key, Ed448, a post-quantum key), whereas JW-23 asks to drop the
//! unusable keys and keep the rest.

mod algorithm;
mod cache;
mod claims;
pub(crate) mod der;
mod error;
pub(crate) mod json;
mod jwks;
mod keys;
mod provider;
mod validator;

pub use algorithm::{Algorithm, KeyFamily};
pub use cache::{MAX_CACHE_CAPACITY, MAX_CACHE_TTL_SECS};
pub use claims::{NoCustomClaims, StandardClaims};
pub use error::{
    ConfigError, ForbiddenHeader, JwkProblem, JwksError, JwtError, KeyError, TokenPart,
};
pub use jwks::{
    DEFAULT_JWKS_TTL, DEFAULT_REFETCH_COOLDOWN, JwksCache, JwksCacheBuilder, MAX_JWKS_TTL,
    MAX_LAST_KNOWN_GOOD_AGE, MIN_JWKS_TTL, MIN_REFETCH_COOLDOWN,
};
pub use keys::{KeySet, MAX_JWKS_KEYS, MAX_KID_LEN, MAX_RSA_BITS, MIN_RSA_BITS, VerificationKey};
pub use provider::{ActiveProvider, RING_PROVIDER, install_crypto_provider};
pub(crate) use validator::StandardView;
pub use validator::{
    DEFAULT_LEEWAY, DEFAULT_MAX_HEADER_LEN, DEFAULT_MAX_TOKEN_LEN, JwtValidator,
    JwtValidatorBuilder, MAX_HEADER_LEN_CEILING, MAX_LEEWAY, MAX_TOKEN_LEN_CEILING, Validated,
};
