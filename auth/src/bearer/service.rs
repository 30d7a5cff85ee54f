//! [`RequireBearer`].

use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower::Service;

use crate::bearer::future::ResponseFuture;
use crate::bearer::rejection::BearerRejection;
use crate::bearer::scope::VerifiedToken;
use crate::bearer::token::bearer_token;
use crate::jwt::{JwtValidator, Validated};

/// Validates the request's bearer token before calling the inner service (see the
/// [module documentation](crate::bearer)).
pub struct RequireBearer<S, C> {
    inner: S,
    validator: JwtValidator,
    _claims: PhantomData<fn() -> C>,
}

impl<S, C> RequireBearer<S, C> {
    /// Wraps `inner`.
    pub fn new(inner: S, validator: JwtValidator) -> Self {
        Self {
            inner,
            validator,
            _claims: PhantomData,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C> Clone for RequireBearer<S, C> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone(), self.validator.clone())
    }
}

impl<S: fmt::Debug, C> fmt::Debug for RequireBearer<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireBearer")
            .field("inner", &self.inner)
            .field("validator", &self.validator)
            .finish()
    }
}

pub(crate) fn accept<B, C>(request: &mut Request<B>, validated: Validated<C>)
where
    C: Send + Sync + 'static,
{
    request
        .extensions_mut()
        .insert(VerifiedToken(validated.standard_view()));
    request.extensions_mut().insert(validated);
}

impl<S, C, ReqBody, ResBody> Service<Request<ReqBody>> for RequireBearer<S, C>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone,
    ResBody: Default,
    C: DeserializeOwned + Send + Sync + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let token = match bearer_token(request.headers(), request.uri()) {
            Ok(token) => token,
            Err(e) => return ResponseFuture::rejected(BearerRejection::from_extract(e)),
        };
        match self.validator.validate_now::<C>(token) {
            Some(Ok(validated)) => {
                accept(&mut request, validated);
                ResponseFuture::inner(self.inner.call(request))
            }
            Some(Err(e)) => ResponseFuture::rejected(BearerRejection::from_jwt(&e)),
            None => {
                // The keys must be fetched: validate asynchronously, then call the service that
                // `poll_ready` prepared (a fresh clone stays behind for the next request).
                let token = token.to_owned();
                let validator = self.validator.clone();
                let validation = Box::pin(async move { validator.validate::<C>(&token).await });
                let fresh = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, fresh);
                ResponseFuture::validating(validation, request, ready)
            }
        }
    }
}
