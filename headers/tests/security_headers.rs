//! `SecurityHeadersLayer`: presets, builder errors, nonce, reporting, HSTS, precedence, `dev()`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use common::{Body, Logs, body_text, get, handler, header, send};
use http::header::{CACHE_CONTROL, X_FRAME_OPTIONS};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use paved_headers::security_headers::{DEV_REFUSAL_BODY, NO_RANDOMNESS_BODY};
use paved_headers::{
    ConfigError, ContentSecurityPolicy, CspNonce, FrameOptions, HeaderOverrides, Hsts, NonceSource,
    PeerAddr, PermissionsPolicy, ProxyHeader, RandomnessUnavailable, SecurityHeadersLayer,
    ServedOverTls, clear_site_data, no_store,
};
use tower::{Layer, ServiceExt, service_fn};

fn names(res: &Response<Body>) -> Vec<String> {
    let mut v: Vec<String> = res
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn hd_01_api_preset_sends_exact_headers() {
    let svc = SecurityHeadersLayer::api()
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://api.example.com/v1")).await;
    let h = res.headers();
    assert_eq!(
        header(h, "content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'")
    );
    assert_eq!(header(h, "cache-control"), Some("no-store"));
    assert_eq!(header(h, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(h, "x-frame-options"), Some("DENY"));
    assert_eq!(
        header(h, "cross-origin-resource-policy"),
        Some("same-origin")
    );
    assert_eq!(header(h, "referrer-policy"), Some("no-referrer"));
    assert_eq!(
        header(h, "strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
    assert_eq!(
        names(&res),
        [
            "cache-control",
            "content-security-policy",
            "cross-origin-resource-policy",
            "referrer-policy",
            "strict-transport-security",
            "x-content-type-options",
            "x-frame-options",
        ]
    );
}

#[tokio::test]
async fn hd_02_web_preset_sends_exact_headers() {
    let svc = SecurityHeadersLayer::web()
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://shop.example.com/")).await;
    let h = res.headers();
    let csp = header(h, "content-security-policy").unwrap();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap();
    assert_eq!(
        csp,
        format!(
            "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic'; style-src 'self' \
             'nonce-{nonce}'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
             form-action 'self'; upgrade-insecure-requests"
        )
    );
    for (name, value) in [
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        ("origin-agent-cluster", "?1"),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-dns-prefetch-control", "off"),
        ("x-download-options", "noopen"),
        ("x-frame-options", "DENY"),
        ("x-permitted-cross-domain-policies", "none"),
        ("x-xss-protection", "0"),
        (
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        ),
    ] {
        assert_eq!(header(h, name), Some(value), "{name}");
    }
    let pp = header(h, "permissions-policy").unwrap();
    for f in [
        "camera=()",
        "microphone=()",
        "geolocation=()",
        "payment=()",
        "usb=()",
    ] {
        assert!(pp.contains(f), "{f} in {pp}");
    }
    assert!(h.get("reporting-endpoints").is_none());
    assert!(h.get("cache-control").is_none());
}

#[tokio::test]
async fn hd_03_dev_preset_has_no_hsts_or_upgrade() {
    let svc = SecurityHeadersLayer::dev()
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://localhost:3000/")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = header(res.headers(), "content-security-policy").unwrap();
    assert!(csp.contains("'strict-dynamic'"));
    assert!(!csp.contains("upgrade-insecure-requests"));
    assert!(res.headers().get("strict-transport-security").is_none());
    assert!(res.headers().get("permissions-policy").is_some());
}

#[test]
fn hd_04_invalid_names_and_values_rejected_at_build() {
    let e = SecurityHeadersLayer::api()
        .header("bad name", "x")
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::InvalidHeaderName { .. }), "{e}");
    let e = SecurityHeadersLayer::api()
        .header("x-thing", "line\nbreak")
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::InvalidHeaderValue { .. }), "{e}");
    let e = SecurityHeadersLayer::api()
        .header("Strict-Transport-Security", "max-age=1")
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::UseTypedSetter {
            name: "strict-transport-security",
            setter: "hsts()"
        }
    );
    assert!(e.to_string().contains("hsts()"));
    let e = SecurityHeadersLayer::api()
        .header("content-security-policy", "default-src *")
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::UseTypedSetter { .. }));
    // Headers with one safe value cannot be weakened through `header()`.
    for (name, weak) in [
        ("X-Content-Type-Options", "sniff"),
        ("x-xss-protection", "1"),
        ("x-permitted-cross-domain-policies", "all"),
        ("x-dns-prefetch-control", "on"),
        ("origin-agent-cluster", "?0"),
    ] {
        let e = SecurityHeadersLayer::web()
            .header(name, weak)
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::FixedPresetHeader { .. }),
            "{name}: {e}"
        );
    }
    // CORS headers go through StrictCors, so `*` with credentials cannot slip in here.
    for name in [
        "Access-Control-Allow-Origin",
        "access-control-allow-credentials",
    ] {
        let e = SecurityHeadersLayer::api()
            .header(name, "*")
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::UseTypedSetter { .. }),
            "{name}: {e}"
        );
    }
    // A valid custom header is prebuilt and sent.
    let svc = SecurityHeadersLayer::api()
        .header("X-Robots-Tag", "noindex")
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = futures_lite(send(svc, get("https://a.example/")));
    assert_eq!(header(res.headers(), "x-robots-tag"), Some("noindex"));
}

