//! [`RequireScopeLayer`]: 403 `insufficient_scope` unless the validated token has the scopes.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::HeaderValue;
use http::{Request, Response};
use tower::{Layer, Service};

use crate::bearer::future::ScopeResponseFuture;
use crate::bearer::rejection::BearerRejection;
use crate::jwt::ConfigError;
use crate::jwt::StandardView;

/// What [`RequireBearer`](crate::bearer::RequireBearer) leaves for [`RequireScope`], whatever
/// the claims type.
#[derive(Clone)]
pub(crate) struct VerifiedToken(pub(crate) Arc<dyn StandardView>);

/// Requires every listed scope (RFC 6750 §3.1 `insufficient_scope`). Place it after
/// [`RequireBearerLayer`](crate::bearer::RequireBearerLayer); without it every request is
/// answered 500 and an `error` event names the mistake.
#[derive(Clone)]
pub struct RequireScopeLayer {
    scopes: Arc<[Box<str>]>,
    challenge: Arc<HeaderValue>,
}

impl fmt::Debug for RequireScopeLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScopeLayer")
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl RequireScopeLayer {
    /// The layer requiring all of `scopes`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] if the list is empty or a scope is not an RFC 6749
    /// scope-token (no spaces, quotes or backslashes).
    pub fn new<I, S>(scopes: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<Box<str>> = scopes.into_iter().map(|s| s.into().into()).collect();
        if scopes.is_empty() || !scopes.iter().all(|s| is_scope_token(s)) {
            return Err(ConfigError::OutOfRange("scopes"));
        }
        let joined = scopes.join(" ");
        let challenge = HeaderValue::from_str(&format!(
            r#"Bearer error="insufficient_scope", scope="{joined}""#
        ))
        .map_err(|_| ConfigError::OutOfRange("scopes"))?;
        Ok(Self {
            scopes: scopes.into(),
            challenge: Arc::new(challenge),
        })
    }
}

impl<S> Layer<S> for RequireScopeLayer {
    type Service = RequireScope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScope {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`RequireScopeLayer`].
#[derive(Clone)]
pub struct RequireScope<S> {
    inner: S,
    layer: RequireScopeLayer,
}

impl<S: fmt::Debug> fmt::Debug for RequireScope<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireScope")
            .field("inner", &self.inner)
            .field("scopes", &self.layer.scopes)
            .finish()
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for RequireScope<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ScopeResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let Some(token) = request.extensions().get::<VerifiedToken>() else {
            tracing::error!(
                "paved-auth: RequireScopeLayer found no validated token; add \
                 RequireBearerLayer before it (outside it in the layer stack)"
            );
            return ScopeResponseFuture::rejected(BearerRejection::misconfigured());
        };
        let standard = token.0.standard();
        if let Some(missing) = self.layer.scopes.iter().find(|s| !standard.has_scope(s)) {
            tracing::debug!(scope = %missing, "paved-auth: bearer token lacks a required scope");
            return ScopeResponseFuture::rejected(BearerRejection::insufficient_scope(Arc::clone(
                &self.layer.challenge,
            )));
        }
        ScopeResponseFuture::inner(self.inner.call(request))
    }
}
