//! `LoginThrottle` on a real Redis: the same answers as the memory backend, no user name or
//! address in Redis, guesses spread over two instances of the password-login example throttled
//! as one, Redis killed (503, no panic) and restarted (works again without a rebuild), a hung
//! Redis failing fast, and a bounded load run against two instances on real TCP listeners.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use example_password_login::{REDIS_NAMESPACE, Users, app_with_throttle, redis_pool};
use fred::interfaces::{ClientLike as _, KeysInterface as _};
use http::{Request, Response, StatusCode, header};
use paved_crypto::{
    BackOff, Clock, HashingPool, Hmac, LoginThrottle, PasswordHasher, ThrottleError, ThrottlePolicy,
};
use paved_headers::SecurityHeadersLayer;
use paved_secrets::KeyRing;
use paved_tests::redis::RedisServer;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tower::ServiceExt as _;

const PASSWORD: &str = "tulip rocket violin ember";
const WRONG: &str = "wrong wrong wrong wrong";
const T0: u64 = 1_700_000_000;

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(AtomicU64);

impl ManualClock {
    fn new() -> Arc<Self> {
        Arc::new(Self(AtomicU64::new(T0)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

async fn redis_throttle(redis: &RedisServer, policy: ThrottlePolicy) -> LoginThrottle {
    LoginThrottle::redis(redis_pool(&redis.url()).await.unwrap(), "t", policy)
}

/// `KEYS pattern` (fine on a test Redis holding a handful of keys).
async fn redis_keys(pool: &fred::clients::Pool, pattern: &str) -> Vec<String> {
    pool.custom(fred::cmd!("KEYS"), vec![pattern.to_owned()])
        .await
        .unwrap()
}

/// One attempt that fails if allowed: the wait (0 when the attempt was made).
async fn attempt(t: &LoginThrottle, account: &str, ip: IpAddr) -> u64 {
    match t.check(account, ip).await {
        Ok(()) => {
            t.record_failure(account, ip).await.unwrap();
            0
        }
        Err(ThrottleError::Throttled { retry_after }) => retry_after.as_secs(),
        Err(e) => panic!("{e}"),
    }
}

/// The same sequence of attempts, outcomes and clock moves, the waits observed.
async fn scenario(t: &LoginThrottle, clock: &ManualClock) -> Vec<u64> {
    let mut out = Vec::new();
    // Brute force on one account: 5 free, then 1 s.
    for _ in 0..7 {
        out.push(attempt(t, "alice", v4(1)).await);
    }
    clock.advance(1);
    out.push(attempt(t, "ALICE ", v4(2)).await);
    out.push(attempt(t, "alice", v4(2)).await); // now 2 s
    // A success clears the account (not the address).
    clock.advance(2);
    t.check("alice", v4(1)).await.unwrap();
    t.record_success("alice", v4(1)).await.unwrap();
    for _ in 0..6 {
        out.push(attempt(t, "alice", v4(3)).await);
    }
    // Spraying from one /64: the address budget (8 here) runs out across accounts.
    for i in 0..10u16 {
        let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, i + 1));
        out.push(attempt(t, &format!("user{i}"), ip).await);
    }
    // Pending attempts: a burst of checks without outcomes, then released.
    let mut burst = 0;
    for _ in 0..8 {
        burst += u64::from(t.check("bob", v4(9)).await.is_ok());
    }
    out.push(burst);
    for _ in 0..burst {
        t.release("bob", v4(9)).await.unwrap();
    }
    out.push(attempt(t, "bob", v4(9)).await);
    // A window after the last failure everything is forgotten.
    clock.advance(2 * 3600);
    for _ in 0..6 {
        out.push(attempt(t, "alice", v4(3)).await);
    }
    out
}

fn scenario_policy() -> ThrottlePolicy {
    ThrottlePolicy {
        account: BackOff::ACCOUNT,
        ip: BackOff {
            free_failures: 8,
            window: Duration::from_secs(3600),
            ..BackOff::IP
        },
        max_entries: 1_000,
    }
}

#[tokio::test]
async fn redis_backend_answers_exactly_like_the_memory_backend() {
    let redis = RedisServer::start().await.unwrap();
    let (mc, rc) = (ManualClock::new(), ManualClock::new());
    let memory = LoginThrottle::memory(scenario_policy()).with_clock(mc.clone());
    let on_redis = redis_throttle(&redis, scenario_policy())
        .await
        .with_clock(rc.clone());
    let expected = scenario(&memory, &mc).await;
    let got = scenario(&on_redis, &rc).await;
    assert_eq!(got, expected);
    // The scenario exercised what it claims: free failures, then 1 s, then 2 s, the address
    // budget, and the pending burst held to the 5 free attempts.
    assert_eq!(&expected[..9], &[0, 0, 0, 0, 0, 1, 1, 0, 2]);
    assert_eq!(&expected[9..15], &[0, 0, 0, 0, 0, 1]);
    assert!(expected[15..25].contains(&1), "{expected:?}");
    assert_eq!(expected[25], 5);
}

#[tokio::test]
async fn redis_holds_no_user_name_or_address_and_keys_are_namespaced() {
    let redis = RedisServer::start().await.unwrap();
    let pool = redis_pool(&redis.url()).await.unwrap();
    let plain = LoginThrottle::redis(pool.clone(), "plain", ThrottlePolicy::default());
    let ring = KeyRing::generate().unwrap();
    let keyed = LoginThrottle::redis(pool.clone(), "keyed", ThrottlePolicy::default())
        .with_name_key(Hmac::new(&ring, "login-throttle").unwrap());
    for t in [&plain, &keyed] {
        attempt(t, "Alice.Secret@example.com", v4(77)).await;
    }
    let keys = redis_keys(&pool, "*").await;
    assert_eq!(keys.len(), 4, "{keys:?}");
    for key in &keys {
        assert!(
            key.starts_with("{plain}:throttle:") || key.starts_with("{keyed}:throttle:"),
            "{key}"
        );
        let lower = key.to_lowercase();
        assert!(
            !lower.contains("alice") && !lower.contains("192.0.2"),
            "{key}"
        );
    }
    // Keyed and unkeyed names differ (beyond the namespace).
    let suffixes = |ns: &str| -> Vec<String> {
        let mut v: Vec<String> = keys
            .iter()
            .filter_map(|k| k.strip_prefix(ns).map(str::to_owned))
            .collect();
        v.sort();
        v
    };
    assert_ne!(suffixes("{plain}"), suffixes("{keyed}"));
    // Every counter expires by itself.
    for key in &keys {
        let ttl: i64 = pool.ttl(key.as_str()).await.unwrap();
        assert!(ttl > 0, "{key} has no expiry");
    }
}

// ---------------------------------------------------------------------------------------------
// The password-login example on Redis.

/// An instance of the example: shared users, its own hashing pool and sessions, the throttle.
fn instance(users: &Users, throttle: LoginThrottle) -> Router {
    let pool = HashingPool::with_limits(PasswordHasher::default(), 1, 64);
    app_with_throttle(users.clone(), pool, throttle, SecurityHeadersLayer::web()).unwrap()
}

fn users() -> Users {
    Users::in_memory().unwrap()
}

fn form(username: &str, password: &str) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    format!("username={}&password={}", enc(username), enc(password))
}

async fn post(app: &Router, path: &str, body: String) -> Response<Body> {
    let req = Request::post(path)
        .header(header::HOST, "login.example")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    app.clone()
        .layer(MockConnectInfo(SocketAddr::from(([192, 0, 2, 10], 40_000))))
        .oneshot(req)
        .await
        .unwrap()
}

async fn login(app: &Router, username: &str, password: &str) -> Response<Body> {
    post(app, "/login", form(username, password)).await
}

async fn body(res: Response<Body>) -> Vec<u8> {
    axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap()
        .to_vec()
}

/// Headers but `Date`, with CSP nonces emptied (fresh on every response).
fn comparable_headers(res: &Response<Body>) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(name, _)| *name != header::DATE)
        .map(|(name, value)| {
            let value = value.to_str().unwrap();
            let mut parts = value.split("'nonce-");
            let mut out = parts.next().unwrap_or_default().to_owned();
            for part in parts {
                out.push_str("'nonce-");
                out.push_str(&part[part.find('\'').unwrap()..]);
            }
            (name.to_string(), out)
        })
        .collect();
    h.sort();
    h
}

