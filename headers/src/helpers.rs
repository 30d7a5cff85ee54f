//! One-header layers for single routes.

use http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Layer type returned by [`no_store`] and [`clear_site_data`].
pub type OverrideHeaderLayer = SetResponseHeaderLayer<HeaderValue>;

/// `Cache-Control: no-store` on every response of the route it wraps, replacing whatever the
/// handler set (ASVS 5.0 V14.3.2): for authenticated pages and anything personal. It is
/// tower-http's `SetResponseHeaderLayer::overriding`.
///
/// ```
/// use axum::{Router, routing::get};
/// use paved_headers::no_store;
///
/// let app: Router = Router::new()
///     .route("/account", get(|| async { "private" }).layer(no_store()))
///     .route("/", get(|| async { "public" }));
/// ```
#[must_use]
pub fn no_store() -> OverrideHeaderLayer {
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))
}

/// `Clear-Site-Data: "cache", "cookies", "storage"` for a logout route (ASVS 5.0 V14.3.1): the
/// browser drops this origin's cache, cookies and storage.
#[must_use]
pub fn clear_site_data() -> OverrideHeaderLayer {
    SetResponseHeaderLayer::overriding(
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cache\", \"cookies\", \"storage\""),
    )
}
