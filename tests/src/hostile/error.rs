//! The one error type of the hostile server's API.

use std::fmt;

/// Why a call on the hostile server failed. The messages never carry key material or tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostileError {
    /// 127.0.0.1 could not be bound, or the listener could not be configured.
    Bind,
    /// The server thread or its runtime could not be started.
    Spawn,
    /// ring could not generate a key, or a signature failed.
    Crypto,
    /// A JSON Web Key handed to the server is unusable (the member that is wrong).
    InvalidJwk(&'static str),
    /// [`HostileAs::approve`](super::HostileAs::approve) got a URL that does not point at this
    /// server's authorization endpoint.
    NotOurAuthorizationUrl,
    /// [`HostileAs::approve`](super::HostileAs::approve) did not get a redirect (the status).
    NoRedirect(u16),
    /// The request [`HostileAs::approve`](super::HostileAs::approve) made failed in transport.
    Transport,
}

impl fmt::Display for HostileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind => f.write_str("hostile server: 127.0.0.1 could not be bound"),
            Self::Spawn => f.write_str("hostile server: the server thread could not be started"),
            Self::Crypto => f.write_str("hostile server: key generation or signing failed"),
            Self::InvalidJwk(member) => {
                write!(f, "hostile server: the JWK member `{member}` is unusable")
            }
            Self::NotOurAuthorizationUrl => {
                f.write_str("hostile server: the URL is not this server's authorization endpoint")
            }
            Self::NoRedirect(status) => write!(
                f,
                "hostile server: the authorization endpoint answered {status}, not a redirect"
            ),
            Self::Transport => f.write_str("hostile server: the request to the server failed"),
        }
    }
}

impl std::error::Error for HostileError {}
