//! Cookie hardening: `Secure`, `HttpOnly` and `SameSite=Lax` on every `Set-Cookie` that lacks
//! them.
//!
//! Attributes the application wrote are kept as written (an explicit `SameSite=None` or
//! `SameSite=Strict` stays); only missing ones are appended. Opt-outs are per cookie name:
//! [`without_http_only`](CookieHardeningLayer::without_http_only) for a cookie scripts must
//! read, [`dangerous().untouched`](DangerousCookieHardening::untouched) to leave one alone, and
//! `dangerous().without_secure()` for a cookie that must travel over plain http.
//!
//! The layer also logs a `tracing` warning (target `paved_headers::cookies`, once per name) for
//! session-like cookies (`session`, `sid`, `auth`, `token`, `jwt`, …) not named with the
//! `__Host-` prefix (ASVS 5.0 V3.3.1/V3.3.3), and for `__Host-` cookies that browsers will
//! drop (a `Domain` attribute, or a `Path` other than `/`).
//!
//! # Example
//! ```
//! use bytes::Bytes;
//! use http::{Request, Response};
//! use http_body_util::Full;
//! use paved_headers::cookies::CookieHardeningLayer;
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let layer = CookieHardeningLayer::new().without_http_only("theme")?;
//! let app = layer.layer(service_fn(|_req: Request<Full<Bytes>>| async {
//!     let res = Response::builder()
//!         .header("set-cookie", "__Host-sid=abc; Path=/")
//!         .header("set-cookie", "theme=dark; SameSite=Strict")
//!         .body(Full::<Bytes>::default())
//!         .unwrap();
//!     Ok::<_, std::convert::Infallible>(res)
//! }));
//! let res = app.oneshot(Request::new(Full::default())).await?;
//! let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
//! assert_eq!(cookies[0], "__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax");
//! assert_eq!(cookies[1], "theme=dark; SameSite=Strict; Secure");
//! # Ok(())
//! # }
//! ```

mod future;
mod harden;
mod layer;
mod service;

pub use self::future::ResponseFuture;
pub use self::harden::SameSite;
pub use self::layer::{CookieHardeningLayer, DangerousCookieHardening};
pub use self::service::CookieHardening;
