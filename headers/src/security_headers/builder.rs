use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};

use super::layer::{Compiled, CspEntry, Entry, SecurityHeadersLayer};
use crate::cross_origin::CrossOriginProtectionLayer;
use crate::csp::{ContentSecurityPolicy, CspAllowances, REPORT_GROUP};
use crate::error::ConfigError;
use crate::nonce::{NonceSource, OsRandom, SharedNonceSource};
use crate::permissions::PermissionsPolicy;
use crate::transport::{Hsts, HttpsDetection, ProxyHeader, TrustedProxy};
use crate::values::{
    CrossOriginEmbedderPolicy, CrossOriginOpenerPolicy, CrossOriginResourcePolicy, FrameOptions,
    ReferrerPolicy,
};

/// Response headers removed by default: they advertise the software stack (ASVS 5.0 V13.4.6).
pub const DEFAULT_REMOVED_HEADERS: &[&str] = &[
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
];

/// Headers with typed setters; `header()` refuses them.
const TYPED: &[(&str, &str)] = &[
    ("content-security-policy", "content_security_policy()"),
    (
        "content-security-policy-report-only",
        "content_security_policy_report_only() or csp_report_only()",
    ),
    ("strict-transport-security", "hsts()"),
    ("permissions-policy", "permissions_policy()"),
    ("reporting-endpoints", "report_to()"),
    ("referrer-policy", "referrer_policy()"),
    ("x-frame-options", "frame_options()"),
    ("cross-origin-opener-policy", "cross_origin_opener_policy()"),
    (
        "cross-origin-resource-policy",
        "cross_origin_resource_policy()",
    ),
    (
        "cross-origin-embedder-policy",
        "cross_origin_embedder_policy()",
    ),
    (
        "set-cookie",
        "CookieHardeningLayer (the layer never sets cookies)",
    ),
];

