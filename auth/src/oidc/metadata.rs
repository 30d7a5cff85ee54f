//! Discovery documents: OIDC provider metadata (OIDC Discovery 1.0 §3) and OAuth 2.0
//! authorization server metadata (RFC 8414 §2), parsed strictly and checked before any URL in
//! them is used (OA-20, OA-02, OA-06, OA-24).
//!
//! The checks are listed on [`parse_metadata`].

use std::fmt;

use serde_json::{Map, Value};

use crate::http_client::{FetchError, check_url_policy};
use crate::jwt::json::{self, StrictJsonError};

/// The largest discovery document accepted: 64 KiB. Real documents are 1–8 KiB (Google about
/// 1.5 KiB, Keycloak with every algorithm listed about 7 KiB); the cap bounds the parse before
/// the document is trusted.
pub const MAX_METADATA_LEN: usize = 64 * 1024;

/// The path appended to the issuer to find its OIDC provider metadata (OIDC Discovery
/// §4.1).
pub const OPENID_CONFIGURATION_PATH: &str = "/.well-known/openid-configuration";

/// Validated OIDC provider / RFC 8414 authorization server metadata.
///
/// Every URL member has passed the [`EndpointPolicy`] it was parsed under; the lists hold what
/// the document published.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`: equal, byte for byte, to the configured issuer.
    pub issuer: String,
    /// `authorization_endpoint` (required).
    pub authorization_endpoint: String,
    /// `token_endpoint` (required).
    pub token_endpoint: String,
    /// `jwks_uri` (required by OIDC Discovery §3).
    pub jwks_uri: String,
    /// `userinfo_endpoint`, if published.
    pub userinfo_endpoint: Option<String>,
    /// `end_session_endpoint` (OIDC RP-Initiated Logout 1.0 §2.1), if published.
    pub end_session_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009), if published.
    pub revocation_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126 §5), if published.
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5); `false` when absent. When `true`,
    /// [`pushed_authorization_request_endpoint`](Self::pushed_authorization_request_endpoint)
    /// is `Some` (OA-24).
    pub require_pushed_authorization_requests: bool,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3); `false` when absent.
    /// When `true`, an authorization response without `iss` must be refused (OA-06).
    pub authorization_response_iss_parameter_supported: bool,
    /// `code_challenge_methods_supported`: contains `S256`, unless the document omitted the
    /// member and [`MetadataOptions::assume_pkce_s256_when_unlisted`] was chosen, in which case
    /// it is empty. PKCE is sent with `S256` either way.
    pub code_challenge_methods_supported: Vec<String>,
    /// `token_endpoint_auth_methods_supported`, if published (RFC 8414 §2: absent means
    /// `client_secret_basic` only).
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `id_token_signing_alg_values_supported` (required by OIDC Discovery §3). Informational:
    /// the ID-token validator's own allow-list decides what is accepted.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `response_types_supported`: contains `code`.
    pub response_types_supported: Vec<String>,
}

/// Which URLs a discovery document may point at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndpointPolicy {
    /// Every endpoint is `https` (production).
    HttpsOnly,
    /// `http` or `https`, to loopback hosts only (`127.0.0.0/8`, `::1`, `localhost`): a local
    /// identity provider in development and tests. A document pointing anywhere else is
    /// refused, so a dev configuration cannot be steered off the machine.
    DevLoopback,
}

/// Relaxations of [`parse_metadata`], each named for what it gives up. The default is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetadataOptions {
    assume_pkce_s256_when_unlisted: bool,
}

impl MetadataOptions {
    /// No relaxation (the same as [`Default`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts a document that omits `code_challenge_methods_supported`, trusting out of band
    /// that the provider verifies `S256` challenges. Microsoft Entra ID is the known case: it
    /// supports PKCE and does not advertise it. A document that *lists* methods without
    /// `S256` is still refused.
    ///
    /// The cost: if the provider in fact ignores PKCE, an injected authorization code is
    /// caught only by the ID token's `nonce` (OA-05), not by the code verifier.
    #[must_use]
    pub fn assume_pkce_s256_when_unlisted(mut self) -> Self {
        self.assume_pkce_s256_when_unlisted = true;
        self
    }
}