/// Runs a ready future on a fresh current-thread runtime (for the synchronous tests).
fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn hd_05_csp_unsafe_inline_refused_without_dangerous() {
    let csp = ContentSecurityPolicy::strict().add_source("script-src", "'unsafe-inline'");
    let e = SecurityHeadersLayer::web()
        .content_security_policy(csp.clone())
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::CspUnsafeInline {
            directive: "script-src".into()
        }
    );
    let msg = e.to_string();
    assert!(msg.contains("injected"), "says why: {msg}");
    assert!(
        msg.contains(".dangerous().allow_unsafe_inline_scripts()"),
        "says what to do: {msg}"
    );
    let _ = SecurityHeadersLayer::web()
        .content_security_policy(csp)
        .dangerous()
        .allow_unsafe_inline_scripts()
        .build()
        .unwrap();
}

#[test]
fn hd_06_csp_unsafe_eval_refused_without_dangerous() {
    let csp = ContentSecurityPolicy::strict().add_source("script-src", "'unsafe-eval'");
    let e = SecurityHeadersLayer::web()
        .content_security_policy(csp.clone())
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::CspUnsafeEval { .. }));
    assert!(e.to_string().contains("allow_unsafe_eval"));
    let _ = SecurityHeadersLayer::web()
        .content_security_policy(csp)
        .dangerous()
        .allow_unsafe_eval()
        .build()
        .unwrap();
    // 'wasm-unsafe-eval' is fine.
    let _ = SecurityHeadersLayer::web()
        .content_security_policy(
            ContentSecurityPolicy::strict().add_source("script-src", "'wasm-unsafe-eval'"),
        )
        .build()
        .unwrap();
}

#[test]
fn hd_07_csp_wildcard_and_static_nonce_refused() {
    let wild = ContentSecurityPolicy::strict().directive("script-src", ["'self'", "*"]);
    assert!(matches!(
        SecurityHeadersLayer::web()
            .content_security_policy(wild.clone())
            .build(),
        Err(ConfigError::CspWildcardScriptSource { .. })
    ));
    let _ = SecurityHeadersLayer::web()
        .content_security_policy(wild)
        .dangerous()
        .allow_wildcard_script_sources()
        .build()
        .unwrap();
    let fixed = ContentSecurityPolicy::strict().directive("script-src", ["'nonce-abc123'"]);
    let e = SecurityHeadersLayer::web()
        .content_security_policy(fixed.clone())
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::CspStaticNonce { .. }));
    // No opt-in lifts a static nonce.
    assert!(
        SecurityHeadersLayer::web()
            .content_security_policy(fixed)
            .dangerous()
            .allow_unsafe_inline_scripts()
            .allow_wildcard_script_sources()
            .allow_incomplete_csp()
            .build()
            .is_err()
    );
    let typo = ContentSecurityPolicy::strict().directive("scrpt-src", ["'self'"]);
    assert!(matches!(
        SecurityHeadersLayer::web()
            .content_security_policy(typo.clone())
            .build(),
        Err(ConfigError::UnknownCspDirective { .. })
    ));
    let _ = SecurityHeadersLayer::web()
        .content_security_policy(typo)
        .dangerous()
        .allow_unknown_csp_directives()
        .build()
        .unwrap();
}

#[test]
fn hd_08_csp_missing_required_directives_refused() {
    for (drop, expected) in [
        ("frame-ancestors", "frame-ancestors"),
        ("object-src", "object-src"),
        ("base-uri", "base-uri"),
    ] {
        let csp = ContentSecurityPolicy::strict().remove_directive(drop);
        let e = SecurityHeadersLayer::web()
            .content_security_policy(csp.clone())
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::CspMissingDirective { directive, .. } if directive == expected),
            "{e}"
        );
        let _ = SecurityHeadersLayer::web()
            .content_security_policy(csp)
            .dangerous()
            .allow_incomplete_csp()
            .build()
            .unwrap();
    }
}

