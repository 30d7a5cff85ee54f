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
