//! Strict CORS builder over tower-http's `CorsLayer`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Body, handler, send};
use http::{Method, Request, StatusCode};
use paved_headers::{ConfigError, StrictCors};
use tower::Layer;

#[test]
fn hd_47_cors_any_origin_with_credentials_refused() {
    let e = StrictCors::new()
        .allow_origin("*")
        .allow_credentials()
        .build()
        .unwrap_err();
    assert!(
        matches!(e, ConfigError::CorsWildcardWithCredentials { .. }),
        "{e}"
    );
    // Not even through dangerous().
    let e = StrictCors::new()
        .allow_credentials()
        .dangerous()
        .allow_any_origin()
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::CorsWildcardWithCredentials { .. }));
    assert!(e.to_string().contains("list the exact origins"));
    // Wildcard headers with credentials (tower-http would panic at start-up).
    let e = StrictCors::new()
        .allow_origin("https://app.example")
        .allow_credentials()
        .allow_headers([http::HeaderName::from_static("*")])
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::CorsWildcardWithCredentials { .. }));
}

#[test]
fn hd_48_cors_wildcard_origin_with_credentials_refused() {
    let e = StrictCors::new()
        .allow_origin("https://*.example.com")
        .allow_credentials()
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::CorsWildcardWithCredentials {
            what: "origin pattern `https://*.example.com`".into()
        }
    );
    let _ok = StrictCors::new()
        .allow_origin("https://*.example.com")
        .build()
        .unwrap();
}

#[test]
fn hd_49_cors_any_origin_needs_dangerous_opt_in() {
    assert_eq!(
        StrictCors::new().allow_origin("*").build().unwrap_err(),
        ConfigError::CorsAnyOriginNeedsOptIn
    );
    let _ok = StrictCors::new()
        .dangerous()
        .allow_any_origin()
        .build()
        .unwrap();
    assert_eq!(
        StrictCors::new().build().unwrap_err(),
        ConfigError::CorsNoOrigin
    );
}

#[test]
fn hd_50_cors_origin_form_and_insecure_origins_refused() {
    for bad in [
        "https://app.example/",
        "https://App.example",
        "https://app.example:443",
        "app.example",
        "null",
        "https://*.com",
        "https://a*.example.com",
    ] {
        let e = StrictCors::new().allow_origin(bad).build().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidOrigin { .. }), "{bad}: {e}");
    }
    assert!(matches!(
        StrictCors::new().allow_origin("http://app.example").build(),
        Err(ConfigError::CorsInsecureOrigin { .. })
    ));
    let _ok = StrictCors::new()
        .allow_origin("http://localhost:5173")
        .build()
        .unwrap();
    let _ok = StrictCors::new()
        .allow_origin("http://app.example")
        .dangerous()
        .allow_insecure_origin()
        .build()
        .unwrap();
}

fn preflight(origin: &str) -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/api")
        .header("origin", origin)
        .header("access-control-request-method", "DELETE")
        .body(Body::default())
        .unwrap()
}

#[tokio::test]
async fn hd_51_cors_layer_allows_listed_origins_only() {
    let cors = StrictCors::new()
        .allow_origin("https://app.example")
        .allow_origin("https://*.tenants.example")
        .allow_methods([Method::GET, Method::DELETE])
        .build()
        .unwrap();
    for (origin, allowed) in [
        ("https://app.example", true),
        ("https://a.tenants.example", true),
        ("https://evil.example", false),
        ("https://tenants.example", false),
        ("https://app.example.evil.example", false),
        ("http://app.example", false),
    ] {
        let res = send(cors.layer(handler(&[])), preflight(origin)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let acao = res.headers().get("access-control-allow-origin");
        assert_eq!(acao.is_some(), allowed, "{origin}");
        if allowed {
            assert_eq!(acao.unwrap(), origin);
            assert!(
                res.headers()
                    .get("access-control-allow-credentials")
                    .is_none()
            );
            assert_eq!(res.headers()["access-control-max-age"], "600");
        }
    }
    let cors = StrictCors::new()
        .allow_origin("https://app.example")
        .allow_credentials()
        .build()
        .unwrap();
    let res = send(cors.layer(handler(&[])), preflight("https://app.example")).await;
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "https://app.example"
    );
}
