//! What the server saw: one record per request, for tests to assert on.
//!
//! Records hold tokens, codes and secrets verbatim (that is their purpose); the server never
//! writes them to `tracing`, so a test that greps captured logs for token bytes (OA-25) sees
//! only what the client under test logged.

use super::config::AuthMethod;

fn lookup<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A request to `/authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeRecord {
    /// The query as the browser sent it, in order.
    pub query: Vec<(String, String)>,
    /// The parameters the server acted on: the pushed ones when `request_uri` was used
    /// (RFC 9126 §4), else the query.
    pub params: Vec<(String, String)>,
    /// Whether the request came through a pushed `request_uri`.
    pub via_par: bool,
    /// The OAuth error the server answered with, if any (in the redirect or as a 400).
    pub error: Option<String>,
    /// The `Location` the server redirected to, if it did.
    pub location: Option<String>,
}

impl AuthorizeRecord {
    /// The first value of an effective parameter.
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        lookup(&self.params, name)
    }
}

/// A request to `/token`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenRecord {
    /// `grant_type`, if the form had one.
    pub grant_type: Option<String>,
    /// The form fields, decoded, in order.
    pub form: Vec<(String, String)>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The client authentication method that succeeded, if one did.
    pub auth_method: Option<AuthMethod>,
    /// The OAuth `error` the server answered with (`None` on success or a fault).
    pub error: Option<String>,
    /// Whether an armed [`TokenFault`](super::TokenFault) shaped the answer.
    pub faulted: bool,
}

impl TokenRecord {
    /// The first value of a form field.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.form, name)
    }
}

/// A request to `/par`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParRecord {
    /// The pushed form fields, decoded, in order.
    pub form: Vec<(String, String)>,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The client authentication method that succeeded, if one did.
    pub auth_method: Option<AuthMethod>,
    /// The OAuth `error` the server answered with, if any.
    pub error: Option<String>,
    /// The `request_uri` handed out, on success.
    pub request_uri: Option<String>,
}

impl ParRecord {
    /// The first value of a form field.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.form, name)
    }
}

/// A request to `/userinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserinfoRecord {
    /// `GET` or `POST`.
    pub method: String,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The error sent (`invalid_token`, `invalid_request`), if any.
    pub error: Option<String>,
}

/// A request to `/end_session` (OIDC RP-Initiated Logout 1.0).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndSessionRecord {
    /// `GET` or `POST`.
    pub method: String,
    /// The parameters (query or form), decoded, in order.
    pub params: Vec<(String, String)>,
    /// Whether `id_token_hint` carries a signature by one of this server's keys and its `iss`
    /// (`None` without a hint). Expiry is not checked: an expired hint is legal.
    pub id_token_hint_valid: Option<bool>,
    /// Whether the server redirected to `post_logout_redirect_uri`.
    pub redirected: bool,
}

impl EndSessionRecord {
    /// The first value of a parameter (`id_token_hint`, `post_logout_redirect_uri`, `state`,
    /// `client_id`).
    #[must_use]
    pub fn param(&self, name: &str) -> Option<&str> {
        lookup(&self.params, name)
    }
}
