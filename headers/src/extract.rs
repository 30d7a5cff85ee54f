//! axum extractor for [`CspNonce`] (feature `axum`).

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use http::request::Parts;

use crate::nonce::CspNonce;

/// Rejection when a handler asks for a [`CspNonce`] but no
/// [`SecurityHeadersLayer`](crate::SecurityHeadersLayer) with a nonce policy runs in front of
/// it: a wiring mistake, answered with `500` and a generic body (the detail goes to `tracing`).
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct MissingCspNonce;

impl IntoResponse for MissingCspNonce {
    fn into_response(self) -> Response {
        tracing::error!(
            target: "paved_headers::nonce",
            "handler extracted CspNonce but no SecurityHeadersLayer with a nonce policy is installed"
        );
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error\n").into_response()
    }
}

impl std::fmt::Display for MissingCspNonce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no CSP nonce in the request extensions")
    }
}

impl std::error::Error for MissingCspNonce {}

impl<S: Send + Sync> FromRequestParts<S> for CspNonce {
    type Rejection = MissingCspNonce;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CspNonce>()
            .copied()
            .ok_or(MissingCspNonce)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CspNonce {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<CspNonce>().copied())
    }
}