/// What is wrong with a URL in a discovery document or the configured issuer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlProblem {
    /// Not an absolute URL with a host, or it has whitespace or control characters (which URL
    /// parsers silently drop, so the text used would differ from the text checked).
    Invalid,
    /// It has a user name or password.
    Credentials,
    /// It has a fragment (RFC 6749 §3.1, §3.2: endpoint URIs MUST NOT).
    Fragment,
    /// It has a query (an issuer MUST NOT: OIDC Discovery §3, RFC 8414 §2).
    Query,
    /// It is not `https`.
    NotHttps,
    /// Under [`EndpointPolicy::DevLoopback`], the host is not loopback.
    NotLoopback,
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Invalid => "is not an absolute URL without whitespace",
            Self::Credentials => "has credentials in it",
            Self::Fragment => "has a fragment",
            Self::Query => "has a query",
            Self::NotHttps => "is not https",
            Self::NotLoopback => "is not a loopback host (dev mode)",
        })
    }
}

/// Why a discovery document (or the issuer to discover) was refused. Messages name the
/// member and never repeat its value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// The body is larger than [`MAX_METADATA_LEN`].
    TooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// Not one JSON object, or nested too deep.
    InvalidJson,
    /// A member name appears twice in one object.
    DuplicateMember,
    /// A required member is absent.
    Missing {
        /// The member.
        member: &'static str,
    },
    /// A member has the wrong JSON type (`null` included).
    WrongType {
        /// The member.
        member: &'static str,
    },
    /// `issuer` is not byte for byte the configured issuer.
    IssuerMismatch,
    /// A URL member, or the configured issuer, is refused.
    InvalidUrl {
        /// The member (`issuer` for the configured issuer).
        member: &'static str,
        /// What is wrong with it.
        problem: UrlProblem,
    },
    /// `code_challenge_methods_supported` is absent: the provider does not say it supports
    /// PKCE (RFC 8414 §2).
    PkceNotAdvertised,
    /// `code_challenge_methods_supported` does not list `S256` (OA-02).
    S256NotSupported,
    /// `response_types_supported` does not list `code`.
    CodeFlowNotSupported,
    /// `require_pushed_authorization_requests` is `true` but no
    /// `pushed_authorization_request_endpoint` is published.
    ParEndpointMissing,
    /// The document could not be fetched.
    Fetch(FetchError),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { max } => {
                write!(f, "the discovery document is larger than {max} bytes")
            }
            Self::InvalidJson => f.write_str("the discovery document is not a JSON object"),
            Self::DuplicateMember => {
                f.write_str("the discovery document has a duplicate member name")
            }
            Self::Missing { member } => {
                write!(f, "the discovery document has no `{member}`")
            }
            Self::WrongType { member } => {
                write!(f, "the discovery document's `{member}` has the wrong type")
            }
            Self::IssuerMismatch => f.write_str(
                "the discovery document's `issuer` is not exactly the configured issuer",
            ),
            Self::InvalidUrl { member, problem } => write!(f, "`{member}` {problem}"),
            Self::PkceNotAdvertised => f.write_str(
                "the provider does not publish `code_challenge_methods_supported` (no PKCE)",
            ),
            Self::S256NotSupported => {
                f.write_str("the provider does not list S256 in `code_challenge_methods_supported`")
            }
            Self::CodeFlowNotSupported => {
                f.write_str("the provider does not list `code` in `response_types_supported`")
            }
            Self::ParEndpointMissing => f.write_str(
                "the provider requires pushed authorization requests but publishes no PAR endpoint",
            ),
            Self::Fetch(e) => write!(f, "the discovery document could not be fetched: {e}"),
        }
    }
}

