//! Per-request cost of the security-headers layer against a bare service and tower-helmet.
//!
//! Run with `cargo bench -p paved-headers --bench headers -- --warm-up-time 1 --measurement-time 3`.
//! Every id sends the same https GET to a `service_fn` returning a small text response; the
//! futures are all immediately ready and are polled once with a no-op waker, so the numbers are
//! the layers' own work (plus building the request, identical for all ids).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response, header};
use http_body_util::Full;
use paved_headers::SecurityHeadersLayer;
use tower::{Layer, Service, service_fn};

type Req = Request<Full<Bytes>>;
type Res = Response<Full<Bytes>>;

fn handler() -> impl Service<Req, Response = Res, Error = Infallible> + Clone {
    service_fn(|_req: Req| async {
        let mut res = Response::new(Full::new(Bytes::from_static(b"hello, world")));
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        Ok::<_, Infallible>(res)
    })
}

fn request() -> Req {
    Request::get("https://app.example.com/")
        .header(header::HOST, "app.example.com")
        .header(header::USER_AGENT, "bench")
        .body(Full::default())
        .unwrap()
}

fn once<S>(svc: &mut S) -> Res
where
    S: Service<Req, Response = Res, Error = Infallible>,
{
    let fut = svc.call(request());
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(res)) => res,
        _ => panic!("handler future was not ready"),
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("security_headers");

    let mut bare = handler();
    group.bench_function("bare", |b| b.iter(|| black_box(once(&mut bare))));

    let mut api = SecurityHeadersLayer::api()
        .build()
        .unwrap()
        .layer(handler());
    assert!(
        once(&mut api)
            .headers()
            .contains_key("strict-transport-security")
    );
    group.bench_function("paved_api", |b| b.iter(|| black_box(once(&mut api))));

    let mut web = SecurityHeadersLayer::web()
        .report_to("/_reports")
        .build()
        .unwrap()
        .layer(handler());
    assert!(
        once(&mut web).headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("'nonce-")
    );
    group.bench_function("paved_web", |b| b.iter(|| black_box(once(&mut web))));

    let mut helmet = tower_helmet::HelmetLayer::with_defaults().layer(handler());
    assert!(
        once(&mut helmet)
            .headers()
            .contains_key("content-security-policy")
    );
    group.bench_function("tower_helmet", |b| b.iter(|| black_box(once(&mut helmet))));

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
