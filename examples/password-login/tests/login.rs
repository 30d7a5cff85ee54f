//! The password-login example driven in process (`tower::ServiceExt::oneshot`), users in an
//! in-memory `SQLite` database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, Response, StatusCode, header};
use example_password_login::{Users, app, app_with_throttle};
use paved_crypto::{
    Clock, HashingPool, LoginThrottle, PasswordHash, PasswordHasher, PasswordPolicy, ThrottlePolicy,
};
use paved_headers::SecurityHeadersLayer;
use paved_secrets::SecretString;
use rusqlite::Connection;
use tower::ServiceExt as _;

const PASSWORD: &str = "tulip rocket violin ember";

fn users() -> Users {
    Users::new(Connection::open_in_memory().unwrap()).unwrap()
}

/// The client address every in-process request comes from (what `ConnectInfo` gives a server).
const PEER: ([u8; 4], u16) = ([192, 0, 2, 10], 50_000);

fn app_with(users: &Users, pool: HashingPool) -> Router {
    app(users.clone(), pool, SecurityHeadersLayer::web())
        .unwrap()
        .layer(MockConnectInfo(SocketAddr::from(PEER)))
}

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(AtomicU64);

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The app with a memory throttle on a hand-moved clock.
fn throttled_app() -> (Router, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock(AtomicU64::new(1_700_000_000)));
    let throttle = LoginThrottle::memory(ThrottlePolicy::default()).with_clock(clock.clone());
    let pool = HashingPool::with_limits(PasswordHasher::default(), 2, 16);
    let app = app_with_throttle(users(), pool, throttle, SecurityHeadersLayer::web())
        .unwrap()
        .layer(MockConnectInfo(SocketAddr::from(PEER)));
    (app, clock)
}

fn test_app() -> (Router, Users) {
    let users = users();
    let pool = HashingPool::with_limits(PasswordHasher::default(), 2, 16);
    (app_with(&users, pool), users)
}

/// `application/x-www-form-urlencoded` with every byte but ASCII alphanumerics escaped.
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

async fn post(app: &Router, path: &str, body: String, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::post(path)
        .header(header::HOST, "login.example")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    app.clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap()
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::get(path).header(header::HOST, "login.example");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn text(res: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn set_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned())
}

