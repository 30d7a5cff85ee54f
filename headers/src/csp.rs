//! Content-Security-Policy: a validated, ordered list of directives with a nonce placeholder.
//!
//! A policy is written once, at start-up, and checked when the layer is built: syntax (no
//! separators or control characters inside tokens, known directive names and keywords), and
//! safety for the enforced policy (no `'unsafe-inline'`, `'unsafe-eval'` or wildcard script
//! sources, no fixed nonce, `object-src 'none'`, `base-uri` and `frame-ancestors` present). The
//! source [`ContentSecurityPolicy::NONCE`] (`'nonce'`) stands for the per-response nonce: the
//! layer renders it as `'nonce-<fresh value>'` in each response.
//!
//! # Example
//! ```
//! use paved_headers::csp::ContentSecurityPolicy;
//!
//! let csp = ContentSecurityPolicy::strict()
//!     .add_source("img-src", "https://images.example.com")
//!     .directive("connect-src", ["'self'", "https://api.example.com"]);
//! assert!(csp.to_string().contains("script-src 'nonce' 'strict-dynamic'"));
//! assert!(csp.to_string().contains("img-src 'self' https://images.example.com"));
//!
//! let parsed = ContentSecurityPolicy::parse("default-src 'none'; frame-ancestors 'none'")?;
//! assert_eq!(parsed, ContentSecurityPolicy::api());
//! # Ok::<_, paved_headers::ConfigError>(())
//! ```

use std::fmt;

use bytes::Bytes;
use http::HeaderValue;

use crate::error::ConfigError;
use crate::nonce::CspNonce;

/// Directive names browsers know (CSP Level 3, Trusted Types, Fenced Frames, legacy ones that
/// still appear in deployed policies).
const KNOWN_DIRECTIVES: &[&str] = &[
    "base-uri",
    "block-all-mixed-content",
    "child-src",
    "connect-src",
    "default-src",
    "fenced-frame-src",
    "font-src",
    "form-action",
    "frame-ancestors",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "prefetch-src",
    "report-to",
    "report-uri",
    "require-trusted-types-for",
    "sandbox",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "trusted-types",
    "upgrade-insecure-requests",
    "webrtc",
    "worker-src",
];

/// Fetch directives that fall back to `default-src`.
const FETCH_DIRECTIVES: &[&str] = &[
    "child-src",
    "connect-src",
    "fenced-frame-src",
    "font-src",
    "frame-src",
    "img-src",
    "manifest-src",
    "media-src",
    "object-src",
    "prefetch-src",
    "script-src",
    "script-src-attr",
    "script-src-elem",
    "style-src",
    "style-src-attr",
    "style-src-elem",
    "worker-src",
];

/// Quoted keywords browsers know.
const KNOWN_KEYWORDS: &[&str] = &[
    "'self'",
    "'none'",
    "'unsafe-inline'",
    "'unsafe-eval'",
    "'strict-dynamic'",
    "'unsafe-hashes'",
    "'report-sample'",
    "'wasm-unsafe-eval'",
    "'unsafe-allow-redirects'",
    "'inline-speculation-rules'",
    "'script'",
    "'allow-duplicates'",
    "'allow'",
    "'block'",
];

/// Directives that decide which scripts run.
const SCRIPT_DIRECTIVES: &[&str] = &["script-src", "script-src-elem", "script-src-attr"];

/// The name of the reporting group the layer declares in `Reporting-Endpoints` and names in
/// `report-to`.
pub const REPORT_GROUP: &str = "csp-endpoint";

#[derive(Clone, Debug, PartialEq, Eq)]
struct Directive {
    name: String,
    sources: Vec<String>,
}

/// A Content-Security-Policy, built in code or parsed from its header form.
///
/// Setters never fail; the policy is validated when the layer that sends it is built, so the
/// error reaches you at start-up with the reason and the fix. Directive names are stored in
/// lower case, in the order they were added.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ContentSecurityPolicy {
    directives: Vec<Directive>,
}

impl ContentSecurityPolicy {
    /// The placeholder for the per-response nonce. The layer renders it as `'nonce-<value>'`.
    pub const NONCE: &'static str = "'nonce'";

