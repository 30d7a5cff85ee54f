use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Response, StatusCode, header};
use tower::Layer;
use tower_http::csrf::{CsrfLayer, ProtectionError, ResponseForProtectionError};

use super::REJECTION_BODY;
use super::pattern::BypassPattern;
use super::service::CrossOriginProtection;
use crate::error::ConfigError;

/// Builds the fixed rejection response.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Rejection;

impl<B: From<&'static str>> ResponseForProtectionError<B> for Rejection {
    fn response_for_protection_error(&mut self, _error: ProtectionError) -> Response<B> {
        let mut res = Response::new(B::from(REJECTION_BODY));
        *res.status_mut() = StatusCode::FORBIDDEN;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        res
    }
}

/// Layer that rejects cross-origin state-changing requests. See the
/// [module docs](crate::cross_origin).
#[derive(Clone)]
#[must_use]
pub struct CrossOriginProtectionLayer {
    csrf: CsrfLayer<Rejection>,
    trusted: Vec<String>,
    patterns: Arc<[BypassPattern]>,
    disabled: bool,
}

impl Default for CrossOriginProtectionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CrossOriginProtectionLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossOriginProtectionLayer")
            .field("trusted_origins", &self.trusted)
            .field(
                "bypass_patterns",
                &self
                    .patterns
                    .iter()
                    .map(BypassPattern::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl CrossOriginProtectionLayer {
    /// Protection with no trusted origin and no bypass.
    pub fn new() -> Self {
        Self {
            csrf: CsrfLayer::new().with_rejection_response(Rejection),
            trusted: Vec::new(),
            patterns: Arc::from(Vec::new()),
            disabled: false,
        }
    }

    /// Allows unsafe requests whose `Origin` is exactly `origin` (e.g. your single sign-on
    /// host posting back to you).
    ///
    /// # Errors
    /// [`ConfigError::InvalidOrigin`] unless `origin` is written exactly as a browser sends it:
    /// `https://host[:port]`, lower case, punycode, no default port, no path or trailing slash.
    /// Plain `http://` is accepted (the comparison is byte-exact either way).
    pub fn add_trusted_origin(mut self, origin: &str) -> Result<Self, ConfigError> {
        crate::origin::validate_origin(origin)?;
        self.csrf =
            self.csrf
                .add_trusted_origin(origin)
                .map_err(|e| ConfigError::InvalidOrigin {
                    origin: origin.to_owned(),
                    reason: match e {
                        tower_http::csrf::ConfigError::NonAsciiHostname { .. } => {
                            "browsers send internationalised hosts in punycode"
                        }
                        _ => "not a valid origin",
                    },
                })?;
        self.trusted.push(origin.to_owned());
        Ok(self)
    }

    /// Lets requests matching `pattern` through without the check (Go's
    /// `AddInsecureBypassPattern`). Use it for endpoints with their own authentication, such as
    /// signed webhooks; anything bypassed is open to cross-site requests.
    ///
    /// Form: `[METHOD ]/path`, where a segment `{name}` matches one segment, a final
    /// `{name...}` the rest, and a trailing `/` the whole subtree. Matching is on the raw path
    /// and fails closed: `//`, `.`/`..` segments and encoded `.`, `/`, `\` never match.
    ///
    /// # Errors
    /// [`ConfigError::InvalidBypassPattern`] for anything outside that form.
    pub fn add_bypass_pattern(mut self, pattern: &str) -> Result<Self, ConfigError> {
        let mut all: Vec<BypassPattern> = self.patterns.iter().cloned().collect();
        all.push(BypassPattern::parse(pattern)?);
        self.patterns = Arc::from(all);
        self.install_bypass();
        Ok(self)
    }

    /// Turns the check off (every request passes). Only reachable through
    /// [`DangerousSecurityHeadersBuilder::without_cross_origin_protection`](crate::security_headers::DangerousSecurityHeadersBuilder::without_cross_origin_protection).
    pub(crate) fn disabled() -> Self {
        let mut layer = Self::new();
        layer.disabled = true;
        layer.install_bypass();
        layer
    }

    fn install_bypass(&mut self) {
        let patterns = Arc::clone(&self.patterns);
        let disabled = self.disabled;
        self.csrf = self.csrf.clone().with_insecure_bypass(move |method, uri| {
            disabled || patterns.iter().any(|p| p.matches(method, uri))
        });
    }
}

impl<S> Layer<S> for CrossOriginProtectionLayer {
    type Service = CrossOriginProtection<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CrossOriginProtection::new(self.csrf.layer(inner), self.disabled)
    }
}
