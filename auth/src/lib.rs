//! paved-auth: JWT validation, JWKS caching and bearer-token middleware for APIs; OAuth 2.1 /
//! OpenID Connect login with server-side sessions for browser applications ([`oidc`],
//! [`session`]).
//!
//! # Quick start: protect an axum API
//!
//! (The `Claims` extractor needs the `axum` feature.)
//!
#![cfg_attr(feature = "axum", doc = "```no_run")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
//! use axum::{Router, routing::get};
//! use paved_auth::bearer::RequireBearerLayer;
//! use paved_auth::jwt::{JwksCache, JwtValidator};
//! use paved_auth::Claims;
//!
//! #[derive(serde::Deserialize)]
//! struct MyClaims { sub: String }
//!
//! async fn me(Claims(token): Claims<MyClaims>) -> String { token.sub.clone() }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let jwks = JwksCache::builder("https://idp.example/.well-known/jwks.json").build()?;
//! let validator = JwtValidator::builder("https://idp.example", "https://api.example")
//!     .jwks(jwks)
//!     .require_typ("at+jwt") // RFC 9068 access tokens only
//!     .build()?;
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(RequireBearerLayer::<MyClaims>::new(validator));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! For browser login see the [`oidc`] module: its quick start is ten lines.
//!
//! # What it guards
//!
//! The app ↔ identity provider boundary: see [`oidc`] for the login flow and the control at
//! each step, and [`session`] for the server-side session store.
//!
//! The API client ↔ resource server boundary. A bearer token is accepted only if it passes
//! every check of [`jwt::JwtValidator`]: size caps, strict compact form and base64url, a header
//! allow-list (`alg`, `kid`, `typ`, `cty`) with duplicate members refused, an algorithm
//! allow-list (ES256, ES384, `EdDSA`, PS256/384/512; RS* only by a named legacy opt-in), a key
//! chosen by `kid` with the algorithm pinned to the key, the signature, then the claims with
//! their types (`exp` required, `nbf`, `iat`, `iss`, `aud`, `typ`, required claims). Remote
//! keys come through [`jwt::JwksCache`] (ttl, rate-limited refetch, single flight,
//! last-known-good, JW-23 key filtering) over the hardened [`http_client::HttpClient`]
//! (https only, no redirects, timeouts, body cap). [`bearer::RequireBearerLayer`] reads exactly
//! one `Authorization: Bearer` header and answers failures with RFC 6750 challenges.
//!
//! # What it deliberately does not do
//!
//! - It does not issue tokens and is not an authorization server.
//! - It does not decrypt JWE, unwrap nested JWTs, follow `jku`/`x5u`, trust embedded `jwk` or
//!   `x5c` keys, or validate certificate chains.
//! - It does not check token revocation (introspection) or replay (`jti` stores): a valid,
//!   unexpired token is accepted until `exp`. Keep access tokens short-lived.
//! - It does not read tokens from query strings, form bodies or cookies.
//! - The verified-token cache (off by default) skips the signature for a token seen before, for
//!   at most its ttl (≤ 10 min).
//!
//! # Crypto
//!
//! ring only: `jsonwebtoken` 11 runs on this crate's ring provider
//! ([`jwt::RING_PROVIDER`]), installed once per process; if the application installed its own
//! provider first, that one is used (see [`jwt::install_crypto_provider`]). TLS is rustls on ring.
//!
//! # Features
//!
//! - `axum`: the `Claims` and [`oidc::Session`] extractors, and `IntoResponse` for
//!   [`bearer::BearerRejection`] and [`oidc::LoginError`].
#![forbid(unsafe_code)]

pub mod bearer;
mod error;
#[cfg(feature = "axum")]
mod extract;
pub mod http_client;
pub mod jwt;
pub mod oidc;
pub mod session;

#[doc(hidden)]
pub mod fuzzing;

pub use error::Error;
#[cfg(feature = "axum")]
pub use extract::{Claims, ClaimsRejection, SessionRejection};
