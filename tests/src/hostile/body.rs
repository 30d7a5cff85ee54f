//! Responses: the JSON and redirect helpers, and the transport faults with their streamed
//! bodies (a 100 MiB body that is never allocated, a body that dribbles one byte at a time).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, PRAGMA};
use http::{HeaderValue, StatusCode};
use http_body::{Frame, SizeHint};
use serde_json::{Value, json};

use super::faults::TransportFault;
use super::state::StreamStats;

/// The length of [`TransportFault::HugeBody`]: 100 MiB, two hundred times the paved client's
/// default body cap (512 KiB) and far over any JWKS or token response.
pub const HUGE_BODY_LEN: u64 = 100 * 1024 * 1024;

/// The most bytes a [`TransportFault::SlowBody`] sends (an hour at one byte a second), so that
/// a client without a timeout still sees the stream end.
pub const SLOW_BODY_MAX_BYTES: u64 = 3600;

/// The chunk the huge body repeats: JSON whitespace, so the whole body is valid JSON (`{}` at
/// the end) and only a size cap, not a parse error, stops a client.
static SPACES: [u8; 64 * 1024] = [b' '; 64 * 1024];

/// The tail of both streamed bodies.
const TAIL: &[u8] = b"{}";

fn header(value: &'static str) -> HeaderValue {
    HeaderValue::from_static(value)
}

/// A JSON answer with `Cache-Control: no-store` (RFC 6749 §5.1 asks it of token responses; it
/// does no harm elsewhere).
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, header("application/json"));
    headers.insert(CACHE_CONTROL, header("no-store"));
    headers.insert(PRAGMA, header("no-cache"));
    response
}

/// An OAuth error answer (RFC 6749 §5.2).
pub(crate) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": error, "error_description": description }),
    )
}

/// A plain-text answer (for errors the server must not redirect, RFC 6749 §4.1.2.1).
pub(crate) fn text_response(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, header("text/plain; charset=utf-8"));
    response
}

/// `302 Found` to `location` (a location that is not a valid header value becomes a 500).
pub(crate) fn redirect(location: &str) -> Response {
    let Ok(value) = HeaderValue::from_str(location) else {
        return text_response(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect target");
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::FOUND;
    response.headers_mut().insert(LOCATION, value);
    response
        .headers_mut()
        .insert(CACHE_CONTROL, header("no-store"));
    response
}

/// What a handler does about the transport fault it drew.
pub(crate) enum Plan {
    /// Answer honestly.
    Honest,
    /// Answer this instead (the request is not processed).
    Replace(Response),
    /// Sleep, then answer honestly.
    Delay(Duration),
    /// Answer honestly, then sleep before sending it.
    DelayAfter(Duration),
    /// Answer honestly with a `text/html` content type.
    WrongContentType,
}

impl Plan {
    /// The plan for `fault` (`None`: honest).
    pub(crate) fn for_fault(fault: Option<TransportFault>, stats: &Arc<StreamStats>) -> Self {
        let Some(fault) = fault else {
            return Self::Honest;
        };
        match fault {
            TransportFault::Status(status) => Self::Replace(json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                &json!({ "error": "server_error" }),
            )),
            TransportFault::NonJson => {
                let mut response = Response::new(Body::from(
                    "<!doctype html><html><body><h1>Service unavailable</h1></body></html>",
                ));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, header("application/json"));
                Self::Replace(response)
            }
            TransportFault::WrongContentType => Self::WrongContentType,
            TransportFault::Redirect(location) => Self::Replace(redirect(&location)),
            TransportFault::HugeBody { declared_length } => {
                let mut response =
                    Response::new(Body::new(HugeBody::new(declared_length, Arc::clone(stats))));
                let headers = response.headers_mut();
                headers.insert(CONTENT_TYPE, header("application/json"));
                if declared_length {
                    headers.insert(CONTENT_LENGTH, HeaderValue::from(HUGE_BODY_LEN));
                }
                Self::Replace(response)
            }
            TransportFault::SlowBody { every } => {
                let mut response =
                    Response::new(Body::new(SlowBody::new(every, Arc::clone(stats))));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, header("application/json"));
                Self::Replace(response)
            }
            TransportFault::Delay(duration) => Self::Delay(duration),
            TransportFault::DelayAfterProcessing(duration) => Self::DelayAfter(duration),
        }
    }

    /// Whether the plan answers without the honest processing.
    pub(crate) fn replaces(&self) -> bool {
        matches!(self, Self::Replace(_))
    }

    /// Runs the plan around `honest`, which is called only when the plan answers honestly.
    pub(crate) async fn run(self, honest: impl FnOnce() -> Response) -> Response {
        match self {
            Self::Honest => honest(),
            Self::Replace(response) => response,
            Self::Delay(duration) => {
                tokio::time::sleep(duration).await;
                honest()
            }
            Self::DelayAfter(duration) => {
                let response = honest();
                tokio::time::sleep(duration).await;
                response
            }
            Self::WrongContentType => {
                let mut response = honest();
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, header("text/html; charset=utf-8"));
                response
            }
        }
    }
}

/// Counts a streamed body as active from creation to drop. hyper drops the body when the
/// connection goes away, so the count falling back proves the stream stopped.
struct StreamGuard(Arc<StreamStats>);

impl StreamGuard {
    fn new(stats: Arc<StreamStats>) -> Self {
        stats.active.fetch_add(1, Ordering::SeqCst);
        stats.started.fetch_add(1, Ordering::SeqCst);
        Self(stats)
    }

    fn sent(&self, n: usize) {
        self.0
            .bytes_sent
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::SeqCst);
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// [`HUGE_BODY_LEN`] bytes of whitespace and `{}`, served from one static chunk: hyper polls
/// the next chunk only when the socket takes more, so memory stays at one chunk whatever the
/// client does.
struct HugeBody {
    remaining: u64,
    declared: bool,
    guard: StreamGuard,
}

impl HugeBody {
    fn new(declared: bool, stats: Arc<StreamStats>) -> Self {
        Self {
            remaining: HUGE_BODY_LEN,
            declared,
            guard: StreamGuard::new(stats),
        }
    }
}

impl http_body::Body for HugeBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let tail = TAIL.len() as u64;
        let chunk = if self.remaining == 0 {
            return Poll::Ready(None);
        } else if self.remaining <= tail {
            Bytes::from_static(TAIL)
        } else {
            let n = usize::try_from((self.remaining - tail).min(SPACES.len() as u64))
                .unwrap_or(SPACES.len());
            Bytes::from_static(&SPACES[..n])
        };
        self.remaining -= chunk.len() as u64;
        self.guard.sent(chunk.len());
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.declared {
            SizeHint::with_exact(self.remaining)
        } else {
            SizeHint::default()
        }
    }
}

/// One byte every `every`, [`SLOW_BODY_MAX_BYTES`] at most (whitespace, then `{}`).
struct SlowBody {
    sleep: Pin<Box<tokio::time::Sleep>>,
    every: Duration,
    remaining: u64,
    guard: StreamGuard,
}

impl SlowBody {
    fn new(every: Duration, stats: Arc<StreamStats>) -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(every)),
            every,
            remaining: SLOW_BODY_MAX_BYTES,
            guard: StreamGuard::new(stats),
        }
    }
}

impl http_body::Body for SlowBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        let byte: &'static [u8] = match self.remaining {
            2 => b"{",
            1 => b"}",
            _ => b" ",
        };
        self.remaining -= 1;
        self.guard.sent(1);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(byte)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }
}
