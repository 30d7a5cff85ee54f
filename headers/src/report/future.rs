use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::{Full, LengthLimitError, Limited};
use pin_project_lite::pin_project;

use super::collector::{Shared, reply};
use super::parse::{ParseError, ReportFormat, parse};
use crate::util::Clipped;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pin_project! {
    /// Response future of [`ReportCollector`](super::ReportCollector).
    pub struct ResponseFuture<B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        Ready {
            response: Option<Response<Full<Bytes>>>,
        },
        Reading {
            #[pin]
            collect: Collect<Limited<B>>,
            format: ReportFormat,
            shared: Arc<Shared>,
        },
    }
}

impl<B> std::fmt::Debug for ResponseFuture<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<B> ResponseFuture<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    pub(crate) fn ready(response: Response<Full<Bytes>>) -> Self {
        Self {
            kind: Kind::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn reading(
        collect: Collect<Limited<B>>,
        format: ReportFormat,
        shared: Arc<Shared>,
    ) -> Self {
        Self {
            kind: Kind::Reading {
                collect,
                format,
                shared,
            },
        }
    }
}

fn s(v: Option<&String>) -> Option<Clipped<'_>> {
    v.map(|x| Clipped(x.as_bytes()))
}

/// A URL for the log without its query and fragment: reports carry full same-origin URLs, and
/// query strings hold OAuth codes, reset tokens and session ids that must not reach the logs.
/// The `on_report` hook still gets the whole report.
fn url(v: Option<&String>) -> Option<Clipped<'_>> {
    v.map(|x| {
        let end = x.find(['?', '#']).unwrap_or(x.len());
        Clipped(&x.as_bytes()[..end])
    })
}

/// Handles one complete body: parse, log, hook, reply.
pub(crate) fn accept(
    format: ReportFormat,
    body: &[u8],
    shared: Option<&Shared>,
) -> Response<Full<Bytes>> {
    let (reports, dropped) = match parse(format, body) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(
                target: "paved_headers::report",
                reason = match e { ParseError::NotJson => "not JSON", ParseError::WrongShape => "not reports" },
                "report refused: malformed"
            );
            return reply(StatusCode::BAD_REQUEST, "Bad Request\n");
        }
    };
    for r in &reports {
        tracing::warn!(
            target: "paved_headers::report",
            report_type = ?Clipped(r.report_type.as_bytes()),
            document_url = ?url(r.document_url.as_ref()),
            blocked_url = ?url(r.blocked_url.as_ref()),
            effective_directive = ?s(r.effective_directive.as_ref()),
            disposition = ?s(r.disposition.as_ref()),
            source_file = ?url(r.source_file.as_ref()),
            line_number = ?r.line_number,
            column_number = ?r.column_number,
            sample = ?s(r.sample.as_ref()),
            status_code = ?r.status_code,
            user_agent = ?s(r.user_agent.as_ref()),
            legacy = r.legacy,
            "browser report"
        );
        if let Some(hook) = shared.and_then(|s| s.on_report.as_ref()) {
            hook(r);
        }
    }
    if dropped > 0 {
        tracing::debug!(target: "paved_headers::report", dropped, "reports beyond the per-body cap dropped");
    }
    reply(StatusCode::NO_CONTENT, "")
}

impl<B> Future for ResponseFuture<B>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<Full<Bytes>>, std::convert::Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Ready { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            KindProj::Reading {
                collect,
                format,
                shared,
            } => {
                let res = match ready!(collect.poll(cx)) {
                    Ok(collected) => accept(*format, &collected.to_bytes(), Some(shared)),
                    Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                        tracing::debug!(target: "paved_headers::report", "report refused: too large");
                        reply(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large\n")
                    }
                    Err(_) => {
                        tracing::debug!(target: "paved_headers::report", "report refused: body error");
                        reply(StatusCode::BAD_REQUEST, "Bad Request\n")
                    }
                };
                Poll::Ready(Ok(res))
            }
        }
    }
}
