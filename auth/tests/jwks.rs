//! `JwksCache` against a live HTTP server on 127.0.0.1: rotation, cooldown, single flight,
//! outage with last-known-good, hostile servers (redirect, 10 MB body, slow body), key
//! filtering. Time is the injected clock; every loop is bounded and every test has a timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use paved_auth::http_client::{FetchError, HttpClient};
use paved_auth::jwt::{
    Algorithm, ConfigError, JwksCache, JwksError, JwtError, JwtValidator, NoCustomClaims,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone)]
enum Mode {
    /// 200 with this JSON, after an optional delay.
    Json(String, Duration),
    /// 302 to this URL.
    Redirect(String),
    /// 200 with a 10 MB body, with or without `Content-Length`.
    Huge { chunked: bool },
    /// 200, `Content-Length: 1000`, one byte every 100 ms.
    Slow,
    /// 500.
    Error,
    /// 200 with this body and this `Content-Type`.
    Typed(String, &'static str),
}

struct Server {
    url: String,
    hits: Arc<AtomicUsize>,
    mode: Arc<Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let mode = Arc::new(Mutex::new(mode));
        let (h, m) = (Arc::clone(&hits), Arc::clone(&mode));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (h, m) = (Arc::clone(&h), Arc::clone(&m));
                tokio::spawn(async move { serve(stream, &h, &m).await });
            }
        });
        Self {
            url,
            hits,
            mode,
            task,
        }
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Stops listening: later connections are refused.
    fn stop(&self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, hits: &AtomicUsize, mode: &Mutex<Mode>) {
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    hits.fetch_add(1, Ordering::SeqCst);
    let mode = mode.lock().unwrap().clone();
    let _ = respond(&mut stream, mode).await;
}

async fn respond(stream: &mut TcpStream, mode: Mode) -> std::io::Result<()> {
    match mode {
        Mode::Json(body, delay) => {
            tokio::time::sleep(delay).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Mode::Redirect(to) => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
        }
        Mode::Huge { chunked } => {
            let total = 10 * 1024 * 1024;
            let chunk = vec![b' '; 64 * 1024];
            if chunked {
                stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").await?;
                for _ in 0..total / chunk.len() {
                    stream
                        .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                        .await?;
                    stream.write_all(&chunk).await?;
                    stream.write_all(b"\r\n").await?;
                }
                stream.write_all(b"0\r\n\r\n").await?;
            } else {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
                );
                stream.write_all(head.as_bytes()).await?;
                for _ in 0..total / chunk.len() {
                    stream.write_all(&chunk).await?;
                }
            }
        }
        Mode::Slow => {
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n")
                .await?;
            for _ in 0..1000 {
                stream.write_all(b" ").await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Mode::Typed(body, content_type) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
        }
        Mode::Error => {
            stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await?;
        }
    }
    stream.shutdown().await
}