    /// An empty policy.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The strict nonce-based policy of the `web()` preset (the shape recommended by the W3C
    /// CSP3 "strict CSP" note and Google's CSP evaluator):
    ///
    /// `default-src 'self'; script-src 'nonce' 'strict-dynamic'; style-src 'self' 'nonce';
    /// object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self';
    /// upgrade-insecure-requests`
    ///
    /// Every `<script>` needs the response's nonce (scripts it loads inherit trust through
    /// `'strict-dynamic'`); inline `<style>` needs it too, stylesheets from the same origin do
    /// not.
    #[must_use]
    pub fn strict() -> Self {
        Self::new()
            .directive("default-src", ["'self'"])
            .directive("script-src", [Self::NONCE, "'strict-dynamic'"])
            .directive("style-src", ["'self'", Self::NONCE])
            .directive("object-src", ["'none'"])
            .directive("base-uri", ["'none'"])
            .directive("frame-ancestors", ["'none'"])
            .directive("form-action", ["'self'"])
            .directive("upgrade-insecure-requests", std::iter::empty::<&str>())
    }

    /// The policy of the `api()` preset: `default-src 'none'; frame-ancestors 'none'` — a JSON
    /// response rendered by mistake as a document can load nothing and cannot be framed.
    #[must_use]
    pub fn api() -> Self {
        Self::new()
            .directive("default-src", ["'none'"])
            .directive("frame-ancestors", ["'none'"])
    }

    /// Parses a policy in header form (`name source source; name source`).
    ///
    /// The placeholder [`NONCE`](Self::NONCE) may be used as a source.
    ///
    /// # Errors
    /// [`ConfigError::InvalidCsp`] for a comma (which would start a second policy) or a token
    /// that is not visible ASCII, [`ConfigError::DuplicateCspDirective`] for a repeated
    /// directive. Directive names and keywords are checked later, when the layer is built.
    pub fn parse(policy: &str) -> Result<Self, ConfigError> {
        let mut out = Self::new();
        for part in policy.split(';') {
            let mut tokens = part.split_ascii_whitespace();
            let Some(name) = tokens.next() else { continue };
            let name = name.to_ascii_lowercase();
            check_token(&name)?;
            if out.position(&name).is_some() {
                return Err(ConfigError::DuplicateCspDirective { directive: name });
            }
            let mut sources = Vec::new();
            for token in tokens {
                check_token(token)?;
                sources.push(token.to_owned());
            }
            out.directives.push(Directive { name, sources });
        }
        Ok(out)
    }

    /// Sets directive `name` to exactly `sources`, replacing it if present (its position is
    /// kept) or appending it.
    #[must_use]
    pub fn directive<I, T>(mut self, name: &str, sources: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        let name = name.to_ascii_lowercase();
        let sources: Vec<String> = sources.into_iter().map(Into::into).collect();
        match self.position(&name) {
            Some(i) => self.directives[i].sources = sources,
            None => self.directives.push(Directive { name, sources }),
        }
        self
    }

    /// Adds one source to directive `name`.
    ///
    /// If the directive is absent and is a fetch directive (`img-src`, `connect-src`, …), it
    /// starts as a copy of `default-src` (without `'none'`), so adding a CDN to `img-src` does
    /// not silently drop `'self'`.
    #[must_use]
    pub fn add_source(mut self, name: &str, source: impl Into<String>) -> Self {
        let name = name.to_ascii_lowercase();
        let source = source.into();
        if let Some(i) = self.position(&name) {
            let sources = &mut self.directives[i].sources;
            sources.retain(|s| s != "'none'");
            if !sources.contains(&source) {
                sources.push(source);
            }
            return self;
        }
        let mut sources: Vec<String> = if FETCH_DIRECTIVES.contains(&name.as_str()) {
            self.get("default-src")
                .unwrap_or_default()
                .iter()
                .filter(|s| *s != "'none'")
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if !sources.contains(&source) {
            sources.push(source);
        }
        self.directives.push(Directive { name, sources });
        self
    }

    /// Removes directive `name`.
    #[must_use]
    pub fn remove_directive(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.directives.retain(|d| d.name != name);
        self
    }

    /// The sources of directive `name`, if present.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[String]> {
        let name = name.to_ascii_lowercase();
        self.position(&name)
            .map(|i| self.directives[i].sources.as_slice())
    }

    /// Whether the policy uses the per-response nonce.
    #[must_use]
    pub fn uses_nonce(&self) -> bool {
        self.directives
            .iter()
            .any(|d| d.sources.iter().any(|s| s == Self::NONCE))
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.directives.iter().position(|d| d.name == name)
    }

    fn has(&self, name: &str, source: &str) -> bool {
        self.get(name)
            .is_some_and(|s| s.iter().any(|x| x.eq_ignore_ascii_case(source)))
    }

