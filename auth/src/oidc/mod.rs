//! OAuth 2.1 / `OpenID` Connect login for browser applications, as a backend-for-frontend: the
//! browser gets an opaque session cookie, the tokens stay on the server (OA-12).
//!
//! # Quick start: log users in to an axum app
//!
#![cfg_attr(feature = "axum", doc = "```no_run")]
#![cfg_attr(not(feature = "axum"), doc = "```ignore")]
//! use axum::{Router, routing::get};
//! use paved_auth::oidc::{ClientAuth, OidcClient, OidcLogin, Session};
//! use paved_auth::session::{MemoryStore, Sessions};
//! use paved_secrets::{KeyRing, SecretString};
//!
//! async fn me(session: Session) -> String { session.subject().to_owned() }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = SecretString::from_env("OIDC_CLIENT_SECRET")?;
//! let client = OidcClient::discover("https://idp.example", "my-app", ClientAuth::client_secret_basic(secret)).await?;
//! let sessions = Sessions::builder(MemoryStore::default()).build()?;
//! let keys = KeyRing::load(&paved_secrets::SecretSource::env("PAVED_KEYS")?)?;
//! let login = OidcLogin::builder(client, sessions, &keys).public_origin("https://app.example").build()?;
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(login.require_login()) // 303 to /login for pages, 401 for fetch/API calls
//!     .layer(login.layer()); // serves GET /login, GET /callback, POST /logout
//! axum::serve(tokio::net::TcpListener::bind("127.0.0.1:3000").await?, app).await?;
//! # Ok(()) }
//! ```
//!
//! # The flow and what guards each step
//!
//! - **Discovery** ([`OidcClient::discover`]): the metadata `issuer` must equal the configured
//!   issuer byte for byte, every endpoint is https, `S256` must be supported (OA-02, OA-20).
//!   The back channel is the hardened [`HttpClient`](crate::http_client::HttpClient): no
//!   redirects, timeouts, body cap, JSON content type (OA-19). Only the authorization code
//!   grant exists (OA-01).
//! - **`GET /login`**: fresh 256-bit `state`, `nonce` and PKCE S256 verifier (OA-02, OA-03,
//!   OA-05), pushed with PAR when the provider requires it or it is configured (OA-24), sealed
//!   into a `__Host-` transaction cookie named after the state, 10 minutes (OA-04). The only
//!   parameter read is a same-origin `return_to` (OA-11, OA-23).
//! - **`GET /callback`**: the transaction cookie for this state must exist and open (OA-03,
//!   OA-23); RFC 9207 `iss` is compared with the issuer (OA-06); provider errors are never
//!   reflected (OA-08); the code is exchanged once with the verifier and the same redirect URI
//!   (OA-07, OA-09); the token response (OA-15) and the ID token (signature, `iss`, `aud`,
//!   `azp`, `exp`, `iat`, `nonce`: OA-16) are checked; a new session id replaces any previous
//!   one (OA-13); the response redirects at once with `no-store` and `no-referrer` (OA-10).
//! - **Requests** ([`RequireLoginLayer`], [`Session`]): idle and absolute timeouts (OA-13);
//!   [`Session::access_token`] refreshes before expiry, once per session at a time, stores the
//!   rotation with a compare-and-swap, and ends the session on `invalid_grant` (OA-17); a
//!   refreshed ID token must name the same user (OA-18).
//! - **`POST /logout`**: same-origin only (`GET` is 405), the local session is ended first,
//!   `Clear-Site-Data`, then RP-initiated logout with `id_token_hint`, `state` and the
//!   registered `post_logout_redirect_uri` (OA-22).
//! - Failures are generic pages with 400/502/503; the detail goes to `tracing`, which never
//!   sees codes, tokens, verifiers, cookies or secrets (OA-25, OA-26).
//!
//! # What it deliberately does not do
//!
//! - No implicit, hybrid or password grant; no `response_mode=form_post`.
//! - No DPoP, mTLS client authentication, resource indicators or back-channel logout yet
//!   (SECURITY.md lists them as not covered). A provider answering with a DPoP-bound token is
//!   refused.
//! - UserInfo responses must be JSON (signed UserInfo JWTs are refused).
//! - The provider metadata is fetched once at [`OidcClient::discover`]; the JWKS is cached and
//!   refetched on unknown `kid` (OA-21, OA-28). Rediscover on restart.
//! - Single use of `state` is enforced per instance; across instances the provider's
//!   single-use code is the backstop (OA-09).

pub(crate) mod client;
mod client_auth;
mod cookies;
mod error;
pub(crate) mod fixture;
mod login;
mod metadata;
mod require;
mod return_to;
mod session;
pub(crate) mod transaction;

pub use client::{
    DEFAULT_ID_TOKEN_LEEWAY, DEFAULT_SCOPES, MAX_CONCURRENT_PAR, OidcClient, OidcClientBuilder,
};
pub use client_auth::{
    CLIENT_ASSERTION_JTI_BYTES, CLIENT_ASSERTION_LIFETIME_SECS, CLIENT_ASSERTION_TYPE,
    ClientAssertionKey, ClientAuth, ClientAuthError, MAX_PEM_LEN,
};
pub use error::{IdTokenProblem, LoginError, OidcError};
pub use login::{
    DEFAULT_REFRESH_MARGIN, MAX_REFRESH_MARGIN, OidcLogin, OidcLoginBuilder, OidcLoginLayer,
    OidcLoginService,
};
pub use metadata::{
    EndpointPolicy, MAX_METADATA_LEN, MetadataError, MetadataOptions, OPENID_CONFIGURATION_PATH,
    ProviderMetadata, UrlProblem, discovery_url, parse_metadata, parse_metadata_with,
};
pub use require::{RequireLogin, RequireLoginLayer};
pub use return_to::{MAX_RETURN_TO_LEN, safe_return_to};
pub use session::Session;
pub use transaction::TRANSACTION_TTL;
