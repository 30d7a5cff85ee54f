use std::fmt;
use std::task::{Context, Poll};

use http::{HeaderValue, Method, Request, Response, Uri};
use tower::Service;
use tower_http::csrf::Csrf;

use super::future::{ResponseFuture, Summary};
use super::layer::Rejection;

/// Middleware built by [`CrossOriginProtectionLayer`](super::CrossOriginProtectionLayer).
///
/// The response body type must implement `From<&'static str>` for the fixed rejection body.
#[derive(Clone)]
pub struct CrossOriginProtection<S> {
    inner: Csrf<S, Rejection>,
    disabled: bool,
}

impl<S> CrossOriginProtection<S> {
    pub(crate) fn new(inner: Csrf<S, Rejection>, disabled: bool) -> Self {
        Self { inner, disabled }
    }
}

impl<S: fmt::Debug> fmt::Debug for CrossOriginProtection<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossOriginProtection")
            .field("inner", &self.inner)
            .field("disabled", &self.disabled)
            .finish()
    }
}

fn header(req: &http::HeaderMap, name: &str) -> Option<HeaderValue> {
    req.get(name).cloned()
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CrossOriginProtection<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<&'static str>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // Only unsafe methods can be rejected; only they pay for the log summary.
        let summary = if self.disabled
            || matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        {
            None
        } else {
            Some(Summary {
                method: req.method().clone(),
                uri: Uri::clone(req.uri()),
                origin: header(req.headers(), "origin"),
                sec_fetch_site: header(req.headers(), "sec-fetch-site"),
            })
        };
        ResponseFuture::new(self.inner.call(req), summary)
    }
}
