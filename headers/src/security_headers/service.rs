use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response, StatusCode, header};
use tower::Service;

use super::future::ResponseFuture;
use super::layer::Compiled;
use crate::cross_origin::CrossOriginProtection;
use crate::nonce::CspNonce;
use crate::util::Clipped;

/// Body of the `dev()` refusal.
pub const DEV_REFUSAL_BODY: &str = "Forbidden: this server runs the paved-headers dev() preset, \
which only answers requests addressed to a loopback host (localhost, 127.0.0.1, [::1]). \
Build the layer with SecurityHeadersLayer::web() or ::api() for any other deployment.\n";

/// Body sent when no randomness is available for the nonce.
pub const NO_RANDOMNESS_BODY: &str = "Service Unavailable\n";

/// Middleware built by [`SecurityHeadersLayer`](super::SecurityHeadersLayer).
///
/// The response body type must implement `From<&'static str>` (axum's `Body`,
/// `http_body_util::Full<Bytes>`, `String` do) so that the layer can answer its own refusals
/// (`dev()` on a non-loopback host, cross-origin rejections, no randomness for the nonce).
#[derive(Clone)]
pub struct SecurityHeaders<S> {
    inner: CrossOriginProtection<S>,
    compiled: Arc<Compiled>,
}

impl<S: fmt::Debug> fmt::Debug for SecurityHeaders<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHeaders")
            .field("inner", &self.inner)
            .field("compiled", &self.compiled)
            .finish()
    }
}

impl<S> SecurityHeaders<S> {
    pub(crate) fn new(inner: CrossOriginProtection<S>, compiled: Arc<Compiled>) -> Self {
        Self { inner, compiled }
    }
}

fn plain<B: From<&'static str>>(status: StatusCode, body: &'static str) -> Response<B> {
    let mut res = Response::new(B::from(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

/// Both the request-target authority (HTTP/2 `:authority`, absolute-form) and the `Host`
/// header, when present, must be loopback; at least one must be present. The client chooses
/// those headers, so when the peer address is known (`PeerAddr`, axum `ConnectInfo`) the
/// connection must come from loopback too: a `dev()` server listening on all interfaces
/// refuses a remote client that sends `Host: localhost`.
fn addressed_to_loopback<B>(req: &Request<B>) -> bool {
    if crate::transport::peer_ip(req).is_some_and(|ip| !ip.is_loopback()) {
        return false;
    }
    let authority = req.uri().authority().map(http::uri::Authority::as_str);
    let host = req.headers().get(header::HOST).map(HeaderValue::to_str);
    let host_ok = match host {
        None => None,
        Some(Ok(h)) => Some(crate::origin::is_loopback_authority(h)),
        Some(Err(_)) => Some(false),
    };
    let authority_ok = authority.map(crate::origin::is_loopback_authority);
    match (authority_ok, host_ok) {
        (None, None) => false,
        (a, h) => a.unwrap_or(true) && h.unwrap_or(true),
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SecurityHeaders<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<&'static str>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<crate::cross_origin::ResponseFuture<S::Future>, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let compiled = &self.compiled;
        if compiled.loopback_only && !addressed_to_loopback(&req) {
            tracing::warn!(
                target: "paved_headers::dev",
                host = ?req.headers().get(header::HOST).map(|v| Clipped(v.as_bytes())),
                authority = ?req.uri().authority().map(|a| Clipped(a.as_str().as_bytes())),
                "dev() preset refused a request not addressed to a loopback host"
            );
            let res = plain(StatusCode::FORBIDDEN, DEV_REFUSAL_BODY);
            return ResponseFuture::ready(res, Arc::clone(compiled), None, false);
        }
        let https = compiled.hsts.is_some() && compiled.https.is_https(&req);
        let nonce = if compiled.needs_nonce {
            if let Some(existing) = req.extensions().get::<CspNonce>() {
                // An outer paved layer already chose this request's nonce: reuse it so the
                // handler, this layer and the outer layer agree.
                Some(*existing)
            } else if let Ok(n) = CspNonce::generate(&*compiled.nonce_source) {
                req.extensions_mut().insert(n);
                Some(n)
            } else {
                tracing::error!(
                    target: "paved_headers::nonce",
                    "no randomness for the CSP nonce; answering 503"
                );
                let res = plain(StatusCode::SERVICE_UNAVAILABLE, NO_RANDOMNESS_BODY);
                return ResponseFuture::ready(res, Arc::clone(compiled), None, https);
            }
        } else {
            None
        };
        ResponseFuture::inner(self.inner.call(req), Arc::clone(compiled), nonce, https)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, host: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri(uri);
        if let Some(h) = host {
            b = b.header("host", h);
        }
        b.body(()).unwrap()
    }

    #[test]
    fn loopback_addressing() {
        assert!(addressed_to_loopback(&req("/", Some("localhost:3000"))));
        assert!(addressed_to_loopback(&req("http://127.0.0.1:3000/", None)));
        assert!(!addressed_to_loopback(&req("/", None)));
        assert!(!addressed_to_loopback(&req("/", Some("example.com"))));
        assert!(!addressed_to_loopback(&req(
            "http://example.com/",
            Some("localhost")
        )));
        assert!(!addressed_to_loopback(&req(
            "http://localhost/",
            Some("example.com")
        )));
    }
}
