use std::fmt;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, header::Entry as MapEntry};
use tower::Layer;

use super::builder::SecurityHeadersBuilder;
use super::overrides::HeaderOverrides;
use super::service::SecurityHeaders;
use crate::cross_origin::CrossOriginProtectionLayer;
use crate::csp::CspTemplate;
use crate::nonce::{CspNonce, SharedNonceSource};
use crate::transport::HttpsDetection;

/// One prebuilt header.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) name: HeaderName,
    pub(crate) value: HeaderValue,
    pub(crate) force: bool,
}

/// One CSP header (enforced or report-only), static or rendered around the nonce.
#[derive(Clone, Debug)]
pub(crate) struct CspEntry {
    pub(crate) name: HeaderName,
    pub(crate) template: CspTemplate,
    pub(crate) force: bool,
}

/// Most CSP headers one layer sends (enforced + report-only).
pub(crate) const MAX_CSP_HEADERS: usize = 2;

/// Everything the service needs per request, built once.
pub(crate) struct Compiled {
    /// Static headers in configuration order (used when a response carries
    /// [`HeaderOverrides`]).
    pub(crate) static_headers: Box<[Entry]>,
    /// CSP headers (static or with a nonce).
    pub(crate) csp: Box<[CspEntry]>,
    pub(crate) hsts: Option<Entry>,
    /// All static headers and static CSP values, ready to clone (no hashing per request).
    pub(crate) template_plain: HeaderMap,
    /// `template_plain` plus HSTS.
    pub(crate) template_https: HeaderMap,
    /// Names the handler cannot override, for plain-http and https responses (HSTS is only
    /// forced where it is sent).
    pub(crate) forced_plain: Box<[HeaderName]>,
    pub(crate) forced_https: Box<[HeaderName]>,
    pub(crate) https: HttpsDetection,
    pub(crate) removed: Box<[HeaderName]>,
    pub(crate) loopback_only: bool,
    pub(crate) needs_nonce: bool,
    pub(crate) nonce_source: SharedNonceSource,
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compiled")
            .field("static_headers", &self.static_headers)
            .field("csp", &self.csp)
            .field("hsts", &self.hsts)
            .field("forced_https", &self.forced_https)
            .field("https", &self.https)
            .field("removed", &self.removed)
            .field("loopback_only", &self.loopback_only)
            .field("needs_nonce", &self.needs_nonce)
            .finish_non_exhaustive()
    }
}

#[inline]
fn put(
    headers: &mut HeaderMap,
    name: &HeaderName,
    force: bool,
    skip: Option<&HeaderOverrides>,
    value: impl FnOnce() -> Option<HeaderValue>,
) {
    if force {
        if let Some(v) = value() {
            headers.insert(name.clone(), v);
        }
        return;
    }
    if skip.is_some_and(|s| s.skips(name)) {
        return;
    }
    if let MapEntry::Vacant(slot) = headers.entry(name.clone())
        && let Some(v) = value()
    {
        slot.insert(v);
    }
}

impl Compiled {
    /// Builds the two templates from the prebuilt entries.
    pub(crate) fn templates(
        static_headers: &[Entry],
        csp: &[CspEntry],
        hsts: Option<&Entry>,
    ) -> (HeaderMap, HeaderMap) {
        // Room for the handler's headers and the nonce policies without rehashing.
        let capacity = static_headers.len() + csp.len() + 1 + 6;
        let mut plain = HeaderMap::with_capacity(capacity);
        for e in static_headers {
            plain.insert(e.name.clone(), e.value.clone());
        }
        for c in csp {
            if let CspTemplate::Static(v) = &c.template {
                plain.insert(c.name.clone(), v.clone());
            }
        }
        let mut https = HeaderMap::with_capacity(capacity);
        https.extend(plain.iter().map(|(k, v)| (k.clone(), v.clone())));
        if let Some(h) = hsts {
            https.insert(h.name.clone(), h.value.clone());
        }
        (plain, https)
    }