#[test]
fn hd_09_hsts_short_max_age_refused() {
    let e = SecurityHeadersLayer::web()
        .hsts(Hsts::max_age(86_400))
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::HstsMaxAgeTooShort {
            max_age: 86_400,
            minimum: 15_552_000
        }
    );
    assert!(e.to_string().contains("allow_short_hsts"));
    let _ = SecurityHeadersLayer::web()
        .hsts(Hsts::max_age(15_552_000))
        .build()
        .unwrap();
    let _ = SecurityHeadersLayer::web()
        .hsts(Hsts::max_age(0))
        .dangerous()
        .allow_short_hsts()
        .build()
        .unwrap();
}

#[test]
fn hd_10_hsts_preload_without_subdomains_refused() {
    let e = SecurityHeadersLayer::web()
        .hsts(Hsts::two_years().include_subdomains(false).preload())
        .build()
        .unwrap_err();
    assert_eq!(e, ConfigError::HstsPreloadWithoutSubdomains);
    assert!(e.to_string().contains("include_subdomains(true)"));
    assert!(matches!(
        SecurityHeadersLayer::web()
            .hsts(Hsts::max_age(20_000_000).preload())
            .build(),
        Err(ConfigError::HstsPreloadMaxAgeTooShort { .. })
    ));
    let _ = SecurityHeadersLayer::web()
        .hsts(Hsts::two_years().include_subdomains(false).preload())
        .dangerous()
        .allow_nonstandard_hsts_preload()
        .build()
        .unwrap();
    let _ = SecurityHeadersLayer::web()
        .hsts(Hsts::two_years().preload())
        .build()
        .unwrap();
}

