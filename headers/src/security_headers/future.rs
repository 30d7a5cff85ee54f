use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use super::layer::Compiled;
use super::overrides::HeaderOverrides;
use crate::nonce::CspNonce;

pin_project! {
    /// Response future of [`SecurityHeaders`](super::SecurityHeaders).
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: Kind<F, B>,
        compiled: Arc<Compiled>,
        nonce: Option<CspNonce>,
        https: bool,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B> {
        Inner {
            #[pin]
            future: F,
        },
        Ready {
            response: Option<Response<B>>,
        },
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("https", &self.https)
            .finish_non_exhaustive()
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn inner(
        future: F,
        compiled: Arc<Compiled>,
        nonce: Option<CspNonce>,
        https: bool,
    ) -> Self {
        Self {
            kind: Kind::Inner { future },
            compiled,
            nonce,
            https,
        }
    }

    pub(crate) fn ready(
        response: Response<B>,
        compiled: Arc<Compiled>,
        nonce: Option<CspNonce>,
        https: bool,
    ) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
            compiled,
            nonce,
            https,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut res = match this.kind.project() {
            KindProj::Inner { future } => ready!(future.poll(cx))?,
            KindProj::Ready { response } => match response.take() {
                Some(r) => r,
                // Polled after completion: stay pending rather than panic.
                None => return Poll::Pending,
            },
        };
        let skip = res.extensions().get::<HeaderOverrides>().cloned();
        this.compiled.apply(
            res.headers_mut(),
            skip.as_ref(),
            this.nonce.as_ref(),
            *this.https,
        );
        Poll::Ready(Ok(res))
    }
}