    /// Applies the configured headers to one response.
    ///
    /// Fast path: clone the prebuilt template and move the handler's headers into it (the
    /// handler's value replaces the template's unless forced), so the per-request hashing is
    /// proportional to the handler's few headers, not to the layer's list.
    pub(crate) fn apply(
        &self,
        headers: &mut HeaderMap,
        skip: Option<&HeaderOverrides>,
        nonce: Option<&CspNonce>,
        https: bool,
    ) {
        if skip.is_some() {
            self.apply_slow(headers, skip, nonce, https);
            return;
        }
        let handler = std::mem::take(headers);
        let (mut merged, forced) = if https {
            (self.template_https.clone(), &self.forced_https)
        } else {
            (self.template_plain.clone(), &self.forced_plain)
        };
        // The builder emits at most two CSP headers (enforced and report-only).
        let mut handler_set = [false; MAX_CSP_HEADERS];
        for (i, c) in self.csp.iter().enumerate().take(MAX_CSP_HEADERS) {
            if c.template.uses_nonce() {
                handler_set[i] = handler.contains_key(&c.name);
            }
        }
        let mut current: Option<HeaderName> = None;
        let mut keep = false;
        for (name, value) in handler {
            if let Some(name) = name {
                keep = !self.removed.contains(&name) && !forced.contains(&name);
                if keep {
                    merged.insert(name.clone(), value);
                }
                current = Some(name);
            } else if keep && let Some(name) = &current {
                merged.append(name.clone(), value);
            }
        }
        for (i, c) in self.csp.iter().enumerate() {
            if !c.template.uses_nonce()
                || (!c.force && handler_set.get(i).copied().unwrap_or(false))
            {
                continue;
            }
            merged.insert(c.name.clone(), c.template.value(nonce));
        }
        *headers = merged;
    }

    /// The same semantics header by header, for responses with [`HeaderOverrides`].
    fn apply_slow(
        &self,
        headers: &mut HeaderMap,
        skip: Option<&HeaderOverrides>,
        nonce: Option<&CspNonce>,
        https: bool,
    ) {
        for name in &*self.removed {
            if headers.contains_key(name) {
                headers.remove(name);
            }
        }
        for e in &*self.static_headers {
            put(headers, &e.name, e.force, skip, || Some(e.value.clone()));
        }
        for c in &*self.csp {
            put(headers, &c.name, c.force, skip, || {
                Some(c.template.value(nonce))
            });
        }
        if https && let Some(e) = &self.hsts {
            put(headers, &e.name, e.force, skip, || Some(e.value.clone()));
        }
    }
}

/// The security-headers layer. See the [module docs](crate::security_headers).
///
/// Cloning is cheap (two `Arc`s); the configuration is immutable once built.
#[derive(Clone)]
#[must_use]
pub struct SecurityHeadersLayer {
    compiled: Arc<Compiled>,
    cross_origin: CrossOriginProtectionLayer,
}

impl fmt::Debug for SecurityHeadersLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityHeadersLayer")
            .field("compiled", &self.compiled)
            .field("cross_origin", &self.cross_origin)
            .finish()
    }
}

impl SecurityHeadersLayer {
    pub(crate) fn new(compiled: Arc<Compiled>, cross_origin: CrossOriginProtectionLayer) -> Self {
        Self {
            compiled,
            cross_origin,
        }
    }

    /// Preset for JSON/HTTP APIs: `Content-Security-Policy: default-src 'none';
    /// frame-ancestors 'none'`, `Cache-Control: no-store`, `X-Content-Type-Options: nosniff`,
    /// `X-Frame-Options: DENY`, `Cross-Origin-Resource-Policy: same-origin`,
    /// `Referrer-Policy: no-referrer`, HSTS `max-age=63072000; includeSubDomains` on https,
    /// removal of `Server`/`X-Powered-By`, cross-origin request protection.
    pub fn api() -> SecurityHeadersBuilder {
        SecurityHeadersBuilder::api()
    }

    /// Preset for server-rendered sites: the strict nonce CSP
    /// ([`ContentSecurityPolicy::strict`](crate::csp::ContentSecurityPolicy::strict)), a fresh
    /// [`CspNonce`] per response, `Cross-Origin-Opener-Policy` and
    /// `Cross-Origin-Resource-Policy: same-origin`, `Origin-Agent-Cluster: ?1`,
    /// `Permissions-Policy` denying [powerful features](crate::permissions::POWERFUL_FEATURES),
    /// `Referrer-Policy: no-referrer`, HSTS `max-age=63072000; includeSubDomains` on https,
    /// `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `X-XSS-Protection: 0`,
    /// `X-DNS-Prefetch-Control: off`, `X-Download-Options: noopen`,
    /// `X-Permitted-Cross-Domain-Policies: none`, removal of `Server`/`X-Powered-By`,
    /// cross-origin request protection, and the reporting headers once
    /// [`report_to`](SecurityHeadersBuilder::report_to) is set.
    pub fn web() -> SecurityHeadersBuilder {
        SecurityHeadersBuilder::web()
    }

    /// Preset for local development: `web()` without HSTS and without
    /// `upgrade-insecure-requests`, and it **refuses** (403, fixed body) every request whose
    /// `Host`/`:authority` is not loopback (`localhost`, `*.localhost`, `127.0.0.0/8`,
    /// `[::1]`), so a dev build that reaches production fails loudly instead of serving with
    /// weaker headers.
    pub fn dev() -> SecurityHeadersBuilder {
        SecurityHeadersBuilder::dev()
    }
}

impl<S> Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders::new(self.cross_origin.layer(inner), Arc::clone(&self.compiled))
    }
}
