use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use http::header::{Entry, SET_COOKIE};
use pin_project_lite::pin_project;

use super::harden::Config;

pin_project! {
    /// Response future of [`CookieHardening`](super::CookieHardening).
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: Arc<Config>,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, config: Arc<Config>) -> Self {
        Self { inner, config }
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
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
        let mut res = ready!(this.inner.poll(cx))?;
        if let Entry::Occupied(mut entry) = res.headers_mut().entry(SET_COOKIE) {
            for value in entry.iter_mut() {
                if let Some(hardened) = this.config.harden(value) {
                    *value = hardened;
                }
            }
        }
        Poll::Ready(Ok(res))
    }
}
