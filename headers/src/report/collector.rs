use std::convert::Infallible;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::{BodyExt, Full, Limited};
use tower::Service;

use super::clock::{Bucket, Clock, MonotonicClock};
use super::future::ResponseFuture;
use super::parse::{Report, ReportFormat};
use crate::error::ConfigError;

/// Default body cap: 64 KiB. Single CSP reports are 1–3 KiB; the Reporting API batches several.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Default sustained rate: 50 report bodies per second (over all clients).
pub const DEFAULT_RATE_PER_SECOND: u32 = 50;

/// Default burst: 100 bodies.
pub const DEFAULT_BURST: u32 = 100;

pub(crate) type OnReport = Arc<dyn Fn(&Report) + Send + Sync>;

pub(crate) struct Shared {
    pub(crate) max_body_bytes: usize,
    rate_per_second: u32,
    burst: u32,
    clock: Arc<dyn Clock>,
    bucket: Mutex<Bucket>,
    pub(crate) on_report: Option<OnReport>,
}

impl Shared {
    fn admit(&self) -> bool {
        let now = self.clock.now();
        match self.bucket.lock() {
            Ok(mut b) => b.try_take(now, self.rate_per_second, self.burst),
            Err(_) => false,
        }
    }
}

/// A small endpoint for browser reports (CSP violations and other Reporting API reports).
///
/// Mount it at the path given to
/// [`SecurityHeadersBuilder::report_to`](crate::SecurityHeadersBuilder::report_to). It:
///
/// - accepts only `POST` (`405` with `Allow: POST` otherwise);
/// - accepts `application/reports+json` (Reporting API), `application/csp-report` (legacy
///   `report-uri`) and `application/json` (`415` otherwise);
/// - caps the body at [`DEFAULT_MAX_BODY_BYTES`] (`413`, checked on `Content-Length` first and
///   while reading), and takes at most
///   [`MAX_REPORTS_PER_BODY`](crate::report::MAX_REPORTS_PER_BODY) reports per body;
/// - rate-limits bodies with a token bucket over all clients ([`DEFAULT_RATE_PER_SECOND`],
///   [`DEFAULT_BURST`]; `429`), before reading the body;
/// - emits one `tracing` event per report (target `paved_headers::report`, level `warn`,
///   untrusted strings escaped and clipped) and calls the optional
///   [`on_report`](Self::on_report) hook;
/// - answers `204 No Content` (`400` for a body that is not reports).
///
/// Every rejection has a fixed status and a fixed short body. The rate limit is global, not
/// per client: a flood from one client can crowd out others' reports (reports are best effort),
/// but memory stays bounded.
///
/// A collector on another origin than the pages needs CORS for the preflight the Reporting API
/// sends: wrap it in [`StrictCors`](crate::cors::StrictCors).
#[derive(Clone)]
#[must_use]
pub struct ReportCollector {
    shared: Arc<Shared>,
}

impl fmt::Debug for ReportCollector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportCollector")
            .field("max_body_bytes", &self.shared.max_body_bytes)
            .field("rate_per_second", &self.shared.rate_per_second)
            .field("burst", &self.shared.burst)
            .field("on_report", &self.shared.on_report.as_ref().map(|_| "<fn>"))
            .finish_non_exhaustive()
    }
}

impl Default for ReportCollector {
    fn default() -> Self {
        Self::new()
    }
}

/// Builder for [`ReportCollector`] limits.
#[derive(Clone)]
#[must_use]
pub struct ReportCollectorBuilder {
    max_body_bytes: usize,
    rate_per_second: u32,
    burst: u32,
    clock: Arc<dyn Clock>,
    on_report: Option<OnReport>,
}

impl fmt::Debug for ReportCollectorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReportCollectorBuilder")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

impl ReportCollector {
    /// A collector with the default limits.
    pub fn new() -> Self {
        Self::builder().build_unchecked()
    }

    /// A builder to change the limits, the clock or add a hook.
    pub fn builder() -> ReportCollectorBuilder {
        ReportCollectorBuilder {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            rate_per_second: DEFAULT_RATE_PER_SECOND,
            burst: DEFAULT_BURST,
            clock: Arc::new(MonotonicClock::new()),
            on_report: None,
        }
    }

    /// Calls `hook` for every accepted report (after the `tracing` event), e.g. to count or
    /// store them. It runs on the request task: keep it quick.
    pub fn on_report<F>(self, hook: F) -> Self
    where
        F: Fn(&Report) + Send + Sync + 'static,
    {
        let s = &self.shared;
        ReportCollectorBuilder {
            max_body_bytes: s.max_body_bytes,
            rate_per_second: s.rate_per_second,
            burst: s.burst,
            clock: Arc::clone(&s.clock),
            on_report: Some(Arc::new(hook)),
        }
        .build_unchecked()
    }
}

impl ReportCollectorBuilder {
    /// Largest accepted body in bytes.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sustained bodies per second and burst size.
    pub fn rate_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.rate_per_second = per_second;
        self.burst = burst;
        self
    }

    /// The clock of the rate limiter (tests use [`ManualClock`](super::ManualClock)).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// See [`ReportCollector::on_report`].
    pub fn on_report<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Report) + Send + Sync + 'static,
    {
        self.on_report = Some(Arc::new(hook));
        self
    }

    /// Builds the collector.
    ///
    /// # Errors
    /// [`ConfigError::InvalidLimit`] if a limit is zero.
    pub fn build(self) -> Result<ReportCollector, ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigError::InvalidLimit {
                name: "max_body_bytes",
            });
        }
        if self.rate_per_second == 0 {
            return Err(ConfigError::InvalidLimit {
                name: "rate_per_second",
            });
        }
        if self.burst == 0 {
            return Err(ConfigError::InvalidLimit { name: "burst" });
        }
        Ok(self.build_unchecked())
    }

    fn build_unchecked(self) -> ReportCollector {
        ReportCollector {
            shared: Arc::new(Shared {
                max_body_bytes: self.max_body_bytes.max(1),
                rate_per_second: self.rate_per_second.max(1),
                burst: self.burst.max(1),
                clock: self.clock,
                bucket: Mutex::new(Bucket::full(self.burst.max(1))),
                on_report: self.on_report,
            }),
        }
    }
}

pub(crate) fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    if !body.is_empty() {
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    res
}

impl<B> Service<Request<B>> for ReportCollector
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = ResponseFuture<B>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let shared = &self.shared;
        if req.method() != Method::POST {
            let mut res = reply(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed\n");
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return ResponseFuture::ready(res);
        }
        if !shared.admit() {
            tracing::debug!(target: "paved_headers::report", "report dropped: rate limit");
            return ResponseFuture::ready(reply(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests\n",
            ));
        }
        let Some(format) = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| ReportFormat::from_content_type(v.as_bytes()))
        else {
            tracing::debug!(target: "paved_headers::report", "report refused: content type");
            return ResponseFuture::ready(reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported Media Type\n",
            ));
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let too_big = declared.is_some_and(|n| n > shared.max_body_bytes as u64)
            || req.body().size_hint().lower() > shared.max_body_bytes as u64;
        if too_big {
            tracing::debug!(target: "paved_headers::report", ?declared, "report refused: too large");
            return ResponseFuture::ready(reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload Too Large\n",
            ));
        }
        let body = Limited::new(req.into_body(), shared.max_body_bytes);
        ResponseFuture::reading(body.collect(), format, Arc::clone(shared))
    }
}
