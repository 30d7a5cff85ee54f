//! The response futures of the bearer layers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use tower::Service;

use crate::bearer::rejection::BearerRejection;
use crate::bearer::service::accept;
use crate::jwt::{JwtError, Validated};

type Validation<C> = Pin<Box<dyn Future<Output = Result<Validated<C>, JwtError>> + Send>>;

pin_project! {
    /// The response future of [`RequireBearer`](crate::bearer::RequireBearer).
    pub struct ResponseFuture<S, ReqBody, C>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        kind: Kind<S, ReqBody, C>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, ReqBody, C>
    where
        S: Service<Request<ReqBody>>,
    {
        Inner {
            #[pin]
            future: S::Future,
        },
        Validating {
            validation: Validation<C>,
            request: Option<Request<ReqBody>>,
            service: S,
        },
        Rejected {
            rejection: Option<BearerRejection>,
        },
    }
}

impl<S, ReqBody, C> ResponseFuture<S, ReqBody, C>
where
    S: Service<Request<ReqBody>>,
{
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn rejected(rejection: BearerRejection) -> Self {
        Self {
            kind: Kind::Rejected {
                rejection: Some(rejection),
            },
        }
    }

    pub(crate) fn validating(
        validation: Validation<C>,
        request: Request<ReqBody>,
        service: S,
    ) -> Self {
        Self {
            kind: Kind::Validating {
                validation,
                request: Some(request),
                service,
            },
        }
    }
}

impl<S, ReqBody, C> fmt::Debug for ResponseFuture<S, ReqBody, C>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<S, ReqBody, ResBody, C> Future for ResponseFuture<S, ReqBody, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
    C: Send + Sync + 'static,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut kind = self.project().kind;
        loop {
            match kind.as_mut().project() {
                KindProj::Inner { future } => return future.poll(cx),
                KindProj::Rejected { rejection } => {
                    let response = rejection
                        .take()
                        .unwrap_or_else(BearerRejection::misconfigured)
                        .into_response();
                    return Poll::Ready(Ok(response));
                }
                KindProj::Validating {
                    validation,
                    request,
                    service,
                } => {
                    let outcome = ready!(validation.as_mut().poll(cx));
                    let next = match (outcome, request.take()) {
                        (Ok(validated), Some(mut request)) => {
                            accept(&mut request, validated);
                            Kind::Inner {
                                future: service.call(request),
                            }
                        }
                        (Err(e), _) => Kind::Rejected {
                            rejection: Some(BearerRejection::from_jwt(&e)),
                        },
                        (Ok(_), None) => Kind::Rejected {
                            rejection: Some(BearerRejection::misconfigured()),
                        },
                    };
                    kind.set(next);
                }
            }
        }
    }
}

pin_project! {
    /// The response future of [`RequireScope`](crate::bearer::RequireScope).
    pub struct ScopeResponseFuture<F> {
        #[pin]
        kind: ScopeKind<F>,
    }
}

pin_project! {
    #[project = ScopeKindProj]
    enum ScopeKind<F> {
        Inner {
            #[pin]
            future: F,
        },
        Rejected {
            rejection: Option<BearerRejection>,
        },
    }
}

impl<F> ScopeResponseFuture<F> {
    pub(crate) fn inner(future: F) -> Self {
        Self {
            kind: ScopeKind::Inner { future },
        }
    }

    pub(crate) fn rejected(rejection: BearerRejection) -> Self {
        Self {
            kind: ScopeKind::Rejected {
                rejection: Some(rejection),
            },
        }
    }
}

impl<F> fmt::Debug for ScopeResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeResponseFuture")
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ScopeResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    ResBody: Default,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            ScopeKindProj::Inner { future } => future.poll(cx),
            ScopeKindProj::Rejected { rejection } => Poll::Ready(Ok(rejection
                .take()
                .unwrap_or_else(BearerRejection::misconfigured)
                .into_response())),
        }
    }
}