impl std::error::Error for MetadataError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Fetch(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FetchError> for MetadataError {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

/// The discovery URL of `issuer`: `{issuer}/.well-known/openid-configuration`.
///
/// The path is appended to the issuer as configured, with one terminating `/` removed first
/// (OIDC Discovery §4.1: "any terminating / MUST be removed before appending"), so
/// `https://idp.example/` and `https://idp.example` both give
/// `https://idp.example/.well-known/openid-configuration` and an issuer with a path keeps it
/// (`https://idp.example/realms/a` → `…/realms/a/.well-known/openid-configuration`), which is
/// also what panva's `oauth4webapi`/`openid-client` request. Only the URL is built this way: the
/// document's `issuer` must still equal the configured issuer exactly, trailing slash
/// included ([`parse_metadata`]).
///
/// The issuer must be an absolute `https` URL (or `http` to a loopback host, for a local
/// identity provider) with no credentials, query, fragment, whitespace or control characters
/// (OIDC Discovery §3, RFC 8414 §2). The HTTP client checks its own policy again when fetching.
///
/// ```
/// use paved_auth::oidc::discovery_url;
///
/// assert_eq!(
///     discovery_url("https://idp.example/realms/a")?,
///     "https://idp.example/realms/a/.well-known/openid-configuration"
/// );
/// assert_eq!(
///     discovery_url("https://idp.example/")?,
///     "https://idp.example/.well-known/openid-configuration"
/// );
/// assert!(discovery_url("https://idp.example/?tenant=a").is_err());
/// # Ok::<(), paved_auth::oidc::MetadataError>(())
/// ```
///
/// # Errors
///
/// [`MetadataError::InvalidUrl`] with `member: "issuer"`.
pub fn discovery_url(issuer: &str) -> Result<String, MetadataError> {
    let parsed = parse_url(issuer).map_err(|problem| MetadataError::InvalidUrl {
        member: "issuer",
        problem,
    })?;
    let loopback = parsed
        .host_str()
        .is_some_and(crate::http_client::is_loopback_host);
    check_issuer_url(&parsed, loopback).map_err(|problem| MetadataError::InvalidUrl {
        member: "issuer",
        problem,
    })?;
    let base = issuer.strip_suffix('/').unwrap_or(issuer);
    Ok(format!("{base}{OPENID_CONFIGURATION_PATH}"))
}

/// Parses and checks a discovery document fetched for `expected_issuer`, with no relaxation.
///
/// Refused, with a typed [`MetadataError`]:
///
/// - a body over [`MAX_METADATA_LEN`], JSON that is not one object, duplicate member names at
///   any level (parsers disagree on which duplicate wins) and nesting deeper than 32 levels;
/// - an `issuer` that is not byte for byte the configured issuer: no trailing-slash or case
///   normalisation (OIDC Discovery §4.3, RFC 8414 §3.3; a document naming another issuer is
///   the mix-up attack of RFC 9700 §4.4);
/// - any endpoint or the issuer that is not an absolute URL, or has credentials, a fragment,
///   whitespace or control characters, or is not `https` ([`EndpointPolicy::DevLoopback`]
///   allows `http` and refuses every host that is not loopback, https or not);
/// - `code_challenge_methods_supported` without `S256` (OA-02), or absent (RFC 8414 §2: "If
///   omitted, the authorization server does not support PKCE"; see
///   [`MetadataOptions::assume_pkce_s256_when_unlisted`] for providers that support PKCE
///   without saying so);
/// - `response_types_supported` without `code`;
/// - `require_pushed_authorization_requests: true` without a
///   `pushed_authorization_request_endpoint` (RFC 9126 §5);
/// - a member of the wrong JSON type, `null` included: a boolean must be `true`/`false`, a list
///   an array of strings, a URL a string. Nothing is silently defaulted except an absent
///   optional member.
///
/// Unknown members are ignored. Error messages name the member, never the value: the document
/// comes from the network.
///
/// ```
/// use paved_auth::oidc::{EndpointPolicy, MetadataError, parse_metadata};
///
/// let body = br#"{
///   "issuer": "https://idp.example",
///   "authorization_endpoint": "https://idp.example/authorize",
///   "token_endpoint": "https://idp.example/token",
///   "jwks_uri": "https://idp.example/jwks",
///   "response_types_supported": ["code"],
///   "id_token_signing_alg_values_supported": ["ES256"],
///   "code_challenge_methods_supported": ["S256"]
/// }"#;
/// let metadata = parse_metadata(body, "https://idp.example", EndpointPolicy::HttpsOnly)?;
/// assert_eq!(metadata.token_endpoint, "https://idp.example/token");
///
/// // One trailing slash is a different issuer.
/// let err = parse_metadata(body, "https://idp.example/", EndpointPolicy::HttpsOnly);
/// assert_eq!(err.unwrap_err(), MetadataError::IssuerMismatch);
/// # Ok::<(), MetadataError>(())
/// ```
///
/// # Errors
///
/// The first problem found, as a [`MetadataError`].
pub fn parse_metadata(
    body: &[u8],
    expected_issuer: &str,
    policy: EndpointPolicy,
) -> Result<ProviderMetadata, MetadataError> {
    parse_metadata_with(body, expected_issuer, policy, MetadataOptions::default())
}

/// [`parse_metadata`] with explicit [`MetadataOptions`].
///
/// # Errors
///
/// As [`parse_metadata`], minus what `options` relaxes.
pub fn parse_metadata_with(
    body: &[u8],
    expected_issuer: &str,
    policy: EndpointPolicy,
    options: MetadataOptions,
) -> Result<ProviderMetadata, MetadataError> {
    if body.len() > MAX_METADATA_LEN {
        return Err(MetadataError::TooLarge {
            max: MAX_METADATA_LEN,
        });
    }
    let map = json::parse_object(body).map_err(|e| match e {
        StrictJsonError::Duplicate => MetadataError::DuplicateMember,
        StrictJsonError::Syntax | StrictJsonError::TooDeep => MetadataError::InvalidJson,
    })?;
    let doc = Doc { map: &map, policy };

    let issuer = doc.required_string("issuer")?;
    // Byte for byte: `https://idp.example` and `https://idp.example/` are different issuers
    // (OIDC Discovery §4.3 "MUST be identical"); normalising would let a document for one
    // issuer configuration pass for another.
    if issuer != expected_issuer {
        return Err(MetadataError::IssuerMismatch);
    }
    let parsed = parse_url(issuer).map_err(|problem| MetadataError::InvalidUrl {
        member: "issuer",
        problem,
    })?;
    check_issuer_url(&parsed, policy == EndpointPolicy::DevLoopback).map_err(|problem| {
        MetadataError::InvalidUrl {
            member: "issuer",
            problem,
        }
    })?;

    let authorization_endpoint = doc.required_endpoint("authorization_endpoint")?;
    let token_endpoint = doc.required_endpoint("token_endpoint")?;
    let jwks_uri = doc.required_endpoint("jwks_uri")?;
    let userinfo_endpoint = doc.optional_endpoint("userinfo_endpoint")?;
    let end_session_endpoint = doc.optional_endpoint("end_session_endpoint")?;
    let revocation_endpoint = doc.optional_endpoint("revocation_endpoint")?;
    let pushed_authorization_request_endpoint =
        doc.optional_endpoint("pushed_authorization_request_endpoint")?;
    let require_pushed_authorization_requests =
        doc.boolean("require_pushed_authorization_requests")?;
    let authorization_response_iss_parameter_supported =
        doc.boolean("authorization_response_iss_parameter_supported")?;
    let code_challenge_methods = doc.strings("code_challenge_methods_supported")?;
    let token_endpoint_auth_methods_supported =
        doc.strings("token_endpoint_auth_methods_supported")?;
    let id_token_signing_alg_values_supported = doc
        .strings("id_token_signing_alg_values_supported")?
        .ok_or(MetadataError::Missing {
            member: "id_token_signing_alg_values_supported",
        })?;
    let response_types_supported =
        doc.strings("response_types_supported")?
            .ok_or(MetadataError::Missing {
                member: "response_types_supported",
            })?;

    // OA-02: PKCE with S256 on every request; `plain` is never used, so a provider that
    // supports only `plain` is unusable.
    let code_challenge_methods_supported = match code_challenge_methods {
        Some(methods) if methods.iter().any(|m| m == "S256") => methods,
        Some(_) => return Err(MetadataError::S256NotSupported),
        None if options.assume_pkce_s256_when_unlisted => Vec::new(),
        None => return Err(MetadataError::PkceNotAdvertised),
    };
    // OA-01: the authorization code grant is the only flow; `code` must be on offer.
    if !response_types_supported.iter().any(|t| t == "code") {
        return Err(MetadataError::CodeFlowNotSupported);
    }
    // OA-24: a provider that requires PAR refuses front-channel requests; without its PAR
    // endpoint no login can succeed, so fail at configuration time.
    if require_pushed_authorization_requests && pushed_authorization_request_endpoint.is_none() {
        return Err(MetadataError::ParEndpointMissing);
    }

    Ok(ProviderMetadata {
        issuer: issuer.to_owned(),
        authorization_endpoint,
        token_endpoint,
        jwks_uri,
        userinfo_endpoint,
        end_session_endpoint,
        revocation_endpoint,
        pushed_authorization_request_endpoint,
        require_pushed_authorization_requests,
        authorization_response_iss_parameter_supported,
        code_challenge_methods_supported,
        token_endpoint_auth_methods_supported,
        id_token_signing_alg_values_supported,
        response_types_supported,
    })
}

/// Typed reads of one parsed document.
struct Doc<'a> {
    map: &'a Map<String, Value>,
    policy: EndpointPolicy,
}

impl<'a> Doc<'a> {
    fn required_string(&self, member: &'static str) -> Result<&'a str, MetadataError> {
        match self.map.get(member) {
            None => Err(MetadataError::Missing { member }),
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(MetadataError::WrongType { member }),
        }
    }

    fn required_endpoint(&self, member: &'static str) -> Result<String, MetadataError> {
        let url = self.required_string(member)?;
        self.check_endpoint(member, url)?;
        Ok(url.to_owned())
    }

    fn optional_endpoint(&self, member: &'static str) -> Result<Option<String>, MetadataError> {
        if !self.map.contains_key(member) {
            return Ok(None);
        }
        self.required_endpoint(member).map(Some)
    }

    fn check_endpoint(&self, member: &'static str, url: &str) -> Result<(), MetadataError> {
        let fail = |problem| MetadataError::InvalidUrl { member, problem };
        let parsed = parse_url(url).map_err(fail)?;
        if parsed.fragment().is_some() {
            return Err(fail(UrlProblem::Fragment));
        }
        check_policy(&parsed, self.policy == EndpointPolicy::DevLoopback).map_err(fail)
    }

    /// An optional boolean: absent is `false`; anything but `true`/`false` is an error.
    fn boolean(&self, member: &'static str) -> Result<bool, MetadataError> {
        match self.map.get(member) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(MetadataError::WrongType { member }),
        }
    }

    /// An optional array of strings.
    fn strings(&self, member: &'static str) -> Result<Option<Vec<String>>, MetadataError> {
        match self.map.get(member) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(MetadataError::WrongType { member }),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(MetadataError::WrongType { member }),
        }
    }
}

