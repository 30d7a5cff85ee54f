//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{Service, ServiceExt, service_fn};

pub type Body = Full<Bytes>;

/// A handler that answers 200 with `headers` set (in order; repeated names are appended).
pub fn handler(
    headers: &[(&'static str, &'static str)],
) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future: Send>
+ Clone
+ Send {
    let headers: Vec<(&'static str, &'static str)> = headers.to_vec();
    service_fn(move |_req: Request<Body>| {
        let headers = headers.clone();
        async move {
            let mut res = Response::new(Full::new(Bytes::from_static(b"ok")));
            for (k, v) in headers {
                res.headers_mut().append(k, v.parse().unwrap());
            }
            Ok::<_, Infallible>(res)
        }
    })
}

pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("host", host_of(uri))
        .body(Body::default())
        .unwrap()
}

fn host_of(uri: &str) -> String {
    uri.split("://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or("app.example.com")
        .to_owned()
}

pub async fn send<S>(svc: S, req: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    svc.oneshot(req).await.unwrap()
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// Captures `tracing` output of the current thread while the guard lives.
pub struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Logs {
    pub fn capture() -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Writer(writer.clone()))
            .finish();
        Self {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.buf.lock().unwrap().clone()).unwrap()
    }
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
