//! paved-tests: end-to-end tests of the paved crates.
//!
//! # What it guards
//! The integration between the crates and real peers: a real identity provider started on
//! 127.0.0.1 and a real browser. The harness lives here so that each crate's own tests stay
//! hermetic.
//!
//! # What it deliberately does not do
//! It is not published and is never a dependency of the crates it tests.
//!
#![forbid(unsafe_code)]

pub mod app;
pub mod browser;
pub mod demo;
pub mod hostile;
pub mod idp;
pub mod redis;