/// Headers with one safe value, which the presets send; `header()` refuses to change them
/// (`dangerous().without_header()` removes one).
const FIXED: &[&str] = &[
    "x-content-type-options",
    "x-xss-protection",
    "x-permitted-cross-domain-policies",
    "x-dns-prefetch-control",
    "x-download-options",
    "origin-agent-cluster",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Preset {
    Api,
    Web,
    Dev,
}

#[derive(Clone, Copy, Debug, Default)]
#[allow(clippy::struct_excessive_bools)]
struct Danger {
    csp: CspAllowances,
    short_hsts: bool,
    odd_preload: bool,
}

/// Configures a [`SecurityHeadersLayer`]. Start from a preset
/// ([`SecurityHeadersLayer::api`], [`web`](SecurityHeadersLayer::web),
/// [`dev`](SecurityHeadersLayer::dev)), change what you need, then [`build`](Self::build).
///
/// Setters never fail; everything is validated in `build()`, which returns the first problem.
#[derive(Clone)]
#[must_use]
pub struct SecurityHeadersBuilder {
    preset: Preset,
    csp: Option<ContentSecurityPolicy>,
    csp_report_only_mode: bool,
    csp_extra_report_only: Option<ContentSecurityPolicy>,
    report_endpoint: Option<String>,
    hsts: Option<Hsts>,
    https: HttpsDetection,
    permissions: Option<PermissionsPolicy>,
    /// Simple headers, lower-case name → value, in sending order.
    headers: Vec<(String, String)>,
    forced: Vec<String>,
    removed: Vec<String>,
    cross_origin: CrossOriginProtectionLayer,
    danger: Danger,
    nonce_source: SharedNonceSource,
    error: Option<ConfigError>,
}

impl fmt::Debug for SecurityHeadersBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHeadersBuilder")
            .field("preset", &self.preset)
            .field("csp", &self.csp.as_ref().map(ToString::to_string))
            .field("csp_report_only_mode", &self.csp_report_only_mode)
            .field(
                "csp_extra_report_only",
                &self.csp_extra_report_only.as_ref().map(ToString::to_string),
            )
            .field("report_endpoint", &self.report_endpoint)
            .field("hsts", &self.hsts)
            .field("https", &self.https)
            .field("headers", &self.headers)
            .field("forced", &self.forced)
            .field("removed", &self.removed)
            .field("cross_origin", &self.cross_origin)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

fn s(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl SecurityHeadersBuilder {
    fn base(preset: Preset) -> Self {
        Self {
            preset,
            csp: None,
            csp_report_only_mode: false,
            csp_extra_report_only: None,
            report_endpoint: None,
            hsts: Some(Hsts::two_years()),
            https: HttpsDetection::Direct,
            permissions: None,
            headers: Vec::new(),
            forced: Vec::new(),
            removed: DEFAULT_REMOVED_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            cross_origin: CrossOriginProtectionLayer::new(),
            danger: Danger::default(),
            nonce_source: Arc::new(OsRandom::buffered()),
            error: None,
        }
    }

    pub(crate) fn api() -> Self {
        let mut b = Self::base(Preset::Api);
        b.csp = Some(ContentSecurityPolicy::api());
        b.headers = s(&[
            ("cache-control", "no-store"),
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("cross-origin-resource-policy", "same-origin"),
            ("referrer-policy", "no-referrer"),
        ]);
        b
    }

    pub(crate) fn web() -> Self {
        let mut b = Self::base(Preset::Web);
        b.csp = Some(ContentSecurityPolicy::strict());
        b.permissions = Some(PermissionsPolicy::deny_powerful_features());
        b.headers = s(&[
            ("cross-origin-opener-policy", "same-origin"),
            ("cross-origin-resource-policy", "same-origin"),
            ("origin-agent-cluster", "?1"),
            ("referrer-policy", "no-referrer"),
            ("x-content-type-options", "nosniff"),
            ("x-dns-prefetch-control", "off"),
            ("x-download-options", "noopen"),
            ("x-frame-options", "DENY"),
            ("x-permitted-cross-domain-policies", "none"),
            ("x-xss-protection", "0"),
        ]);
        b
    }

    pub(crate) fn dev() -> Self {
        let mut b = Self::web();
        b.preset = Preset::Dev;
        b.hsts = None;
        b
    }

    fn fail(mut self, e: ConfigError) -> Self {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self
    }

    fn set_simple(mut self, name: &str, value: String) -> Self {
        let name = name.to_ascii_lowercase();
        match self.headers.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.headers.push((name, value)),
        }
        self
    }

    /// Replaces the enforced `Content-Security-Policy`. It must pass the safety checks (see
    /// [`crate::csp`]); use [`ContentSecurityPolicy::NONCE`] for the per-response nonce.
    pub fn content_security_policy(mut self, policy: ContentSecurityPolicy) -> Self {
        self.csp = Some(policy);
        self
    }

    /// Report-only mode, for rolling out the policy: it is sent as
    /// `Content-Security-Policy-Report-Only` (violations are reported, nothing is blocked),
    /// while the parts that cannot break a page — `frame-ancestors`, `object-src 'none'`,
    /// `base-uri`, `upgrade-insecure-requests` — stay enforced in `Content-Security-Policy`.
    /// Pair it with [`report_to`](Self::report_to).
    pub fn csp_report_only(mut self) -> Self {
        self.csp_report_only_mode = true;
        self
    }

    /// Sends `policy` as an additional `Content-Security-Policy-Report-Only`, next to the
    /// enforced policy (to trial a stricter policy). Only syntax is checked: it blocks nothing.
    pub fn content_security_policy_report_only(mut self, policy: ContentSecurityPolicy) -> Self {
        self.csp_extra_report_only = Some(policy);
        self
    }

    /// Declares a reporting endpoint: `Reporting-Endpoints: csp-endpoint="<endpoint>"` plus
    /// `report-to csp-endpoint` and (for browsers without the Reporting API) `report-uri
    /// <endpoint>` in every policy (ASVS 5.0 V3.4.7). Serve a
    /// [`ReportCollector`](crate::report::ReportCollector) there.
    ///
    /// `endpoint` is an absolute `https://` URL or a path starting with `/`.
    pub fn report_to(mut self, endpoint: &str) -> Self {
        self.report_endpoint = Some(endpoint.to_owned());
        self
    }

    /// Replaces the HSTS policy (sent only on https responses; see [`crate::transport`]).
    pub fn hsts(mut self, hsts: Hsts) -> Self {
        if self.preset == Preset::Dev {
            return self.fail(ConfigError::DevPresetSetting { setting: "hsts()" });
        }
        self.hsts = Some(hsts);
        self
    }

    /// Sets how the layer decides a request was https (and so gets HSTS).
    pub fn https_detection(mut self, detection: HttpsDetection) -> Self {
        self.https = detection;
        self
    }

    /// TLS always terminates in front of this service: every response gets HSTS.
    pub fn tls_terminates_in_front(self) -> Self {
        self.https_detection(HttpsDetection::AlwaysTls)
    }

    /// Believes `header` (`X-Forwarded-Proto` or `Forwarded`) only from these proxy addresses
    /// or CIDR ranges; the peer address comes from [`PeerAddr`](crate::PeerAddr) or, with the
    /// `axum` feature, `ConnectInfo<SocketAddr>`.
    pub fn trust_forwarded_proto_from<I, T>(self, header: ProxyHeader, proxies: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let parsed: Result<Vec<TrustedProxy>, ConfigError> = proxies
            .into_iter()
            .map(|p| TrustedProxy::parse(p.as_ref()))
            .collect();
        match parsed {
            Ok(proxies) => self.https_detection(HttpsDetection::TrustedProxies { header, proxies }),
            Err(e) => self.fail(e),
        }
    }

    /// Replaces the `Permissions-Policy`.
    pub fn permissions_policy(mut self, policy: PermissionsPolicy) -> Self {
        self.permissions = Some(policy);
        self
    }

    /// Sets `Referrer-Policy`.
    pub fn referrer_policy(self, value: ReferrerPolicy) -> Self {
        self.set_simple("referrer-policy", value.as_str().to_owned())
    }

    /// Sets `X-Frame-Options`. Keep CSP `frame-ancestors` consistent with it.
    pub fn frame_options(self, value: FrameOptions) -> Self {
        self.set_simple("x-frame-options", value.as_str().to_owned())
    }

    /// Sets `Cross-Origin-Opener-Policy`.
    pub fn cross_origin_opener_policy(self, value: CrossOriginOpenerPolicy) -> Self {
        self.set_simple("cross-origin-opener-policy", value.as_str().to_owned())
    }

    /// Sets `Cross-Origin-Resource-Policy`.
    pub fn cross_origin_resource_policy(self, value: CrossOriginResourcePolicy) -> Self {
        self.set_simple("cross-origin-resource-policy", value.as_str().to_owned())
    }

    /// Sets `Cross-Origin-Embedder-Policy` (not sent by the presets).
    pub fn cross_origin_embedder_policy(self, value: CrossOriginEmbedderPolicy) -> Self {
        self.set_simple("cross-origin-embedder-policy", value.as_str().to_owned())
    }

    /// Sets `Cache-Control` for every response (`api()` sends `no-store`). For single routes
    /// use [`no_store()`](crate::no_store).
    pub fn cache_control(self, value: &str) -> Self {
        self.set_simple("cache-control", value.to_owned())
    }

    /// Sets any other header. Refused here: the security headers with a typed setter, the
    /// headers with one safe value ([`ConfigError::FixedPresetHeader`]), and CORS headers
    /// (which [`StrictCors`](crate::cors::StrictCors) validates).
    pub fn header(self, name: &str, value: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        if let Some((n, setter)) = TYPED.iter().find(|(n, _)| *n == lower) {
            return self.fail(ConfigError::UseTypedSetter { name: n, setter });
        }
        if let Some(n) = FIXED.iter().find(|n| **n == lower) {
            return self.fail(ConfigError::FixedPresetHeader { name: n });
        }
        if lower.starts_with("access-control-") {
            return self.fail(ConfigError::UseTypedSetter {
                name: "access-control-*",
                setter: "paved_headers::cors::StrictCors",
            });
        }
        self.set_simple(&lower, value.to_owned())
    }

    /// Marks a header the layer sets as forced: it replaces a value the handler set, and a
    /// [`HeaderOverrides`](crate::HeaderOverrides) extension cannot skip it.
    pub fn force(mut self, name: &str) -> Self {
        self.forced.push(name.to_ascii_lowercase());
        self
    }

    /// Adds a header to the list removed from every response (default:
    /// [`DEFAULT_REMOVED_HEADERS`]).
    pub fn remove_response_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if !self.removed.contains(&name) {
            self.removed.push(name);
        }
        self
    }

    /// Replaces the cross-origin request protection (on by default with no trusted origin and
    /// no bypass), e.g. to add trusted origins or webhook bypass patterns.
    pub fn cross_origin_protection(mut self, layer: CrossOriginProtectionLayer) -> Self {
        self.cross_origin = layer;
        self
    }

    /// Draws every nonce with its own `getrandom` call instead of the per-thread buffer (see
    /// [`OsRandom`]); for servers that `fork()` after serving.
    pub fn unbuffered_nonces(mut self) -> Self {
        self.nonce_source = Arc::new(OsRandom::unbuffered());
        self
    }

    /// Settings that weaken the defaults. Every call is greppable as `dangerous()`.
    pub fn dangerous(self) -> DangerousSecurityHeadersBuilder {
        DangerousSecurityHeadersBuilder { inner: self }
    }

    /// Validates everything and builds the layer.
    ///
    /// # Errors
    /// The first [`ConfigError`] found: invalid names or values, an unsafe CSP
    /// ([`ConfigError::CspUnsafeInline`], …), a short or inconsistent HSTS policy, a bad
    /// reporting endpoint, proxy address or Permissions-Policy entry, or `force()` of a header
    /// the layer does not set.
    #[allow(clippy::too_many_lines)]
    pub fn build(self) -> Result<SecurityHeadersLayer, ConfigError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let dev = self.preset == Preset::Dev;
        let mut forced = self.forced.clone();
        let mut take_forced = |name: &str| -> bool {
            match forced.iter().position(|f| f == name) {
                Some(i) => {
                    forced.swap_remove(i);
                    true
                }
                None => false,
            }
        };

        let report_uri = match &self.report_endpoint {
            Some(e) => Some(validate_endpoint(e, dev)?),
            None => None,
        };

        let mut static_headers = Vec::new();
        for (name, value) in &self.headers {
            let header_name = parse_name(name)?;
            let header_value = parse_value(name, value)?;
            static_headers.push(Entry {
                force: take_forced(name),
                name: header_name,
                value: header_value,
            });
        }
        if let Some(p) = &self.permissions {
            p.validate()?;
            if !p.to_string().is_empty() {
                static_headers.push(Entry {
                    force: take_forced("permissions-policy"),
                    name: HeaderName::from_static("permissions-policy"),
                    value: parse_value("permissions-policy", &p.to_string())?,
                });
            }
        }
        if let Some(uri) = &report_uri {
            static_headers.push(Entry {
                force: take_forced("reporting-endpoints"),
                name: HeaderName::from_static("reporting-endpoints"),
                value: parse_value("reporting-endpoints", &format!("{REPORT_GROUP}=\"{uri}\""))?,
            });
        }

        let mut csp_entries = Vec::new();
        if let Some(csp) = &self.csp {
            csp.check_syntax(self.danger.csp.unknown_directives)?;
            csp.check_safety(self.danger.csp)?;
            let uri = report_uri.as_deref();
            if self.csp_report_only_mode {
                let baseline = csp.baseline();
                if baseline != ContentSecurityPolicy::new() {
                    csp_entries.push(CspEntry {
                        name: http::header::CONTENT_SECURITY_POLICY,
                        template: baseline.render(uri, dev)?,
                        force: take_forced("content-security-policy"),
                    });
                }
                csp_entries.push(CspEntry {
                    name: http::header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
                    template: csp.render(uri, dev)?,
                    force: take_forced("content-security-policy-report-only"),
                });
            } else {
                csp_entries.push(CspEntry {
                    name: http::header::CONTENT_SECURITY_POLICY,
                    template: csp.render(uri, dev)?,
                    force: take_forced("content-security-policy"),
                });
            }
        }
        if let Some(extra) = &self.csp_extra_report_only {
            if self.csp_report_only_mode {
                return Err(ConfigError::InvalidCsp {
                    token: "content-security-policy-report-only".to_owned(),
                    reason: "csp_report_only() already sends the main policy report-only; \
                             use one or the other",
                });
            }
            extra.check_syntax(self.danger.csp.unknown_directives)?;
            csp_entries.push(CspEntry {
                name: http::header::CONTENT_SECURITY_POLICY_REPORT_ONLY,
                template: extra.render(report_uri.as_deref(), dev)?,
                force: take_forced("content-security-policy-report-only"),
            });
        }

        let hsts = match self.hsts {
            Some(h) if !dev => {
                h.validate(self.danger.short_hsts, self.danger.odd_preload)?;
                Some(Entry {
                    name: http::header::STRICT_TRANSPORT_SECURITY,
                    value: parse_value("strict-transport-security", &h.to_string())?,
                    force: take_forced("strict-transport-security"),
                })
            }
            _ => None,
        };

        if let Some(name) = forced.first() {
            return Err(ConfigError::ForceUnknownHeader { name: name.clone() });
        }

        let removed = self
            .removed
            .iter()
            .map(|n| parse_name(n))
            .collect::<Result<Vec<_>, _>>()?;

        let needs_nonce = csp_entries.iter().any(|c| c.template.uses_nonce());
        if !needs_nonce
            && self
                .csp
                .as_ref()
                .is_some_and(ContentSecurityPolicy::uses_nonce)
        {
            // Unreachable: a policy with the placeholder always renders a nonce template.
            return Err(ConfigError::InvalidCsp {
                token: ContentSecurityPolicy::NONCE.to_owned(),
                reason: "nonce placeholder could not be rendered",
            });
        }
        let (template_plain, template_https) =
            Compiled::templates(&static_headers, &csp_entries, hsts.as_ref());
        let forced_plain: Vec<HeaderName> = static_headers
            .iter()
            .filter(|e| e.force)
            .map(|e| e.name.clone())
            .chain(
                csp_entries
                    .iter()
                    .filter(|c| c.force)
                    .map(|c| c.name.clone()),
            )
            .collect();
        let mut forced_https = forced_plain.clone();
        forced_https.extend(hsts.iter().filter(|e| e.force).map(|e| e.name.clone()));
        if csp_entries.len() > super::layer::MAX_CSP_HEADERS {
            return Err(ConfigError::InvalidCsp {
                token: "content-security-policy".to_owned(),
                reason: "more than two policies configured",
            });
        }
        let compiled = Compiled {
            static_headers: static_headers.into_boxed_slice(),
            csp: csp_entries.into_boxed_slice(),
            hsts,
            template_plain,
            template_https,
            forced_plain: forced_plain.into_boxed_slice(),
            forced_https: forced_https.into_boxed_slice(),
            https: self.https,
            removed: removed.into_boxed_slice(),
            loopback_only: dev,
            needs_nonce,
            nonce_source: self.nonce_source,
        };
        Ok(SecurityHeadersLayer::new(
            Arc::new(compiled),
            self.cross_origin,
        ))
    }
}

