//! paved-auth: JWT validation, JWKS caching, bearer-token middleware and OIDC login.
//!
//! # What it guards
//! The API client↔resource server boundary (bearer tokens validated against every known JWT
//! forgery) and the app↔identity provider boundary (OAuth 2.1 authorization code flow with
//! PKCE, server-side sessions).
//!
//! # What it deliberately does not do
//! It does not issue tokens and is not an authorization server.
//!
//! This crate is being built; it exposes no API yet.
#![forbid(unsafe_code)]
