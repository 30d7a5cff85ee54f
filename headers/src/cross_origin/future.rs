use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Method, Response, Uri};
use pin_project_lite::pin_project;
use tower_http::csrf::ProtectionError;

use crate::util::Clipped;

pub(crate) struct Summary {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) origin: Option<HeaderValue>,
    pub(crate) sec_fetch_site: Option<HeaderValue>,
}

pin_project! {
    /// Response future of [`CrossOriginProtection`](super::CrossOriginProtection).
    pub struct ResponseFuture<F>
    where
        F: Future,
    {
        #[pin]
        inner: tower_http::csrf::ResponseFuture<F>,
        summary: Option<Summary>,
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new(
        inner: tower_http::csrf::ResponseFuture<F>,
        summary: Option<Summary>,
    ) -> Self {
        Self { inner, summary }
    }
}

impl<F: Future> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        if let (Ok(res), Some(s)) = (&out, this.summary.take())
            && let Some(err) = res.extensions().get::<ProtectionError>()
        {
            tracing::warn!(
                target: "paved_headers::cross_origin",
                kind = ?err.kind(),
                method = %s.method,
                path = ?Clipped(s.uri.path().as_bytes()),
                origin = ?s.origin.as_ref().map(|v| Clipped(v.as_bytes())),
                sec_fetch_site = ?s.sec_fetch_site.as_ref().map(|v| Clipped(v.as_bytes())),
                "cross-origin request rejected"
            );
        }
        Poll::Ready(out)
    }
}
