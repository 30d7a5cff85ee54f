//! Origin and host parsing shared by the CORS, cross-origin protection, Permissions-Policy and
//! `dev()` checks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ConfigError;

/// An origin in the exact form browsers serialise it in the `Origin` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Origin<'a> {
    pub(crate) scheme: &'a str,
    /// Host without port; IPv6 keeps its brackets.
    pub(crate) host: &'a str,
}

fn invalid(origin: &str, reason: &'static str) -> ConfigError {
    ConfigError::InvalidOrigin {
        origin: origin.to_owned(),
        reason,
    }
}

/// Checks that `origin` is `scheme://host[:port]` exactly as a browser sends it, so that a
/// byte-for-byte comparison with the `Origin` header can match.
pub(crate) fn validate_origin(origin: &str) -> Result<Origin<'_>, ConfigError> {
    if origin == "null" {
        return Err(invalid(
            origin,
            "`null` is the origin of sandboxed frames, files and redirects: any page can \
             produce it, so it cannot be trusted",
        ));
    }
    let (scheme, rest) = if let Some(rest) = origin.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = origin.strip_prefix("http://") {
        ("http", rest)
    } else {
        return Err(invalid(
            origin,
            "an origin starts with lower-case `https://` or `http://`",
        ));
    };
    if rest.is_empty() {
        return Err(invalid(origin, "the host is missing"));
    }
    if rest.contains(['/', '?', '#']) {
        return Err(invalid(
            origin,
            "an origin has no path, query, fragment or trailing slash (write `https://app.example`)",
        ));
    }
    if rest.contains('@') {
        return Err(invalid(origin, "an origin has no user information"));
    }
    let (host, port) = split_host_port(rest).ok_or_else(|| {
        invalid(
            origin,
            "the host is not a valid DNS name, IPv4 address or bracketed IPv6 address",
        )
    })?;
    if let Some(port) = port {
        let default = if scheme == "https" { "443" } else { "80" };
        if port == default {
            return Err(invalid(
                origin,
                "browsers omit the default port, so an origin with it never matches; drop the port",
            ));
        }
        if port.is_empty()
            || port.starts_with('0')
            || port.len() > 5
            || port.parse::<u16>().is_err()
        {
            return Err(invalid(origin, "the port is not a number from 1 to 65535"));
        }
    }
    if host.starts_with('[') {
        let inner = &host[1..host.len() - 1];
        if inner.parse::<Ipv6Addr>().is_err() || inner.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                origin,
                "the IPv6 address is not valid or not in lower case",
            ));
        }
    } else {
        if host.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                origin,
                "browsers send the host in lower case, so write it in lower case",
            ));
        }
        if !host.is_ascii() {
            return Err(invalid(
                origin,
                "browsers send internationalised hosts in punycode (`xn--…`); write it that way",
            ));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            || host.starts_with('.')
            || host.ends_with('.')
            || host.contains("..")
        {
            return Err(invalid(
                origin,
                "the host has characters a DNS name or IPv4 address cannot have",
            ));
        }
    }
    Ok(Origin { scheme, host })
}

/// Splits `host[:port]` (IPv6 in brackets). Returns `None` when malformed.
pub(crate) fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if authority.starts_with('[') {
        let end = authority.find(']')?;
        let host = &authority[..=end];
        let rest = &authority[end + 1..];
        if rest.is_empty() {
            return Some((host, None));
        }
        let port = rest.strip_prefix(':')?;
        return Some((host, Some(port)));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => {
            if host.is_empty() || host.contains(':') {
                return None;
            }
            Some((host, Some(port)))
        }
        None if authority.is_empty() => None,
        None => Some((authority, None)),
    }
}

/// Whether `host` (no port; IPv6 in brackets) names the local machine: `localhost`,
/// `*.localhost` (RFC 6761 §6.3), `127.0.0.0/8`, `::1` or `::ffff:127.0.0.0/104`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let lower_eq = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let trimmed = host.strip_suffix('.').unwrap_or(host);
    if lower_eq(trimmed, "localhost")
        || (trimmed.len() > ".localhost".len()
            && lower_eq(&trimmed[trimmed.len() - ".localhost".len()..], ".localhost"))
    {
        return true;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<Ipv6Addr>() {
            Ok(ip) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
            Err(_) => false,
        };
    }
    // Only the canonical dotted-quad form: `127.1` or `0x7f.0.0.1` are not accepted.
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the authority (`host[:port]`) of a request names the local machine.
pub(crate) fn is_loopback_authority(authority: &str) -> bool {
    split_host_port(authority).is_some_and(|(host, port)| {
        port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            && is_loopback_host(host)
    })
}

/// An IP address or CIDR range, for trusted proxies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    pub(crate) fn parse(value: &str) -> Result<Self, ConfigError> {
        let err = || ConfigError::InvalidProxyAddress {
            value: value.to_owned(),
        };
        let (addr, prefix) = match value.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (value, None),
        };
        let base: IpAddr = addr.trim().parse().map_err(|_| err())?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => {
                let p: u8 = p.trim().parse().map_err(|_| err())?;
                if p > max {
                    return Err(err());
                }
                p
            }
            None => max,
        };
        Ok(Self { base, prefix })
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 @ IpAddr::V4(_) => v4,
        };
        match (self.base, ip) {
            (IpAddr::V4(b), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(b) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(b), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(b) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(validate_origin("https://app.example").is_ok());
        assert!(validate_origin("http://localhost:3000").is_ok());
        assert!(validate_origin("https://[::1]:8443").is_ok());
        for bad in [
            "null",
            "app.example",
            "https://app.example/",
            "https://App.example",
            "https://app.example:443",
            "http://app.example:80",
            "https://app.example:0",
            "https://app.example:99999",
            "HTTPS://app.example",
            "https://u@app.example",
            "https://caf\u{e9}.example",
            "https://",
            "https://a..b",
        ] {
            assert!(validate_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn loopback() {
        for ok in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "127.8.9.1",
            "[::1]",
            "[::ffff:127.0.0.1]",
            "localhost.",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "example.com",
            "localhost.example.com",
            "127.0.0.1.nip.io",
            "10.0.0.1",
            "[::2]",
            "0x7f.0.0.1",
            "127.1",
            "",
            "xlocalhost",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
        assert!(is_loopback_authority("localhost:8080"));
        assert!(is_loopback_authority("[::1]:8080"));
        assert!(!is_loopback_authority("localhost:80x"));
        assert!(!is_loopback_authority("evil.com:80@localhost"));
    }

    #[test]
    fn ranges() {
        let r = IpRange::parse("10.0.0.0/8").unwrap();
        assert!(r.contains("10.1.2.3".parse().unwrap()));
        assert!(!r.contains("11.1.2.3".parse().unwrap()));
        assert!(r.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one = IpRange::parse("192.0.2.7").unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        let all = IpRange::parse("0.0.0.0/0").unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        let v6 = IpRange::parse("fd00::/8").unwrap();
        assert!(v6.contains("fd12::1".parse().unwrap()));
        assert!(IpRange::parse("10.0.0.0/33").is_err());
        assert!(IpRange::parse("nope").is_err());
    }
}