/// The `name=value` pair of the response's `Set-Cookie`, ready for a `Cookie` header.
fn cookie_pair(res: &Response<Body>) -> String {
    set_cookie(res)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn signup(app: &Router, username: &str, password: &str) -> Response<Body> {
    post(app, "/signup", form(username, password), None).await
}

async fn login(
    app: &Router,
    username: &str,
    password: &str,
    cookie: Option<&str>,
) -> Response<Body> {
    post(app, "/login", form(username, password), cookie).await
}

type Busy = Pin<Box<dyn Future<Output = Result<PasswordHash, paved_crypto::Error>>>>;

/// Polls `busy` once; whether it is still running.
async fn poll_once_pending(busy: &mut Busy) -> bool {
    std::future::poll_fn(|cx| Poll::Ready(busy.as_mut().poll(cx).is_pending())).await
}

/// A hash that occupies the pool's only slot: its first poll admits the job and hands it to the
/// pool thread (every earlier job has answered, so its slot is free already).
async fn occupy(pool: &HashingPool) -> Busy {
    let pool = pool.clone();
    let mut busy: Busy = Box::pin(async move {
        pool.hash(SecretString::from("occupying the only slot"))
            .await
    });
    assert!(
        poll_once_pending(&mut busy).await,
        "the pool did not admit the occupying job"
    );
    busy
}

/// Whether `/` with `cookie` shows a signed-in page.
async fn signed_in(app: &Router, cookie: &str) -> bool {
    text(get(app, "/", Some(cookie)).await)
        .await
        .contains("Signed in as")
}

#[tokio::test]
async fn signup_then_login_sets_host_session_cookie_and_home_shows_the_escaped_name() {
    let (app, users) = test_app();
    let name = "<b>Zoë & co</b>";
    let res = signup(&app, name, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()[header::LOCATION], "/login");
    // Only a PHC string is stored.
    let (_, phc) = users.find(name).unwrap().unwrap();
    assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
    assert!(!phc.contains(PASSWORD));

    let res = login(&app, name, PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&res).unwrap();
    assert!(cookie.starts_with("__Host-session="), "{cookie}");
    for attribute in ["; Path=/", "; Secure", "; HttpOnly", "; SameSite=Lax"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");

    let home = get(&app, "/", Some(&cookie_pair(&res))).await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(home.headers().contains_key("content-security-policy"));
    assert_eq!(home.headers()[header::CACHE_CONTROL], "no-store");
    let html = text(home).await;
    assert!(
        html.contains("Signed in as <b>&lt;b&gt;Zoë &amp; co&lt;/b&gt;</b>"),
        "{html}"
    );
    assert!(!html.contains("<b>Zoë"), "{html}");

    let anonymous = text(get(&app, "/", None).await).await;
    assert!(!anonymous.contains("Signed in as"));
}

#[tokio::test]
async fn signup_refuses_short_passwords_and_passwords_containing_the_user_name() {
    let (app, users) = test_app();
    let res = signup(&app, "alice", "hunter2").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = text(res).await;
    assert!(html.contains("use at least 15 characters"), "{html}");
    assert!(!html.contains("hunter2"));

    let with_name = "my name is Alice, ok?";
    let res = signup(&app, "alice", with_name).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = text(res).await;
    assert!(html.contains("must not contain your user name"), "{html}");
    assert!(!html.contains("Alice"));

    assert!(users.find("alice").unwrap().is_none());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_identical_401_responses() {
    let (app, _) = test_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    let wrong = login(&app, "alice", "tulip rocket violin embers", None).await;
    let unknown = login(&app, "bob", PASSWORD, None).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(set_cookie(&wrong).is_none() && set_cookie(&unknown).is_none());
    let (wrong, unknown) = (text(wrong).await, text(unknown).await);
    assert_eq!(wrong, unknown);
    assert!(!wrong.contains("alice") && !wrong.contains("bob"));
}

#[tokio::test]
async fn login_upgrades_a_hash_made_with_older_parameters() {
    let (app, users) = test_app();
    // An OWASP-acceptable but older policy (m=9216, t=4) than the app's (m=19456, t=2).
    let old = PasswordHasher::new(PasswordPolicy::new(9_216, 4, 1).unwrap())
        .hash(&SecretString::from(PASSWORD))
        .unwrap()
        .into_string();
    assert!(users.create("carol", &old).unwrap());

    let res = login(&app, "carol", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, upgraded) = users.find("carol").unwrap().unwrap();
    assert_ne!(upgraded, old);
    assert!(
        upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{upgraded}"
    );

    // The new hash verifies, and a current hash is not rewritten.
    let res = login(&app, "carol", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(users.find("carol").unwrap().unwrap().1, upgraded);
}

#[tokio::test]
async fn cross_site_posts_to_login_and_logout_are_forbidden() {
    let (app, _) = test_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let session = cookie_pair(&login(&app, "alice", PASSWORD, None).await);

    for (path, cookie) in [("/login", None), ("/logout", Some(session.as_str()))] {
        let mut req = Request::post(path)
            .header(header::HOST, "login.example")
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let req = req.body(Body::from(form("alice", PASSWORD))).unwrap();
        let res = app.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(set_cookie(&res).is_none(), "{path}");
    }
    // The forged logout did not reach the handler: the session is still live.
    assert!(signed_in(&app, &session).await);
}

#[tokio::test]
async fn logout_ends_the_session_so_the_old_cookie_no_longer_works() {
    let (app, _) = test_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let session = cookie_pair(&login(&app, "alice", PASSWORD, None).await);
    assert!(signed_in(&app, &session).await);

    let res = post(&app, "/logout", String::new(), Some(&session)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let cleared = set_cookie(&res).unwrap();
    assert!(
        cleared.starts_with("__Host-session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert!(res.headers().contains_key("clear-site-data"));

    // A browser that ignores the clearing cookie still sends the old one: it must not work.
    assert!(!signed_in(&app, &session).await);
}

#[tokio::test]
async fn duplicate_user_name_is_refused_and_the_first_password_stays() {
    let (app, users) = test_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let first = users.find("alice").unwrap().unwrap().1;

    let other = "granite puzzle orbit lantern";
    for name in ["alice", "ALICE"] {
        let res = signup(&app, name, other).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{name}");
        assert!(text(res).await.contains("This account cannot be created"));
    }
    assert_eq!(users.find("alice").unwrap().unwrap().1, first);
    assert_eq!(
        login(&app, "alice", other, None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "alice", PASSWORD, None).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_session_cookie_planted_before_login_does_not_survive_it() {
    let (app, _) = test_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        signup(&app, "mallory", "granite puzzle orbit lantern")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // The attacker's own valid session, planted in the victim's browser.
    let planted = cookie_pair(&login(&app, "mallory", "granite puzzle orbit lantern", None).await);
    assert!(signed_in(&app, &planted).await);

    let res = login(&app, "alice", PASSWORD, Some(&planted)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let fresh = cookie_pair(&res);
    assert_ne!(fresh, planted);
    // The planted id is not Alice's session, and not a live session at all any more.
    assert!(!signed_in(&app, &planted).await);
    assert!(
        text(get(&app, "/", Some(&fresh)).await)
            .await
            .contains("Signed in as <b>alice</b>")
    );
}

#[tokio::test]
async fn a_saturated_pool_answers_503_with_retry_after_for_known_and_unknown_users() {
    let users = users();
    // One hashing thread, no queue; t=10 (the ceiling) makes each hash long enough that the
    // requests below are answered while it runs; the check after each round makes sure.
    let hasher = PasswordHasher::new(PasswordPolicy::new(19_456, 10, 1).unwrap());
    let pool = HashingPool::with_limits(hasher, 1, 0);
    let app = app_with(&users, pool.clone());
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    for _attempt in 0..5 {
        let mut busy = occupy(&pool).await;
        let known = login(&app, "alice", PASSWORD, None).await;
        let unknown = login(&app, "nobody", PASSWORD, None).await;
        let new = signup(&app, "bob", PASSWORD).await;
        if !poll_once_pending(&mut busy).await {
            continue; // the hash finished before the requests did: try again
        }
        // Unknown users go through the pool too (dummy_verify): 503, not an early 401.
        for res in [known, unknown, new] {
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(res.headers()[header::RETRY_AFTER], "1");
            assert!(set_cookie(&res).is_none());
        }
        busy.await.unwrap();
        // Capacity is back as soon as the job has answered.
        assert_eq!(
            login(&app, "alice", PASSWORD, None).await.status(),
            StatusCode::SEE_OTHER
        );
        return;
    }
    panic!("the occupying hash never outlasted three requests");
}

/// `'nonce-…'` sources emptied.
fn without_nonce(value: &str) -> String {
    let mut parts = value.split("'nonce-");
    let mut out = parts.next().unwrap_or_default().to_owned();
    for part in parts {
        out.push_str("'nonce-");
        out.push_str(&part[part.find('\'').unwrap()..]);
    }
    out
}

#[tokio::test]
async fn throttled_logins_answer_429_identically_for_existing_and_unknown_accounts() {
    let (app, _) = throttled_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // Five free failures each, for a real account and for one that does not exist.
    for name in ["alice", "nobody"] {
        for _ in 0..5 {
            let res = login(&app, name, "wrong wrong wrong wrong", None).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{name}");
        }
    }
    let existing = login(&app, "alice", "wrong wrong wrong wrong", None).await;
    let unknown = login(&app, "nobody", "wrong wrong wrong wrong", None).await;
    for res in [&existing, &unknown] {
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert!(set_cookie(res).is_none());
    }
    // Byte-identical apart from `Date` and the CSP nonce (fresh on every response).
    let headers = |res: &Response<Body>| {
        let mut h: Vec<(String, String)> = res
            .headers()
            .iter()
            .filter(|(name, _)| *name != header::DATE)
            .map(|(name, value)| (name.to_string(), without_nonce(value.to_str().unwrap())))
            .collect();
        h.sort();
        h
    };
    assert_eq!(headers(&existing), headers(&unknown));
    let (existing, unknown) = (text(existing).await, text(unknown).await);
    assert_eq!(existing, unknown);
    assert!(existing.contains("Too many failed attempts"), "{existing}");
    assert!(!existing.contains("alice") && !existing.contains("nobody"));
}

#[tokio::test]
async fn the_throttle_is_checked_before_the_password_and_a_success_clears_the_account() {
    let (app, clock) = throttled_app();
    assert_eq!(
        signup(&app, "alice", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    for _ in 0..5 {
        let res = login(&app, "Alice", "wrong wrong wrong wrong", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits: the guess is not verified while throttled.
    let res = login(&app, "alice", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&res).is_none());

    clock.0.fetch_add(1, Ordering::SeqCst);
    let res = login(&app, "alice", PASSWORD, None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The account's counter is cleared: five free failures again.
    for _ in 0..5 {
        let res = login(&app, "alice", "wrong wrong wrong wrong", None).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = login(&app, "alice", "wrong wrong wrong wrong", None).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}
