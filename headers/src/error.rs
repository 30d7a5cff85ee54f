//! The one configuration error of this crate.

use std::fmt;

/// Why a layer could not be built.
///
/// Every builder in this crate validates its whole configuration when it is turned into a layer
/// (`build()`, or the fallible `Result<Self, ConfigError>` setters of the smaller layers), so a
/// bad or unsafe setting stops the service at start-up instead of weakening it at run time.
///
/// The message says what is wrong, why it matters and what to do instead. It never contains a
/// secret: the values it quotes are configuration, not request data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A header name is not a valid HTTP field name.
    InvalidHeaderName {
        /// The offending name.
        name: String,
    },
    /// A header value contains bytes that are not allowed in an HTTP field value.
    InvalidHeaderValue {
        /// The header the value was meant for.
        name: String,
    },
    /// A security header was passed to the generic `header()` setter; it has a typed setter
    /// that validates it.
    UseTypedSetter {
        /// The header name.
        name: &'static str,
        /// The builder method to use instead.
        setter: &'static str,
    },
    /// `header()` tried to change a header whose one safe value the presets send.
    FixedPresetHeader {
        /// The header name.
        name: &'static str,
    },
    /// `force()` named a header the layer does not set.
    ForceUnknownHeader {
        /// The header name.
        name: String,
    },
    /// A Content-Security-Policy could not be parsed or contains an invalid token.
    InvalidCsp {
        /// The directive or token at fault.
        token: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A Content-Security-Policy directive name is not one browsers know.
    UnknownCspDirective {
        /// The directive name.
        directive: String,
    },
    /// The same Content-Security-Policy directive appears twice (browsers silently ignore the
    /// second one).
    DuplicateCspDirective {
        /// The directive name.
        directive: String,
    },
    /// A script directive allows `'unsafe-inline'`, which lets any injected `<script>` run.
    CspUnsafeInline {
        /// The directive that allows it.
        directive: String,
    },
    /// A script directive allows `'unsafe-eval'`, which turns string injection into code
    /// execution.
    CspUnsafeEval {
        /// The directive that allows it.
        directive: String,
    },
    /// A script directive allows scripts from any host (`*`, `https:`, `http:`, `data:`,
    /// `blob:`) without `'strict-dynamic'`.
    CspWildcardScriptSource {
        /// The directive.
        directive: String,
        /// The source expression at fault.
        source: String,
    },
    /// A fixed `'nonce-…'` value was written into the policy. A nonce that does not change per
    /// response is known to the attacker too.
    CspStaticNonce {
        /// The directive that contains it.
        directive: String,
    },
    /// The enforced policy lacks a directive that the paved presets require.
    CspMissingDirective {
        /// The directive that is missing or too weak.
        directive: &'static str,
        /// What it should say.
        expected: &'static str,
    },
    /// HSTS `max-age` is below six months.
    HstsMaxAgeTooShort {
        /// The configured value in seconds.
        max_age: u64,
        /// The minimum in seconds.
        minimum: u64,
    },
    /// HSTS `preload` was requested without `includeSubDomains`.
    HstsPreloadWithoutSubdomains,
    /// HSTS `preload` was requested with a `max-age` below one year.
    HstsPreloadMaxAgeTooShort {
        /// The configured value in seconds.
        max_age: u64,
    },
    /// A reporting endpoint is not an `https://` URL or a path.
    InvalidReportEndpoint {
        /// The configured endpoint.
        endpoint: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A trusted proxy address is neither an IP address nor a CIDR range.
    InvalidProxyAddress {
        /// The configured value.
        value: String,
    },
    /// A Permissions-Policy feature or origin is malformed.
    InvalidPermissionsPolicy {
        /// The feature or origin at fault.
        token: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An origin (trusted origin, CORS origin) is not in the exact form a browser sends.
    InvalidOrigin {
        /// The configured origin.
        origin: String,
        /// What is wrong with it and how to write it.
        reason: &'static str,
    },
    /// A cross-origin protection bypass pattern is malformed.
    InvalidBypassPattern {
        /// The configured pattern.
        pattern: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// CORS: credentials were allowed together with a wildcard (`*`) or a wildcard-subdomain
    /// origin.
    CorsWildcardWithCredentials {
        /// What is a wildcard (`origin`, `origin pattern https://*.example.com`…).
        what: String,
    },
    /// CORS: `*` was given as an origin through the list setter.
    CorsAnyOriginNeedsOptIn,
    /// CORS: the layer allows no origin at all.
    CorsNoOrigin,
    /// CORS: an allowed origin uses plain `http://` on a non-loopback host.
    CorsInsecureOrigin {
        /// The configured origin.
        origin: String,
    },
    /// A cookie name given to the cookie hardening layer is not a valid cookie name.
    InvalidCookieName {
        /// The configured name.
        name: String,
    },
    /// A setting that `dev()` refuses (HSTS would pin `localhost` to https for years).
    DevPresetSetting {
        /// The builder method.
        setting: &'static str,
    },
    /// A report collector limit is zero.
    InvalidLimit {
        /// The limit.
        name: &'static str,
    },
}

impl fmt::Display for ConfigError {
    #[allow(clippy::too_many_lines)]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidHeaderName { name } => {
                write!(f, "{name:?} is not a valid HTTP header name")
            }
            Self::InvalidHeaderValue { name } => write!(
                f,
                "the value for header {name:?} contains characters not allowed in a header \
                 (control characters or non-visible bytes); write it as visible ASCII"
            ),
            Self::FixedPresetHeader { name } => write!(
                f,
                "{name} has one safe value, which the preset already sends; `header()` cannot \
                 change it (remove it with `dangerous().without_header({name:?})` if you must)"
            ),
            Self::UseTypedSetter { name, setter } => write!(
                f,
                "{name} is a security header with its own validation; set it with \
                 `{setter}` instead of `header()`"
            ),
            Self::ForceUnknownHeader { name } => write!(
                f,
                "`force({name:?})` names a header this layer does not set; configure the header \
                 first, then mark it forced"
            ),
            Self::InvalidCsp { token, reason } => {
                write!(f, "invalid Content-Security-Policy at {token:?}: {reason}")
            }
            Self::UnknownCspDirective { directive } => write!(
                f,
                "unknown Content-Security-Policy directive {directive:?}: browsers ignore unknown \
                 directives, so a typo silently weakens the policy; fix the name, or if it is a \
                 directive newer than this crate, opt in with \
                 `.dangerous().allow_unknown_csp_directives()`"
            ),
            Self::DuplicateCspDirective { directive } => write!(
                f,
                "Content-Security-Policy directive {directive:?} appears twice; browsers apply \
                 only the first one, so merge the source lists into one directive"
            ),
            Self::CspUnsafeInline { directive } => write!(
                f,
                "Content-Security-Policy {directive} allows 'unsafe-inline', which lets any \
                 injected <script> or event handler run and defeats the nonce; remove it and put \
                 `nonce=\"{{CspNonce}}\"` on your own inline scripts, or opt in with \
                 `.dangerous().allow_unsafe_inline_scripts()`"
            ),
            Self::CspUnsafeEval { directive } => write!(
                f,
                "Content-Security-Policy {directive} allows 'unsafe-eval', which turns any \
                 string injection into code execution (eval, new Function, string timers); \
                 remove it (use 'wasm-unsafe-eval' if you only need WebAssembly), or opt in \
                 with `.dangerous().allow_unsafe_eval()`"
            ),
            Self::CspWildcardScriptSource { directive, source } => write!(
                f,
                "Content-Security-Policy {directive} allows scripts from {source:?}, that is \
                 from hosts an attacker can control; list exact hosts, use the nonce with \
                 'strict-dynamic', or opt in with `.dangerous().allow_wildcard_script_sources()`"
            ),
            Self::CspStaticNonce { directive } => write!(
                f,
                "Content-Security-Policy {directive} contains a fixed 'nonce-…' value; a nonce \
                 that does not change per response is as good as 'unsafe-inline'. Write \
                 `ContentSecurityPolicy::NONCE` (the placeholder 'nonce') and the layer puts a \
                 fresh nonce into every response"
            ),
            Self::CspMissingDirective {
                directive,
                expected,
            } => write!(
                f,
                "the enforced Content-Security-Policy has no usable `{directive}` directive \
                 (expected {expected}; ASVS 5.0 V3.4.3/V3.4.6); add it, or opt in with \
                 `.dangerous().allow_incomplete_csp()`"
            ),
            Self::HstsMaxAgeTooShort { max_age, minimum } => write!(
                f,
                "HSTS max-age={max_age} is shorter than {minimum} seconds (six months): a short \
                 max-age lets the protection lapse between visits; use `Hsts::two_years()` or \
                 at least {minimum}, or opt in with `.dangerous().allow_short_hsts()`"
            ),
            Self::HstsPreloadWithoutSubdomains => write!(
                f,
                "HSTS `preload` without `includeSubDomains` is refused by the browsers' preload \
                 list; add `.include_subdomains(true)`, or opt in with \
                 `.dangerous().allow_nonstandard_hsts_preload()`"
            ),
            Self::HstsPreloadMaxAgeTooShort { max_age } => write!(
                f,
                "HSTS `preload` needs max-age of at least 31536000 (one year), got {max_age}; \
                 raise it, or opt in with `.dangerous().allow_nonstandard_hsts_preload()`"
            ),
            Self::InvalidReportEndpoint { endpoint, reason } => write!(
                f,
                "invalid reporting endpoint {endpoint:?}: {reason}; use an absolute `https://` \
                 URL or a path starting with `/`"
            ),
            Self::InvalidProxyAddress { value } => write!(
                f,
                "trusted proxy {value:?} is neither an IP address (`10.0.0.7`, `::1`) nor a CIDR \
                 range (`10.0.0.0/8`)"
            ),
            Self::InvalidPermissionsPolicy { token, reason } => {
                write!(f, "invalid Permissions-Policy entry {token:?}: {reason}")
            }
            Self::InvalidOrigin { origin, reason } => {
                write!(f, "invalid origin {origin:?}: {reason}")
            }
            Self::InvalidBypassPattern { pattern, reason } => write!(
                f,
                "invalid bypass pattern {pattern:?}: {reason} (form: `[METHOD ]/path/{{name}}/…`, \
                 a trailing `/` matches the subtree)"
            ),
            Self::CorsWildcardWithCredentials { what } => write!(
                f,
                "CORS with credentials cannot allow a wildcard {what}: any site matching it could \
                 read your users' authenticated responses; list the exact origins"
            ),
            Self::CorsAnyOriginNeedsOptIn => write!(
                f,
                "CORS origin `*` lets every site read the responses; if they are public and \
                 never depend on cookies, opt in with `.dangerous().allow_any_origin()`, \
                 otherwise list the exact origins"
            ),
            Self::CorsNoOrigin => write!(
                f,
                "CORS layer allows no origin; add one with `.allow_origin(\"https://app.example\")` \
                 or leave the layer out (same-origin requests need no CORS)"
            ),
            Self::CorsInsecureOrigin { origin } => write!(
                f,
                "CORS origin {origin:?} uses plain http on a non-loopback host, so a network \
                 attacker can act as it; use https, or opt in with \
                 `.dangerous().allow_insecure_origin()`"
            ),
            Self::InvalidCookieName { name } => write!(
                f,
                "{name:?} is not a valid cookie name (RFC 6265 token: visible ASCII without \
                 separators)"
            ),
            Self::DevPresetSetting { setting } => write!(
                f,
                "the dev() preset refuses `{setting}`: HSTS on localhost pins every local \
                 service on that host name to https in your browser for the max-age; use web() \
                 or api() where HSTS belongs"
            ),
            Self::InvalidLimit { name } => write!(f, "limit `{name}` must be greater than zero"),
        }
    }
}

impl std::error::Error for ConfigError {}
