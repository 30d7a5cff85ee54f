//! paved-headers: security response headers, CSP nonces, reporting and cross-origin request
//! protection as tower layers.
//!
//! # What it guards
//! The browser↔app boundary. One [`SecurityHeadersLayer`] (presets [`api`], [`web`], [`dev`])
//! sends a prebuilt list of security headers — Content-Security-Policy with a fresh
//! [`CspNonce`] per response, HSTS only over https, framing, MIME sniffing, referrer,
//! cross-origin isolation and [`Permissions-Policy`](PermissionsPolicy), `Reporting-Endpoints`
//! — removes headers that advertise the stack, and rejects cross-site state-changing requests
//! ([`cross_origin`], Go 1.25's `CrossOriginProtection` algorithm through tower-http's
//! `CsrfLayer`). Beside it: a [`report`] collector for CSP reports, a [`cookies`] hardening
//! layer, a [`cors`] builder that cannot be built unsafe, and [`no_store`] /
//! [`clear_site_data`] for single routes.
//!
//! Unsafe configurations (`'unsafe-inline'` scripts, short HSTS, `preload` without
//! `includeSubDomains`, CORS `*` with credentials, …) are build-time [`ConfigError`]s whose
//! message says why and what to do; each has an opt-in behind a method named `dangerous()`.
//!
//! # What it deliberately does not do
//! - It does not sanitise or escape HTML: CSP narrows what an injection can do, it does not
//!   prevent the injection. Templates must still escape.
//! - It does not authenticate anyone, issue CSRF tokens or manage sessions (see `paved-auth`).
//! - It does not terminate TLS or redirect http to https; HSTS is sent only where https is
//!   established as configured ([`transport`]).
//! - It does not submit your domain to the HSTS preload list (`Hsts::preload` only emits the
//!   directive), and it does not know the public-suffix list (a CORS pattern
//!   `https://*.co.uk` is not refused).
//! - The `dev()` loopback check reads `Host`/`:authority`; a proxy that rewrites `Host` to
//!   `localhost` defeats it. It catches accidents, not attackers.
//! - Headers the handler sets win (unless forced): a handler can weaken its own response.
//!
//! # Quick start: an API
//! ```
//! use axum::{Router, routing::get};
//! use paved_headers::SecurityHeadersLayer;
//!
//! # fn main() -> Result<(), paved_headers::ConfigError> {
//! let app: Router = Router::new()
//!     .route("/v1/items", get(|| async { "[]" }))
//!     .layer(SecurityHeadersLayer::api().tls_terminates_in_front().build()?);
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! # Quick start: a server-rendered app with the nonce in a template
//! ```
//! use axum::{Extension, Router, body::Body, response::Html, routing::get};
//! use http::Request;
//! use paved_headers::{CspNonce, SecurityHeadersLayer, report::ReportCollector};
//! use tower::ServiceExt;
//!
//! // With the `axum` feature, `nonce: CspNonce` works as an extractor directly.
//! async fn page(Extension(nonce): Extension<CspNonce>) -> Html<String> {
//!     Html(format!(
//!         r#"<!doctype html><title>Shop</title>
//!            <script nonce="{nonce}">document.title = "Shop (js)";</script>"#
//!     ))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Router::new()
//!     .route("/", get(page))
//!     .route_service("/_reports", ReportCollector::new())
//!     .layer(SecurityHeadersLayer::web().report_to("/_reports").build()?);
//!
//! let req = Request::get("/").header("host", "shop.example.com").body(Body::empty())?;
//! let res = app.oneshot(req).await?;
//! let csp = res.headers()["content-security-policy"].to_str()?.to_owned();
//! let html = axum::body::to_bytes(res.into_body(), 1 << 20).await?;
//! let html = std::str::from_utf8(&html)?;
//! // The nonce in the page is the one in this response's policy.
//! let nonce = html.split("nonce=\"").nth(1).and_then(|s| s.split('"').next()).unwrap();
//! assert!(csp.contains(&format!("script-src 'nonce-{nonce}' 'strict-dynamic'")));
//! assert!(csp.contains("report-to csp-endpoint"));
//! # Ok(())
//! # }
//! ```
//!
//! # Cargo features
//! - `axum`: [`CspNonce`] as an axum extractor, and axum's `ConnectInfo<SocketAddr>` as a
//!   peer-address source for trusted proxies.
//!
//! [`api`]: SecurityHeadersLayer::api
//! [`web`]: SecurityHeadersLayer::web
//! [`dev`]: SecurityHeadersLayer::dev
#![forbid(unsafe_code)]

mod error;
mod helpers;
mod intern;
mod nonce;
mod origin;
mod util;
mod values;

pub mod cookies;
pub mod cors;
pub mod cross_origin;
pub mod csp;
pub mod permissions;
pub mod report;
pub mod security_headers;
pub mod transport;

#[cfg(feature = "axum")]
mod extract;

#[doc(hidden)]
pub mod fuzzing;

pub use crate::cookies::CookieHardeningLayer;
pub use crate::cors::StrictCors;
pub use crate::cross_origin::CrossOriginProtectionLayer;
pub use crate::csp::ContentSecurityPolicy;
pub use crate::error::ConfigError;
#[cfg(feature = "axum")]
pub use crate::extract::MissingCspNonce;
pub use crate::helpers::{OverrideHeaderLayer, clear_site_data, no_store};
pub use crate::nonce::{
    CspNonce, NONCE_LEN, NONCE_RANDOM_BYTES, NonceSource, OsRandom, RandomnessUnavailable,
};
pub use crate::permissions::PermissionsPolicy;
pub use crate::report::ReportCollector;
pub use crate::security_headers::{
    HeaderOverrides, SecurityHeaders, SecurityHeadersBuilder, SecurityHeadersLayer,
};
pub use crate::transport::{
    Hsts, HttpsDetection, PeerAddr, ProxyHeader, ServedOverTls, TrustedProxy,
};
pub use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    ReferrerPolicy,
};
