//! The axum extractor for validated claims (feature `axum`).

use std::fmt;

use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::jwt::Validated;

/// The validated token of a request that passed
/// [`RequireBearerLayer`](crate::bearer::RequireBearerLayer) with the same claims type `C`.
///
/// `Claims(token): Claims<MyClaims>` gives the [`Validated<MyClaims>`], which derefs to
/// `MyClaims` and has [`standard()`](Validated::standard) for the registered claims.
pub struct Claims<C>(pub Validated<C>);

impl<C: fmt::Debug> fmt::Debug for Claims<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Claims").field(&self.0).finish()
    }
}

impl<C> Clone for Claims<C> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<C> std::ops::Deref for Claims<C> {
    type Target = Validated<C>;

    fn deref(&self) -> &Validated<C> {
        &self.0
    }
}

/// The extractor found no validated token of its claims type: the route is not behind
/// `RequireBearerLayer::<C>` (a server misconfiguration, answered 500 like axum's missing
/// `Extension`, and logged at `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimsRejection;

impl fmt::Display for ClaimsRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "no validated token: the route is not behind RequireBearerLayer of this claims type",
        )
    }
}

impl std::error::Error for ClaimsRejection {}

impl IntoResponse for ClaimsRejection {
    fn into_response(self) -> Response {
        tracing::error!("paved-auth: {self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S, C> FromRequestParts<S> for Claims<C>
where
    S: Send + Sync,
    C: Send + Sync + 'static,
{
    type Rejection = ClaimsRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Validated<C>>()
            .cloned()
            .map(Claims)
            .ok_or(ClaimsRejection)
    }
}

/// The extractor found no [`Session`](crate::oidc::Session): the route is not behind
/// [`RequireLoginLayer`](crate::oidc::RequireLoginLayer) (a server misconfiguration, answered
/// 500 like a missing `Extension`, and logged at `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionRejection;

impl fmt::Display for SessionRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no session: the route is not behind RequireLoginLayer")
    }
}

impl std::error::Error for SessionRejection {}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        tracing::error!("paved-auth: {self}");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S> FromRequestParts<S> for crate::oidc::Session
where
    S: Send + Sync,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(SessionRejection)
    }
}

/// A failed login-related call in a handler (`session.access_token().await?`): the fixed
/// status of [`LoginError::status`](crate::oidc::LoginError::status) with an empty body; the
/// detail goes to `tracing` (OA-26).
impl IntoResponse for crate::oidc::LoginError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "paved-auth: login error");
        } else {
            tracing::info!(error = %self, "paved-auth: login error");
        }
        let mut response = status.into_response();
        response.headers_mut().insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        response
    }
}
