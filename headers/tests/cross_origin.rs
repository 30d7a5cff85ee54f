//! Cross-origin request protection (CSRF): the Go 1.25 matrix, trusted origins, bypass patterns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Body, Logs, body_text, handler, send};
use http::{Method, Request, StatusCode};
use paved_headers::cross_origin::{CrossOriginProtectionLayer, REJECTION_BODY};
use paved_headers::{ConfigError, SecurityHeadersLayer};
use tower::Layer;
use tower_http::csrf::{ProtectionError, ProtectionErrorKind};

const HOST: &str = "bank.example";

const METHODS: &[&str] = &[
    "GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE", "PROPFIND",
];
const SEC_FETCH_SITE: &[Option<&str>] = &[
    None,
    Some("same-origin"),
    Some("none"),
    Some("same-site"),
    Some("cross-site"),
    Some("garbage"),
    Some(""),
];
const ORIGINS: &[Option<&str>] = &[
    None,
    Some("https://bank.example"),
    Some("http://bank.example"),
    Some("https://bank.example:8443"),
    Some("https://evil.example"),
    Some("null"),
    Some("not a url"),
];

/// The Go 1.25 `CrossOriginProtection.Check` algorithm, written out as the oracle.
fn go_allows(method: &str, sfs: Option<&str>, origin: Option<&str>, trusted: &[&str]) -> bool {
    if matches!(method, "GET" | "HEAD" | "OPTIONS") {
        return true;
    }
    let exempt = origin.is_some_and(|o| trusted.contains(&o));
    match sfs {
        Some("same-origin" | "none") => return true,
        None | Some("") => {}
        Some(_) => return exempt,
    }
    match origin {
        None | Some("") => true,
        Some(o) => {
            let same = ["https://", "http://"]
                .iter()
                .any(|p| o.strip_prefix(p) == Some(HOST));
            same || exempt
        }
    }
}

fn request(method: &str, sfs: Option<&str>, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri("/transfer")
        .header("host", HOST);
    if let Some(s) = sfs {
        b = b.header("sec-fetch-site", s);
    }
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    b.body(Body::default()).unwrap()
}

