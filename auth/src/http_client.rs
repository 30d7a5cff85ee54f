//! The hardened back-channel HTTP client: what paved-auth uses to talk to an identity provider
//! (JWKS documents now; discovery and token requests in the OAuth module).
//!
//! - **https only.** `http://` is refused, except in the explicit [`HttpClient::dev_loopback`]
//!   mode, which in turn refuses every host that is not loopback (`127.0.0.0/8`, `::1`,
//!   `localhost`).
//! - **No redirects.** A 3xx answer is an error ([`FetchError::Redirect`]); its `Location` is
//!   never followed, so a compromised or misconfigured endpoint cannot point the client at
//!   another host.
//! - **Timeouts.** Connecting and the whole exchange, body included, are bounded
//!   ([`DEFAULT_TIMEOUT`]: 5 s, the `jose` default), so a server that dribbles bytes cannot hold
//!   a request forever.
//! - **Body cap.** A `Content-Length` over the cap is refused before reading; a body without
//!   one is read chunk by chunk and refused as soon as it passes the cap ([`DEFAULT_MAX_BODY`]:
//!   512 KiB).
//! - **TLS** is rustls on ring with the Mozilla root store (`webpki-roots`): no OpenSSL, no
//!   system trust-store surprises. A provider under a private PKI (an enterprise CA, a local
//!   development CA) is reached by naming its root explicitly
//!   ([`HttpClient::add_root_certificates_pem`]); certificate checks themselves cannot be
//!   turned off.
//!
//! Proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`) are honoured by the strict client
//! and ignored by the loopback dev client.
//!
//! [`HttpClient::get`] fetches documents (a JWKS, discovery metadata) and wants a 200.
//! [`HttpClient::send`] and [`HttpClient::post_form`] serve the token, PAR and revocation
//! endpoints, which answer errors as `400` with a JSON body the caller must read (RFC 6749
//! §5.2): they return the response with any status that is not a redirect, under the same URL
//! policy, redirect refusal, body cap and timeout. [`require_json`] checks the content type of
//! such an answer (OA-19).

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::jwt::ConfigError;

/// The default bound on one exchange, connect to last body byte (the `jose` library's JWKS
/// fetch timeout).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest timeout [`HttpClient::with_timeout`] accepts.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(60);
/// The smallest timeout [`HttpClient::with_timeout`] accepts.
pub const MIN_TIMEOUT: Duration = Duration::from_millis(50);
/// The default response body cap: 512 KiB (a JWKS of 100 RSA-4096 keys is about 80 KiB).
pub const DEFAULT_MAX_BODY: usize = 512 * 1024;
/// The largest body cap [`HttpClient::with_max_body`] accepts: 8 MiB.
pub const MAX_BODY_CEILING: usize = 8 * 1024 * 1024;

/// Why a back-channel request failed. The detail (the transport error) goes to `tracing` at
/// `debug`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL does not parse, has credentials in it, or has no host.
    InvalidUrl,
    /// The URL is not `https` (and the client is not the loopback dev client).
    NotHttps,
    /// The loopback dev client was asked for a host that is not loopback.
    NotLoopback,
    /// The server answered with a redirect, which is never followed.
    Redirect {
        /// The 3xx status.
        status: u16,
    },
    /// The server answered with another status than 200.
    Status {
        /// The status.
        status: u16,
    },
    /// The response body is larger than the cap.
    BodyTooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// The exchange took longer than the timeout.
    Timeout,
    /// The connection or the TLS handshake failed.
    Connect,
    /// Another transport failure (reset, malformed response, …).
    Transport,
    /// The request method is not `GET` or `POST`, the only methods an OAuth back channel uses.
    Method,
    /// The request could not be built: a header value with forbidden bytes, or a body on a
    /// `GET`.
    InvalidRequest,
    /// The response's `Content-Type` is not `application/json` (OA-19).
    NotJson,
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl => f.write_str("the URL is invalid (no host, or credentials in it)"),
            Self::NotHttps => f.write_str("the URL is not https"),
            Self::NotLoopback => {
                f.write_str("the loopback dev client only talks to loopback hosts")
            }
            Self::Redirect { status } => {
                write!(
                    f,
                    "the server redirected ({status}); redirects are not followed"
                )
            }
            Self::Status { status } => write!(f, "the server answered {status}"),
            Self::BodyTooLarge { max } => {
                write!(f, "the response body is larger than {max} bytes")
            }
            Self::Timeout => f.write_str("the request timed out"),
            Self::Connect => f.write_str("the connection or TLS handshake failed"),
            Self::Transport => f.write_str("the request failed in transport"),
            Self::Method => f.write_str("only GET and POST requests are sent"),
            Self::InvalidRequest => f.write_str("the request could not be built"),
            Self::NotJson => f.write_str("the response content type is not application/json"),
        }
    }
}

