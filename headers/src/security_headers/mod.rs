//! The security-headers layer: presets, builder, nonce, HSTS and precedence.
//!
//! [`SecurityHeadersLayer`] adds a prebuilt list of response headers to every response, puts
//! a fresh [`CspNonce`](crate::CspNonce) into each request before the handler runs, removes
//! headers that advertise the stack, refuses non-loopback hosts in `dev()`, and runs
//! [cross-origin request protection](crate::cross_origin) in front of the handler.
//!
//! # Precedence
//! 1. Headers in the removal list (`Server`, `X-Powered-By`, …) are removed from every response.
//! 2. A header the handler (or an inner layer) set **wins**: the layer does not add its own.
//! 3. …unless the layer marked it [`force`](SecurityHeadersBuilder::force)d: then the layer's
//!    value replaces the handler's.
//! 4. A [`HeaderOverrides`] response extension stops the layer from
//!    adding the named (non-forced) headers to that one response.
//! 5. HSTS is added only to responses to requests detected as https
//!    ([`crate::transport`]).
//!
//! # Cost
//! Values are validated and turned into `HeaderValue`s in `build()`. Per request the layer
//! clones those values (reference-counted, no copy), and — only for policies with a nonce —
//! draws 18 random bytes, stores the nonce in the request extensions and renders the policy
//! into one buffer.
//!
//! # Example
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use paved_headers::SecurityHeadersLayer;
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = SecurityHeadersLayer::api().build()?;
//! let app = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
//!     let mut res = Response::new(Full::new(Bytes::from("{}")));
//!     res.headers_mut().insert("server", "leaky/1.0".parse().unwrap());
//!     Ok::<_, std::convert::Infallible>(res)
//! }));
//!
//! let res = app.oneshot(Request::get("https://api.example.com/v1").body(Full::default())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.headers()["cache-control"], "no-store");
//! assert_eq!(res.headers()["strict-transport-security"], "max-age=63072000; includeSubDomains");
//! assert!(res.headers().get("server").is_none());
//! # Ok(())
//! # }
//! ```

mod builder;
mod future;
mod layer;
mod overrides;
mod service;

pub use self::builder::{
    DEFAULT_REMOVED_HEADERS, DangerousSecurityHeadersBuilder, SecurityHeadersBuilder,
};
pub use self::future::ResponseFuture;
pub use self::layer::SecurityHeadersLayer;
pub use self::overrides::HeaderOverrides;
pub use self::service::{DEV_REFUSAL_BODY, NO_RANDOMNESS_BODY, SecurityHeaders};
