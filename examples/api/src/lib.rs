//! A resource server on the paved road: a small JSON API whose routes need an access token
//! issued by the identity provider. Copy it as the starting point of an API.
//!
//! # What it shows
//!
//! - [`RequireBearerLayer`] validating RFC 9068 JWT access tokens against the provider's
//!   JWKS ([`JwksCache`] over the hardened [`HttpClient`]): exact `iss` and `aud`, `typ`
//!   `at+jwt` (an ID token is not an access token), `sub` required, the default algorithm
//!   allow-list (ES256, ES384, `EdDSA`, PS256/384/512; never `none`, HMAC or RS*), `exp`/`nbf`
//!   with 60 s leeway. Failures are answered by the layer with an RFC 6750 challenge and an
//!   empty body; the reason goes to `tracing` at `debug`, never to the client.
//! - [`RequireScopeLayer`] on the one write route: `POST /items` needs the `items:write` scope
//!   (403 `insufficient_scope` otherwise).
//! - [`SecurityHeadersLayer::api`] on every response, rejections and 404s included:
//!   `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`,
//!   `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`, …, and cross-origin
//!   protection on `POST` (a browser page on another origin cannot post here).
//! - Request bodies: capped at [`MAX_BODY_BYTES`], parse failures answered with a fixed
//!   status and a generic JSON body (the parser's message, which echoes input, is logged only).
//!
//! | route | needs | answer |
//! |---|---|---|
//! | `GET /healthz` | nothing | `200 {"status":"ok"}` |
//! | `GET /items` | a valid access token | `200 {"sub":…,"items":[…]}` |
//! | `POST /items` `{"name":…}` | a valid access token with `items:write` | `201 {"id":…,"name":…,"created_by":…}` |
//! | anything else | — | `404 {"error":"not_found"}` / `405 {"error":"method_not_allowed"}` |
//!
//! # Running it
//!
//! ```sh
//! PAVED_API_ISSUER=https://idp.example \
//! PAVED_API_AUDIENCE=https://api.example \
//! cargo run -p example-api
//! ```
//!
//! | variable | meaning |
//! |---|---|
//! | `PAVED_API_ISSUER` | required: the issuer, compared byte for byte with `iss` |
//! | `PAVED_API_AUDIENCE` | required: this API's identifier, one of the token's `aud` values (the resource indicator the client asks for) |
//! | `PAVED_API_JWKS_URL` | optional: the key set; without it, the `jwks_uri` of the issuer's OpenID discovery document, fetched once at startup |
//! | `PAVED_API_DEV_LOOPBACK` | `1`: a local provider over plain `http`, loopback hosts only; `0` or unset: `https` only |
//! | `PAVED_API_TLS_TERMINATES_IN_FRONT` | `1`: every request reached a TLS-terminating proxy first (an ingress), so every answer carries HSTS; `0` or unset: HSTS only on requests the server itself sees over https |
//! | `PAVED_API_CA_FILE` | optional: a PEM file of extra root certificates for the provider's https (a private PKI, the demo's local CA); the Mozilla roots stay trusted |
//! | `PAVED_API_ADDR` | the listening address (default `127.0.0.1:8081`) |
//! | `PAVED_API_LOG` | the log level (default `info`; `debug` shows why a token was refused) |
//!
//! The server speaks plain HTTP: put it behind a TLS-terminating proxy (and tell the headers
//! layer with `tls_terminates_in_front()`, so that HSTS is sent) or add TLS in front of
//! `axum::serve`. Keys are fetched on the first request and refreshed as [`JwksCache`]
//! describes; items live in memory (the newest [`MAX_ITEMS`]).
#![forbid(unsafe_code)]

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use paved_auth::Claims;
use paved_auth::bearer::{RequireBearerLayer, RequireScopeLayer};
use paved_auth::http_client::{FetchError, HttpClient};
use paved_auth::jwt::{ConfigError, JwksCache, JwtValidator, NoCustomClaims};
use paved_auth::oidc::{EndpointPolicy, MetadataError, discovery_url, parse_metadata};
use paved_headers::SecurityHeadersLayer;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The scope `POST /items` requires.
pub const WRITE_SCOPE: &str = "items:write";
/// The most items kept; older ones are dropped so that clients cannot grow memory without
/// bound (ASVS 5.0 V15.2.2, loss of availability from resource-heavy functionality).
pub const MAX_ITEMS: usize = 1000;
/// The longest item name, in characters.
pub const MAX_NAME_LEN: usize = 200;
/// The request body cap: an item is well under 1 KiB; axum's default (2 MiB) would let each
/// request make the server buffer far more than it ever needs.
pub const MAX_BODY_BYTES: usize = 4 * 1024;