impl std::error::Error for FetchError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    HttpsOnly,
    DevLoopback,
}

/// The hardened HTTP client (see the [module documentation](self)). Cheap to clone: clones
/// share one connection pool.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    mode: Mode,
    timeout: Duration,
    max_body: usize,
    extra_roots: Vec<reqwest::Certificate>,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("mode", &self.mode)
            .field("timeout", &self.timeout)
            .field("max_body", &self.max_body)
            .field("extra_roots", &self.extra_roots.len())
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// The production client: https only, no redirects, [`DEFAULT_TIMEOUT`],
    /// [`DEFAULT_MAX_BODY`].
    ///
    /// # Errors
    ///
    /// [`ConfigError::HttpClient`] if the TLS stack cannot be initialised.
    pub fn new() -> Result<Self, ConfigError> {
        Self::build(Mode::HttpsOnly, Vec::new())
    }

    /// The development client: plain `http` is allowed, but **only** to loopback hosts
    /// (`127.0.0.0/8`, `::1`, `localhost`); every other host is refused, https or not. For a
    /// local identity provider in development and tests.
    ///
    /// # Errors
    ///
    /// [`ConfigError::HttpClient`] if the TLS stack cannot be initialised.
    pub fn dev_loopback() -> Result<Self, ConfigError> {
        Self::build(Mode::DevLoopback, Vec::new())
    }

    /// Also trusts the CA certificates in `pem` (one or more `CERTIFICATE` blocks) as roots,
    /// next to the Mozilla roots: for a provider whose certificate comes from a private PKI.
    /// Everything else stays checked (chain, validity, host name); there is no switch that
    /// skips certificate verification.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use paved_auth::http_client::HttpClient;
    /// use paved_auth::jwt::ConfigError;
    ///
    /// // Not a certificate: refused when the client is configured, not at the first request.
    /// let err = HttpClient::new()?.add_root_certificates_pem(b"not pem").unwrap_err();
    /// assert_eq!(err, ConfigError::RootCertificate);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::RootCertificate`] when `pem` holds no certificate or one does not parse;
    /// [`ConfigError::HttpClient`] if the TLS stack cannot be initialised.
    pub fn add_root_certificates_pem(self, pem: &[u8]) -> Result<Self, ConfigError> {
        let added = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            tracing::debug!(error = %e, "paved-auth: an extra root certificate does not parse");
            ConfigError::RootCertificate
        })?;
        if added.is_empty() {
            return Err(ConfigError::RootCertificate);
        }
        let mut roots = self.extra_roots;
        roots.extend(added);
        let rebuilt = Self::build(self.mode, roots)?;
        Ok(Self {
            timeout: self.timeout,
            max_body: self.max_body,
            ..rebuilt
        })
    }

    fn build(mode: Mode, extra_roots: Vec<reqwest::Certificate>) -> Result<Self, ConfigError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .connect_timeout(DEFAULT_TIMEOUT)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("paved-auth/", env!("CARGO_PKG_VERSION")));
        builder = match mode {
            Mode::HttpsOnly => builder.https_only(true),
            Mode::DevLoopback => builder.no_proxy(),
        };
        for root in &extra_roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder.build().map_err(|e| {
            tracing::error!(error = %e, "paved-auth: the HTTP client could not be built");
            ConfigError::HttpClient
        })?;
        Ok(Self {
            client,
            mode,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            extra_roots,
        })
    }

    /// Bounds each exchange, connect to last body byte, by `timeout`.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] unless [`MIN_TIMEOUT`] ≤ `timeout` ≤ [`MAX_TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, ConfigError> {
        if !(MIN_TIMEOUT..=MAX_TIMEOUT).contains(&timeout) {
            return Err(ConfigError::OutOfRange("timeout"));
        }
        self.timeout = timeout;
        Ok(self)
    }

    /// Caps response bodies at `max` bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError::OutOfRange`] unless 1 ≤ `max` ≤ [`MAX_BODY_CEILING`].
    pub fn with_max_body(mut self, max: usize) -> Result<Self, ConfigError> {
        if !(1..=MAX_BODY_CEILING).contains(&max) {
            return Err(ConfigError::OutOfRange("max_body"));
        }
        self.max_body = max;
        Ok(self)
    }

    /// The per-exchange timeout.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The body cap in bytes.
    #[must_use]
    pub fn max_body(&self) -> usize {
        self.max_body
    }

    /// Whether this is the loopback dev client.
    #[must_use]
    pub fn is_dev_loopback(&self) -> bool {
        self.mode == Mode::DevLoopback
    }

    /// Parses `url` and checks it against the client's policy (https, or loopback in dev).
    ///
    /// # Errors
    ///
    /// [`FetchError::InvalidUrl`], [`FetchError::NotHttps`] or [`FetchError::NotLoopback`].
    pub fn check_url(&self, url: &str) -> Result<reqwest::Url, FetchError> {
        let url = reqwest::Url::parse(url).map_err(|_| FetchError::InvalidUrl)?;
        check_url_policy(&url, self.mode == Mode::DevLoopback)?;
        Ok(url)
    }

    /// `GET url` with `Accept: accept`; the body of a 200 answer with a JSON content type
    /// (`application/json` or `application/*+json`), within the cap and the timeout.
    ///
    /// # Errors
    ///
    /// Every [`FetchError`]: the URL policy, a redirect or non-200 status, the body cap, the
    /// timeout and transport failures.
    pub async fn get(&self, url: &str, accept: &str) -> Result<Vec<u8>, FetchError> {
        let url = self.check_url(url)?;
        let exchange = async {
            let response = self
                .client
                .get(url)
                .header(http::header::ACCEPT, accept)
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| map_reqwest_error(&e))?;
            refuse_redirect(&response)?;
            if response.status() != reqwest::StatusCode::OK {
                return Err(FetchError::Status {
                    status: response.status().as_u16(),
                });
            }
            // OA-19: a JSON document must say so; an HTML error page or a captive portal
            // answering 200 is refused before it is parsed. `application/json` or a `+json`
            // type (RFC 6839, e.g. `application/jwk-set+json`).
            let mut types = response
                .headers()
                .get_all(http::header::CONTENT_TYPE)
                .iter();
            let json = match (types.next(), types.next()) {
                (Some(value), None) => media_type(value).is_some_and(|media| {
                    media.eq_ignore_ascii_case("application/json")
                        || (media.len() > "application/+json".len()
                            && media[..12].eq_ignore_ascii_case("application/")
                            && media[media.len() - 5..].eq_ignore_ascii_case("+json"))
                }),
                _ => false,
            };
            if !json {
                return Err(FetchError::NotJson);
            }
            read_capped(response, self.max_body).await
        };
        self.bounded(exchange).await
    }

    /// Sends `request` under the same policy as [`get`](Self::get) (URL check, no redirects,
    /// body cap, one timeout from connect to the last body byte) and returns the response with
    /// **any status that is not 3xx**: a token endpoint answers `400` with a JSON error body
    /// (`invalid_grant`, RFC 6749 §5.2) that the caller must read.
    ///
    /// Only `GET` (without a body) and `POST` are sent. The request's headers are sent except
    /// the ones the client owns: `Host` (taken from the URL, so a request cannot be routed to
    /// one host and claim another), the framing headers `Content-Length` and
    /// `Transfer-Encoding`, and the hop-by-hop headers (`Connection`, `Keep-Alive`,
    /// `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`). An `Authorization` value is marked
    /// sensitive (never HPACK-indexed, shown as `Sensitive` by `Debug`).
    ///
    /// # With `oauth2` 5
    ///
    /// `oauth2`'s `HttpRequest`/`HttpResponse` are `http::Request<Vec<u8>>` /
    /// `http::Response<Vec<u8>>`, and its `AsyncHttpClient` is implemented for every
    /// `Fn(HttpRequest) -> impl Future<Output = Result<HttpResponse, E>>` with
    /// `E: std::error::Error + 'static`. A closure over a borrowed client is therefore the
    /// adapter. `oauth2` 5 checks the content type only when the header is present, so the
    /// adapter also applies [`require_json`] (OA-19; RFC 6749 §5.1 and §5.2 answers are both
    /// JSON):
    ///
    /// ```
    /// use paved_auth::http_client::{FetchError, HttpClient, require_json};
    ///
    /// fn takes_oauth2_client<'c, C: oauth2::AsyncHttpClient<'c>>(_client: &'c C) {}
    ///
    /// let client = HttpClient::new()?;
    /// let client = &client;
    /// let adapter = |request: oauth2::HttpRequest| async move {
    ///     let response = client.send(request).await?;
    ///     require_json(&response)?;
    ///     Ok::<_, FetchError>(response)
    /// };
    /// takes_oauth2_client(&adapter); // e.g. `.request_async(&adapter)` on a token request
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// `oauth2` sends `POST` forms with `Accept: application/json` and reads a non-200 answer
    /// as an error response. Its `client_secret_basic` does not put `client_id` in the body,
    /// which some servers' PAR endpoints want: `oidc::ClientAuth` builds the form this crate
    /// sends.
    ///
    /// # Errors
    ///
    /// [`FetchError::Method`] for another method; [`FetchError::InvalidRequest`] for a `GET`
    /// with a body; the URL policy errors; [`FetchError::Redirect`] for a 3xx;
    /// [`FetchError::BodyTooLarge`], [`FetchError::Timeout`] and transport failures. Never
    /// [`FetchError::Status`].
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let (parts, body) = request.into_parts();
        let method = match parts.method {
            http::Method::GET if !body.is_empty() => return Err(FetchError::InvalidRequest),
            http::Method::GET => reqwest::Method::GET,
            http::Method::POST => reqwest::Method::POST,
            _ => return Err(FetchError::Method),
        };
        let url = self.check_url(&parts.uri.to_string())?;
        let mut headers = parts.headers;
        for name in CLIENT_OWNED_HEADERS {
            headers.remove(name);
        }
        if let Some(value) = headers.get_mut(http::header::AUTHORIZATION) {
            value.set_sensitive(true);
        }
        let exchange = async {
            let response = self
                .client
                .request(method, url)
                .headers(headers)
                .body(body)
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| map_reqwest_error(&e))?;
            refuse_redirect(&response)?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_capped(response, self.max_body).await?;
            let mut out = http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            Ok(out)
        };
        self.bounded(exchange).await
    }

    /// `POST url` with `form` as an `application/x-www-form-urlencoded` body (RFC 6749 §3.2),
    /// `Accept: application/json` and, if given, `Authorization: authorization`; through
    /// [`send`](Self::send), so the answer comes back with any non-3xx status.
    ///
    /// Neither the form (codes, verifiers, refresh tokens, client secrets) nor the
    /// `Authorization` value is logged; failures are logged by kind only.
    ///
    /// # Errors
    ///
    /// [`FetchError::InvalidRequest`] if `url` is not a valid request target or
    /// `authorization` holds bytes a header cannot carry; otherwise as [`send`](Self::send).
    pub async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        authorization: Option<&str>,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish()
            .into_bytes();
        let mut builder = http::Request::post(url)
            .header(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(
                http::header::ACCEPT,
                http::HeaderValue::from_static("application/json"),
            );
        if let Some(value) = authorization {
            let mut value =
                http::HeaderValue::from_str(value).map_err(|_| FetchError::InvalidRequest)?;
            value.set_sensitive(true);
            builder = builder.header(http::header::AUTHORIZATION, value);
        }
        let request = builder.body(body).map_err(|_| FetchError::InvalidRequest)?;
        self.send(request).await
    }

    /// Runs one exchange under the client's single timeout.
    async fn bounded<T>(
        &self,
        exchange: impl Future<Output = Result<T, FetchError>>,
    ) -> Result<T, FetchError> {
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::Timeout),
        }
    }
}