async fn run_matrix(layer: &CrossOriginProtectionLayer, trusted: &[&str]) -> usize {
    let mut cases = 0;
    for method in METHODS {
        for sfs in SEC_FETCH_SITE {
            for origin in ORIGINS {
                let res = send(layer.layer(handler(&[])), request(method, *sfs, *origin)).await;
                let allowed = go_allows(method, *sfs, *origin, trusted);
                let expected = if allowed {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(
                    res.status(),
                    expected,
                    "{method} sec-fetch-site={sfs:?} origin={origin:?}"
                );
                if !allowed {
                    assert!(res.extensions().get::<ProtectionError>().is_some());
                }
                cases += 1;
            }
        }
    }
    cases
}

#[tokio::test]
async fn hd_39_csrf_matrix_method_x_sec_fetch_site_x_origin() {
    let cases = run_matrix(&CrossOriginProtectionLayer::new(), &[]).await;
    assert_eq!(cases, METHODS.len() * SEC_FETCH_SITE.len() * ORIGINS.len());
    // Spot checks of the headline rules.
    let layer = CrossOriginProtectionLayer::new();
    let res = send(
        layer.layer(handler(&[])),
        request("POST", Some("cross-site"), Some("https://bank.example")),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "cross-site never passes"
    );
    assert_eq!(
        res.extensions().get::<ProtectionError>().unwrap().kind(),
        ProtectionErrorKind::CrossOriginRequest
    );
    let res = send(
        layer.layer(handler(&[])),
        request("POST", None, Some("https://evil.example")),
    )
    .await;
    assert_eq!(
        res.extensions().get::<ProtectionError>().unwrap().kind(),
        ProtectionErrorKind::CrossOriginRequestFromOldBrowser
    );
}

#[tokio::test]
async fn hd_40_csrf_trusted_origin_allow_list() {
    let trusted = ["https://evil.example", "https://bank.example:8443"];
    let layer = CrossOriginProtectionLayer::new()
        .add_trusted_origin(trusted[0])
        .unwrap()
        .add_trusted_origin(trusted[1])
        .unwrap();
    run_matrix(&layer, &trusted).await;
    let res = send(
        layer.layer(handler(&[])),
        request("DELETE", Some("cross-site"), Some("https://evil.example")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn hd_41_csrf_bypass_patterns() {
    let layer = CrossOriginProtectionLayer::new()
        .add_bypass_pattern("POST /webhooks/{provider}")
        .unwrap()
        .add_bypass_pattern("/public/")
        .unwrap();
    let post = |path: &str, method: &str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("host", HOST)
            .header("sec-fetch-site", "cross-site")
            .header("origin", "https://evil.example")
            .body(Body::default())
            .unwrap()
    };
    for (path, method, ok) in [
        ("/webhooks/stripe", "POST", true),
        ("/webhooks/stripe", "PUT", false),
        ("/webhooks/stripe/extra", "POST", false),
        ("/webhooks/", "POST", false),
        ("/public/a/b", "DELETE", true),
        ("/public", "POST", false),
        ("/transfer", "POST", false),
        // Paths a router could normalise elsewhere are never bypassed.
        ("/public/../transfer", "POST", false),
        ("/public/%2e%2e/transfer", "POST", false),
        ("/public//x", "POST", false),
        ("/webhooks/a%2Fb", "POST", false),
    ] {
        let res = send(layer.layer(handler(&[])), post(path, method)).await;
        let want = if ok {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(res.status(), want, "{method} {path}");
    }
    for bad in ["webhooks", "post /x", "/a/{x...}/b", "/a/../b", "/a/%41"] {
        assert!(matches!(
            CrossOriginProtectionLayer::new().add_bypass_pattern(bad),
            Err(ConfigError::InvalidBypassPattern { .. })
        ));
    }
}

#[tokio::test]
async fn hd_42_csrf_on_by_default_in_security_headers_layer() {
    for preset in [
        SecurityHeadersLayer::api(),
        SecurityHeadersLayer::web(),
        SecurityHeadersLayer::dev(),
    ] {
        let layer = preset.build().unwrap();
        let mut req = request("POST", Some("cross-site"), Some("https://evil.example"));
        if true {
            req.headers_mut()
                .insert("host", "localhost".parse().unwrap());
        }
        let res = send(layer.layer(handler(&[])), req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // The rejection still carries the security headers.
        assert!(res.headers().get("content-security-policy").is_some());
        assert!(res.headers().get("x-content-type-options").is_some());
    }
    // Trusted origins through the builder.
    let layer = SecurityHeadersLayer::web()
        .cross_origin_protection(
            CrossOriginProtectionLayer::new()
                .add_trusted_origin("https://evil.example")
                .unwrap(),
        )
        .build()
        .unwrap();
    let res = send(
        layer.layer(handler(&[])),
        request("POST", Some("cross-site"), Some("https://evil.example")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    // Off only through dangerous().
    let layer = SecurityHeadersLayer::api()
        .dangerous()
        .without_cross_origin_protection()
        .build()
        .unwrap();
    let res = send(
        layer.layer(handler(&[])),
        request("POST", Some("cross-site"), Some("https://evil.example")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[test]
fn hd_43_csrf_noncanonical_trusted_origin_refused() {
    for bad in [
        "https://bank.example:443",
        "https://Bank.example",
        "https://bank.example/",
        "bank.example",
        "null",
        "https://b\u{fc}cher.example",
        "ftp://bank.example",
    ] {
        let e = CrossOriginProtectionLayer::new()
            .add_trusted_origin(bad)
            .unwrap_err();
        assert!(matches!(e, ConfigError::InvalidOrigin { .. }), "{bad}");
        assert!(!e.to_string().is_empty());
    }
    let _layer = CrossOriginProtectionLayer::new()
        .add_trusted_origin("https://xn--bcher-kva.example")
        .unwrap();
}

#[tokio::test]
async fn hd_57_rejections_have_fixed_body_and_details_in_tracing() {
    let logs = Logs::capture();
    let res = send(
        CrossOriginProtectionLayer::new().layer(handler(&[])),
        request("POST", Some("cross-site"), Some("https://evil.example/\tx")),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_text(res).await, REJECTION_BODY);
    let text = logs.text();
    assert!(text.contains("cross-origin request rejected"), "{text}");
    assert!(text.contains("evil.example"), "{text}");
    assert!(text.contains("/transfer"), "{text}");
    assert!(
        text.contains("evil.example/\\tx"),
        "control bytes escaped: {text}"
    );
    assert!(!text.contains('\t'), "no raw tab in the log line");
}