fn parse_name(name: &str) -> Result<HeaderName, ConfigError> {
    crate::intern::name(name).ok_or_else(|| ConfigError::InvalidHeaderName {
        name: name.to_owned(),
    })
}

fn parse_value(name: &str, value: &str) -> Result<HeaderValue, ConfigError> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) || b == b'\t');
    if !ok || value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        return Err(ConfigError::InvalidHeaderValue {
            name: name.to_owned(),
        });
    }
    crate::intern::value(value).ok_or_else(|| ConfigError::InvalidHeaderValue {
        name: name.to_owned(),
    })
}

/// Reporting endpoints must be potentially trustworthy (Reporting API §2.2): https, or a path on
/// this (https) origin; `dev()` also accepts `http://localhost…`.
fn validate_endpoint(endpoint: &str, dev: bool) -> Result<String, ConfigError> {
    let err = |reason| ConfigError::InvalidReportEndpoint {
        endpoint: endpoint.to_owned(),
        reason,
    };
    if endpoint.is_empty() {
        return Err(err("it is empty"));
    }
    if !endpoint
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && !matches!(b, b'"' | b'\\' | b';' | b','))
    {
        return Err(err("it contains spaces, quotes, `;` or `,`"));
    }
    if endpoint.starts_with("//") {
        return Err(err("a scheme-relative URL"));
    }
    if endpoint.starts_with('/') {
        return Ok(endpoint.to_owned());
    }
    let rest = if let Some(r) = endpoint.strip_prefix("https://") {
        r
    } else if let Some(r) = endpoint.strip_prefix("http://") {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        if !(dev && crate::origin::is_loopback_authority(host)) {
            return Err(err("plain http is not a secure context for reports"));
        }
        r
    } else {
        return Err(err("not an https URL or a path"));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') {
        return Err(err("the host is missing or has user information"));
    }
    Ok(endpoint.to_owned())
}

