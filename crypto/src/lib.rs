//! paved-crypto: password hashing and symmetric cryptography on the paved road.
//!
//! # What it guards
//! Stored passwords (Argon2id with parameter ceilings, a bounded hashing pool), sealed values
//! (AEAD with per-purpose keys), message authentication (HMAC) and random tokens.
//!
//! # What it deliberately does not do
//! No custom primitives: the algorithms come from RustCrypto `argon2` and `ring`. No
//! asymmetric signatures (JWT signing and verification live in paved-auth).
//!
//! This crate is being built; it exposes no API yet.
#![forbid(unsafe_code)]
