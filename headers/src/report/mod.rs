//! A report collector for `Reporting-Endpoints` / `report-uri`.
//!
//! See [`ReportCollector`].
//!
//! # Example
//! ```
//! use bytes::Bytes;
//! use http::{Request, StatusCode};
//! use http_body_util::Full;
//! use paved_headers::report::ReportCollector;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let collector = ReportCollector::new();
//! let report = Request::post("/_reports")
//!     .header("content-type", "application/csp-report")
//!     .body(Full::new(Bytes::from_static(
//!         br#"{"csp-report":{"document-uri":"https://a.example/","blocked-uri":"inline"}}"#,
//!     )))?;
//! let res = collector.oneshot(report).await?;
//! assert_eq!(res.status(), StatusCode::NO_CONTENT);
//! # Ok(())
//! # }
//! ```

mod clock;
mod collector;
mod future;
mod parse;

pub use self::clock::{Clock, ManualClock, MonotonicClock};
pub use self::collector::{
    DEFAULT_BURST, DEFAULT_MAX_BODY_BYTES, DEFAULT_RATE_PER_SECOND, ReportCollector,
    ReportCollectorBuilder,
};
pub use self::future::ResponseFuture;
pub use self::parse::{MAX_FIELD_CHARS, MAX_REPORTS_PER_BODY, Report, ReportFormat};

pub(crate) use self::future::accept;
