use std::sync::Arc;

use http::HeaderName;

/// Per-route opt-out, put into a **response**'s extensions by a handler or a route layer:
/// the security-headers layer then does not add the named headers to that response (forced
/// headers are still added).
///
/// For a route that needs a *different* value rather than none, set the header in the handler
/// (a handler-set header wins unless forced), or add a second `SecurityHeadersLayer` on that
/// route: the inner layer reuses the outer layer's nonce, sets its values first, and the outer
/// layer keeps them.
///
/// ```
/// use http::{Response, header::X_FRAME_OPTIONS};
/// use paved_headers::HeaderOverrides;
///
/// // An embeddable widget: no X-Frame-Options on this response (its CSP sets frame-ancestors).
/// let mut res = Response::new(());
/// res.extensions_mut().insert(HeaderOverrides::without([X_FRAME_OPTIONS]));
/// ```
#[derive(Clone, Debug, Default)]
pub struct HeaderOverrides {
    skip: Arc<[HeaderName]>,
}

impl HeaderOverrides {
    /// The layer will not add these headers to this response.
    pub fn without<I: IntoIterator<Item = HeaderName>>(names: I) -> Self {
        Self {
            skip: names.into_iter().collect(),
        }
    }

    pub(crate) fn skips(&self, name: &HeaderName) -> bool {
        self.skip.iter().any(|n| n == name)
    }
}