/// Escape hatches of [`SecurityHeadersBuilder`]: each method weakens a default and is meant to
/// be found by a reviewer grepping for `dangerous()`.
#[derive(Debug)]
#[must_use]
pub struct DangerousSecurityHeadersBuilder {
    inner: SecurityHeadersBuilder,
}

impl DangerousSecurityHeadersBuilder {
    /// Accepts `'unsafe-inline'` in script directives.
    pub fn allow_unsafe_inline_scripts(mut self) -> Self {
        self.inner.danger.csp.unsafe_inline = true;
        self
    }

    /// Accepts `'unsafe-eval'` in script directives.
    pub fn allow_unsafe_eval(mut self) -> Self {
        self.inner.danger.csp.unsafe_eval = true;
        self
    }

    /// Accepts `*`, scheme-only (`https:`, `data:`…) and wildcard-host script sources without
    /// `'strict-dynamic'`.
    pub fn allow_wildcard_script_sources(mut self) -> Self {
        self.inner.danger.csp.wildcard_scripts = true;
        self
    }

    /// Accepts an enforced policy without `frame-ancestors`, `object-src 'none'` or
    /// `base-uri`.
    pub fn allow_incomplete_csp(mut self) -> Self {
        self.inner.danger.csp.incomplete = true;
        self
    }