fn jwks(keys: &[(&SigningKey, &str)]) -> String {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(key, kid)| {
            let mut jwk = key.jwk();
            jwk["kid"] = json!(kid);
            jwk["alg"] = json!(key.default_alg().name());
            jwk["use"] = json!("sig");
            jwk
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

fn json_mode(body: String) -> Mode {
    Mode::Json(body, Duration::ZERO)
}

fn cache(url: &str, clock: &TestClock) -> JwksCache {
    JwksCache::builder(url)
        .client(HttpClient::dev_loopback().unwrap())
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn validator(jwks: JwksCache, clock: &TestClock) -> JwtValidator {
    builder(clock).jwks(jwks).build().unwrap()
}

async fn check(validator: &JwtValidator, token: &str) -> Result<(), JwtError> {
    validator
        .validate::<NoCustomClaims>(token)
        .await
        .map(|_| ())
}

/// Runs `body` with a 30 s bound, so a regression hangs nothing.
async fn bounded<F: std::future::Future<Output = ()>>(body: F) {
    tokio::time::timeout(Duration::from_secs(30), body)
        .await
        .expect("test exceeded 30 s");
}

/// Captured `tracing` output for the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture() -> (Self, tracing::subscriber::DefaultGuard) {
        let logs = Self::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn jwks_rotation_new_kid_accepted_after_one_refetch() {
    bounded(async {
        let (old, new) = (SigningKey::es256(), SigningKey::es256());
        let server = Server::start(json_mode(jwks(&[(&old, "2025-01")]))).await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        check(&v, &token(&old, "2025-01", NOW)).await.unwrap();
        assert_eq!(server.hits(), 1);
        // The issuer rotates: the new key appears, the old one goes.
        server.set(json_mode(jwks(&[(&new, "2025-06")])));
        // Within the cooldown of the first fetch, the new kid is unknown and nothing is fetched.
        clock.advance(5);
        assert_eq!(
            check(&v, &token(&new, "2025-06", clock.now())).await,
            Err(JwtError::UnknownKey)
        );
        assert_eq!(server.hits(), 1);
        // After it, one refetch, and the new key verifies.
        clock.advance(30);
        check(&v, &token(&new, "2025-06", clock.now()))
            .await
            .unwrap();
        assert_eq!(server.hits(), 2);
        for _ in 0..10 {
            check(&v, &token(&new, "2025-06", clock.now()))
                .await
                .unwrap();
        }
        assert_eq!(server.hits(), 2, "later tokens use the cached set");
        // The retired key is gone with the old set.
        assert_eq!(
            check(&v, &token(&old, "2025-01", clock.now())).await,
            Err(JwtError::UnknownKey)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jw_07_unknown_kid_flood_refetches_once_per_cooldown() {
    bounded(async {
        let key = SigningKey::es256();
        let server = Server::start(json_mode(jwks(&[(&key, "k1")]))).await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        check(&v, &token(&key, "k1", NOW)).await.unwrap();
        assert_eq!(server.hits(), 1);
        for round in 1..=3u64 {
            clock.advance(31);
            // 500 tokens with invented kids, sequential and concurrent.
            for i in 0..250 {
                let forged = token(&key, &format!("../../{round}/{i}' OR 1=1"), clock.now());
                assert_eq!(check(&v, &forged).await, Err(JwtError::UnknownKey));
            }
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..250 {
                let (v, forged) = (
                    v.clone(),
                    token(&key, &format!("flood-{round}-{i}"), clock.now()),
                );
                tasks.spawn(async move { check(&v, &forged).await });
            }
            while let Some(result) = tasks.join_next().await {
                assert_eq!(result.unwrap(), Err(JwtError::UnknownKey));
            }
            assert_eq!(
                server.hits(),
                1 + usize::try_from(round).unwrap(),
                "one fetch per cooldown"
            );
        }
        // The legitimate key kept working throughout.
        check(&v, &token(&key, "k1", clock.now())).await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_single_flight_on_a_cold_cache() {
    bounded(async {
        let key = SigningKey::es256();
        let server = Server::start(Mode::Json(
            jwks(&[(&key, "k1")]),
            Duration::from_millis(300),
        ))
        .await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        let t = token(&key, "k1", NOW);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (v, t) = (v.clone(), t.clone());
            tasks.spawn(async move { check(&v, &t).await });
        }
        let mut ok = 0;
        while let Some(result) = tasks.join_next().await {
            result.unwrap().unwrap();
            ok += 1;
        }
        assert_eq!(ok, 100);
        assert_eq!(server.hits(), 1, "100 concurrent validations, one fetch");
    })
    .await;
}

#[tokio::test]
async fn jwks_outage_keeps_last_known_good_and_logs() {
    let (logs, _guard) = Logs::capture();
    bounded(async {
        let key = SigningKey::es256();
        let server = Server::start(json_mode(jwks(&[(&key, "k1")]))).await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        check(&v, &token(&key, "k1", NOW)).await.unwrap();
        // The server goes down; the set goes stale.
        server.stop();
        tokio::task::yield_now().await;
        clock.advance(601);
        check(&v, &token(&key, "k1", clock.now())).await.unwrap();
        assert!(
            logs.text().contains("keeping the last-known-good keys"),
            "{}",
            logs.text()
        );
        // Within the cooldown nothing is retried; tokens keep verifying with the old keys.
        for _ in 0..5 {
            check(&v, &token(&key, "k1", clock.now())).await.unwrap();
        }
        assert_eq!(logs.text().matches("last-known-good").count(), 1);
        // Not for ever: a day past the ttl the old keys are dropped (the issuer may have
        // rotated one out because it leaked) and validation answers "keys unavailable".
        clock.advance(600 + 24 * 3600);
        assert_eq!(
            check(&v, &token(&key, "k1", clock.now())).await,
            Err(JwtError::KeysUnavailable)
        );
        // A 500 instead of a refused connection is the same.
        let second = Server::start(Mode::Error).await;
        let v2 = validator(cache(&second.url, &clock), &clock);
        assert_eq!(
            check(&v2, &token(&key, "k1", clock.now())).await,
            Err(JwtError::KeysUnavailable)
        );
    })
    .await;
}

#[tokio::test]
async fn jwks_cold_outage_is_unavailable_then_recovers() {
    bounded(async {
        let key = SigningKey::es256();
        let server = Server::start(Mode::Error).await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        assert_eq!(
            check(&v, &token(&key, "k1", NOW)).await,
            Err(JwtError::KeysUnavailable)
        );
        assert_eq!(
            check(&v, &token(&key, "k1", NOW)).await,
            Err(JwtError::KeysUnavailable)
        );
        assert_eq!(
            server.hits(),
            1,
            "failures are retried only after the cooldown"
        );
        server.set(json_mode(jwks(&[(&key, "k1")])));
        clock.advance(30);
        check(&v, &token(&key, "k1", clock.now())).await.unwrap();
        assert_eq!(server.hits(), 2);
    })
    .await;
}

#[tokio::test]
async fn jwks_stale_set_is_refreshed_after_ttl() {
    bounded(async {
        let (a, b) = (SigningKey::es256(), SigningKey::es256());
        let server = Server::start(json_mode(jwks(&[(&a, "a")]))).await;
        let clock = TestClock::at(NOW);
        let v = validator(cache(&server.url, &clock), &clock);
        check(&v, &token(&a, "a", NOW)).await.unwrap();
        server.set(json_mode(jwks(&[(&b, "b")])));
        clock.advance(599);
        check(&v, &token(&a, "a", clock.now())).await.unwrap();
        assert_eq!(server.hits(), 1);
        clock.advance(1);
        // Stale: the next validation refreshes; `a` is gone from the new set.
        assert_eq!(
            check(&v, &token(&a, "a", clock.now())).await,
            Err(JwtError::UnknownKey)
        );
        assert_eq!(server.hits(), 2);
        check(&v, &token(&b, "b", clock.now())).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn jwks_hostile_redirect_is_not_followed() {
    bounded(async {
        let key = SigningKey::es256();
        let target = Server::start(json_mode(jwks(&[(&key, "k1")]))).await;
        let server = Server::start(Mode::Redirect(target.url.clone())).await;
        let clock = TestClock::at(NOW);
        let jwks = cache(&server.url, &clock);
        assert_eq!(
            jwks.prefetch().await,
            Err(JwksError::Fetch(FetchError::Redirect { status: 302 }))
        );
        clock.advance(31);
        let v = validator(jwks, &clock);
        assert_eq!(
            check(&v, &token(&key, "k1", clock.now())).await,
            Err(JwtError::KeysUnavailable)
        );
        assert_eq!(target.hits(), 0, "the redirect target was contacted");
    })
    .await;
}

#[tokio::test]
async fn jwks_hostile_10mb_body_is_bounded() {
    bounded(async {
        for chunked in [false, true] {
            let server = Server::start(Mode::Huge { chunked }).await;
            let clock = TestClock::at(NOW);
            let started = Instant::now();
            let result = cache(&server.url, &clock).prefetch().await;
            assert_eq!(
                result,
                Err(JwksError::Fetch(FetchError::BodyTooLarge {
                    max: 512 * 1024
                })),
                "chunked: {chunked}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "took {:?}",
                started.elapsed()
            );
        }
    })
    .await;
}

#[tokio::test]
async fn jwks_hostile_slow_body_times_out() {
    bounded(async {
        let server = Server::start(Mode::Slow).await;
        let clock = TestClock::at(NOW);
        let client = HttpClient::dev_loopback()
            .unwrap()
            .with_timeout(Duration::from_millis(500))
            .unwrap();
        let jwks = JwksCache::builder(&server.url)
            .client(client)
            .clock(clock.clone())
            .build()
            .unwrap();
        let started = Instant::now();
        assert_eq!(
            jwks.prefetch().await,
            Err(JwksError::Fetch(FetchError::Timeout))
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
            "took {elapsed:?}"
        );
        // The default timeout is 5 s.
        assert_eq!(HttpClient::new().unwrap().timeout(), Duration::from_secs(5));
    })
    .await;
}

#[tokio::test]
async fn jwks_https_required_outside_dev_mode() {
    bounded(async {
        let err = JwksCache::builder("http://127.0.0.1:1/jwks.json")
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::InvalidUrl(FetchError::NotHttps));
        let err = JwksCache::builder("http://idp.example/jwks.json")
            .client(HttpClient::dev_loopback().unwrap())
            .build()
            .unwrap_err();
        assert_eq!(err, ConfigError::InvalidUrl(FetchError::NotLoopback));
        assert!(
            JwksCache::builder("https://idp.example/jwks.json")
                .build()
                .is_ok()
        );
    })
    .await;
}

#[tokio::test]
async fn jw_23_jwks_poisoned_keys_dropped_on_fetch() {
    let (logs, _guard) = Logs::capture();
    bounded(async {
        let good = SigningKey::es256();
        let hs = SigningKey::hmac(32);
        let mut oct = hs.jwk();
        oct["kid"] = json!("hs");
        let mut enc = SigningKey::es256().jwk();
        enc["kid"] = json!("enc");
        enc["use"] = json!("enc");
        let mut doc: Value = serde_json::from_str(&jwks(&[(&good, "good")])).unwrap();
        doc["keys"].as_array_mut().unwrap().extend([oct, enc]);
        let server = Server::start(json_mode(doc.to_string())).await;
        let clock = TestClock::at(NOW);
        let jwks = cache(&server.url, &clock);
        assert_eq!(jwks.prefetch().await, Ok(1));
        assert!(jwks.has_kid("good") && !jwks.has_kid("hs") && !jwks.has_kid("enc"));
        let text = logs.text();
        assert!(
            text.contains("symmetric (`oct`) keys are never taken from a key set"),
            "{text}"
        );
        assert!(text.contains("`use` is not `sig`"), "{text}");
        let v = builder(&clock)
            .algorithms([Algorithm::ES256, Algorithm::HS256])
            .jwks(jwks)
            .build()
            .unwrap();
        let forged = mint(
            &json!({"alg":"HS256","kid":"hs"}),
            &claims_at(NOW),
            &hs,
            Algorithm::HS256,
        );
        assert_eq!(check(&v, &forged).await, Err(JwtError::UnknownKey));
    })
    .await;
}

#[tokio::test]
async fn bearer_layer_fetches_keys_then_serves() {
    use paved_auth::bearer::RequireBearerLayer;
    use tower::{ServiceBuilder, ServiceExt, service_fn};

    bounded(async {
        let key = SigningKey::es256();
        let server = Server::start(json_mode(jwks(&[(&key, "k1")]))).await;
        let clock = TestClock::at(NOW);
        let validator = validator(cache(&server.url, &clock), &clock);
        let service = ServiceBuilder::new()
            .layer(RequireBearerLayer::<NoCustomClaims>::new(validator))
            .service(service_fn(|request: http::Request<String>| async move {
                let sub = request
                    .extensions()
                    .get::<paved_auth::jwt::Validated<NoCustomClaims>>()
                    .and_then(|v| v.standard().sub.clone())
                    .unwrap_or_default();
                Ok::<_, std::convert::Infallible>(http::Response::new(sub))
            }));
        // Cold cache: the layer validates asynchronously (one fetch), then calls the service.
        let request = http::Request::builder()
            .header(
                "authorization",
                format!("Bearer {}", token(&key, "k1", NOW)),
            )
            .body(String::new())
            .unwrap();
        let response = service.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), http::StatusCode::OK);
        assert_eq!(response.body(), "user-1");
        // Warm cache: validated without waiting.
        let request = http::Request::builder()
            .header(
                "authorization",
                format!("Bearer {}", token(&key, "k1", NOW)),
            )
            .body(String::new())
            .unwrap();
        assert_eq!(
            service.oneshot(request).await.unwrap().status(),
            http::StatusCode::OK
        );
        assert_eq!(server.hits(), 1);
    })
    .await;
}

/// OA-19: a key set must come as JSON; an HTML page (a captive portal, an error page served
/// with 200) is refused before parsing, whatever it contains. `application/jwk-set+json` and
/// `application/json` with parameters are JSON.
#[tokio::test]
async fn oa_19_jwks_must_be_served_as_json() {
    bounded(async {
        let key = SigningKey::es256();
        let body = jwks(&[(&key, "k1")]);
        for (content_type, ok) in [
            ("text/html", false),
            ("text/plain", false),
            ("application/javascript", false),
            ("application/jsonx", false),
            ("application/jwk-set+json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
        ] {
            let server = Server::start(Mode::Typed(body.clone(), content_type)).await;
            let clock = TestClock::at(NOW);
            let result = cache(&server.url, &clock).prefetch().await;
            if ok {
                assert_eq!(result, Ok(1), "{content_type}");
            } else {
                assert_eq!(
                    result,
                    Err(JwksError::Fetch(FetchError::NotJson)),
                    "{content_type}"
                );
            }
        }
    })
    .await;
}
