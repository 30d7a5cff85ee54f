//! The crate-wide error: one variant per narrower error, each convertible with `From`.

use std::fmt;

use crate::http_client::FetchError;
use crate::jwt::{ConfigError, JwksError, JwtError, KeyError};

/// Any paved-auth error. Functions return the narrower type; this enum is for callers that
/// collect several with `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A token was rejected.
    Jwt(JwtError),
    /// A configuration was refused.
    Config(ConfigError),
    /// A key was refused.
    Key(KeyError),
    /// A key set was refused or could not be fetched.
    Jwks(JwksError),
    /// A back-channel request failed.
    Fetch(FetchError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Jwt(e) => fmt::Display::fmt(e, f),
            Self::Config(e) => fmt::Display::fmt(e, f),
            Self::Key(e) => fmt::Display::fmt(e, f),
            Self::Jwks(e) => fmt::Display::fmt(e, f),
            Self::Fetch(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Jwt(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Key(e) => Some(e),
            Self::Jwks(e) => Some(e),
            Self::Fetch(e) => Some(e),
        }
    }
}

impl From<JwtError> for Error {
    fn from(e: JwtError) -> Self {
        Self::Jwt(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<JwksError> for Error {
    fn from(e: JwksError) -> Self {
        Self::Jwks(e)
    }
}

impl From<FetchError> for Error {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}