    fn is_exactly_none(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|s| s.len() == 1 && s[0] == "'none'")
    }

    /// The policy with every nonce placeholder removed (a directive left empty becomes
    /// `'none'`).
    fn without_nonce_sources(&self) -> Self {
        let mut out = self.clone();
        for d in &mut out.directives {
            if d.sources.iter().any(|s| s == Self::NONCE) {
                d.sources.retain(|s| s != Self::NONCE);
                if d.sources.is_empty() || d.sources.iter().all(|s| s == "'strict-dynamic'") {
                    d.sources = vec!["'none'".to_owned()];
                }
            }
        }
        out
    }

    /// Syntax checks that apply to every policy, enforced or report-only.
    pub(crate) fn check_syntax(&self, allow_unknown: bool) -> Result<(), ConfigError> {
        let mut seen: Vec<&str> = Vec::with_capacity(self.directives.len());
        for d in &self.directives {
            check_token(&d.name)?;
            if !d.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                return Err(ConfigError::InvalidCsp {
                    token: d.name.clone(),
                    reason: "a directive name has only letters and `-`",
                });
            }
            if !allow_unknown && !KNOWN_DIRECTIVES.contains(&d.name.as_str()) {
                return Err(ConfigError::UnknownCspDirective {
                    directive: d.name.clone(),
                });
            }
            if seen.contains(&d.name.as_str()) {
                return Err(ConfigError::DuplicateCspDirective {
                    directive: d.name.clone(),
                });
            }
            seen.push(&d.name);
            for s in &d.sources {
                check_token(s)?;
                check_quoted(&d.name, s)?;
            }
        }
        Ok(())
    }

    /// Safety checks for the enforced policy.
    pub(crate) fn check_safety(&self, allow: CspAllowances) -> Result<(), ConfigError> {
        let script_src_present = self.get("script-src").is_some();
        let mut governing: Vec<&Directive> = self
            .directives
            .iter()
            .filter(|d| SCRIPT_DIRECTIVES.contains(&d.name.as_str()))
            .collect();
        if !script_src_present && let Some(i) = self.position("default-src") {
            governing.push(&self.directives[i]);
        }
        for d in governing {
            let strict_dynamic = d.sources.iter().any(|s| s == "'strict-dynamic'");
            for s in &d.sources {
                let lower = s.to_ascii_lowercase();
                if lower == "'unsafe-inline'" && !allow.unsafe_inline {
                    return Err(ConfigError::CspUnsafeInline {
                        directive: d.name.clone(),
                    });
                }
                if lower == "'unsafe-eval'" && !allow.unsafe_eval {
                    return Err(ConfigError::CspUnsafeEval {
                        directive: d.name.clone(),
                    });
                }
                let wildcard = matches!(
                    lower.as_str(),
                    "*" | "http:" | "https:" | "data:" | "blob:" | "filesystem:" | "ws:" | "wss:"
                ) || lower.starts_with('*')
                    || lower.starts_with("http://*")
                    || lower.starts_with("https://*");
                if wildcard && !strict_dynamic && !allow.wildcard_scripts {
                    return Err(ConfigError::CspWildcardScriptSource {
                        directive: d.name.clone(),
                        source: s.clone(),
                    });
                }
            }
        }
        for d in &self.directives {
            if d.sources
                .iter()
                .any(|s| s.len() > 7 && s[..7].eq_ignore_ascii_case("'nonce-"))
            {
                return Err(ConfigError::CspStaticNonce {
                    directive: d.name.clone(),
                });
            }
        }
        if allow.incomplete {
            return Ok(());
        }
        if self.get("frame-ancestors").is_none() {
            return Err(ConfigError::CspMissingDirective {
                directive: "frame-ancestors",
                expected: "'none', 'self' or the hosts allowed to frame you",
            });
        }
        let object_none = if self.get("object-src").is_some() {
            self.is_exactly_none("object-src")
        } else {
            self.is_exactly_none("default-src")
        };
        if !object_none {
            return Err(ConfigError::CspMissingDirective {
                directive: "object-src",
                expected: "'none'",
            });
        }
        // Scripts are disabled when every directive that governs them is exactly 'none'.
        let scripts_disabled = {
            let mut names: Vec<&str> = SCRIPT_DIRECTIVES
                .iter()
                .copied()
                .filter(|n| self.get(n).is_some())
                .collect();
            if !script_src_present {
                names.push("default-src");
            }
            names.iter().all(|n| self.is_exactly_none(n))
        };
        if !(scripts_disabled || self.has("base-uri", "'none'") || self.has("base-uri", "'self'")) {
            return Err(ConfigError::CspMissingDirective {
                directive: "base-uri",
                expected: "'none' or 'self'",
            });
        }
        Ok(())
    }

    /// The part of the policy that stays enforced while the full policy runs report-only:
    /// framing, plugins, `<base>` and mixed-content upgrades, which do not break pages.
    pub(crate) fn baseline(&self) -> Self {
        let mut out = Self::new();
        for name in ["frame-ancestors", "base-uri", "upgrade-insecure-requests"] {
            if let Some(s) = self.get(name) {
                out = out.directive(name, s.iter().cloned());
            }
        }
        let object_none = self.is_exactly_none("object-src")
            || (self.get("object-src").is_none() && self.is_exactly_none("default-src"));
        if object_none {
            out = out.directive("object-src", ["'none'"]);
        }
        out
    }

    /// Renders the policy into a template, adding the reporting directives and, for `dev()`,
    /// dropping `upgrade-insecure-requests`.
    pub(crate) fn render(
        &self,
        report_uri: Option<&str>,
        drop_upgrade: bool,
    ) -> Result<CspTemplate, ConfigError> {
        let mut segments: Vec<Vec<u8>> = vec![Vec::new()];
        let mut first = true;
        let mut push_dir = |segments: &mut Vec<Vec<u8>>, name: &str, sources: &[String]| {
            let cur = segments.last_mut();
            if let Some(cur) = cur {
                if !first {
                    cur.extend_from_slice(b"; ");
                }
                cur.extend_from_slice(name.as_bytes());
            }
            first = false;
            for s in sources {
                if s == Self::NONCE {
                    if let Some(cur) = segments.last_mut() {
                        cur.extend_from_slice(b" 'nonce-");
                    }
                    segments.push(b"'".to_vec());
                } else if let Some(cur) = segments.last_mut() {
                    cur.push(b' ');
                    cur.extend_from_slice(s.as_bytes());
                }
            }
        };
        for d in &self.directives {
            if drop_upgrade && d.name == "upgrade-insecure-requests" {
                continue;
            }
            if report_uri.is_some() && (d.name == "report-to" || d.name == "report-uri") {
                continue;
            }
            push_dir(&mut segments, &d.name, &d.sources);
        }
        if let Some(uri) = report_uri {
            push_dir(&mut segments, "report-to", &[REPORT_GROUP.to_owned()]);
            push_dir(&mut segments, "report-uri", &[uri.to_owned()]);
        }
        if segments.len() == 1 {
            let bytes = segments.pop().unwrap_or_default();
            let text = String::from_utf8(bytes).map_err(|_| ConfigError::InvalidHeaderValue {
                name: "content-security-policy".to_owned(),
            })?;
            let value =
                crate::intern::value(&text).ok_or_else(|| ConfigError::InvalidHeaderValue {
                    name: "content-security-policy".to_owned(),
                })?;
            return Ok(CspTemplate::Static(value));
        }
        // Validate once with a representative nonce so rendering per response cannot fail.
        let len = segments.iter().map(Vec::len).sum::<usize>()
            + (segments.len() - 1) * crate::nonce::NONCE_LEN;
        let segments: Box<[Bytes]> = segments.into_iter().map(Bytes::from).collect();
        let probe = [b'A'; crate::nonce::NONCE_LEN];
        if HeaderValue::from_maybe_shared(join(&segments, len, &probe)).is_err() {
            return Err(ConfigError::InvalidHeaderValue {
                name: "content-security-policy".to_owned(),
            });
        }
        // For responses the layer makes itself (refusals), which have no nonce: the same
        // policy with the nonce sources dropped, so no inline code is allowed.
        let without_nonce = self.without_nonce_sources();
        let fallback = match without_nonce.render(report_uri, drop_upgrade)? {
            CspTemplate::Static(v) => v,
            CspTemplate::WithNonce { .. } => HeaderValue::from_static("default-src 'none'"),
        };
        let template = CspTemplate::WithNonce {
            segments,
            len,
            fallback,
        };
        Ok(template)
    }
}

