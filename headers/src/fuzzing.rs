//! Entry points for the fuzz targets in `fuzz/` (not part of the stable API).

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Layer, Service};

use crate::cross_origin::CrossOriginProtectionLayer;
use crate::report::ReportCollector;

fn poll_once<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Sends one body with the given `Content-Type` to a fresh collector and returns the status.
/// Panics (which the fuzzer reports) if the status is outside the documented set.
#[must_use]
pub fn report_body(content_type: &[u8], body: &[u8]) -> u16 {
    let mut req = Request::new(Full::new(Bytes::copy_from_slice(body)));
    *req.method_mut() = Method::POST;
    if let Ok(v) = HeaderValue::from_bytes(content_type) {
        req.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let mut collector = ReportCollector::new();
    let status = match poll_once(collector.call(req)) {
        Some(Ok(res)) => res.status(),
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let allowed = [
        StatusCode::NO_CONTENT,
        StatusCode::BAD_REQUEST,
        StatusCode::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    ];
    assert!(allowed.contains(&status), "unexpected status {status}");
    status.as_u16()
}

/// Parses a body directly (no HTTP), for the same target.
pub fn report_parse(format_byte: u8, body: &[u8]) {
    let format = match format_byte % 3 {
        0 => crate::report::ReportFormat::Reports,
        1 => crate::report::ReportFormat::LegacyCsp,
        _ => crate::report::ReportFormat::Json,
    };
    let _ = crate::report::accept(format, body, None);
}

#[derive(Clone, Copy)]
struct Ok200;

impl Service<Request<Full<Bytes>>> for Ok200 {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<Full<Bytes>>) -> Self::Future {
        std::future::ready(Ok(Response::new(Full::default())))
    }
}

/// Runs one request through the default cross-origin protection. Returns `None` if the inputs
/// do not form a request, else whether the request reached the handler.
#[must_use]
pub fn origin_check(
    method: &[u8],
    uri: &[u8],
    host: Option<&[u8]>,
    origin: Option<&[u8]>,
    sec_fetch_site: Option<&[u8]>,
) -> Option<bool> {
    let method = Method::from_bytes(method).ok()?;
    let uri = http::Uri::try_from(uri).ok()?;
    let mut req = Request::new(Full::default());
    *req.method_mut() = method;
    *req.uri_mut() = uri;
    for (name, value) in [
        ("host", host),
        ("origin", origin),
        ("sec-fetch-site", sec_fetch_site),
    ] {
        if let Some(v) = value {
            req.headers_mut()
                .insert(name, HeaderValue::from_bytes(v).ok()?);
        }
    }
    let mut svc = CrossOriginProtectionLayer::new().layer(Ok200);
    poll_once(svc.call(req)).map(|Ok(res)| res.status() == StatusCode::OK)
}
