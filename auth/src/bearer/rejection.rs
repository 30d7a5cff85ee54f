//! The responses the bearer layers send instead of calling the inner service.

use std::fmt;
use std::sync::Arc;

use http::header::{HeaderValue, WWW_AUTHENTICATE};
use http::{Response, StatusCode};

use crate::bearer::ExtractError;
use crate::jwt::JwtError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    NoCredentials,
    InvalidRequest,
    InvalidToken,
    InsufficientScope(Arc<HeaderValue>),
    Unavailable,
    Misconfigured,
}

/// A rejection by [`RequireBearer`](crate::bearer::RequireBearer) or
/// [`RequireScope`](crate::bearer::RequireScope): a fixed status, an RFC 6750 challenge and an
/// empty body. The reason is logged, never sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerRejection {
    kind: Kind,
}

impl BearerRejection {
    pub(crate) fn from_extract(e: ExtractError) -> Self {
        tracing::debug!(reason = e.describe(), "paved-auth: bearer request rejected");
        let kind = match e {
            ExtractError::Missing | ExtractError::OtherScheme => Kind::NoCredentials,
            ExtractError::Multiple | ExtractError::Malformed | ExtractError::QueryToken => {
                Kind::InvalidRequest
            }
        };
        Self { kind }
    }

    pub(crate) fn from_jwt(e: &JwtError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(reason = %e, "paved-auth: bearer token could not be checked");
            Self {
                kind: Kind::Unavailable,
            }
        } else {
            tracing::debug!(reason = %e, "paved-auth: bearer token rejected");
            Self {
                kind: Kind::InvalidToken,
            }
        }
    }

    pub(crate) fn insufficient_scope(challenge: Arc<HeaderValue>) -> Self {
        Self {
            kind: Kind::InsufficientScope(challenge),
        }
    }

    pub(crate) fn misconfigured() -> Self {
        Self {
            kind: Kind::Misconfigured,
        }
    }

    /// The HTTP status: 400, 401, 403, 500 (a layer is missing) or 503.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::NoCredentials | Kind::InvalidToken => StatusCode::UNAUTHORIZED,
            Kind::InvalidRequest => StatusCode::BAD_REQUEST,
            Kind::InsufficientScope(_) => StatusCode::FORBIDDEN,
            Kind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Kind::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `WWW-Authenticate` challenge, if the status carries one.
    #[must_use]
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        match &self.kind {
            Kind::NoCredentials => Some(HeaderValue::from_static("Bearer")),
            Kind::InvalidRequest => Some(HeaderValue::from_static(
                r#"Bearer error="invalid_request""#,
            )),
            Kind::InvalidToken => Some(HeaderValue::from_static(r#"Bearer error="invalid_token""#)),
            Kind::InsufficientScope(challenge) => Some((**challenge).clone()),
            Kind::Unavailable | Kind::Misconfigured => None,
        }
    }

    /// The response, with an empty (default) body.
    #[must_use]
    pub fn into_response<B: Default>(self) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status();
        if let Some(challenge) = self.www_authenticate() {
            response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl fmt::Display for BearerRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            Kind::NoCredentials => "no bearer token",
            Kind::InvalidRequest => "malformed bearer request",
            Kind::InvalidToken => "invalid bearer token",
            Kind::InsufficientScope(_) => "insufficient scope",
            Kind::Unavailable => "token keys unavailable",
            Kind::Misconfigured => "bearer layers misconfigured",
        })
    }
}

impl std::error::Error for BearerRejection {}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for BearerRejection {
    fn into_response(self) -> axum_core::response::Response {
        BearerRejection::into_response::<axum_core::body::Body>(self)
    }
}