#[tokio::test]
async fn hd_11_dangerous_removals_and_typed_setters() {
    let layer = SecurityHeadersLayer::web()
        .frame_options(FrameOptions::SameOrigin)
        .permissions_policy(PermissionsPolicy::new().deny("camera"))
        .dangerous()
        .without_header("x-download-options")
        .without_hsts()
        .keep_response_header("server")
        .end()
        .build()
        .unwrap();
    let res = send(
        layer.layer(handler(&[("server", "paved")])),
        get("https://a.example/"),
    )
    .await;
    let h = res.headers();
    assert_eq!(header(h, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(header(h, "permissions-policy"), Some("camera=()"));
    assert!(h.get("x-download-options").is_none());
    assert!(h.get("strict-transport-security").is_none());
    assert_eq!(header(h, "server"), Some("paved"));
    let layer = SecurityHeadersLayer::web()
        .dangerous()
        .without_content_security_policy()
        .build()
        .unwrap();
    let res = send(layer.layer(handler(&[])), get("https://a.example/")).await;
    assert!(res.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn hd_12_nonce_in_request_extensions_before_handler() {
    let seen: Arc<Mutex<Option<CspNonce>>> = Arc::default();
    let seen2 = seen.clone();
    let app = SecurityHeadersLayer::web()
        .build()
        .unwrap()
        .layer(service_fn(move |req: Request<Body>| {
            let seen = seen2.clone();
            async move {
                let nonce = *req
                    .extensions()
                    .get::<CspNonce>()
                    .expect("nonce before handler");
                *seen.lock().unwrap() = Some(nonce);
                let body = format!("<script nonce=\"{nonce}\"></script>");
                Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from(body))))
            }
        }));
    let res = app.oneshot(get("https://a.example/")).await.unwrap();
    let nonce = seen.lock().unwrap().unwrap();
    let csp = header(res.headers(), "content-security-policy")
        .unwrap()
        .to_owned();
    assert!(csp.contains(&format!("script-src 'nonce-{nonce}' 'strict-dynamic'")));
    assert!(csp.contains(&format!("style-src 'self' 'nonce-{nonce}'")));
    assert_eq!(
        body_text(res).await,
        format!("<script nonce=\"{nonce}\"></script>")
    );
}

fn nonce_of(res: &Response<Body>) -> String {
    header(res.headers(), "content-security-policy")
        .unwrap()
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn hd_13_nonce_fresh_per_response_and_substituted_only_there() {
    let layer = SecurityHeadersLayer::web().build().unwrap();
    let mut seen = HashSet::new();
    for _ in 0..500 {
        let res = send(layer.layer(handler(&[])), get("https://a.example/")).await;
        let n = nonce_of(&res);
        // Every occurrence in this response is this response's nonce.
        let csp = header(res.headers(), "content-security-policy").unwrap();
        assert_eq!(csp.matches("'nonce-").count(), 2);
        assert_eq!(csp.matches(&n).count(), 2);
        assert!(seen.insert(n), "nonce repeated");
    }
}

#[tokio::test]
async fn hd_14_nonce_has_at_least_128_bits() {
    const { assert!(paved_headers::NONCE_RANDOM_BYTES * 8 >= 128) };
    let res = send(
        SecurityHeadersLayer::web()
            .build()
            .unwrap()
            .layer(handler(&[])),
        get("https://a.example/"),
    )
    .await;
    let n = nonce_of(&res);
    assert_eq!(n.len(), paved_headers::NONCE_LEN);
    assert!(
        n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    );
    // Unbuffered source works the same.
    let res = send(
        SecurityHeadersLayer::web()
            .unbuffered_nonces()
            .build()
            .unwrap()
            .layer(handler(&[])),
        get("https://a.example/"),
    )
    .await;
    assert_eq!(nonce_of(&res).len(), paved_headers::NONCE_LEN);
}

#[tokio::test]
async fn hd_15_nested_layer_reuses_outer_nonce() {
    let inner = SecurityHeadersLayer::web()
        .content_security_policy(
            ContentSecurityPolicy::strict().add_source("img-src", "https://cdn.example"),
        )
        .build()
        .unwrap();
    let outer = SecurityHeadersLayer::web().build().unwrap();
    let seen: Arc<Mutex<Option<CspNonce>>> = Arc::default();
    let seen2 = seen.clone();
    let app = outer.layer(inner.layer(service_fn(move |req: Request<Body>| {
        let seen = seen2.clone();
        async move {
            *seen.lock().unwrap() = req.extensions().get::<CspNonce>().copied();
            Ok::<_, std::convert::Infallible>(Response::new(Body::default()))
        }
    })));
    let res = app.oneshot(get("https://a.example/docs")).await.unwrap();
    let csp = header(res.headers(), "content-security-policy").unwrap();
    assert!(csp.contains("img-src 'self' https://cdn.example"), "{csp}");
    assert_eq!(
        nonce_of(&res),
        seen.lock().unwrap().unwrap().as_str(),
        "handler, inner and outer layer agree on the nonce"
    );
}

#[derive(Clone, Copy)]
struct Broken;
impl NonceSource for Broken {
    fn fill(&self, _: &mut [u8]) -> Result<(), RandomnessUnavailable> {
        Err(RandomnessUnavailable)
    }
}

#[tokio::test]
async fn hd_16_randomness_failure_answers_503_not_a_weak_nonce() {
    let logs = Logs::capture();
    let called = Arc::new(Mutex::new(false));
    let called2 = called.clone();
    let app = SecurityHeadersLayer::web()
        .dangerous()
        .nonce_source(Broken)
        .build()
        .unwrap()
        .layer(service_fn(move |_req: Request<Body>| {
            *called2.lock().unwrap() = true;
            async { Ok::<_, std::convert::Infallible>(Response::new(Body::default())) }
        }));
    let res = app.oneshot(get("https://a.example/")).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !*called.lock().unwrap(),
        "handler must not run without a nonce"
    );
    // The 503 still carries the policy, minus the nonce: no inline code runs.
    let csp = header(res.headers(), "content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'none'") && !csp.contains("nonce"),
        "{csp}"
    );
    assert_eq!(body_text(res).await, NO_RANDOMNESS_BODY);
    assert!(logs.text().contains("no randomness"));
}

