//! - `lookup_memory`: a request's `Cookie` header → `Sessions::load` → `LoadedSession`, on a
//!   `MemoryStore` holding 10 000 sessions. Goal: ≤ 2 µs.
//! - `lookup_redis` (feature `redis`): the same lookup on a `RedisSessionStore` holding 10 000
//!   sessions, against a `redis-server` this bench starts on a free 127.0.0.1 port and kills at
//!   the end (one loopback round trip per lookup; skipped with a message when `redis-server` is
//!   not installed).
//! - `callback_own_work`: `GET /callback` with the token endpoint stubbed in-process: query
//!   parsing, the transaction cookie (open + state compare), the `iss` check, the token
//!   response checks, the ES256 ID token (signature, claims, nonce), sealing the session data
//!   and starting the session. Goal: ≤ 200 µs. The login that precedes each callback and the
//!   provider's signing of the ID token are set-up, not measured.
//!
//! Run briefly on a shared machine:
//! `cargo bench -p paved-auth --features redis --bench session -- --warm-up-time 1 --measurement-time 3`.
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

/// Starts [`SESSIONS`] sessions holding `data`; the request headers of the middle one, with
/// neighbouring cookies as a browser sends them.
async fn fill(sessions: &Sessions, data: &[u8]) -> HeaderMap {
    let mut last = None;
    for i in 0..SESSIONS {
        let started = sessions
            .start(
                &format!("https://idp.example user-{i}"),
                Zeroizing::new(data.to_vec()),
                None,
            )
            .await
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
    assert!(sessions.load(&headers).await.unwrap().is_some());
    headers
}

fn bench_session(c: &mut Criterion) {
    let sessions = Sessions::builder(MemoryStore::new(SESSIONS))
        .build()
        .unwrap();
    // Realistic data size: sealed ID, access and refresh tokens.
    let data = vec![0x5a_u8; 3 * 1024];
    let headers = ready(fill(&sessions, &data));

    let mut group = c.benchmark_group("session");
    group.bench_function("lookup_memory", |b| {
        b.iter(|| {
            let loaded = ready(sessions.load(black_box(&headers))).unwrap();
            black_box(loaded.unwrap())
        });
    });
    #[cfg(feature = "redis")]
    redis::bench_lookup(&mut group, &data);
    #[cfg(not(feature = "redis"))]
    eprintln!("session/lookup_redis skipped: build with `--features redis`");
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

#[cfg(feature = "redis")]
mod redis {
    use std::hint::black_box;
    use std::io::{BufRead as _, BufReader, Write as _};
    use std::net::{TcpListener, TcpStream};
    use std::process::{Child, Command, Stdio};
    use std::time::{Duration, Instant};

    use criterion::BenchmarkGroup;
    use criterion::measurement::WallTime;
    use paved_auth::session::{RedisSessionStore, Sessions};

    /// A `redis-server` on a free loopback port, killed when dropped.
    struct Server {
        child: Child,
        port: u16,
    }

    impl Server {
        fn start() -> Option<Self> {
            let port = TcpListener::bind("127.0.0.1:0")
                .ok()?
                .local_addr()
                .ok()?
                .port();
            let child = Command::new("redis-server")
                .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .ok()?;
            let server = Self { child, port };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if server.ping() {
                    return Some(server);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            None
        }

        fn ping(&self) -> bool {
            let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.port)) else {
                return false;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut line = String::new();
            stream.write_all(b"PING\r\n").is_ok()
                && BufReader::new(stream).read_line(&mut line).is_ok()
                && line.starts_with("+PONG")
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    pub(super) fn bench_lookup(group: &mut BenchmarkGroup<'_, WallTime>, data: &[u8]) {
        let Some(server) = Server::start() else {
            eprintln!(
                "session/lookup_redis skipped: `redis-server` is not installed or did not start"
            );
            return;
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let url = format!("redis://127.0.0.1:{}", server.port);
        let store = rt
            .block_on(RedisSessionStore::builder(url).pool_size(1).connect())
            .unwrap();
        let sessions = Sessions::builder(store.clone()).build().unwrap();
        let headers = rt.block_on(super::fill(&sessions, data));
        group.bench_function("lookup_redis", |b| {
            b.iter(|| {
                let loaded = rt.block_on(sessions.load(black_box(&headers))).unwrap();
                black_box(loaded.unwrap())
            });
        });
        rt.block_on(store.quit());
        drop(server);
    }
}

criterion_group!(benches, bench_session);
criterion_main!(benches);