/// Headers [`HttpClient::send`] sets itself: `Host` comes from the URL; the framing and
/// hop-by-hop headers (RFC 9110 §7.6.1) describe this connection, not the request, and a
/// caller-chosen `Content-Length` or `Transfer-Encoding` could disagree with the body.
const CLIENT_OWNED_HEADERS: [http::HeaderName; 9] = [
    http::header::HOST,
    http::header::CONTENT_LENGTH,
    http::header::TRANSFER_ENCODING,
    http::header::CONNECTION,
    http::HeaderName::from_static("keep-alive"),
    http::HeaderName::from_static("proxy-connection"),
    http::header::TE,
    http::header::TRAILER,
    http::header::UPGRADE,
];

/// Checks that `response` declares exactly one `Content-Type` whose media type is
/// `application/json` (case-insensitive, parameters such as `; charset=utf-8` allowed), as
/// RFC 6749 §5.1 requires of token responses and OA-19 of every back-channel JSON answer; a
/// server that answers HTML (an error page, a captive portal) is not parsed as JSON.
///
/// # Errors
///
/// [`FetchError::NotJson`] if the header is missing, repeated, not text, or another type.
pub fn require_json(response: &http::Response<Vec<u8>>) -> Result<(), FetchError> {
    let mut values = response
        .headers()
        .get_all(http::header::CONTENT_TYPE)
        .iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(FetchError::NotJson);
    };
    match media_type(value) {
        Some(media) if media.eq_ignore_ascii_case("application/json") => Ok(()),
        _ => Err(FetchError::NotJson),
    }
}

