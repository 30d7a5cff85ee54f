//! Why an OIDC client could not be configured, and why a login, refresh or logout failed.
//!
//! Messages name the failed check and never quote codes, tokens, cookies or the text of an
//! authorization server's error response: that text is attacker-influenced and these messages
//! go to logs.

use std::fmt;

use http::StatusCode;

use crate::http_client::FetchError;
use crate::jwt::{ConfigError, JwtError};
use crate::oidc::client_auth::ClientAuthError;
use crate::oidc::metadata::MetadataError;
use crate::session::SessionError;

/// A configuration or discovery failure: the client or the login layer was not built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OidcError {
    /// A setting is missing or invalid; the message names it.
    Config(&'static str),
    /// The discovery document was refused (OA-20, OA-02, OA-24).
    Metadata(MetadataError),
    /// The discovery document could not be fetched (OA-19).
    Fetch(FetchError),
    /// The ID-token validator could not be built.
    Jwt(ConfigError),
    /// The client authentication could not be set up.
    ClientAuth(ClientAuthError),
    /// The key ring is unusable for sealing (too short, no primary key).
    Keys(paved_crypto::Error),
}

impl fmt::Display for OidcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(what) => write!(f, "invalid OIDC configuration: {what}"),
            Self::Metadata(e) => write!(f, "the provider metadata was refused: {e}"),
            Self::Fetch(e) => write!(f, "the provider metadata could not be fetched: {e}"),
            Self::Jwt(e) => write!(f, "the ID token validator could not be built: {e}"),
            Self::ClientAuth(e) => write!(f, "the client authentication is invalid: {e}"),
            Self::Keys(e) => write!(f, "the key ring cannot seal login state: {e}"),
        }
    }
}

impl std::error::Error for OidcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(_) => None,
            Self::Metadata(e) => Some(e),
            Self::Fetch(e) => Some(e),
            Self::Jwt(e) => Some(e),
            Self::ClientAuth(e) => Some(e),
            Self::Keys(e) => Some(e),
        }
    }
}

impl From<MetadataError> for OidcError {
    fn from(e: MetadataError) -> Self {
        Self::Metadata(e)
    }
}