#[tokio::test]
async fn hd_17_report_only_mode_keeps_baseline_enforced() {
    let svc = SecurityHeadersLayer::web()
        .report_to("/_reports")
        .csp_report_only()
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://a.example/")).await;
    let h = res.headers();
    assert_eq!(
        header(h, "content-security-policy"),
        Some(
            "frame-ancestors 'none'; base-uri 'none'; upgrade-insecure-requests; object-src \
             'none'; report-to csp-endpoint; report-uri /_reports"
        )
    );
    let ro = header(h, "content-security-policy-report-only").unwrap();
    assert!(ro.contains("'strict-dynamic'"));
    assert!(ro.ends_with("report-to csp-endpoint; report-uri /_reports"));
    // The unsafe checks still apply to the policy being rolled out.
    assert!(
        SecurityHeadersLayer::web()
            .csp_report_only()
            .content_security_policy(
                ContentSecurityPolicy::strict().add_source("script-src", "'unsafe-inline'")
            )
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn hd_18_additional_report_only_policy_next_to_enforced() {
    let trial =
        ContentSecurityPolicy::strict().directive("style-src", [ContentSecurityPolicy::NONCE]);
    let svc = SecurityHeadersLayer::web()
        .content_security_policy_report_only(trial)
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://a.example/")).await;
    let n = nonce_of(&res);
    let ro = header(res.headers(), "content-security-policy-report-only").unwrap();
    assert!(
        ro.contains(&format!("style-src 'nonce-{n}'")),
        "same nonce in both: {ro}"
    );
    assert!(res.headers().get("content-security-policy").is_some());
    // Report-only trials may be loose: only syntax is checked.
    let _ = SecurityHeadersLayer::web()
        .content_security_policy_report_only(ContentSecurityPolicy::parse("script-src *").unwrap())
        .build()
        .unwrap();
    assert!(
        SecurityHeadersLayer::web()
            .csp_report_only()
            .content_security_policy_report_only(ContentSecurityPolicy::strict())
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn hd_19_reporting_endpoints_and_report_to_when_configured() {
    let svc = SecurityHeadersLayer::web()
        .report_to("https://reports.example.com/csp")
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://a.example/")).await;
    let h = res.headers();
    assert_eq!(
        header(h, "reporting-endpoints"),
        Some("csp-endpoint=\"https://reports.example.com/csp\"")
    );
    assert!(
        header(h, "content-security-policy")
            .unwrap()
            .ends_with("report-to csp-endpoint; report-uri https://reports.example.com/csp")
    );
    // The api() policy gets the directives too.
    let svc = SecurityHeadersLayer::api()
        .report_to("/r")
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://a.example/")).await;
    assert_eq!(
        header(res.headers(), "content-security-policy"),
        Some("default-src 'none'; frame-ancestors 'none'; report-to csp-endpoint; report-uri /r")
    );
}

#[tokio::test]
async fn hd_20_no_reporting_headers_without_endpoint() {
    let res = send(
        SecurityHeadersLayer::web()
            .build()
            .unwrap()
            .layer(handler(&[])),
        get("https://a.example/"),
    )
    .await;
    assert!(res.headers().get("reporting-endpoints").is_none());
    let csp = header(res.headers(), "content-security-policy").unwrap();
    assert!(!csp.contains("report-to") && !csp.contains("report-uri"));
}

#[test]
fn hd_21_invalid_report_endpoint_refused() {
    for bad in [
        "http://reports.example.com/csp",
        "reports",
        "//reports.example.com",
        "/a b",
        "/a\"b",
        "",
    ] {
        let e = SecurityHeadersLayer::web()
            .report_to(bad)
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::InvalidReportEndpoint { .. }),
            "{bad}: {e}"
        );
    }
    // dev() may report to a loopback http collector.
    let _ = SecurityHeadersLayer::dev()
        .report_to("http://localhost:8080/_reports")
        .build()
        .unwrap();
}

#[tokio::test]
async fn hd_22_permissions_policy_preset_and_builder() {
    let svc = SecurityHeadersLayer::api()
        .permissions_policy(
            PermissionsPolicy::deny_powerful_features()
                .allow_self("geolocation")
                .allow_origins("payment", ["https://pay.example"]),
        )
        .build()
        .unwrap()
        .layer(handler(&[]));
    let res = send(svc, get("https://a.example/")).await;
    let pp = header(res.headers(), "permissions-policy").unwrap();
    assert!(pp.contains("camera=()"));
    assert!(pp.contains("geolocation=self"));
    assert!(pp.contains("payment=(self \"https://pay.example\")"));
    assert!(matches!(
        SecurityHeadersLayer::web()
            .permissions_policy(
                PermissionsPolicy::new().allow_origins("camera", ["https://a.example/x"])
            )
            .build(),
        Err(ConfigError::InvalidPermissionsPolicy { .. })
    ));
}

#[tokio::test]
async fn hd_23_server_and_x_powered_by_removed() {
    let svc = SecurityHeadersLayer::api()
        .build()
        .unwrap()
        .layer(handler(&[
            ("server", "nginx/1.2.3"),
            ("x-powered-by", "Express"),
            ("x-aspnet-version", "4.0"),
            ("x-custom", "kept"),
        ]));
    let res = send(svc, get("https://a.example/")).await;
    let h = res.headers();
    assert!(h.get("server").is_none());
    assert!(h.get("x-powered-by").is_none());
    assert!(h.get("x-aspnet-version").is_none());
    assert_eq!(header(h, "x-custom"), Some("kept"));
}

#[tokio::test]
async fn hd_24_configurable_removal_list() {
    let svc = SecurityHeadersLayer::api()
        .remove_response_header("X-Runtime")
        .build()
        .unwrap()
        .layer(handler(&[("x-runtime", "0.01"), ("server", "a")]));
    let res = send(svc, get("https://a.example/")).await;
    assert!(res.headers().get("x-runtime").is_none());
    assert!(res.headers().get("server").is_none());
}

#[tokio::test]
async fn hd_25_hsts_only_on_https_by_default() {
    let layer = SecurityHeadersLayer::web().build().unwrap();
    let res = send(layer.layer(handler(&[])), get("http://a.example/")).await;
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "plain http"
    );
    let res = send(layer.layer(handler(&[])), get("/no-scheme")).await;
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "origin-form"
    );
    // Spoofed X-Forwarded-Proto without a trusted proxy configuration is ignored.
    let mut req = get("/x");
    req.headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let res = send(layer.layer(handler(&[])), req).await;
    assert!(
        res.headers().get("strict-transport-security").is_none(),
        "spoofed xfp"
    );
    let res = send(layer.layer(handler(&[])), get("https://a.example/")).await;
    assert!(
        res.headers().get("strict-transport-security").is_some(),
        "https scheme"
    );
    let mut req = get("/tls");
    req.extensions_mut().insert(ServedOverTls);
    let res = send(layer.layer(handler(&[])), req).await;
    assert!(
        res.headers().get("strict-transport-security").is_some(),
        "marker"
    );
}

