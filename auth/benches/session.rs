//! - `lookup_memory`: a request's `Cookie` header → `Sessions::load` → `LoadedSession`, on a
//!   `MemoryStore` holding 10 000 sessions. Goal: ≤ 2 µs.
//! - `callback_own_work`: `GET /callback` with the token endpoint stubbed in-process: query
//!   parsing, the transaction cookie (open + state compare), the `iss` check, the token
//!   response checks, the ES256 ID token (signature, claims, nonce), sealing the session data
//!   and starting the session. Goal: ≤ 200 µs. The login that precedes each callback and the
//!   provider's signing of the ID token are set-up, not measured.
//!
//! Run briefly on a shared machine:
//! `cargo bench -p paved-auth --bench session -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, criterion_group, criterion_main};
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use paved_auth::session::{MemoryStore, Sessions};
use zeroize::Zeroizing;

const SESSIONS: usize = 10_000;

/// `MemoryStore` futures are ready when returned, so one poll completes `load` without a
/// runtime in the measurement.
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("memory-store operations must be ready at once"),
    }
}

fn bench_session(c: &mut Criterion) {
    let sessions = Sessions::builder(MemoryStore::new(SESSIONS))
        .build()
        .unwrap();
    // Realistic data size: sealed ID, access and refresh tokens.
    let data = vec![0x5a_u8; 3 * 1024];
    let mut last = None;
    for i in 0..SESSIONS {
        let started = ready(sessions.start(
            &format!("https://idp.example user-{i}"),
            Zeroizing::new(data.clone()),
            None,
        ))
        .unwrap();
        if i == SESSIONS / 2 {
            last = Some(started.into_parts().0);
        }
    }
    let id = last.unwrap();
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "theme=dark; __Host-session={}; lang=en",
        id.expose_cookie_value()
    );
    headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
    assert!(ready(sessions.load(&headers)).unwrap().is_some());

    let mut group = c.benchmark_group("session");
    group.bench_function("lookup_memory", |b| {
        b.iter(|| {
            let loaded = ready(sessions.load(black_box(&headers))).unwrap();
            black_box(loaded.unwrap())
        });
    });
    let fixture = paved_auth::fuzzing::CallbackFixture::new().unwrap();
    group.bench_function("callback_own_work", |b| {
        b.iter_batched(
            || {
                let pending = ready(fixture.begin()).unwrap();
                let query = fixture.callback_query(&pending).unwrap();
                (query, pending.cookie)
            },
            |(query, cookie)| {
                let status = ready(fixture.callback(black_box(&query), black_box(&cookie)));
                assert_eq!(status, http::StatusCode::SEE_OTHER);
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, bench_session);
criterion_main!(benches);