impl From<FetchError> for OidcError {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

impl From<ConfigError> for OidcError {
    fn from(e: ConfigError) -> Self {
        Self::Jwt(e)
    }
}

impl From<ClientAuthError> for OidcError {
    fn from(e: ClientAuthError) -> Self {
        Self::ClientAuth(e)
    }
}

/// Why a login, a token refresh or a logout failed. The user sees only a generic page with
/// [`status`](Self::status) (OA-26); this value goes to `tracing`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginError {
    /// The callback request is malformed: missing or duplicated parameters, a malformed
    /// `state`, a missing `code` (OA-08).
    BadCallback(&'static str),
    /// No login transaction matches the callback: no cookie for this `state`, a cookie that
    /// does not open, an expired or already used transaction (OA-03, OA-04, OA-23).
    UnknownTransaction,
    /// The authorization response's `iss` is not the issuer the login started with, or is
    /// missing although the provider announced it (RFC 9207, OA-06).
    IssuerMismatch,
    /// The authorization server answered the authorization request with an error (the user
    /// denied consent, …). Only the error code is kept, capped and sanitised (OA-08).
    Denied(String),
    /// The token endpoint refused the request (`invalid_grant`: a reused or expired code,
    /// a revoked refresh token, …). Only the error code is kept (OA-09).
    Refused(String),
    /// The authorization server's answer is malformed: not JSON, wrong content type, a
    /// missing `access_token`, an unsupported `token_type` (OA-15, OA-19).
    BadResponse(&'static str),
    /// The ID token failed validation (OA-16, OA-18).
    IdToken(IdTokenProblem),
    /// The UserInfo `sub` differs from the ID token's (OA-27).
    UserInfoSubject,
    /// The authorization server could not be reached, timed out or answered with a 5xx
    /// (OA-19).
    Unavailable(FetchError),
    /// The session store failed.
    Store(SessionError),
    /// Too many logins are talking to the provider at this moment (PAR calls in flight).
    Overloaded,
    /// The session has ended (expired, logged out, or its refresh token was refused).
    SessionEnded,
    /// A cross-site request reached an endpoint that only accepts same-origin requests (OA-22).
    CrossOrigin,
    /// The method is not allowed on this endpoint (OA-22: logout is POST only).
    MethodNotAllowed,
    /// Randomness, sealing or serialisation failed on this server.
    Internal(&'static str),
}

/// Which ID-token check failed (OA-16, OA-18).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdTokenProblem {
    /// The token endpoint returned no ID token to a login with the `openid` scope.
    Missing,
    /// The JWT checks failed: signature, algorithm, `iss`, `aud`, `exp`, `iat`, ….
    Jwt(JwtError),
    /// `nonce` is missing or differs from the one this login sent (OIDC Core §3.1.3.7 (11)).
    Nonce,
    /// `azp` is present and not this client, or missing with several audiences.
    Azp,
    /// `sub` is missing or not a string.
    Subject,
    /// The `typ` header names another kind of JWT (`at+jwt`, `logout+jwt`, …): a token made for
    /// another purpose (RFC 8725 §3.11).
    Type,
    /// A claim has the wrong JSON type (`nonce`, `azp`, `auth_time`, `sid`).
    ClaimType(&'static str),
    /// A refreshed ID token changed `iss`, `sub`, `aud` or `auth_time`, or carries a
    /// different `nonce` (OIDC Core §12.2).
    RefreshChanged(&'static str),
}

impl fmt::Display for IdTokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no ID token in the token response"),
            Self::Jwt(e) => write!(f, "{e}"),
            Self::Nonce => f.write_str("the nonce is missing or does not match"),
            Self::Azp => f.write_str("the azp claim does not name this client"),
            Self::Subject => f.write_str("the sub claim is missing"),
            Self::Type => f.write_str("the typ header names another kind of token"),
            Self::ClaimType(claim) => write!(f, "the {claim} claim has the wrong type"),
            Self::RefreshChanged(claim) => {
                write!(f, "the refreshed ID token changed {claim}")
            }
        }
    }
}

impl LoginError {
    /// The HTTP status the user sees (OA-26): 400 for a bad or unknown callback, 401 for an
    /// ended session, 403 for a cross-site request, 405 for a wrong method, 502 when the
    /// authorization server's answer is unacceptable, 503 when it or the session store is
    /// unavailable, 500 for a failure of this server.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadCallback(_)
            | Self::UnknownTransaction
            | Self::IssuerMismatch
            | Self::Denied(_)
            | Self::Refused(_) => StatusCode::BAD_REQUEST,
            Self::SessionEnded => StatusCode::UNAUTHORIZED,
            Self::CrossOrigin => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadResponse(_) | Self::IdToken(_) | Self::UserInfoSubject => {
                StatusCode::BAD_GATEWAY
            }
            Self::Unavailable(_) | Self::Store(_) | Self::Overloaded => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadCallback(why) => write!(f, "bad callback request: {why}"),
            Self::UnknownTransaction => {
                f.write_str("no valid login transaction matches the callback state")
            }
            Self::IssuerMismatch => {
                f.write_str("the authorization response iss is missing or not the issuer")
            }
            Self::Denied(code) => write!(f, "the authorization server answered error={code}"),
            Self::Refused(code) => write!(f, "the token endpoint answered error={code}"),
            Self::BadResponse(why) => {
                write!(f, "the authorization server's response is invalid: {why}")
            }
            Self::IdToken(problem) => write!(f, "the ID token was refused: {problem}"),
            Self::UserInfoSubject => f.write_str("the UserInfo sub differs from the ID token's"),
            Self::Unavailable(e) => write!(f, "the authorization server is unavailable: {e}"),
            Self::Store(e) => write!(f, "the session store failed: {e}"),
            Self::Overloaded => f.write_str("too many logins in flight at the provider"),
            Self::SessionEnded => f.write_str("the session has ended"),
            Self::CrossOrigin => f.write_str("cross-origin request refused"),
            Self::MethodNotAllowed => f.write_str("method not allowed"),
            Self::Internal(what) => write!(f, "internal failure: {what}"),
        }
    }
}

impl std::error::Error for LoginError {}

impl From<SessionError> for LoginError {
    fn from(e: SessionError) -> Self {
        Self::Store(e)
    }
}

impl From<IdTokenProblem> for LoginError {
    fn from(p: IdTokenProblem) -> Self {
        Self::IdToken(p)
    }
}

/// An OAuth error code from a response, kept only if it is a plausible code (RFC 6749
/// §4.1.2.1: `%x20-21 / %x23-5B / %x5D-7E`), capped at 64 bytes: it goes to logs.
pub(crate) fn sanitize_error_code(code: &str) -> String {
    const MAX: usize = 64;
    if code.is_empty()
        || code.len() > MAX
        || !code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    {
        return "invalid_error_code".to_owned();
    }
    code.to_owned()
}