/// Where the API trusts tokens from. [`ApiConfig::from_env`] reads it from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiConfig {
    /// The issuer (`iss`), compared byte for byte.
    pub issuer: String,
    /// This API's identifier: one of the token's `aud` values.
    pub audience: String,
    /// The issuer's key set; `None`: the `jwks_uri` of its discovery document.
    pub jwks_url: Option<String>,
    /// Allow plain `http` to the provider, for loopback hosts only (local development).
    pub dev_loopback: bool,
    /// Extra trust anchors (PEM) for the provider's certificate, next to the Mozilla roots.
    pub root_certificates_pem: Option<Vec<u8>>,
    /// Every request came through a TLS-terminating proxy: HSTS on every answer.
    pub tls_terminates_in_front: bool,
}

impl ApiConfig {
    /// Reads `PAVED_API_ISSUER`, `PAVED_API_AUDIENCE`, `PAVED_API_JWKS_URL`,
    /// `PAVED_API_DEV_LOOPBACK` and `PAVED_API_CA_FILE` (see the [crate documentation](crate)).
    ///
    /// # Errors
    ///
    /// As [`from_lookup`](Self::from_lookup).
    pub fn from_env() -> Result<Self, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), with the variables from `lookup`.
    ///
    /// # Errors
    ///
    /// [`Error::MissingVar`] for an unset or empty issuer or audience;
    /// [`Error::InvalidVar`] if `PAVED_API_DEV_LOOPBACK` is not `0` or `1` or
    /// `PAVED_API_CA_FILE` cannot be read.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let required = |name: &'static str| var(name).ok_or(Error::MissingVar(name));
        let dev_loopback = match var("PAVED_API_DEV_LOOPBACK").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(Error::InvalidVar("PAVED_API_DEV_LOOPBACK")),
        };
        let tls_terminates_in_front = match var("PAVED_API_TLS_TERMINATES_IN_FRONT").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(Error::InvalidVar("PAVED_API_TLS_TERMINATES_IN_FRONT")),
        };
        let root_certificates_pem = match var("PAVED_API_CA_FILE") {
            None => None,
            Some(path) => Some(std::fs::read(&path).map_err(|e| {
                tracing::error!(%path, error = %e, "example-api: cannot read the CA file");
                Error::InvalidVar("PAVED_API_CA_FILE")
            })?),
        };
        Ok(Self {
            issuer: required("PAVED_API_ISSUER")?,
            audience: required("PAVED_API_AUDIENCE")?,
            jwks_url: var("PAVED_API_JWKS_URL"),
            dev_loopback,
            root_certificates_pem,
            tls_terminates_in_front,
        })
    }
}

/// Why the API could not start. No variant holds secret material: the configuration is public.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A required environment variable is unset or empty.
    MissingVar(&'static str),
    /// An environment variable has a value the API does not accept.
    InvalidVar(&'static str),
    /// The issuer's discovery document could not be fetched.
    Discovery(FetchError),
    /// The issuer's discovery document, or the issuer URL, was refused.
    Metadata(MetadataError),
    /// Token validation could not be configured (e.g. a JWKS URL that is not `https`).
    Auth(ConfigError),
    /// The security headers could not be configured.
    Headers(paved_headers::ConfigError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingVar(name) => write!(f, "{name} is not set"),
            Self::InvalidVar(name) => write!(f, "{name} has an invalid value"),
            Self::Discovery(e) => write!(f, "the issuer's discovery document: {e}"),
            Self::Metadata(e) => write!(f, "the issuer's discovery document was refused: {e}"),
            Self::Auth(e) => write!(f, "token validation: {e}"),
            Self::Headers(e) => write!(f, "security headers: {e}"),
        }
    }
}

// No `source()`: `Display` already includes the inner error, and a reporter that walks the
// chain would print it twice.
impl std::error::Error for Error {}