#[tokio::test]
async fn hd_26_hsts_always_when_tls_terminates_in_front() {
    let layer = SecurityHeadersLayer::api()
        .tls_terminates_in_front()
        .build()
        .unwrap();
    let res = send(layer.layer(handler(&[])), get("/plain")).await;
    assert_eq!(
        header(res.headers(), "strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
}

fn from_peer(peer: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = get("/x");
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    req.extensions_mut()
        .insert(PeerAddr(peer.parse::<SocketAddr>().unwrap()));
    req
}

#[tokio::test]
async fn hd_27_hsts_from_x_forwarded_proto_only_from_trusted_proxies() {
    let layer = SecurityHeadersLayer::api()
        .trust_forwarded_proto_from(ProxyHeader::XForwardedProto, ["10.0.0.0/8", "192.0.2.7"])
        .build()
        .unwrap();
    let hsts = |res: &Response<Body>| res.headers().contains_key("strict-transport-security");
    let xfp = [("x-forwarded-proto", "https")];
    assert!(hsts(
        &send(layer.layer(handler(&[])), from_peer("10.9.8.7:4000", &xfp)).await
    ));
    assert!(hsts(
        &send(layer.layer(handler(&[])), from_peer("192.0.2.7:1", &xfp)).await
    ));
    assert!(hsts(
        &send(
            layer.layer(handler(&[])),
            from_peer("[::ffff:10.0.0.1]:1", &xfp)
        )
        .await
    ));
    assert!(!hsts(
        &send(layer.layer(handler(&[])), from_peer("192.0.2.8:1", &xfp)).await
    ));
    assert!(!hsts(
        &send(layer.layer(handler(&[])), from_peer("203.0.113.5:1", &xfp)).await
    ));
    assert!(!hsts(
        &send(
            layer.layer(handler(&[])),
            from_peer("10.0.0.1:1", &[("x-forwarded-proto", "http")])
        )
        .await
    ));
    // No peer address known: the header is not believed.
    let mut req = get("/x");
    req.headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    assert!(!hsts(&send(layer.layer(handler(&[])), req).await));
    assert!(matches!(
        SecurityHeadersLayer::api()
            .trust_forwarded_proto_from(ProxyHeader::XForwardedProto, ["10.0.0.0/40"])
            .build(),
        Err(ConfigError::InvalidProxyAddress { .. })
    ));
}

#[tokio::test]
async fn hd_28_hsts_from_rfc7239_forwarded_only_from_trusted_proxies() {
    let layer = SecurityHeadersLayer::api()
        .trust_forwarded_proto_from(ProxyHeader::Forwarded, ["127.0.0.1"])
        .build()
        .unwrap();
    let hsts = |res: &Response<Body>| res.headers().contains_key("strict-transport-security");
    let fwd = [("forwarded", "for=198.51.100.1;proto=https;host=a.example")];
    assert!(hsts(
        &send(layer.layer(handler(&[])), from_peer("127.0.0.1:9", &fwd)).await
    ));
    assert!(!hsts(
        &send(layer.layer(handler(&[])), from_peer("127.0.0.2:9", &fwd)).await
    ));
    // X-Forwarded-Proto is not the configured header.
    assert!(!hsts(
        &send(
            layer.layer(handler(&[])),
            from_peer("127.0.0.1:9", &[("x-forwarded-proto", "https")])
        )
        .await
    ));
}

#[tokio::test]
async fn hd_30_handler_header_wins() {
    let svc = SecurityHeadersLayer::web()
        .build()
        .unwrap()
        .layer(handler(&[
            ("x-frame-options", "SAMEORIGIN"),
            (
                "content-security-policy",
                "default-src 'self'; frame-ancestors 'self'",
            ),
            ("referrer-policy", "same-origin"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
        ]));
    let res = send(svc, get("https://a.example/")).await;
    let h = res.headers();
    assert_eq!(header(h, "x-frame-options"), Some("SAMEORIGIN"));
    assert_eq!(
        header(h, "content-security-policy"),
        Some("default-src 'self'; frame-ancestors 'self'")
    );
    assert_eq!(header(h, "referrer-policy"), Some("same-origin"));
    assert_eq!(h.get_all("set-cookie").iter().count(), 2);
    assert_eq!(h.get_all("x-frame-options").iter().count(), 1);
    // Not set by the handler: the layer's value.
    assert_eq!(header(h, "x-content-type-options"), Some("nosniff"));
}

#[tokio::test]
async fn hd_31_forced_header_replaces_handler_value() {
    let svc = SecurityHeadersLayer::web()
        .force("X-Frame-Options")
        .force("content-security-policy")
        .force("strict-transport-security")
        .build()
        .unwrap()
        .layer(handler(&[
            ("x-frame-options", "ALLOWALL"),
            ("x-frame-options", "SAMEORIGIN"),
            ("content-security-policy", "script-src *"),
            ("strict-transport-security", "max-age=0"),
            ("referrer-policy", "unsafe-url"),
        ]));
    let res = send(svc.clone(), get("https://a.example/")).await;
    let h = res.headers();
    assert_eq!(
        h.get_all("x-frame-options").iter().collect::<Vec<_>>(),
        ["DENY"]
    );
    assert!(
        header(h, "content-security-policy")
            .unwrap()
            .contains("'strict-dynamic'")
    );
    assert_eq!(
        header(h, "strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
    assert_eq!(
        header(h, "referrer-policy"),
        Some("unsafe-url"),
        "not forced"
    );
    // HSTS is forced only where it is sent: over plain http the handler's value stays.
    let res = send(svc, get("http://a.example/")).await;
    assert_eq!(
        header(res.headers(), "strict-transport-security"),
        Some("max-age=0")
    );
}

#[test]
fn hd_32_force_unknown_header_is_error() {
    let e = SecurityHeadersLayer::web()
        .force("x-not-configured")
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ConfigError::ForceUnknownHeader {
            name: "x-not-configured".into()
        }
    );
    // dev() sends no HSTS, so forcing it is an error there.
    assert!(
        SecurityHeadersLayer::dev()
            .force("strict-transport-security")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn hd_33_header_overrides_extension_skips_non_forced() {
    let layer = SecurityHeadersLayer::web()
        .force("x-content-type-options")
        .build()
        .unwrap();
    let svc = layer.layer(service_fn(|_req: Request<Body>| async {
        let mut res = Response::new(Body::default());
        res.extensions_mut().insert(HeaderOverrides::without([
            X_FRAME_OPTIONS,
            http::header::X_CONTENT_TYPE_OPTIONS,
        ]));
        res.headers_mut().insert("server", "leaky".parse().unwrap());
        Ok::<_, std::convert::Infallible>(res)
    }));
    let res = svc.oneshot(get("https://a.example/widget")).await.unwrap();
    let h = res.headers();
    assert!(
        h.get("x-frame-options").is_none(),
        "skipped on this response"
    );
    assert_eq!(
        header(h, "x-content-type-options"),
        Some("nosniff"),
        "forced"
    );
    assert!(h.get("content-security-policy").is_some());
    assert!(h.get("strict-transport-security").is_some());
    assert!(h.get("server").is_none(), "removal still applies");
}

#[tokio::test]
async fn hd_34_per_route_second_layer_in_axum_router() {
    use axum::{Router, routing::get as route};
    let docs = SecurityHeadersLayer::web()
        .content_security_policy(
            ContentSecurityPolicy::strict().add_source("script-src", "https://cdn.example"),
        )
        .frame_options(FrameOptions::SameOrigin)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/", route(|| async { "home" }))
        .route("/docs", route(|| async { "docs" }).layer(docs))
        .layer(SecurityHeadersLayer::web().build().unwrap());
    let req = |p: &str| {
        Request::get(p)
            .header("host", "a.example")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let home = app.clone().oneshot(req("/")).await.unwrap();
    let docs = app.oneshot(req("/docs")).await.unwrap();
    assert_eq!(home.headers()["x-frame-options"], "DENY");
    assert_eq!(docs.headers()["x-frame-options"], "SAMEORIGIN");
    let docs_csp = docs.headers()["content-security-policy"].to_str().unwrap();
    assert!(docs_csp.contains("https://cdn.example"));
    assert!(
        !home.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("cdn.example")
    );
}

#[tokio::test]
async fn hd_35_no_store_and_clear_site_data_helpers() {
    let svc = SecurityHeadersLayer::web()
        .build()
        .unwrap()
        .layer(no_store().layer(handler(&[("cache-control", "public, max-age=3600")])));
    let res = send(svc, get("https://a.example/account")).await;
    assert_eq!(
        res.headers()
            .get_all(CACHE_CONTROL)
            .iter()
            .collect::<Vec<_>>(),
        ["no-store"]
    );
    let svc = clear_site_data().layer(handler(&[]));
    let res = send(svc, get("https://a.example/logout")).await;
    assert_eq!(
        header(res.headers(), "clear-site-data"),
        Some("\"cache\", \"cookies\", \"storage\"")
    );
}

#[tokio::test]
async fn hd_36_dev_refuses_non_loopback_host_with_403() {
    let logs = Logs::capture();
    let layer = SecurityHeadersLayer::dev().build().unwrap();
    let called = Arc::new(Mutex::new(0));
    let c2 = called.clone();
    let svc = layer.layer(service_fn(move |_req: Request<Body>| {
        *c2.lock().unwrap() += 1;
        async { Ok::<_, std::convert::Infallible>(Response::new(Body::default())) }
    }));
    for host in [
        "example.com",
        "app.example.com:3000",
        "localhost.evil.com",
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "0x7f.0.0.1",
        "[::2]",
        "",
    ] {
        let req = Request::get("/")
            .header("host", host)
            .body(Body::default())
            .unwrap();
        let res = svc.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{host}");
        let csp = header(res.headers(), "content-security-policy").unwrap();
        assert!(!csp.contains("nonce"), "{csp}");
        assert_eq!(body_text(res).await, DEV_REFUSAL_BODY);
    }
    // No Host at all, and an absolute URI naming another host.
    let res = svc
        .clone()
        .oneshot(Request::get("/").body(Body::default()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = svc
        .clone()
        .oneshot(
            Request::get("http://example.com/")
                .header("host", "localhost")
                .body(Body::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(*called.lock().unwrap(), 0, "handler never ran");
    assert!(DEV_REFUSAL_BODY.contains("dev()"));
    assert!(!DEV_REFUSAL_BODY.contains("example.com"), "no reflection");
    assert!(logs.text().contains("example.com"), "detail in tracing");
}

#[tokio::test]
async fn hd_37_dev_serves_loopback_hosts() {
    let layer = SecurityHeadersLayer::dev().build().unwrap();
    for host in [
        "localhost",
        "localhost:3000",
        "app.localhost:8080",
        "127.0.0.1:8080",
        "127.1.2.3",
        "[::1]:3000",
    ] {
        let req = Request::get("/")
            .header("host", host)
            .body(Body::default())
            .unwrap();
        let res = send(layer.layer(handler(&[])), req).await;
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn hd_37_dev_refuses_remote_peers_that_claim_localhost() {
    let layer = SecurityHeadersLayer::dev().build().unwrap();
    for (peer, status) in [
        ("127.0.0.1:40000", StatusCode::OK),
        ("[::1]:40000", StatusCode::OK),
        ("203.0.113.9:40000", StatusCode::FORBIDDEN),
        ("10.0.0.7:40000", StatusCode::FORBIDDEN),
    ] {
        let mut req = Request::get("/")
            .header("host", "localhost:3000")
            .body(Body::default())
            .unwrap();
        req.extensions_mut()
            .insert(PeerAddr(peer.parse::<SocketAddr>().unwrap()));
        let res = send(layer.layer(handler(&[])), req).await;
        assert_eq!(res.status(), status, "{peer}");
    }
}

#[test]
fn hd_38_dev_refuses_hsts_setting() {
    let e = SecurityHeadersLayer::dev()
        .hsts(Hsts::two_years())
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::DevPresetSetting { .. }));
    assert!(e.to_string().contains("localhost"));
}
