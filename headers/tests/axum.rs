//! axum integration (feature `axum`): the `CspNonce` extractor and `ConnectInfo` peers.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Html;
use axum::routing::get;
use http::{Request, StatusCode};
use paved_headers::{CspNonce, ProxyHeader, SecurityHeadersLayer};
use tower::ServiceExt;

async fn page(nonce: CspNonce) -> Html<String> {
    Html(format!("<script nonce=\"{nonce}\"></script>"))
}

async fn maybe(nonce: Option<CspNonce>) -> String {
    nonce.map_or_else(|| "none".to_owned(), |n| n.to_string())
}

fn req(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "a.example")
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn hd_58_axum_nonce_extractor() {
    let app = Router::new()
        .route("/", get(page))
        .route("/maybe", get(maybe))
        .layer(SecurityHeadersLayer::web().build().unwrap());
    let res = app.clone().oneshot(req("/")).await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    let body = std::str::from_utf8(&body).unwrap();
    let nonce = body.split('"').nth(1).unwrap();
    assert!(csp.contains(&format!("'nonce-{nonce}'")));
    let res = app.oneshot(req("/maybe")).await.unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_eq!(body.len(), paved_headers::NONCE_LEN);

    // Without the layer: required extractor → generic 500, optional → None.
    let bare = Router::new()
        .route("/", get(page))
        .route("/maybe", get(maybe));
    let res = bare.clone().oneshot(req("/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_eq!(&body[..], b"Internal Server Error\n");
    let res = bare.oneshot(req("/maybe")).await.unwrap();
    let body = axum::body::to_bytes(res.into_body(), 1 << 16)
        .await
        .unwrap();
    assert_eq!(&body[..], b"none");
}

#[tokio::test]
async fn hd_29_hsts_trusted_proxy_via_axum_connect_info() {
    let app = Router::new().route("/", get(|| async { "ok" })).layer(
        SecurityHeadersLayer::api()
            .trust_forwarded_proto_from(ProxyHeader::XForwardedProto, ["10.0.0.0/8"])
            .build()
            .unwrap(),
    );
    let with_peer = |peer: &str| {
        let mut r = req("/");
        r.headers_mut()
            .insert("x-forwarded-proto", "https".parse().unwrap());
        r.extensions_mut()
            .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        r
    };
    let res = app
        .clone()
        .oneshot(with_peer("10.1.2.3:55000"))
        .await
        .unwrap();
    assert!(res.headers().contains_key("strict-transport-security"));
    let res = app.oneshot(with_peer("203.0.113.9:55000")).await.unwrap();
    assert!(!res.headers().contains_key("strict-transport-security"));
}