/// Parses an absolute URL, refusing whitespace and control characters first: the URL parser
/// drops tabs and newlines and trims spaces, so the string later compared or sent would not be
/// the one checked.
fn parse_url(text: &str) -> Result<url::Url, UrlProblem> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlProblem::Invalid);
    }
    url::Url::parse(text).map_err(|_| UrlProblem::Invalid)
}

/// The back-channel policy of [`crate::http_client`], with its reasons mapped.
fn check_policy(url: &url::Url, dev_loopback: bool) -> Result<(), UrlProblem> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    check_url_policy(url, dev_loopback).map_err(|e| match e {
        FetchError::NotHttps => UrlProblem::NotHttps,
        FetchError::NotLoopback => UrlProblem::NotLoopback,
        _ => UrlProblem::Invalid,
    })
}

/// An issuer identifier: the endpoint policy, and no query or fragment (OIDC Discovery §3,
/// RFC 8414 §2).
fn check_issuer_url(url: &url::Url, dev_loopback: bool) -> Result<(), UrlProblem> {
    check_policy(url, dev_loopback)?;
    if url.query().is_some() {
        return Err(UrlProblem::Query);
    }
    if url.fragment().is_some() {
        return Err(UrlProblem::Fragment);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_inside_a_url_is_refused_before_the_parser_drops_it() {
        assert!(url::Url::parse("https://idp.example/tok\nen").is_ok());
        assert_eq!(
            parse_url("https://idp.example/tok\nen").unwrap_err(),
            UrlProblem::Invalid
        );
        assert_eq!(
            parse_url(" https://idp.example/").unwrap_err(),
            UrlProblem::Invalid
        );
    }

    #[test]
    fn issuer_urls_refuse_query_and_fragment() {
        let query = url::Url::parse("https://idp.example/?a=b").unwrap();
        assert_eq!(check_issuer_url(&query, false), Err(UrlProblem::Query));
        let fragment = url::Url::parse("https://idp.example/#x").unwrap();
        assert_eq!(
            check_issuer_url(&fragment, false),
            Err(UrlProblem::Fragment)
        );
    }
}
