//! Bearer-token middleware for tower services (RFC 6750).
//!
//! [`RequireBearerLayer`] reads exactly one `Authorization: Bearer <token>` header, validates
//! the token with a [`JwtValidator`](crate::jwt::JwtValidator) and puts the
//! [`Validated<C>`](crate::jwt::Validated) into the request extensions. [`RequireScopeLayer`],
//! placed after it, requires scopes. Rejections carry a fixed status, an RFC 6750
//! `WWW-Authenticate` challenge and an empty body; the reason goes to `tracing` at `debug`.
//!
//! | request | status | `WWW-Authenticate` |
//! |---|---|---|
//! | no `Authorization` header, or another scheme (`Basic …`) | 401 | `Bearer` |
//! | several `Authorization` headers, a malformed one (not `Bearer` + one space + token68), or `access_token` in the query string (JW-25, JW-26) | 400 | `Bearer error="invalid_request"` |
//! | the token fails validation | 401 | `Bearer error="invalid_token"` |
//! | the issuer's keys cannot be fetched and no earlier copy exists | 503 | — |
//! | a required scope is missing ([`RequireScopeLayer`]) | 403 | `Bearer error="insufficient_scope", scope="…"` |
//!
//! The scheme is matched case-insensitively (`bearer` is accepted, RFC 9110 §11.1). The token
//! must follow the scheme after exactly one space and be a `token68` (RFC 9110 §11.2): letters,
//! digits, `-._~+/`, then optional `=`; anything else is a malformed request. RFC 6750 allows
//! several spaces; this layer does not, so that two parsers cannot disagree on where the token
//! starts. The request body is never read: a token in a form body is never used.
//!
//! # Example
//!
//! ```
//! use std::convert::Infallible;
//! use http::{Request, Response, StatusCode};
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//! use paved_auth::bearer::{RequireBearerLayer, RequireScopeLayer};
//! use paved_auth::jwt::{JwtValidator, NoCustomClaims, VerificationKey, Algorithm};
//! # let pem = paved_auth::fuzzing::example_es256_public_pem();
//!
//! let validator = JwtValidator::builder("https://idp.example", "https://api.example")
//!     .key(VerificationKey::from_pem(Algorithm::ES256, pem.as_bytes())?)
//!     .build()?;
//! let service = ServiceBuilder::new()
//!     .layer(RequireBearerLayer::<NoCustomClaims>::new(validator))
//!     .layer(RequireScopeLayer::new(["items:read"])?)
//!     .service(service_fn(|_req: Request<String>| async {
//!         Ok::<_, Infallible>(Response::new(String::from("secret items")))
//!     }));
//!
//! # let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! let response = rt.block_on(service.oneshot(
//!     Request::builder().uri("/items").body(String::new())?,
//! ))?;
//! assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(response.headers()["www-authenticate"], "Bearer");
//! assert!(response.body().is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod future;
mod layer;
mod rejection;
mod scope;
mod service;
mod token;

pub use future::{ResponseFuture, ScopeResponseFuture};
pub use layer::RequireBearerLayer;
pub use rejection::BearerRejection;
pub use scope::{RequireScope, RequireScopeLayer};
pub use service::RequireBearer;

pub(crate) use token::{ExtractError, bearer_token, parse_authorization};
