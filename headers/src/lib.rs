//! paved-headers: security response headers and cross-origin request protection.
//!
//! # What it guards
//! The browser↔app boundary: Content-Security-Policy with per-response nonces, HSTS, framing,
//! MIME sniffing, referrer and permissions policies, and cross-site request forgery checks based
//! on `Sec-Fetch-Site` / `Origin`.
//!
//! # What it deliberately does not do
//! It does not authenticate anyone and does not sanitise HTML: it narrows what a browser will do
//! with the responses, not what the application writes into them.
//!
//! This crate is being built; it exposes no API yet.
#![forbid(unsafe_code)]