    /// Accepts directive names this crate does not know (newer than it, or typos).
    pub fn allow_unknown_csp_directives(mut self) -> Self {
        self.inner.danger.csp.unknown_directives = true;
        self
    }

    /// Accepts an HSTS `max-age` under six months (including 0, which clears HSTS).
    pub fn allow_short_hsts(mut self) -> Self {
        self.inner.danger.short_hsts = true;
        self
    }

    /// Accepts `preload` without `includeSubDomains` or with `max-age` under a year.
    pub fn allow_nonstandard_hsts_preload(mut self) -> Self {
        self.inner.danger.odd_preload = true;
        self
    }

    /// Sends no `Content-Security-Policy` at all.
    pub fn without_content_security_policy(mut self) -> Self {
        self.inner.csp = None;
        self
    }

    /// Sends no HSTS.
    pub fn without_hsts(mut self) -> Self {
        self.inner.hsts = None;
        self
    }

    /// Stops sending one of the preset's simple headers (`X-Frame-Options`, `Cache-Control`…)
    /// or `Permissions-Policy`.
    pub fn without_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if name == "permissions-policy" {
            self.inner.permissions = None;
        }
        self.inner.headers.retain(|(n, _)| *n != name);
        self
    }

    /// Stops removing `name` from responses (e.g. to keep a `Server` header).
    pub fn keep_response_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.inner.removed.retain(|n| *n != name);
        self
    }

    /// Turns off cross-origin request protection (e.g. an API that only takes bearer tokens and
    /// is called cross-origin; prefer trusted origins).
    pub fn without_cross_origin_protection(mut self) -> Self {
        self.inner.cross_origin = CrossOriginProtectionLayer::disabled();
        self
    }

    /// Replaces the nonce randomness source (tests only: a predictable source makes nonces
    /// worthless).
    pub fn nonce_source(mut self, source: impl NonceSource) -> Self {
        self.inner.nonce_source = Arc::new(source);
        self
    }

    /// Back to the ordinary builder.
    pub fn end(self) -> SecurityHeadersBuilder {
        self.inner
    }

    /// Validates and builds the layer (see [`SecurityHeadersBuilder::build`]).
    ///
    /// # Errors
    /// As [`SecurityHeadersBuilder::build`].
    pub fn build(self) -> Result<SecurityHeadersLayer, ConfigError> {
        self.inner.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert!(validate_endpoint("/reports", false).is_ok());
        assert!(validate_endpoint("https://r.example/c", false).is_ok());
        assert!(validate_endpoint("http://r.example/c", false).is_err());
        assert!(validate_endpoint("http://localhost:8080/c", false).is_err());
        assert!(validate_endpoint("http://localhost:8080/c", true).is_ok());
        assert!(validate_endpoint("//r.example", false).is_err());
        assert!(validate_endpoint("/a b", false).is_err());
        assert!(validate_endpoint("/a\"b", false).is_err());
        assert!(validate_endpoint("ftp://x", false).is_err());
        assert!(validate_endpoint("https://", false).is_err());
    }

    #[test]
    fn values() {
        assert!(parse_value("x", "ok value").is_ok());
        assert!(parse_value("x", " lead").is_err());
        assert!(parse_value("x", "nl\nx").is_err());
        assert!(parse_value("x", "").is_err());
        assert!(parse_name("bad name").is_err());
    }
}
