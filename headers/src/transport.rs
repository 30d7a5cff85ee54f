//! HSTS and deciding whether a request arrived over https.
//!
//! `Strict-Transport-Security` is only sent on responses to https requests (RFC 6797 §7.2:
//! a host must not include it in responses over plain http). How the layer knows a request was
//! https is configured, never guessed:
//!
//! - by default ([`HttpsDetection::Direct`]): the request URI has the `https` scheme (HTTP/2
//!   `:scheme`), or the server put a [`ServedOverTls`] marker into the request extensions;
//! - [`HttpsDetection::AlwaysTls`]: TLS always terminates in front of this service (a load
//!   balancer that only listens on 443), so every request is https;
//! - [`HttpsDetection::TrustedProxies`]: `X-Forwarded-Proto` or `Forwarded: proto=` is believed
//!   only when the TCP peer (from [`PeerAddr`] or axum's `ConnectInfo<SocketAddr>`) is one of the
//!   configured proxy addresses. From anyone else the header is ignored.

use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Request};

use crate::error::ConfigError;
use crate::origin::IpRange;

/// The shortest HSTS `max-age` accepted without `dangerous()`: 180 days (the MDN HTTP
/// Observatory's threshold; OWASP recommends two years, ASVS 5.0 V3.4.1 one year).
pub const MIN_HSTS_MAX_AGE: u64 = 15_552_000;

/// One year, the `max-age` floor of the browsers' HSTS preload list (hstspreload.org).
pub const PRELOAD_MIN_MAX_AGE: u64 = 31_536_000;

/// Two years, the `max-age` of the presets (OWASP HTTP headers cheat sheet).
pub const TWO_YEARS: u64 = 63_072_000;

/// A `Strict-Transport-Security` policy.
///
/// ```
/// use paved_headers::Hsts;
///
/// assert_eq!(Hsts::two_years().to_string(), "max-age=63072000; includeSubDomains");
/// assert_eq!(
///     Hsts::two_years().preload().to_string(),
///     "max-age=63072000; includeSubDomains; preload"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hsts {
    max_age: u64,
    include_subdomains: bool,
    preload: bool,
}

impl Hsts {
    /// `max-age=63072000; includeSubDomains` (the presets' value).
    #[must_use]
    pub const fn two_years() -> Self {
        Self {
            max_age: TWO_YEARS,
            include_subdomains: true,
            preload: false,
        }
    }

    /// `max-age=<seconds>; includeSubDomains`.
    #[must_use]
    pub const fn max_age(seconds: u64) -> Self {
        Self {
            max_age: seconds,
            include_subdomains: true,
            preload: false,
        }
    }

    /// Whether the policy covers subdomains (on by default; turning it off fails ASVS 5.0
    /// V3.4.1 at level 2).
    #[must_use]
    pub const fn include_subdomains(mut self, on: bool) -> Self {
        self.include_subdomains = on;
        self
    }

    /// Adds `preload` (needs `includeSubDomains` and `max-age` ≥ one year). Submitting the
    /// domain to the preload list is a separate, manual step (ASVS 5.0 V3.7.4).
    #[must_use]
    pub const fn preload(mut self) -> Self {
        self.preload = true;
        self
    }

    pub(crate) fn validate(
        self,
        allow_short: bool,
        allow_odd_preload: bool,
    ) -> Result<(), ConfigError> {
        if self.max_age < MIN_HSTS_MAX_AGE && !allow_short {
            return Err(ConfigError::HstsMaxAgeTooShort {
                max_age: self.max_age,
                minimum: MIN_HSTS_MAX_AGE,
            });
        }
        if self.preload && !allow_odd_preload {
            if !self.include_subdomains {
                return Err(ConfigError::HstsPreloadWithoutSubdomains);
            }
            if self.max_age < PRELOAD_MIN_MAX_AGE {
                return Err(ConfigError::HstsPreloadMaxAgeTooShort {
                    max_age: self.max_age,
                });
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Hsts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "max-age={}", self.max_age)?;
        if self.include_subdomains {
            f.write_str("; includeSubDomains")?;
        }
        if self.preload {
            f.write_str("; preload")?;
        }
        Ok(())
    }
}

/// Marker a TLS-terminating server puts into the request extensions so the layer knows the
/// request came over https (hyper does not record it for HTTP/1.1 requests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServedOverTls;

/// The TCP peer of the connection, for servers that do not use axum's `ConnectInfo`.
///
/// Insert it into the request extensions in your accept loop; the layer reads it to decide
/// whether a forwarded-protocol header comes from a trusted proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

/// Which header a trusted proxy uses to tell the original protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyHeader {
    /// `X-Forwarded-Proto: https` (the last value counts: the one the nearest proxy added).
    XForwardedProto,
    /// RFC 7239 `Forwarded: …;proto=https` (the last element counts).
    Forwarded,
}

