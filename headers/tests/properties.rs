//! Property tests: precedence, nonce uniqueness, cross-site rejection, cookie hardening, parsers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, HashSet};
use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use common::Body;
use http::{HeaderName, HeaderValue, Request, Response};
use paved_headers::cookies::CookieHardeningLayer;
use paved_headers::{ContentSecurityPolicy, CspNonce, HeaderOverrides, SecurityHeadersLayer};
use proptest::prelude::*;
use tower::{Layer, Service, service_fn};

/// Every future here is immediately ready.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("future not ready"),
    }
}

const LAYER_NAMES: &[&str] = &[
    "content-security-policy",
    "strict-transport-security",
    "x-frame-options",
    "referrer-policy",
    "x-content-type-options",
    "cross-origin-resource-policy",
    "cache-control",
    "permissions-policy",
    "cross-origin-opener-policy",
];
const OTHER_NAMES: &[&str] = &[
    "server",
    "x-powered-by",
    "x-custom",
    "set-cookie",
    "content-type",
];
const REMOVED: &[&str] = &[
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
];
const VALUES: &[&str] = &["a", "b", "default-src 'self'", "max-age=0", "DENY", "x=1"];

type Map = BTreeMap<String, Vec<String>>;

fn normalise(v: &str) -> String {
    // The nonce differs per response; compare policies with it masked.
    let mut out = String::new();
    let mut rest = v;
    while let Some(i) = rest.find("'nonce-") {
        out.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        let end = rest.find('\'').unwrap_or(rest.len());
        out.push('N');
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn to_map(res: &Response<Body>) -> Map {
    let mut m = Map::new();
    for (k, v) in res.headers() {
        m.entry(k.as_str().to_owned())
            .or_default()
            .push(normalise(v.to_str().unwrap()));
    }
    m
}

fn run(
    layer: &SecurityHeadersLayer,
    handler_headers: Vec<(String, String)>,
    skip: Option<Vec<String>>,
    https: bool,
) -> Response<Body> {
    let svc = service_fn(move |_req: Request<Body>| {
        let handler_headers = handler_headers.clone();
        let skip = skip.clone();
        async move {
            let mut res = Response::new(Body::default());
            for (k, v) in handler_headers {
                res.headers_mut().append(
                    HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    HeaderValue::from_str(&v).unwrap(),
                );
            }
            if let Some(skip) = skip {
                res.extensions_mut().insert(HeaderOverrides::without(
                    skip.iter()
                        .map(|n| HeaderName::from_bytes(n.as_bytes()).unwrap()),
                ));
            }
            Ok::<_, Infallible>(res)
        }
    });
    let uri = if https {
        "https://a.example/"
    } else {
        "http://a.example/"
    };
    let req = Request::get(uri)
        .header("host", "a.example")
        .body(Body::default())
        .unwrap();
    let mut svc = layer.layer(svc);
    ready(svc.call(req)).unwrap()
}

fn handler_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let names: Vec<&str> = LAYER_NAMES.iter().chain(OTHER_NAMES).copied().collect();
    prop::collection::vec(
        (
            prop::sample::select(names),
            prop::sample::select(VALUES.to_vec()),
        )
            .prop_map(|(n, v)| (n.to_owned(), v.to_owned())),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// `hd_59`: for arbitrary handler headers, forced sets, overrides and schemes, the output is
    /// exactly what the precedence rules say.
    #[test]
    fn hd_59_prop_precedence_rules(
        web in any::<bool>(),
        https in any::<bool>(),
        forced in prop::sample::subsequence(LAYER_NAMES.to_vec(), 0..4),
        handler in handler_headers(),
        skip in prop::option::of(prop::sample::subsequence(
            LAYER_NAMES.iter().chain(OTHER_NAMES).copied().collect::<Vec<_>>(), 0..4)),
    ) {
        let mut builder = if web { SecurityHeadersLayer::web() } else { SecurityHeadersLayer::api() };
        let layer_only = {
            let l = if web { SecurityHeadersLayer::web() } else { SecurityHeadersLayer::api() };
            to_map(&run(&l.build().unwrap(), vec![], None, https))
        };
        // Only force headers this preset sets (others are a build error, tested elsewhere).
        let forced: Vec<&str> = forced.into_iter().filter(|f| {
            layer_only.contains_key(*f) || (*f == "strict-transport-security")
        }).collect();
        for f in &forced {
            builder = builder.force(f);
        }
        let layer = builder.build().unwrap();
        let skip_names: Vec<String> = skip.clone().unwrap_or_default().iter().map(|s| (*s).to_owned()).collect();
        let out = to_map(&run(
            &layer,
            handler.clone(),
            skip.map(|s| s.iter().map(|n| (*n).to_owned()).collect()),
            https,
        ));

        let mut handler_map = Map::new();
        for (k, v) in &handler {
            handler_map.entry(k.clone()).or_default().push(normalise(v));
        }
        let mut expected = Map::new();
        let names: HashSet<&String> = handler_map.keys().chain(layer_only.keys()).collect();
        for name in names {
            if REMOVED.contains(&name.as_str()) {
                continue;
            }
            let layer_value = layer_only.get(name);
            let is_forced = forced.contains(&name.as_str());
            let value = match (layer_value, handler_map.get(name)) {
                (Some(l), _) if is_forced => Some(l.clone()),
                (_, Some(h)) => Some(h.clone()),
                (Some(l), None) if !skip_names.contains(name) => Some(l.clone()),
                _ => None,
            };
            if let Some(v) = value {
                expected.insert(name.clone(), v);
            }
        }
        prop_assert_eq!(out, expected);
    }

    /// `hd_60`: nonces never repeat, and the handler sees the nonce of its own response.
    #[test]
    fn hd_60_prop_nonces_never_repeat(n in 1_usize..300) {
        let layer = SecurityHeadersLayer::web().build().unwrap();
        let mut seen = HashSet::new();
        for _ in 0..n {
            let mut svc = layer.layer(service_fn(|req: Request<Body>| async move {
                let nonce = *req.extensions().get::<CspNonce>().unwrap();
                let mut res = Response::new(Body::default());
                res.headers_mut().insert("x-nonce", nonce.as_str().parse().unwrap());
                Ok::<_, Infallible>(res)
            }));
            let req = Request::get("https://a.example/").header("host", "a.example").body(Body::default()).unwrap();
            let res = ready(svc.call(req)).unwrap();
            let nonce = res.headers()["x-nonce"].to_str().unwrap().to_owned();
            let csp = res.headers()["content-security-policy"].to_str().unwrap();
            let expected = format!("'nonce-{nonce}'");
            prop_assert!(csp.contains(&expected));
            prop_assert!(seen.insert(nonce));
        }
    }

    /// `hd_61`: a cross-site (or same-site) unsafe request never reaches the handler, whatever the
    /// Origin, Host or path; and no input panics.
    #[test]
    fn hd_61_prop_cross_site_never_passes(
        method in prop::sample::select(vec!["POST", "PUT", "PATCH", "DELETE", "TRACE", "FOO"]),
        site in prop::sample::select(vec!["cross-site", "same-site"]),
        origin in prop::option::of("[ -~]{0,40}"),
        host in prop::option::of("[ -~]{0,40}"),
        path in "/[a-zA-Z0-9/._%-]{0,30}",
    ) {
        let passed = paved_headers::fuzzing::origin_check(
            method.as_bytes(),
            path.as_bytes(),
            host.as_deref().map(str::as_bytes),
            origin.as_deref().map(str::as_bytes),
            Some(site.as_bytes()),
        );
        prop_assert_ne!(passed, Some(true));
    }

    /// `hd_61` (cont.): arbitrary bytes in every field never panic.
    #[test]
    fn hd_61_prop_origin_check_total(
        method in prop::collection::vec(any::<u8>(), 0..10),
        uri in prop::collection::vec(any::<u8>(), 0..40),
        host in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        origin in prop::option::of(prop::collection::vec(any::<u8>(), 0..40)),
        site in prop::option::of(prop::collection::vec(any::<u8>(), 0..20)),
    ) {
        let _ = paved_headers::fuzzing::origin_check(
            &method, &uri, host.as_deref(), origin.as_deref(), site.as_deref());
    }

    /// `hd_62`: hardening adds the three attributes, keeps what was there, and is idempotent.
    #[test]
    fn hd_62_prop_cookie_hardening(cookie in "[!-~]([ -~]{0,60}[!-~])?") {
        let once = harden(&cookie);
        prop_assert!(once.starts_with(&cookie));
        let lower = once.to_ascii_lowercase();
        let attrs: Vec<&str> = lower.split(';').skip(1).map(str::trim).collect();
        prop_assert!(attrs.contains(&"secure"));
        prop_assert!(attrs.contains(&"httponly"));
        prop_assert!(attrs.iter().any(|a| a.starts_with("samesite")));
        prop_assert_eq!(harden(&once), once);
    }

    /// `hd_63`: policy parsing and layer building never panic on arbitrary text.
    #[test]
    fn hd_63_prop_csp_parse_and_build_total(policy in "[ -~]{0,120}") {
        if let Ok(csp) = ContentSecurityPolicy::parse(&policy) {
            let _ = SecurityHeadersLayer::web().content_security_policy(csp.clone()).build();
            let _ = SecurityHeadersLayer::web().content_security_policy_report_only(csp).build();
        }
    }

    /// `hd_64`: the collector answers every body with a documented status, never 500.
    #[test]
    fn hd_64_prop_report_body_total(
        ct in prop::sample::select(vec![
            "application/reports+json", "application/csp-report", "application/json", "text/plain"]),
        body in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        let status = paved_headers::fuzzing::report_body(ct.as_bytes(), &body);
        prop_assert!([204, 400, 413, 415].contains(&status));
    }
}

fn harden(cookie: &str) -> String {
    let value = cookie.to_owned();
    let svc = service_fn(move |_req: Request<Body>| {
        let value = value.clone();
        async move {
            let mut res = Response::new(Body::default());
            res.headers_mut()
                .insert("set-cookie", HeaderValue::from_str(&value).unwrap());
            Ok::<_, Infallible>(res)
        }
    });
    let mut svc = CookieHardeningLayer::new().layer(svc);
    let res = ready(svc.call(Request::new(Body::default()))).unwrap();
    res.headers()["set-cookie"].to_str().unwrap().to_owned()
}

/// `hd_60` (threads): nonces drawn concurrently on several threads are all distinct.
#[test]
fn hd_60_nonces_unique_across_threads() {
    let layer = SecurityHeadersLayer::web().build().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let layer = layer.clone();
            std::thread::spawn(move || {
                let mut out = Vec::with_capacity(5000);
                for _ in 0..5000 {
                    let mut svc = layer.layer(service_fn(|req: Request<Body>| async move {
                        let n = *req.extensions().get::<CspNonce>().unwrap();
                        Ok::<_, Infallible>(Response::new(Body::new(Bytes::from(n.to_string()))))
                    }));
                    let req = Request::get("/")
                        .header("host", "a.example")
                        .body(Body::default())
                        .unwrap();
                    let res = ready(svc.call(req)).unwrap();
                    out.push(
                        res.headers()["content-security-policy"]
                            .to_str()
                            .unwrap()
                            .to_owned(),
                    );
                }
                out
            })
        })
        .collect();
    let mut all = HashSet::new();
    for h in handles {
        for csp in h.join().unwrap() {
            assert!(all.insert(csp), "repeated nonce across threads");
        }
    }
    assert_eq!(all.len(), 20_000);
}
