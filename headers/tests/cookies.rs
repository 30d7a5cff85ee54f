//! Cookie hardening layer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Logs, get, handler, send};
use paved_headers::ConfigError;
use paved_headers::cookies::{CookieHardeningLayer, SameSite};
use tower::Layer;

fn cookies(res: &http::Response<common::Body>) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn hd_44_cookie_attributes_added_when_missing() {
    let svc = CookieHardeningLayer::new().layer(handler(&[
        ("set-cookie", "__Host-sid=abc; Path=/"),
        ("set-cookie", "pref=1; Secure; HttpOnly; SameSite=Strict"),
        ("set-cookie", "cross=1; SameSite=None; Secure"),
        ("set-cookie", "x=1;secure;httponly"),
        ("x-other", "untouched"),
    ]));
    let res = send(svc, get("https://a.example/")).await;
    assert_eq!(
        cookies(&res),
        [
            "__Host-sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax",
            "pref=1; Secure; HttpOnly; SameSite=Strict",
            "cross=1; SameSite=None; Secure; HttpOnly",
            "x=1;secure;httponly; SameSite=Lax",
        ]
    );
    assert_eq!(res.headers()["x-other"], "untouched");
    // Strict as the default SameSite.
    let svc = CookieHardeningLayer::new()
        .default_same_site(SameSite::Strict)
        .layer(handler(&[("set-cookie", "a=1")]));
    let res = send(svc, get("https://a.example/")).await;
    assert_eq!(cookies(&res), ["a=1; Secure; HttpOnly; SameSite=Strict"]);
    // No Set-Cookie: nothing happens.
    let res = send(CookieHardeningLayer::new().layer(handler(&[])), get("/")).await;
    assert!(res.headers().get("set-cookie").is_none());
}

#[tokio::test]
async fn hd_45_cookie_opt_outs_by_name() {
    let layer = CookieHardeningLayer::new()
        .without_http_only("theme")
        .unwrap()
        .dangerous()
        .untouched("legacy")
        .unwrap()
        .without_secure("dev_only")
        .unwrap()
        .end();
    let svc = layer.layer(handler(&[
        ("set-cookie", "theme=dark"),
        ("set-cookie", "legacy=raw"),
        ("set-cookie", "dev_only=1"),
        ("set-cookie", "themes=x"),
    ]));
    let res = send(svc, get("https://a.example/")).await;
    assert_eq!(
        cookies(&res),
        [
            "theme=dark; Secure; SameSite=Lax",
            "legacy=raw",
            "dev_only=1; HttpOnly; SameSite=Lax",
            "themes=x; Secure; HttpOnly; SameSite=Lax",
        ]
    );
    for bad in ["", "a b", "a;b", "a=b"] {
        assert!(matches!(
            CookieHardeningLayer::new().dangerous().untouched(bad),
            Err(ConfigError::InvalidCookieName { .. })
        ));
    }
}

#[tokio::test]
async fn hd_46_cookie_session_like_without_host_prefix_warns() {
    let logs = Logs::capture();
    let svc = CookieHardeningLayer::new().layer(handler(&[
        ("set-cookie", "session_id=abc"),
        ("set-cookie", "__Host-auth=abc; Path=/"),
        ("set-cookie", "__Host-token=abc; Path=/; Domain=a.example"),
        ("set-cookie", "theme=dark"),
    ]));
    let _ = send(svc.clone(), get("https://a.example/")).await;
    let _ = send(svc, get("https://a.example/")).await;
    let text = logs.text();
    assert_eq!(
        text.matches("session-like cookie without the __Host- prefix")
            .count(),
        1,
        "warned once per name: {text}"
    );
    assert!(text.contains("session_id"));
    assert!(
        text.contains("__Host-token"),
        "bad __Host- cookie flagged: {text}"
    );
    assert!(
        !text.contains("__Host-auth"),
        "good __Host- cookie not flagged"
    );
    assert!(!text.contains("theme"));
}
