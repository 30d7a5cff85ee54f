//! [`WebappConfig`]: where the app finds its identity provider and its API, from the
//! environment or set in code.

use std::fmt;
use std::path::Path;

use paved_secrets::{KeyRing, SecretSource, SecretString};
use url::{Host, Url};

use crate::Error;

/// The app's settings. `Debug` shows whether a client secret is set, never the secret.
pub struct WebappConfig {
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) public_origin: String,
    pub(crate) api_url: String,
    pub(crate) root_certificates_pem: Option<Vec<u8>>,
    pub(crate) dev_loopback: bool,
    pub(crate) redis_url: Option<SecretString>,
    pub(crate) keys: Option<KeyRing>,
}

impl fmt::Debug for WebappConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebappConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("public_origin", &self.public_origin)
            .field("api_url", &self.api_url)
            .field("root_certificates", &self.root_certificates_pem.is_some())
            .field("dev_loopback", &self.dev_loopback)
            .field("redis", &self.redis_url.is_some())
            .field("key_ring", &self.keys.is_some())
            .finish()
    }
}

impl WebappConfig {
    /// A public client (PKCE only, no secret) `client_id` at `issuer`, served at
    /// `public_origin` (`scheme://host[:port]`, no path, e.g. `https://localhost:8443`), calling
    /// the example API at `api_url` (its base URL, e.g. `https://localhost:8081`).
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        public_origin: impl Into<String>,
        api_url: impl Into<String>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            public_origin: public_origin.into(),
            api_url: api_url.into(),
            root_certificates_pem: None,
            dev_loopback: false,
            redis_url: None,
            keys: None,
        }
    }

    /// Keeps sessions in Redis at `url` (`redis://…`) instead of this process's memory: every
    /// instance behind the load balancer then sees every session, a logout ends it everywhere,
    /// and one instance at a time refreshes a session's tokens. Give every instance the same
    /// [`key_ring`](Self::key_ring) too: sessions are sealed with it.
    #[must_use]
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(SecretString::from(url.into()));
        self
    }

    /// The keys that seal the login's cookies and session data. Without one, a key made at
    /// start: sessions then end with the process and cannot move between instances.
    #[must_use]
    pub fn key_ring(mut self, keys: KeyRing) -> Self {
        self.keys = Some(keys);
        self
    }

    /// A confidential client: the secret is sent to the token endpoint with HTTP Basic
    /// authentication (`client_secret_basic`, RFC 6749 §2.3.1), PKCE still applies.
    #[must_use]
    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// **Development only**: the provider and the API may be plain `http`, and must then be on
    /// a loopback host (any other host is refused, https or not).
    #[must_use]
    pub fn dev_loopback(mut self, on: bool) -> Self {
        self.dev_loopback = on;
        self
    }

    /// Extra trust anchors (PEM, one or more certificates) for the provider's and the API's
    /// https, e.g. a private PKI or the local development CA; the Mozilla roots stay trusted
    /// and every other certificate check stays on.
    #[must_use]
    pub fn root_certificates_pem(mut self, pem: Vec<u8>) -> Self {
        self.root_certificates_pem = Some(pem);
        self
    }

    /// The issuer URL.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The origin the app is served at.
    #[must_use]
    pub fn public_origin(&self) -> &str {
        &self.public_origin
    }

    /// The base URL of the API.
    #[must_use]
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// Reads the `PAVED_WEBAPP_*` variables (see the [crate documentation](crate)). The client
    /// secret and the CA certificate are read from the files the variables name.
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
    /// [`Error::MissingVar`] for an unset or empty required variable; [`Error::InvalidVar`] if
    /// `PAVED_WEBAPP_DEV_LOOPBACK` is not `0` or `1`; [`Error::ApiUrl`] for an API URL the
    /// transport policy refuses; [`Error::ClientSecret`] or [`Error::CaFile`] when a file
    /// cannot be read.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| lookup(name).filter(|v| !v.is_empty());
        let required = |name: &'static str| var(name).ok_or(Error::MissingVar(name));
        let dev_loopback = match var("PAVED_WEBAPP_DEV_LOOPBACK").as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(Error::InvalidVar("PAVED_WEBAPP_DEV_LOOPBACK")),
        };
        let mut config = Self::new(
            required("PAVED_WEBAPP_ISSUER")?,
            required("PAVED_WEBAPP_CLIENT_ID")?,
            required("PAVED_WEBAPP_PUBLIC_ORIGIN")?,
            required("PAVED_WEBAPP_API_URL")?,
        )
        .dev_loopback(dev_loopback);
        items_url(&config.api_url, dev_loopback)?;
        // The secret comes from a file (a mounted secret), never from the environment, which
        // child processes inherit and crash reports capture.
        if let Some(path) = var("PAVED_WEBAPP_CLIENT_SECRET_FILE") {
            let secret = SecretString::from_file(Path::new(&path)).map_err(Error::ClientSecret)?;
            config = config.client_secret(secret);
        }
        if let Some(path) = var("PAVED_WEBAPP_CA_FILE") {
            config = config.root_certificates_pem(std::fs::read(path).map_err(Error::CaFile)?);
        }
        if let Some(path) = var("PAVED_WEBAPP_KEYRING_FILE") {
            let source = SecretSource::file(path)
                .map_err(|_| Error::InvalidVar("PAVED_WEBAPP_KEYRING_FILE"))?;
            config = config.key_ring(KeyRing::load(&source).map_err(Error::Keys)?);
        }
        // A URL with a password in it is a secret: read it from a file then.
        if let Some(path) = var("PAVED_WEBAPP_REDIS_URL_FILE") {
            config.redis_url =
                Some(SecretString::from_file(Path::new(&path)).map_err(Error::RedisUrl)?);
        } else if let Some(url) = var("PAVED_WEBAPP_REDIS_URL") {
            config = config.redis_url(url);
        }
        Ok(config)
    }
}

/// `{api_url}/items`, if `api_url` passes the transport policy: `https`, or with `dev_loopback`
/// `http`/`https` on a loopback host only (the access token must not cross a network in clear,
/// and a dev build must not reach a real host); no credentials, query or fragment.
pub(crate) fn items_url(api_url: &str, dev_loopback: bool) -> Result<Url, Error> {
    let url = Url::parse(api_url).map_err(|_| Error::ApiUrl)?;
    let loopback = match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let transport = match url.scheme() {
        "https" => !dev_loopback || loopback,
        "http" => dev_loopback && loopback,
        _ => false,
    };
    if !transport
        || url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(Error::ApiUrl);
    }
    Url::parse(&format!("{}/items", url.as_str().trim_end_matches('/'))).map_err(|_| Error::ApiUrl)
}
