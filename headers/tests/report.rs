//! Report collector: formats, limits, rate limit, tracing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use common::Logs;
use http::{Request, StatusCode};
use http_body_util::{Full, StreamBody};
use paved_headers::ConfigError;
use paved_headers::report::{ManualClock, Report, ReportCollector};
use tower::ServiceExt;

const REPORTS_JSON: &str = r#"[{"type":"csp-violation","age":3,"url":"https://a.example/p",
  "user_agent":"Mozilla/5.0","body":{"blockedURL":"https://evil.example/x.js",
  "disposition":"enforce","documentURL":"https://a.example/p",
  "effectiveDirective":"script-src-elem","lineNumber":12,"sample":""}}]"#;

const LEGACY_JSON: &str = r#"{"csp-report":{"document-uri":"https://a.example/",
  "violated-directive":"script-src","effective-directive":"script-src-elem",
  "blocked-uri":"inline","line-number":4,"script-sample":"alert(1)"}}"#;

fn post(content_type: &str, body: &str) -> Request<Full<Bytes>> {
    Request::post("/_reports")
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

#[tokio::test]
async fn hd_52_collector_accepts_reports_json_and_legacy() {
    let logs = Logs::capture();
    let seen: Arc<Mutex<Vec<Report>>> = Arc::default();
    let seen2 = seen.clone();
    let collector = ReportCollector::builder()
        .on_report(move |r| seen2.lock().unwrap().push(r.clone()))
        .build()
        .unwrap();
    let res = collector
        .clone()
        .oneshot(post("application/reports+json", REPORTS_JSON))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = collector
        .clone()
        .oneshot(post("application/csp-report", LEGACY_JSON))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = collector
        .oneshot(post("application/json; charset=utf-8", LEGACY_JSON))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0].blocked_url.as_deref(),
        Some("https://evil.example/x.js")
    );
    assert_eq!(seen[0].user_agent.as_deref(), Some("Mozilla/5.0"));
    assert!(seen[1].legacy);
    assert_eq!(seen[1].sample.as_deref(), Some("alert(1)"));
    let text = logs.text();
    assert_eq!(text.matches("browser report").count(), 3, "{text}");
    assert!(text.contains("paved_headers::report"));
    assert!(text.contains("script-src-elem"));
}

#[tokio::test]
async fn hd_52_report_logs_drop_url_queries_and_fragments() {
    let logs = Logs::capture();
    let body = r#"{"csp-report":{"document-uri":"https://a.example/cb?code=SECRETCODE&state=S#frag",
      "blocked-uri":"https://evil.example/x.js?token=LEAKED","effective-directive":"script-src-elem",
      "source-file":"https://a.example/app.js?session=SID"}}"#;
    let res = ReportCollector::new()
        .oneshot(post("application/csp-report", body))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let text = logs.text();
    assert!(text.contains("https://a.example/cb"), "{text}");
    for secret in ["SECRETCODE", "LEAKED", "SID", "frag"] {
        assert!(!text.contains(secret), "{secret} reached the log: {text}");
    }
}

#[tokio::test]
async fn hd_53_collector_rejects_wrong_method_and_type() {
    let c = ReportCollector::new();
    let res = c
        .clone()
        .oneshot(
            Request::get("/_reports")
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    let res = c
        .clone()
        .oneshot(post("text/plain", LEGACY_JSON))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = c
        .oneshot(
            Request::post("/_reports")
                .body(Full::new(Bytes::from(LEGACY_JSON)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "no content type"
    );
}

#[tokio::test]
async fn hd_54_collector_caps_body_size() {
    let c = ReportCollector::builder()
        .max_body_bytes(1024)
        .build()
        .unwrap();
    let big = format!(
        r#"{{"csp-report":{{"blocked-uri":"{}"}}}}"#,
        "x".repeat(2000)
    );
    // Known length (Full reports its size): refused before reading.
    let res = c
        .clone()
        .oneshot(post("application/csp-report", &big))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Declared Content-Length too large.
    let mut req = post("application/csp-report", LEGACY_JSON);
    req.headers_mut()
        .insert("content-length", "999999".parse().unwrap());
    let res = c.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Streaming body without a length: cut off while reading.
    let chunks: Vec<Result<http_body::Frame<Bytes>, Infallible>> = (0..64)
        .map(|_| Ok(http_body::Frame::data(Bytes::from_static(&[b' '; 100]))))
        .collect();
    let stream = StreamBody::new(futures_util_stream(chunks));
    let req = Request::post("/_reports")
        .header("content-type", "application/csp-report")
        .body(stream)
        .unwrap();
    let res = c.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // At the limit it is accepted.
    let res = c
        .oneshot(post("application/csp-report", LEGACY_JSON))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        ReportCollector::builder()
            .max_body_bytes(0)
            .build()
            .unwrap_err(),
        ConfigError::InvalidLimit {
            name: "max_body_bytes"
        }
    );
}

/// A minimal `Stream` over a vector (avoids a futures dependency).
fn futures_util_stream<T: Unpin>(items: Vec<T>) -> VecStream<T> {
    VecStream(items.into_iter())
}

struct VecStream<T>(std::vec::IntoIter<T>);

impl<T: Unpin> futures_core::Stream for VecStream<T> {
    type Item = T;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        std::task::Poll::Ready(self.0.next())
    }
}

#[tokio::test]
async fn hd_55_collector_rate_limited_with_injected_clock() {
    let clock = Arc::new(ManualClock::new());
    let c = ReportCollector::builder()
        .rate_limit(2, 3)
        .clock(clock.clone())
        .build()
        .unwrap();
    let send = |c: ReportCollector| async move {
        c.oneshot(post("application/csp-report", LEGACY_JSON))
            .await
            .unwrap()
            .status()
    };
    for _ in 0..3 {
        assert_eq!(send(c.clone()).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(send(c.clone()).await, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(Duration::from_millis(499));
    assert_eq!(send(c.clone()).await, StatusCode::TOO_MANY_REQUESTS);
    clock.advance(Duration::from_millis(1));
    assert_eq!(send(c.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(send(c.clone()).await, StatusCode::TOO_MANY_REQUESTS);
    // Idle time refills at most the burst.
    clock.advance(Duration::from_secs(3600));
    for _ in 0..3 {
        assert_eq!(send(c.clone()).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(send(c).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn hd_56_collector_malformed_bodies_are_400_never_500() {
    let c = ReportCollector::builder()
        .rate_limit(1000, 1000)
        .build()
        .unwrap();
    for body in [
        "",
        "{",
        "[]x",
        "{}",
        "[1, 2, 3]",
        r#"{"csp-report": 5}"#,
        "\u{0}\u{1}",
        &"[".repeat(5000),
    ] {
        for ct in ["application/reports+json", "application/csp-report"] {
            let res = c.clone().oneshot(post(ct, body)).await.unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{ct} {body:?}");
        }
    }
    // An empty batch is fine.
    let res = c
        .oneshot(post("application/reports+json", "[]"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
}
