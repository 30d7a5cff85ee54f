//! What the server is started with: registered clients, lifetimes, the signing algorithm and
//! the clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use paved_crypto::{Clock, SystemClock};
use serde_json::Value;

use super::keys::SigningAlg;

/// The client id registered by default.
pub const DEFAULT_CLIENT_ID: &str = "paved-client";

/// The secret of the default client. It holds every character RFC 6749 §2.3.1 makes a client
/// encode before base64 in `client_secret_basic` (`:` `%` `+` `&` `=` `/` and a space): a
/// client that skips the form-urlencoding is refused (`%41` would decode to `A`, `+` to a
/// space, and an unencoded `%` followed by anything else is not what was registered).
pub const DEFAULT_CLIENT_SECRET: &str = "hostile:s3cret%41+&=/ ~";

/// The redirect URI registered by default for every client.
pub const DEFAULT_REDIRECT_URI: &str = "https://app.paved.test/callback";

/// The post-logout redirect URI registered by default for every client.
pub const DEFAULT_POST_LOGOUT_REDIRECT_URI: &str = "https://app.paved.test/";

/// The `sub` of the (only) user, unless configured otherwise.
pub const DEFAULT_SUBJECT: &str = "hostile-user-1";

/// Access-token lifetime by default (`expires_in`).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// ID-token lifetime by default (`exp - iat`).
pub const DEFAULT_ID_TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// How a registered client authenticates at `/token` and `/par` (RFC 6749 §2.3, OIDC Core
/// §9). The server enforces the registered method: another method, or two at once, is
/// `invalid_client` (RFC 6749 §2.3: a client MUST NOT use more than one).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the id and secret form-urlencoded first (RFC 6749 §2.3.1).
    SecretBasic(String),
    /// `client_id` and `client_secret` in the form body.
    SecretPost(String),
    /// A signed assertion (RFC 7523 §2.2) verified with this public JWK (EC P-256/P-384,
    /// Ed25519 or RSA; `alg` in the JWK, if any, must match the assertion's).
    PrivateKeyJwt(Value),
    /// A public client: `client_id` only (PKCE still required).
    None,
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SecretBasic(_) => "SecretBasic(..)",
            Self::SecretPost(_) => "SecretPost(..)",
            Self::PrivateKeyJwt(_) => "PrivateKeyJwt(..)",
            Self::None => "None",
        })
    }
}

impl ClientAuth {
    /// The method's name as in `token_endpoint_auth_method`.
    #[must_use]
    pub fn method(&self) -> AuthMethod {
        match self {
            Self::SecretBasic(_) => AuthMethod::ClientSecretBasic,
            Self::SecretPost(_) => AuthMethod::ClientSecretPost,
            Self::PrivateKeyJwt(_) => AuthMethod::PrivateKeyJwt,
            Self::None => AuthMethod::None,
        }
    }
}

/// A client authentication method, as detected on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMethod {
    /// `Authorization: Basic`.
    ClientSecretBasic,
    /// `client_secret` in the form.
    ClientSecretPost,
    /// `client_assertion` in the form.
    PrivateKeyJwt,
    /// `client_id` only.
    None,
}

impl AuthMethod {
    /// The registered name (`client_secret_basic`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientRegistration {
    /// The client id.
    pub client_id: String,
    /// How it authenticates.
    pub auth: ClientAuth,
    /// The redirect URIs, compared byte for byte (RFC 9700 §2.1).
    pub redirect_uris: Vec<String>,
    /// The post-logout redirect URIs, compared byte for byte.
    pub post_logout_redirect_uris: Vec<String>,
}

impl ClientRegistration {
    /// A client with [`DEFAULT_REDIRECT_URI`] and [`DEFAULT_POST_LOGOUT_REDIRECT_URI`].
    pub fn new(client_id: impl Into<String>, auth: ClientAuth) -> Self {
        Self {
            client_id: client_id.into(),
            auth,
            redirect_uris: vec![DEFAULT_REDIRECT_URI.to_owned()],
            post_logout_redirect_uris: vec![DEFAULT_POST_LOGOUT_REDIRECT_URI.to_owned()],
        }
    }

    /// Replaces the redirect URIs with `uri` alone.
    #[must_use]
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris = vec![uri.into()];
        self
    }

    /// Replaces the post-logout redirect URIs with `uri` alone.
    #[must_use]
    pub fn post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris = vec![uri.into()];
        self
    }
}

/// The server's configuration; [`Default`] is one confidential client
/// ([`DEFAULT_CLIENT_ID`], `client_secret_basic` with [`DEFAULT_CLIENT_SECRET`]), ES256, the
/// default lifetimes and the system clock.
#[derive(Clone)]
#[non_exhaustive]
pub struct HostileConfig {
    /// The registered clients (more can be added while running).
    pub clients: Vec<ClientRegistration>,
    /// The algorithm of the first signing key.
    pub signing_alg: SigningAlg,
    /// `expires_in` of access tokens.
    pub access_token_lifetime: Duration,
    /// `exp - iat` of ID tokens.
    pub id_token_lifetime: Duration,
    /// The `sub` of the user who approves every authorization request.
    pub subject: String,
    /// The server's clock (`iat`, `exp`, `auth_time`, expiry of codes, assertions and access
    /// tokens). Share one with the client under test to move time for both.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for HostileConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostileConfig")
            .field("clients", &self.clients)
            .field("signing_alg", &self.signing_alg)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("id_token_lifetime", &self.id_token_lifetime)
            .field("subject", &self.subject)
            .field("clock", &self.clock)
            .finish()
    }
}

impl Default for HostileConfig {
    fn default() -> Self {
        Self {
            clients: vec![ClientRegistration::new(
                DEFAULT_CLIENT_ID,
                ClientAuth::SecretBasic(DEFAULT_CLIENT_SECRET.to_owned()),
            )],
            signing_alg: SigningAlg::Es256,
            access_token_lifetime: DEFAULT_ACCESS_TOKEN_LIFETIME,
            id_token_lifetime: DEFAULT_ID_TOKEN_LIFETIME,
            subject: DEFAULT_SUBJECT.to_owned(),
            clock: Arc::new(SystemClock),
        }
    }
}