/// The API's router. Fetches the issuer's discovery document when `config.jwks_url` is `None`;
/// otherwise nothing is fetched until the first token arrives.
///
/// # Errors
///
/// [`Error::Discovery`] or [`Error::Metadata`] if discovery fails; [`Error::Auth`] for a URL
/// the transport policy refuses (`http`, or a non-loopback host with `dev_loopback`).
pub async fn app(config: &ApiConfig) -> Result<Router, Error> {
    let mut client = if config.dev_loopback {
        HttpClient::dev_loopback()
    } else {
        HttpClient::new()
    }
    .map_err(Error::Auth)?;
    if let Some(pem) = &config.root_certificates_pem {
        client = client.add_root_certificates_pem(pem).map_err(Error::Auth)?;
    }
    let jwks_url = match &config.jwks_url {
        Some(url) => url.clone(),
        None => discover_jwks_url(config, &client).await?,
    };
    let jwks = JwksCache::builder(jwks_url).client(client).build();
    let validator = JwtValidator::builder(&config.issuer, &config.audience)
        .jwks(jwks.map_err(Error::Auth)?)
        .require_typ("at+jwt") // RFC 9068 §2.1; oidc-provider sets it on JWT access tokens.
        .require_claims(["sub"])
        .build()
        .map_err(Error::Auth)?;
    let write = RequireScopeLayer::new([WRITE_SCOPE]).map_err(Error::Auth)?;
    let headers = if config.tls_terminates_in_front {
        SecurityHeadersLayer::api().tls_terminates_in_front()
    } else {
        SecurityHeadersLayer::api()
    };
    let items = Router::new()
        .route("/items", get(list_items).post(create_item.layer(write)))
        .route_layer(RequireBearerLayer::<NoCustomClaims>::new(validator))
        .with_state(Store::default());
    Ok(Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .merge(items)
        .fallback(|| async { error(StatusCode::NOT_FOUND, "not_found") })
        .method_not_allowed_fallback(|| async {
            error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(headers.build().map_err(Error::Headers)?))
}

/// The `jwks_uri` of the issuer's OpenID discovery document, checked like a login client
/// checks it (exact `issuer`, every URL under the transport policy).
async fn discover_jwks_url(config: &ApiConfig, client: &HttpClient) -> Result<String, Error> {
    let policy = if config.dev_loopback {
        EndpointPolicy::DevLoopback
    } else {
        EndpointPolicy::HttpsOnly
    };
    let url = discovery_url(&config.issuer).map_err(Error::Metadata)?;
    let body = client
        .get(&url, "application/json")
        .await
        .map_err(Error::Discovery)?;
    let metadata = parse_metadata(&body, &config.issuer, policy).map_err(Error::Metadata)?;
    Ok(metadata.jwks_uri)
}

#[derive(Clone, Serialize)]
struct Item {
    id: u64,
    name: String,
    created_by: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewItem {
    name: String,
}

#[derive(Clone, Default)]
struct Store(Arc<Mutex<(u64, VecDeque<Item>)>>);

fn error(status: StatusCode, code: &'static str) -> Response {
    (status, Json(json!({ "error": code }))).into_response()
}

/// The token's subject: present, since the validator requires `sub`. With one trusted issuer,
/// `sub` alone identifies the user (ASVS 5.0 V10.3.3: `iss` plus `sub`).
fn subject(token: &Claims<NoCustomClaims>) -> String {
    token.standard().sub.clone().unwrap_or_default()
}

async fn list_items(State(store): State<Store>, token: Claims<NoCustomClaims>) -> Response {
    let items: Vec<Item> = {
        let guard = store.0.lock().unwrap_or_else(PoisonError::into_inner);
        guard.1.iter().cloned().collect()
    };
    Json(json!({ "sub": subject(&token), "items": items })).into_response()
}

async fn create_item(
    State(store): State<Store>,
    token: Claims<NoCustomClaims>,
    body: Result<Json<NewItem>, JsonRejection>,
) -> Response {
    let name = match body {
        Ok(Json(new)) => new.name,
        Err(rejection) => {
            tracing::debug!(%rejection, "example-api: request body refused");
            return error(rejection.status(), "invalid_request");
        }
    };
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME_LEN || name.chars().any(char::is_control) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_item");
    }
    let item = {
        let mut guard = store.0.lock().unwrap_or_else(PoisonError::into_inner);
        guard.0 += 1;
        let item = Item {
            id: guard.0,
            name,
            created_by: subject(&token),
        };
        if guard.1.len() == MAX_ITEMS {
            guard.1.pop_front();
        }
        guard.1.push_back(item.clone());
        item
    };
    (StatusCode::CREATED, Json(item)).into_response()
}