/// The media type of a `Content-Type` value, without parameters.
fn media_type(value: &http::HeaderValue) -> Option<&str> {
    value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}

/// Checks a parsed URL against the back-channel policy: a host and no credentials; `https`,
/// or with `dev_loopback` `http`/`https` to a loopback host only (`127.0.0.0/8`, `::1`,
/// `localhost`). Shared by [`HttpClient::check_url`] and the discovery-metadata checks.
pub(crate) fn check_url_policy(url: &url::Url, dev_loopback: bool) -> Result<(), FetchError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchError::InvalidUrl);
    }
    let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
        return Err(FetchError::InvalidUrl);
    };
    let allowed = if dev_loopback {
        if !is_loopback_host(host) {
            return Err(FetchError::NotLoopback);
        }
        matches!(url.scheme(), "https" | "http")
    } else {
        url.scheme() == "https"
    };
    if allowed {
        Ok(())
    } else {
        Err(FetchError::NotHttps)
    }
}

/// Whether a URL host (as `Url::host_str` gives it) is loopback.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    // IPv6 hosts come bracketed (`[::1]`); IPv4 hosts are normalised by the URL parser.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().map_or_else(
        |_| host.eq_ignore_ascii_case("localhost"),
        |ip| ip.is_loopback(),
    )
}