impl fmt::Display for ContentSecurityPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.directives.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&d.name)?;
            for s in &d.sources {
                write!(f, " {s}")?;
            }
        }
        Ok(())
    }
}

/// Which safety checks the `dangerous()` builder lifted.
#[derive(Clone, Copy, Debug, Default)]
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct CspAllowances {
    pub(crate) unsafe_inline: bool,
    pub(crate) unsafe_eval: bool,
    pub(crate) wildcard_scripts: bool,
    pub(crate) incomplete: bool,
    pub(crate) unknown_directives: bool,
}

/// A policy ready for responses: either one prebuilt value or segments around the nonce.
#[derive(Clone, Debug)]
pub(crate) enum CspTemplate {
    Static(HeaderValue),
    WithNonce {
        segments: Box<[Bytes]>,
        len: usize,
        /// The policy without its nonce sources, for responses that have no nonce.
        fallback: HeaderValue,
    },
}

fn join(segments: &[Bytes], len: usize, nonce: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(len);
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(nonce);
        }
        out.extend_from_slice(seg);
    }
    Bytes::from(out)
}

impl CspTemplate {
    pub(crate) fn uses_nonce(&self) -> bool {
        matches!(self, Self::WithNonce { .. })
    }

    /// The value for one response; without a nonce, the policy minus its nonce sources.
    pub(crate) fn value(&self, nonce: Option<&CspNonce>) -> HeaderValue {
        match (self, nonce) {
            (Self::Static(v), _) => v.clone(),
            (
                Self::WithNonce {
                    segments,
                    len,
                    fallback,
                },
                Some(n),
            ) => HeaderValue::from_maybe_shared(join(segments, *len, n.as_bytes()))
                .unwrap_or_else(|_| fallback.clone()),
            (Self::WithNonce { fallback, .. }, None) => fallback.clone(),
        }
    }
}

