//! Cross-origin request protection (CSRF defence from `Sec-Fetch-Site` and `Origin`).
//!
//! This is Go 1.25's `http.CrossOriginProtection` algorithm. The check itself is tower-http's
//! [`CsrfLayer`](tower_http::csrf::CsrfLayer), configured and wrapped here rather than
//! re-implemented:
//!
//! 1. `GET`, `HEAD` and `OPTIONS` pass (keep state changes off them: ASVS 5.0 V3.5.3).
//! 2. `Sec-Fetch-Site: same-origin` or `none` (typed URL, bookmark) passes.
//! 3. Any other `Sec-Fetch-Site` (`cross-site`, `same-site`, garbage) is rejected unless the
//!    request matches a bypass pattern or its `Origin` is a trusted origin.
//! 4. Without `Sec-Fetch-Site` (older browsers, non-browser clients): no `Origin` passes;
//!    an `Origin` whose host and port equal the request's `Host` (or HTTP/2 `:authority`)
//!    passes; anything else is rejected unless exempt as in 3.
//!
//! Rejections are `403 Forbidden` with a fixed text body; the method, path, `Origin` and
//! `Sec-Fetch-Site` go to `tracing` (target `paved_headers::cross_origin`, level `warn`), and
//! tower-http's [`ProtectionError`](tower_http::csrf::ProtectionError) is in the response
//! extensions.
//!
//! What this adds to tower-http's layer: Go's **bypass patterns** (`"POST /hooks/{id}"`,
//! several of them, matched only against clean paths: a path containing `//`, `.`/`..`
//! segments or encoded `.`/`/`/`\` is never bypassed), **canonical-form checks** on trusted
//! origins (tower-http accepts `https://example.com:443` or `https://Example.com`, which can
//! never match a browser's `Origin`; here they are configuration errors), the rejection log,
//! and being on by default inside [`SecurityHeadersLayer`](crate::SecurityHeadersLayer).
//!
//! # Deployment caveat
//! A proxy that rewrites `Host` or strips `Origin` leaves `Sec-Fetch-Site` as the only signal,
//! which every current browser sends. Forward both headers unchanged.
//!
//! # Example
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use paved_headers::cross_origin::CrossOriginProtectionLayer;
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = CrossOriginProtectionLayer::new()
//!     .add_trusted_origin("https://sso.example.com")?
//!     .add_bypass_pattern("POST /webhooks/{provider}")?;
//! let app = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from("done"))))
//! }));
//!
//! let attack = Request::post("/transfer")
//!     .header("host", "bank.example.com")
//!     .header("sec-fetch-site", "cross-site")
//!     .header("origin", "https://evil.example")
//!     .body(Full::default())?;
//! assert_eq!(app.clone().oneshot(attack).await?.status(), StatusCode::FORBIDDEN);
//!
//! let form = Request::post("/transfer")
//!     .header("host", "bank.example.com")
//!     .header("sec-fetch-site", "same-origin")
//!     .body(Full::default())?;
//! assert_eq!(app.oneshot(form).await?.status(), StatusCode::OK);
//! # Ok(())
//! # }
//! ```

mod future;
mod layer;
pub(crate) mod pattern;
mod service;

pub use self::future::ResponseFuture;
pub use self::layer::CrossOriginProtectionLayer;
pub use self::service::CrossOriginProtection;

/// The body of every rejection.
pub const REJECTION_BODY: &str = "Forbidden: cross-origin request blocked\n";
