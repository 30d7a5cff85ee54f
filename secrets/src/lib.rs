//! paved-secrets: secret values that cannot leak, loaders for the places secrets live, a key
//! ring, and process hardening.
//!
//! Every other paved crate holds its secrets (client secrets, peppers, cookie and signing keys,
//! tokens) in these types.
//!
//! # Quick start
//!
//! ```
//! use paved_secrets::{ExposeSecret, KeyRing, SecretSource, SecretString};
//!
//! paved_secrets::harden_process()?; // no core dumps, no same-user ptrace (Linux)
//!
//! // One configuration string per secret: env:NAME, file:/path or credential:NAME.
//! let source: SecretSource = "credential:api-token".parse()?;
//! assert_eq!(source.to_string(), "credential:api-token"); // then `source.load_string()?`
//!
//! let token = SecretString::from("correct horse battery staple");
//! assert_eq!(format!("{token:?}"), "SecretString([REDACTED], len 16..32)");
//! assert!(token.ct_eq_bytes("correct horse battery staple")); // constant time, no `==`
//!
//! let ring = KeyRing::generate()?; // 256-bit primary key, 128-bit random id
//! let reloaded = KeyRing::parse(ring.to_text().expose_secret())?;
//! assert_eq!(reloaded.primary().id(), ring.primary().id());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! In a service, load secrets first thing in `main`, before any thread or async runtime starts
//! (required for `env:` sources, see [`SecretString::from_env`]):
//!
//! ```no_run
//! use paved_secrets::{KeyRing, SecretSource, SecretString};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     paved_secrets::harden_process()?;
//!     let db_password = SecretString::from_credential("db-password")?;
//!     let cookie_keys = KeyRing::load(&std::env::var("COOKIE_KEYS_SOURCE")?.parse()?)?;
//!     let api_token: SecretSource = "env:API_TOKEN".parse()?;
//!     let api_token = api_token.load_string()?;
//!     // ... now build the async runtime and hand the secrets to it.
//!     # let _ = (db_password, cookie_keys, api_token);
//!     Ok(())
//! }
//! ```
//!
//! # What it guards
//!
//! - **Printing.** [`SecretString`], [`SecretBytes`], [`Secret<T>`] and [`Key`] print
//!   `[REDACTED]` from `Debug` (with the type name and a coarse length class), and have no
//!   `Display`, so they cannot reach a log line, a panic message or a `tracing` field by
//!   accident. (`tracing`'s `Value` trait is sealed, so fields are recorded through `Debug`:
//!   `tracing::info!(token = ?token)` logs `SecretString([REDACTED], …)`; `%token` does not
//!   compile.) Errors name where a secret came from, never its content.
//! - **Comparison.** No `PartialEq`; `ct_eq` compares in constant time (`subtle`).
//! - **Serialization.** `Deserialize` with the `serde` feature, with error messages that never
//!   quote the value; `Serialize` only through the explicit `SerializeExposed` wrapper.
//! - **Memory.** Zeroized on drop (`zeroize`, via `secrecy`'s `SecretBox`). Constructors and
//!   loaders build secrets in exactly-sized buffers and never grow one in place, so no
//!   reallocation leaves a stale copy; intermediate buffers are zeroized. A heap test with an
//!   inspecting allocator checks this (`tests/heap.rs`).
//! - **Loading.** [`from_env`](SecretString::from_env) removes the variable after reading it;
//!   [`from_file`](SecretString::from_file) refuses files readable by group or other users
//!   (except in a Kubernetes secret volume) and symbolic links that leave their directory,
//!   caps the size and trims exactly one trailing newline;
//!   [`from_credential`](SecretString::from_credential) reads systemd credentials. A
//!   [`SecretSource`] string selects any of them from configuration.
//! - **Keys.** [`KeyRing`]: ids, one primary, rotation; keys of at least 256 bits; generated
//!   from the OS CSPRNG.
//! - **The process.** [`harden_process`]: not dumpable, no core dumps (Linux).
//!
//! # What it deliberately does not do
//!
//! - **No `mlock`.** Secret pages can be swapped out. Locking memory needs `unsafe` and
//!   `RLIMIT_MEMLOCK` headroom, and encrypted or disabled swap is the better control. (Like
//!   `secrecy`, which leaves this out for the same reasons.)
//! - **No guarantee about copies it does not make.** Values moved on the stack, registers,
//!   copies made by a deserializer or by code that calls `expose_secret()` and clones the
//!   result are out of its reach. It makes no copies itself, and says so where a caller might.
//! - **It cannot erase the original environment.** `/proc/self/environ` shows the environment
//!   the process was started with, and the kernel keeps that memory; removing a variable only
//!   removes it from what `getenv` and child processes see. Prefer `file:` or `credential:`
//!   sources; [`harden_process`] at least makes `/proc/self/environ` readable by root only.
//! - **It does not forbid cloning.** The secret types are `Clone` (each copy is exact and
//!   zeroized on drop, but it is one more copy); share a secret behind an `Arc` instead.
//! - **No hiding of lengths.** `ct_eq` takes time that depends on the lengths compared, and
//!   `Debug` shows a length class.
//!
//! # `unsafe`
//!
//! None in this crate (`#![forbid(unsafe_code)]`). Removing an environment variable is
//! `unsafe` since Rust 2024, because it races with other threads reading the environment; the
//! one call lives in the internal crate `paved-env-remove`, which makes it only after reading
//! from `/proc/self/status` that the process has a single thread. The heap test's inspecting
//! allocator lives in the unpublished test-only crate `paved-heap-probe`.
//!
//! # Features
//!
//! - `serde`: `Deserialize` for the secret types and [`SecretSource`]; `SerializeExposed` and `serialize_exposed`.
#![forbid(unsafe_code)]

mod error;
mod harden;
mod keyring;
mod load;
mod random;
mod secret;
#[cfg(feature = "serde")]
mod serde_impl;
mod source;

pub use secrecy::{ExposeSecret, ExposeSecretMut};

pub use crate::error::{
    Error, HardenStep, InvalidSource, KeyRingError, KeyRingErrorKind, LoadFailure,
};
pub use crate::harden::{Hardening, harden_process};
pub use crate::keyring::{Key, KeyId, KeyRing, MAX_KEY_ID_LEN, MAX_KEY_LEN, MAX_KEYS, MIN_KEY_LEN};
pub use crate::random::{GENERATED_KEY_LEN, MAX_RANDOM_LEN, MIN_RANDOM_LEN};
pub use crate::secret::{Secret, SecretBytes, SecretString, ct_eq};
#[cfg(feature = "serde")]
pub use crate::serde_impl::{SerializeExposed, serialize_exposed};
pub use crate::source::{DEFAULT_MAX_LEN, LoadOptions, MAX_LEN_CEILING, SecretSource};