/// How the layer decides that a request arrived over https (and so gets HSTS).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum HttpsDetection {
    /// The URI scheme is `https` or the request carries [`ServedOverTls`]. The default: plain
    /// http never gets HSTS.
    #[default]
    Direct,
    /// TLS always terminates in front of this service: every request counts as https.
    AlwaysTls,
    /// Believe the forwarded protocol only from these peers.
    TrustedProxies {
        /// The header the proxies set.
        header: ProxyHeader,
        /// Their addresses.
        proxies: Vec<TrustedProxy>,
    },
}

/// One trusted proxy address or CIDR range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy(IpRange);

impl TrustedProxy {
    /// Parses `10.0.0.7`, `::1`, `10.0.0.0/8` or `fd00::/8`.
    ///
    /// # Errors
    /// [`ConfigError::InvalidProxyAddress`] when it is none of those.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        IpRange::parse(value).map(Self)
    }

    /// Whether `ip` is this proxy or inside this range.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl HttpsDetection {
    pub(crate) fn is_https<B>(&self, req: &Request<B>) -> bool {
        match self {
            Self::AlwaysTls => true,
            Self::Direct => direct_https(req),
            Self::TrustedProxies { header, proxies } => {
                if direct_https(req) {
                    return true;
                }
                let Some(peer) = peer_ip(req) else {
                    return false;
                };
                if !proxies.iter().any(|p| p.contains(peer)) {
                    return false;
                }
                match header {
                    ProxyHeader::XForwardedProto => x_forwarded_proto_https(req.headers()),
                    ProxyHeader::Forwarded => forwarded_proto_https(req.headers()),
                }
            }
        }
    }
}

fn direct_https<B>(req: &Request<B>) -> bool {
    req.uri().scheme() == Some(&http::uri::Scheme::HTTPS)
        || req.extensions().get::<ServedOverTls>().is_some()
}

pub(crate) fn peer_ip<B>(req: &Request<B>) -> Option<IpAddr> {
    if let Some(PeerAddr(addr)) = req.extensions().get::<PeerAddr>() {
        return Some(addr.ip());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    None
}

/// The last comma-separated value of the last `X-Forwarded-Proto` line.
fn x_forwarded_proto_https(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-forwarded-proto")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `proto` of the last element of the last `Forwarded` line (RFC 7239 §4).
fn forwarded_proto_https(headers: &HeaderMap) -> bool {
    let Some(line) = headers
        .get_all(http::header::FORWARDED)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some(element) = line.rsplit(',').next() else {
        return false;
    };
    element
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("proto"))
        .is_some_and(|(_, v)| v.trim().trim_matches('"').eq_ignore_ascii_case("https"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)], peer: Option<&str>) -> Request<()> {
        let mut b = Request::builder().uri("/");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut r = b.body(()).unwrap();
        if let Some(p) = peer {
            r.extensions_mut().insert(PeerAddr(p.parse().unwrap()));
        }
        r
    }

    #[test]
    fn hsts_validation() {
        Hsts::two_years().validate(false, false).unwrap();
        assert!(Hsts::max_age(3600).validate(false, false).is_err());
        Hsts::max_age(3600).validate(true, false).unwrap();
        assert_eq!(
            Hsts::two_years()
                .include_subdomains(false)
                .preload()
                .validate(false, false),
            Err(ConfigError::HstsPreloadWithoutSubdomains)
        );
        assert!(matches!(
            Hsts::max_age(MIN_HSTS_MAX_AGE)
                .preload()
                .validate(false, false),
            Err(ConfigError::HstsPreloadMaxAgeTooShort { .. })
        ));
    }

    #[test]
    fn forwarded_parsing() {
        let proxies = vec![TrustedProxy::parse("10.0.0.0/8").unwrap()];
        let xfp = HttpsDetection::TrustedProxies {
            header: ProxyHeader::XForwardedProto,
            proxies: proxies.clone(),
        };
        assert!(xfp.is_https(&req(&[("x-forwarded-proto", "https")], Some("10.1.1.1:5"))));
        assert!(!xfp.is_https(&req(&[("x-forwarded-proto", "https")], Some("192.0.2.1:5"))));
        assert!(!xfp.is_https(&req(&[("x-forwarded-proto", "https")], None)));
        assert!(!xfp.is_https(&req(
            &[("x-forwarded-proto", "https, http")],
            Some("10.1.1.1:5")
        )));
        assert!(xfp.is_https(&req(
            &[("x-forwarded-proto", "http, https")],
            Some("10.1.1.1:5")
        )));
        let fwd = HttpsDetection::TrustedProxies {
            header: ProxyHeader::Forwarded,
            proxies,
        };
        assert!(fwd.is_https(&req(
            &[(
                "forwarded",
                "for=1.2.3.4;proto=http, for=10.0.0.1;Proto=\"https\""
            )],
            Some("10.1.1.1:5")
        )));
        assert!(!fwd.is_https(&req(
            &[("forwarded", "for=1.2.3.4;proto=https, for=10.0.0.1")],
            Some("10.1.1.1:5")
        )));
        assert!(!fwd.is_https(&req(&[("x-forwarded-proto", "https")], Some("10.1.1.1:5"))));
    }
}