fn refuse_redirect(response: &reqwest::Response) -> Result<(), FetchError> {
    let status = response.status();
    if status.is_redirection() {
        return Err(FetchError::Redirect {
            status: status.as_u16(),
        });
    }
    Ok(())
}

async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, FetchError> {
    let declared = response.content_length();
    if declared.is_some_and(|len| len > max as u64) {
        return Err(FetchError::BodyTooLarge { max });
    }
    let mut body = Vec::with_capacity(
        declared.map_or(8 * 1024, |len| usize::try_from(len).unwrap_or(max).min(max)),
    );
    while let Some(chunk) = response.chunk().await.map_err(|e| map_reqwest_error(&e))? {
        if body.len() + chunk.len() > max {
            return Err(FetchError::BodyTooLarge { max });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn map_reqwest_error(e: &reqwest::Error) -> FetchError {
    tracing::debug!(error = %e, "paved-auth: back-channel request failed");
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_connect() {
        FetchError::Connect
    } else if e.is_redirect() {
        FetchError::Redirect { status: 300 }
    } else {
        FetchError::Transport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_client_accepts_only_https() {
        let client = HttpClient::new().unwrap();
        assert!(client.check_url("https://idp.example/jwks").is_ok());
        assert_eq!(
            client.check_url("http://idp.example/jwks"),
            Err(FetchError::NotHttps)
        );
        assert_eq!(
            client.check_url("http://127.0.0.1:8080/jwks"),
            Err(FetchError::NotHttps)
        );
        assert_eq!(
            client.check_url("https://user:pw@idp.example/"),
            Err(FetchError::InvalidUrl)
        );
        assert_eq!(client.check_url("not a url"), Err(FetchError::InvalidUrl));
        assert_eq!(
            client.check_url("ftp://idp.example/"),
            Err(FetchError::NotHttps)
        );
        assert!(client.check_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn dev_client_accepts_only_loopback() {
        let client = HttpClient::dev_loopback().unwrap();
        for ok in [
            "http://127.0.0.1:1/x",
            "http://127.9.9.9/x",
            "http://[::1]:8080/x",
            "http://localhost/x",
            "https://LOCALHOST/x",
        ] {
            assert!(client.check_url(ok).is_ok(), "{ok}");
        }
        for host in [
            "http://10.0.0.1/x",
            "https://idp.example/x",
            "http://0.0.0.0/x",
        ] {
            assert_eq!(
                client.check_url(host),
                Err(FetchError::NotLoopback),
                "{host}"
            );
        }
    }

    #[test]
    fn limits_are_bounded() {
        let client = HttpClient::new().unwrap();
        assert!(client.clone().with_timeout(Duration::ZERO).is_err());
        assert!(
            client
                .clone()
                .with_timeout(Duration::from_secs(3600))
                .is_err()
        );
        assert!(client.clone().with_max_body(0).is_err());
        assert!(client.with_max_body(MAX_BODY_CEILING + 1).is_err());
    }
}