fn check_token(token: &str) -> Result<(), ConfigError> {
    if token.is_empty() {
        return Err(ConfigError::InvalidCsp {
            token: String::new(),
            reason: "empty token",
        });
    }
    if token.contains(',') {
        return Err(ConfigError::InvalidCsp {
            token: token.to_owned(),
            reason: "a comma starts a second policy; send another policy as its own header",
        });
    }
    if !token
        .bytes()
        .all(|b| (0x21..=0x7e).contains(&b) && b != b';')
    {
        return Err(ConfigError::InvalidCsp {
            token: token.to_owned(),
            reason: "tokens are visible ASCII without `;` (encode non-ASCII hosts as punycode)",
        });
    }
    Ok(())
}

fn check_quoted(directive: &str, source: &str) -> Result<(), ConfigError> {
    if !source.starts_with('\'') {
        if source.contains('\'') {
            return Err(ConfigError::InvalidCsp {
                token: source.to_owned(),
                reason: "stray quote in a source expression",
            });
        }
        return Ok(());
    }
    let lower = source.to_ascii_lowercase();
    if source == ContentSecurityPolicy::NONCE {
        if !FETCH_DIRECTIVES.contains(&directive) && directive != "default-src" {
            return Err(ConfigError::InvalidCsp {
                token: format!("{directive} {source}"),
                reason: "the nonce placeholder only makes sense in a fetch directive",
            });
        }
        return Ok(());
    }
    if KNOWN_KEYWORDS.contains(&lower.as_str()) {
        return Ok(());
    }
    let hashed = ["'sha256-", "'sha384-", "'sha512-", "'nonce-"]
        .iter()
        .any(|p| lower.starts_with(p));
    if hashed && lower.len() > 9 && lower.ends_with('\'') {
        let inner = &source[source.find('-').map_or(0, |i| i + 1)..source.len() - 1];
        if !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
        {
            return Ok(());
        }
    }
    Err(ConfigError::InvalidCsp {
        token: source.to_owned(),
        reason: "unknown quoted keyword (known: 'self', 'none', 'strict-dynamic', 'nonce', \
                 'sha256-…', 'report-sample', 'wasm-unsafe-eval', …)",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict_ok(p: &ContentSecurityPolicy) -> Result<(), ConfigError> {
        p.check_syntax(false)?;
        p.check_safety(CspAllowances::default())
    }

    #[test]
    fn presets_pass_their_own_checks() {
        strict_ok(&ContentSecurityPolicy::strict()).unwrap();
        strict_ok(&ContentSecurityPolicy::api()).unwrap();
    }

    #[test]
    fn parse_round_trips() {
        let s = "default-src 'self'; script-src 'nonce' 'strict-dynamic'; object-src 'none'";
        let p = ContentSecurityPolicy::parse(s).unwrap();
        assert_eq!(p.to_string(), s);
        assert!(ContentSecurityPolicy::parse("a b, c").is_err());
        assert!(matches!(
            ContentSecurityPolicy::parse("img-src a; img-src b"),
            Err(ConfigError::DuplicateCspDirective { .. })
        ));
    }

    #[test]
    fn unsafe_sources_are_refused() {
        let p = ContentSecurityPolicy::strict().add_source("script-src", "'unsafe-inline'");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspUnsafeInline { .. })
        ));
        let p = ContentSecurityPolicy::strict().add_source("script-src", "'unsafe-eval'");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspUnsafeEval { .. })
        ));
        let p = ContentSecurityPolicy::strict().directive("script-src", ["'self'", "https:"]);
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspWildcardScriptSource { .. })
        ));
        // With 'strict-dynamic' host/scheme sources are ignored by CSP3 browsers.
        let p = ContentSecurityPolicy::strict().add_source("script-src", "https:");
        strict_ok(&p).unwrap();
        // default-src governs scripts when script-src is absent.
        let p =
            ContentSecurityPolicy::api().directive("default-src", ["'self'", "'unsafe-inline'"]);
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspUnsafeInline { .. })
        ));
        let p = ContentSecurityPolicy::strict().add_source("script-src", "'nonce-abcdefgh'");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspStaticNonce { .. })
        ));
    }

    #[test]
    fn completeness_is_checked() {
        let p = ContentSecurityPolicy::strict().remove_directive("frame-ancestors");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspMissingDirective {
                directive: "frame-ancestors",
                ..
            })
        ));
        let p = ContentSecurityPolicy::strict().remove_directive("object-src");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspMissingDirective {
                directive: "object-src",
                ..
            })
        ));
        let p = ContentSecurityPolicy::strict().remove_directive("base-uri");
        assert!(matches!(
            strict_ok(&p),
            Err(ConfigError::CspMissingDirective {
                directive: "base-uri",
                ..
            })
        ));
    }

    #[test]
    fn syntax_is_checked() {
        let p = ContentSecurityPolicy::new().directive("scirpt-src", ["'self'"]);
        assert!(matches!(
            p.check_syntax(false),
            Err(ConfigError::UnknownCspDirective { .. })
        ));
        p.check_syntax(true).unwrap();
        let p = ContentSecurityPolicy::new().directive("img-src", ["'selff'"]);
        assert!(p.check_syntax(false).is_err());
        let p = ContentSecurityPolicy::new().directive("img-src", ["a;b"]);
        assert!(p.check_syntax(false).is_err());
        let p = ContentSecurityPolicy::new().directive("img-src", ["caf\u{e9}.example"]);
        assert!(p.check_syntax(false).is_err());
        let p = ContentSecurityPolicy::new().directive("img-src", ["'sha256-abc='"]);
        p.check_syntax(false).unwrap();
    }

    #[test]
    fn add_source_copies_default_src() {
        let p = ContentSecurityPolicy::strict().add_source("img-src", "https://cdn.example");
        assert_eq!(
            p.get("img-src").unwrap(),
            ["'self'".to_owned(), "https://cdn.example".to_owned()]
        );
    }

    #[test]
    fn render_splits_around_nonce() {
        let t = ContentSecurityPolicy::strict()
            .render(Some("/r"), true)
            .unwrap();
        assert!(t.uses_nonce());
        let n = CspNonce::generate(&crate::nonce::OsRandom::default()).unwrap();
        let v = t.value(Some(&n));
        let s = v.to_str().unwrap();
        assert_eq!(s.matches(n.as_str()).count(), 2);
        assert!(s.contains(&format!("script-src 'nonce-{n}' 'strict-dynamic'")));
        assert!(s.ends_with("report-to csp-endpoint; report-uri /r"));
        assert!(!s.contains("upgrade-insecure-requests"));
        let fallback = t.value(None);
        let fallback = fallback.to_str().unwrap();
        assert!(
            fallback.contains("script-src 'none'; style-src 'self';"),
            "{fallback}"
        );
        assert!(!fallback.contains("nonce"));
    }

    #[test]
    fn baseline_keeps_non_breaking_directives() {
        let b = ContentSecurityPolicy::strict().baseline();
        assert_eq!(
            b.to_string(),
            "frame-ancestors 'none'; base-uri 'none'; upgrade-insecure-requests; object-src 'none'"
        );
    }
}