/// The example's Redis throttle with a first wait of a minute: with the default one second,
/// the wait after the fifth failure can run out while the other account's Argon2 logins run,
/// and the check of the sixth attempt would then rightly let it through.
async fn minute_throttle(redis: &RedisServer) -> LoginThrottle {
    let minute = |rule: BackOff| BackOff {
        base_delay: Duration::from_secs(60),
        max_delay: Duration::from_secs(900),
        ..rule
    };
    let policy = ThrottlePolicy {
        account: minute(BackOff::ACCOUNT),
        ip: minute(BackOff::IP),
        ..ThrottlePolicy::default()
    };
    LoginThrottle::redis(
        redis_pool(&redis.url()).await.unwrap(),
        REDIS_NAMESPACE,
        policy,
    )
}

#[tokio::test]
async fn password_guesses_over_two_instances_are_throttled_as_one_multi_instance() {
    let redis = RedisServer::start().await.unwrap();
    let users = users();
    let a = instance(&users, minute_throttle(&redis).await);
    let b = instance(&users, minute_throttle(&redis).await);
    assert_eq!(
        post(&a, "/signup", form("alice", PASSWORD)).await.status(),
        StatusCode::SEE_OTHER
    );
    // Five wrong guesses alternating between the instances, for a real and an unknown account:
    // each instance alone has seen at most three.
    for name in ["alice", "nobody"] {
        for (i, app) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
            let res = login(app, name, WRONG).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name} guess {i}");
        }
    }
    // The sixth, on B, waits; even with the right password (it is not verified).
    let existing = login(&b, "alice", PASSWORD).await;
    let unknown = login(&b, "nobody", WRONG).await;
    for res in [&existing, &unknown] {
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after: u64 = res.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (50..=60).contains(&retry_after),
            "Retry-After {retry_after}"
        );
        assert!(!res.headers().contains_key(header::SET_COOKIE));
    }
    // Existing and unknown accounts: byte-identical but for `Date` (and the CSP nonce).
    assert_eq!(comparable_headers(&existing), comparable_headers(&unknown));
    assert_eq!(body(existing).await, body(unknown).await);
    // A is throttled too: one counter for both.
    assert_eq!(
        login(&a, "alice", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let pool = redis_pool(&redis.url()).await.unwrap();
    let keys = redis_keys(&pool, &format!("{{{REDIS_NAMESPACE}}}:throttle:*")).await;
    assert_eq!(keys.len(), 3, "two accounts and one address: {keys:?}");
}

#[tokio::test]
async fn killing_redis_answers_503_and_a_restart_recovers_without_rebuilding_multi_instance() {
    let mut redis = RedisServer::start().await.unwrap();
    let users = users();
    let throttle = example_password_login::redis_throttle(&redis.url())
        .await
        .unwrap();
    let app = instance(&users, throttle.clone());
    assert_eq!(
        post(&app, "/signup", form("alice", PASSWORD))
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        login(&app, "alice", WRONG).await.status(),
        StatusCode::UNAUTHORIZED
    );

    redis.stop().await;
    for name in ["alice", "nobody"] {
        let res = login(&app, name, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "{name}");
        assert_eq!(res.headers()[header::RETRY_AFTER], "5");
        assert!(!res.headers().contains_key(header::SET_COOKIE));
    }
    assert_eq!(
        throttle.check("alice", v4(1)).await,
        Err(ThrottleError::Unavailable)
    );

    // Back, empty, on the same port: the same router and throttle work again by themselves.
    redis.restart().await.unwrap();
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        status = login(&app, "alice", PASSWORD).await.status();
        if status != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "no recovery after the restart"
    );
    assert_eq!(
        login(&app, "alice", WRONG).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_hung_redis_fails_fast_with_unavailable() {
    let redis = RedisServer::start().await.unwrap();
    let throttle = redis_throttle(&redis, ThrottlePolicy::default())
        .await
        .redis_timeout(Duration::from_millis(200));
    throttle.check("alice", v4(1)).await.unwrap();

    // CLIENT PAUSE holds every client's commands: Redis is up but does not answer.
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", redis.port()))
        .await
        .unwrap();
    let (read, mut write) = stream.into_split();
    write.write_all(b"CLIENT PAUSE 3000 ALL\r\n").await.unwrap();
    let mut line = String::new();
    BufReader::new(read).read_line(&mut line).await.unwrap();
    assert_eq!(line, "+OK\r\n");

    assert_eq!(
        throttle.check("alice", v4(1)).await,
        Err(ThrottleError::Unavailable)
    );
}

// ---------------------------------------------------------------------------------------------
// Load.

/// Resident set size of this process, KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Serves `app` on 127.0.0.1 with the peer address available to the throttle.
async fn serve(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (addr, task)
}

const LOAD_REQUESTS: usize = 3_000;
const LOAD_CONCURRENCY: usize = 16;
/// Every 40th request is a login with a wrong password (Argon2 work: the pools are small).
const LOGIN_EVERY: usize = 40;
/// Generous bound on RSS growth over the run.
const RSS_GROWTH_LIMIT_KIB: u64 = 256 * 1024;

/// One of the load run's clients: takes request numbers until the run's count is reached.
async fn load_worker(
    client: reqwest::Client,
    base: Vec<String>,
    sessions: Vec<String>,
    next: Arc<AtomicU64>,
) -> (Vec<Duration>, Vec<(&'static str, StatusCode)>) {
    let mut latencies = Vec::new();
    let mut statuses = Vec::new();
    loop {
        let i = usize::try_from(next.fetch_add(1, Ordering::SeqCst)).unwrap();
        if i >= LOAD_REQUESTS {
            break;
        }
        let server = i % 2;
        let (kind, request) = if i % LOGIN_EVERY == 0 {
            let body = form(&format!("guess{}", i % 7), WRONG);
            let req = client
                .post(format!("{}/login", base[server]))
                .header("sec-fetch-site", "same-origin")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
            ("login", req)
        } else if i % 2 == 0 {
            let req = client
                .get(format!("{}/", base[server]))
                .header(header::COOKIE, &sessions[server]);
            ("session", req)
        } else {
            let garbage = format!("__Host-session=garbage{i:x}AAAA; other=x");
            let req = client
                .get(format!("{}/", base[server]))
                .header(header::COOKIE, garbage);
            ("garbage", req)
        };
        let t = Instant::now();
        let res = request.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        latencies.push(t.elapsed());
        if kind == "session" {
            assert!(text.contains("Signed in as"), "valid session refused");
        }
        if kind == "garbage" {
            assert!(!text.contains("Signed in as"), "garbage cookie accepted");
        }
        statuses.push((kind, status));
    }
    (latencies, statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_under_load_answer_without_5xx_and_bounded_memory_multi_instance() {
    let redis = RedisServer::start().await.unwrap();
    let users = users();
    let mut servers = Vec::new();
    for _ in 0..2 {
        let throttle = example_password_login::redis_throttle(&redis.url())
            .await
            .unwrap();
        servers.push(serve(instance(&users, throttle)).await);
    }
    let base: Vec<String> = servers
        .iter()
        .map(|(addr, _)| format!("http://{addr}"))
        .collect();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(LOAD_CONCURRENCY)
        .build()
        .unwrap();
    let post_form = |url: String, body: String| {
        client
            .post(url)
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    };

    // Two accounts; a valid session on each instance (sessions are per instance).
    let signup = post_form(format!("{}/signup", base[0]), form("load-a", PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::SEE_OTHER);
    let mut sessions = Vec::new();
    for url in &base {
        let res = post_form(format!("{url}/login"), form("load-a", PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let set = res.headers()[header::SET_COOKIE].to_str().unwrap();
        sessions.push(set.split(';').next().unwrap().to_owned());
    }

    let rss_before = vm_rss_kib();
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..LOAD_CONCURRENCY {
        let (client, base, sessions, next) =
            (client.clone(), base.clone(), sessions.clone(), next.clone());
        workers.push(tokio::spawn(load_worker(client, base, sessions, next)));
    }
    let mut latencies = Vec::new();
    let mut statuses = Vec::new();
    // A hang guard, not a speed assertion: the run is a fixed number of requests.
    let joined = tokio::time::timeout(Duration::from_secs(60), async {
        for w in workers {
            let (l, s) = w.await.unwrap();
            latencies.extend(l);
            statuses.extend(s);
        }
    })
    .await;
    assert!(joined.is_ok(), "the load run did not finish");
    let elapsed = started.elapsed();
    let rss_after = vm_rss_kib();
    for (_, task) in &servers {
        task.abort();
    }

    let mut unavailable = 0;
    for (kind, status) in &statuses {
        match (*kind, *status) {
            ("session" | "garbage", StatusCode::OK)
            | ("login", StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS) => {}
            // The documented 503: the hashing pool is saturated (or Redis is away).
            ("login", StatusCode::SERVICE_UNAVAILABLE) => unavailable += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    assert_eq!(statuses.len(), LOAD_REQUESTS);
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    let p50 = latencies[latencies.len() / 2];
    #[allow(clippy::cast_precision_loss)]
    let rate = LOAD_REQUESTS as f64 / elapsed.as_secs_f64();
    println!(
        "load: {LOAD_REQUESTS} requests, concurrency {LOAD_CONCURRENCY}, 2 instances: \
         {rate:.0} req/s, p50 {p50:?}, p99 {p99:?}, {unavailable} documented 503s, \
         RSS {rss_before} KiB -> {rss_after} KiB"
    );
    assert!(
        rss_after.saturating_sub(rss_before) < RSS_GROWTH_LIMIT_KIB,
        "RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
}
