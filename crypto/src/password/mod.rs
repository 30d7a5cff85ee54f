//! Password storage: Argon2id with ceilings, upgrade detection, NIST rules and a bounded pool.
//!
//! On signup, check the policy and hash; on login, verify and upgrade when asked:
//!
//! ```
//! use paved_crypto::{PasswordHasher, PolicyContext, VerifyError, check_policy};
//! use paved_secrets::SecretString;
//!
//! let hasher = PasswordHasher::default();
//!
//! // Signup.
//! let password = SecretString::from("tulip rocket violin ember");
//! assert!(check_policy(&password, &PolicyContext::default()).is_empty());
//! let stored: String = hasher.hash(&password)?.into_string();
//!
//! // Login.
//! match hasher.verify(&SecretString::from("tulip rocket violin ember"), &stored) {
//!     Ok(v) if v.needs_rehash => { /* store hasher.hash(&password)? */ }
//!     Ok(_) => { /* logged in */ }
//!     Err(VerifyError::WrongPassword) => { /* 401 */ }
//!     Err(_) => { /* stored hash unusable: log it, answer as for a wrong password */ }
//! }
//! # Ok::<(), paved_crypto::Error>(())
//! ```

//! In a server, hash and verify through a [`HashingPool`], so a login storm is answered with
//! 503 + `Retry-After` instead of exhausting memory (with the `axum` feature, [`Overloaded`]
//! is a response):
//!
//! ```no_run
//! # #[cfg(feature = "axum")] mod example {
//! use axum::extract::{Form, State};
//! use axum::http::StatusCode;
//! use axum::response::{IntoResponse, Response};
//! use paved_crypto::{HashingPool, VerifyError};
//! use paved_secrets::SecretString;
//!
//! #[derive(serde::Deserialize)]
//! struct Login { user: String, password: String }
//!
//! async fn login(State(pool): State<HashingPool>, Form(form): Form<Login>) -> Response {
//!     let password = SecretString::from(form.password);
//!     let result = match find_hash(&form.user) {
//!         Some(stored) => pool.verify(password, stored).await,
//!         None => pool.dummy_verify(password).await, // same work: no user enumeration
//!     };
//!     match result {
//!         Ok(verified) => {
//!             if verified.needs_rehash { /* pool.hash(..) and store it */ }
//!             StatusCode::NO_CONTENT.into_response()
//!         }
//!         Err(VerifyError::Overloaded(busy)) => busy.into_response(), // 503 + Retry-After
//!         Err(_) => StatusCode::UNAUTHORIZED.into_response(),
//!     }
//! }
//! # fn find_hash(_: &str) -> Option<String> { None }
//! # }
//! ```
//!
//! [`Overloaded`]: crate::Overloaded

mod hasher;
#[cfg(feature = "legacy")]
mod legacy;
mod nist;
mod policy;
mod pool;

pub use hasher::{MAX_PASSWORD_BYTES, PasswordHash, PasswordHasher, Verified};
pub use nist::{
    Blocklist, COMMON_PASSWORDS, CommonPasswords, MIN_CHARS_SINGLE_FACTOR, MIN_CHARS_WITH_MFA,
    PolicyContext, PolicyViolation, check_policy,
};
pub use policy::{Ceilings, OWASP_MINIMUMS, PasswordPolicy};
pub use pool::{DEFAULT_QUEUE, DEFAULT_RETRY_AFTER, HashingPool};
