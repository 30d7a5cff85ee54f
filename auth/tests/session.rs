//! Server-side sessions: OA-12 (opaque `__Host-` cookie), OA-13 (fixation, idle and absolute
//! timeouts), OA-17 (atomic replacement), ASVS V7.2–V7.5, and the bounded memory store.
//!
//! Time comes from an injected clock: no test sleeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use paved_auth::session::{
    DEFAULT_COOKIE_NAME, MAX_DATA_BYTES, MemoryStore, Replaced, SESSION_ID_BYTES,
    SESSION_ID_COOKIE_LEN, SessionError, SessionId, SessionKey, SessionRecord, SessionStore,
    Sessions, StoreError,
};
use paved_crypto::Clock;
use proptest::prelude::*;
use zeroize::Zeroizing;

const T0: u64 = 1_700_000_000;

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    fn at(now: u64) -> Self {
        Self(Arc::new(AtomicU64::new(now)))
    }
    fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> u64 {
        self.now()
    }
}

struct Fixture {
    clock: ManualClock,
    store: MemoryStore,
    sessions: Sessions,
}

fn fixture(capacity: usize, idle: Duration, absolute: Duration) -> Fixture {
    let clock = ManualClock::at(T0);
    let store = MemoryStore::new(capacity).with_clock(Arc::new(clock.clone()));
    let sessions = Sessions::builder(store.clone())
        .idle_timeout(idle)
        .absolute_timeout(absolute)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    Fixture {
        clock,
        store,
        sessions,
    }
}

fn default_fixture() -> Fixture {
    fixture(
        1000,
        Duration::from_secs(30 * 60),
        Duration::from_secs(8 * 3600),
    )
}

fn data(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
}

fn cookie_headers(values: &[String]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for v in values {
        headers.append(COOKIE, HeaderValue::from_str(v).unwrap());
    }
    headers
}

fn session_cookie(id: &SessionId) -> String {
    format!("{DEFAULT_COOKIE_NAME}={}", id.expose_cookie_value())
}

fn headers_for(id: &SessionId) -> HeaderMap {
    cookie_headers(&[session_cookie(id)])
}

async fn is_live(sessions: &Sessions, id: &SessionId) -> bool {
    sessions.load(&headers_for(id)).await.unwrap().is_some()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        write!(s, "{b:02x}").unwrap();
        s
    })
}

// ---------------------------------------------------------------------------------------------
// OA-12: the cookie and the id
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn oa_12_cookie_is_host_prefixed_httponly_secure_lax() {
    let f = default_fixture();
    let started = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let text = started.set_cookie().to_str().unwrap().to_owned();
    let mut parts = text.split("; ");
    let (name, value) = parts.next().unwrap().split_once('=').unwrap();
    assert_eq!(name, "__Host-session");
    assert_eq!(value, started.id().expose_cookie_value());
    let attrs: HashSet<&str> = parts.collect();
    let expected: HashSet<&str> = [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Lax",
        "Max-Age=28800",
    ]
    .into();
    assert_eq!(attrs, expected, "{text}");
    assert!(!text.to_ascii_lowercase().contains("domain"), "{text}");
    assert!(started.set_cookie().is_sensitive());

    let clear = f.sessions.clear_cookie();
    assert_eq!(
        clear.to_str().unwrap(),
        "__Host-session=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0"
    );
}

#[tokio::test]
async fn oa_12_custom_cookie_name_must_keep_the_host_prefix() {
    let f = default_fixture();
    for bad in [
        "session",
        "__Secure-session",
        "__Host-",
        "__Host-a;b",
        "__Host-a b",
    ] {
        let built = Sessions::builder(f.store.clone()).cookie_name(bad).build();
        assert!(matches!(built, Err(SessionError::Config(_))), "{bad:?}");
    }
    let sessions = Sessions::builder(f.store.clone())
        .cookie_name("__Host-app")
        .build()
        .unwrap();
    let started = sessions.start("alice", data(b""), None).await.unwrap();
    let text = started.set_cookie().to_str().unwrap();
    assert!(text.starts_with("__Host-app="), "{text}");
    let headers = cookie_headers(&[format!("__Host-app={}", started.id().expose_cookie_value())]);
    assert!(sessions.load(&headers).await.unwrap().is_some());
    // The default name is not read by a manager configured with another one.
    assert!(!is_live(&sessions, started.id()).await);
}

#[tokio::test]
async fn oa_12_session_id_has_256_bits_and_is_opaque() {
    const N: usize = 2000;
    let mut seen = HashSet::new();
    let mut ones_per_bit = [0usize; SESSION_ID_BYTES * 8];
    for _ in 0..N {
        let id = SessionId::generate().unwrap();
        let value = id.expose_cookie_value();
        assert_eq!(value.len(), SESSION_ID_COOKIE_LEN);
        let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
        assert_eq!(raw.len(), 32);
        for (i, byte) in raw.iter().enumerate() {
            for bit in 0..8 {
                ones_per_bit[i * 8 + bit] += usize::from((byte >> bit) & 1);
            }
        }
        assert!(seen.insert(value.to_owned()), "duplicate id");
    }
    // Every one of the 256 bit positions varies across ids (a constant bit would be < 256 bits
    // of entropy); each is set in roughly half of them (bound: ±13 standard deviations).
    for (bit, ones) in ones_per_bit.iter().enumerate() {
        assert!(
            (700..=1300).contains(ones),
            "bit {bit} set in {ones} of {N}"
        );
    }

    // Opaque: same user, same instant, same data → unrelated ids that carry none of it.
    let f = default_fixture();
    let user = "https://idp.example user-42";
    let a = f.sessions.start(user, data(b"tokens"), None).await.unwrap();
    let b = f.sessions.start(user, data(b"tokens"), None).await.unwrap();
    assert_ne!(a.id(), b.id());
    for id in [a.id(), b.id()] {
        let raw = URL_SAFE_NO_PAD.decode(id.expose_cookie_value()).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"tokens"));
        assert!(!id.expose_cookie_value().contains("user"));
        assert!(
            !raw.windows(8)
                .any(|w| w == T0.to_be_bytes() || w == T0.to_le_bytes())
        );
    }
}

#[tokio::test]
async fn stored_key_is_sha256_of_the_cookie_value_not_the_value() {
    let f = default_fixture();
    let started = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let value = started.id().expose_cookie_value();
    let key = started.id().key();
    let digest = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
    assert_eq!(key.to_hex(), hex(digest.as_ref()));
    assert_ne!(key.to_hex(), value);
    assert!(!key.to_hex().contains(value));
    assert!(SessionKey::from_hex(value).is_none());
    // The store holds the record under the digest, and its Debug dump shows no cookie.
    assert!(f.store.get(&key).await.unwrap().is_some());
    assert!(!format!("{:?}", f.store).contains(value));
    let loaded = f
        .sessions
        .load(&headers_for(started.id()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*loaded.key(), key);
}

#[tokio::test]
async fn debug_output_contains_no_id_or_data() {
    let f = default_fixture();
    let secret = b"refresh-token-TOPSECRET";
    let started = f.sessions.start("alice", data(secret), None).await.unwrap();
    let value = started.id().expose_cookie_value().to_owned();
    let loaded = f
        .sessions
        .load(&headers_for(started.id()))
        .await
        .unwrap()
        .unwrap();
    let record = f.store.get(&started.id().key()).await.unwrap().unwrap();
    let byte_list = format!("{:?}", &secret[14..17]); // "[84, 79, 80]"
    let byte_list = byte_list.trim_matches(|c| c == '[' || c == ']');
    let texts = [
        format!("{:?}", started.id()),
        format!("{started:?}"),
        format!("{:?}", started.set_cookie()),
        format!("{loaded:?}"),
        format!("{record:?}"),
        format!("{:?}", f.sessions),
        format!("{:?}", f.store),
    ];
    for text in &texts {
        assert!(!text.contains(&value), "id in {text}");
        assert!(!text.contains("TOPSECRET"), "data in {text}");
        assert!(!text.contains(byte_list), "data bytes in {text}");
    }
    assert_eq!(texts[0], "SessionId([REDACTED])");
}

// ---------------------------------------------------------------------------------------------
// OA-13: fixation and timeouts
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn oa_13_new_id_at_login_old_destroyed() {
    let f = default_fixture();
    let before = f
        .sessions
        .start("alice", data(b"pre-login"), None)
        .await
        .unwrap();
    let after = f
        .sessions
        .start("alice", data(b"post-login"), Some(before.id()))
        .await
        .unwrap();
    assert_ne!(before.id(), after.id());
    assert_ne!(before.id().key(), after.id().key());
    // The old id is dead server-side, whatever the browser still sends.
    assert!(f.store.get(&before.id().key()).await.unwrap().is_none());
    assert!(!is_live(&f.sessions, before.id()).await);
    let loaded = f
        .sessions
        .load(&headers_for(after.id()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.data(), b"post-login");
    assert_eq!(f.store.len().unwrap(), 1);

    // An id planted by an attacker (well-formed, never issued) never becomes the logged-in one.
    let planted = SessionId::from_cookie_value(&"A".repeat(SESSION_ID_COOKIE_LEN)).unwrap();
    let victim = f
        .sessions
        .start("victim", data(b"v"), Some(&planted))
        .await
        .unwrap();
    assert_ne!(victim.id(), &planted);
    assert!(!is_live(&f.sessions, &planted).await);
}

#[tokio::test]
async fn oa_13_idle_timeout_ends_session() {
    let idle = 300;
    let f = fixture(100, Duration::from_secs(idle), Duration::from_secs(3600));
    assert_eq!(
        f.sessions.config().touch_interval(),
        Duration::from_secs(30)
    );
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let headers = headers_for(s.id());

    // Activity just inside the limit keeps it alive and moves the idle deadline.
    f.clock.advance(idle - 1);
    assert!(f.sessions.load(&headers).await.unwrap().is_some());
    f.clock.advance(idle - 1);
    let loaded = f.sessions.load(&headers).await.unwrap().unwrap();
    assert_eq!(loaded.last_seen(), T0 + 2 * (idle - 1));
    assert_eq!(loaded.expires_at(), T0 + 2 * (idle - 1) + idle);

    // Then `idle` seconds without a request: ended, and the record is gone from the store.
    f.clock.advance(idle);
    assert!(f.sessions.load(&headers).await.unwrap().is_none());
    assert_eq!(f.store.len().unwrap(), 0);
    assert!(f.store.get(&s.id().key()).await.unwrap().is_none());
}

#[tokio::test]
async fn oa_13_absolute_timeout_ends_session() {
    let f = fixture(100, Duration::from_secs(600), Duration::from_secs(3600));
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let headers = headers_for(s.id());
    // A request every 5 minutes keeps the session alive up to the absolute limit…
    for step in 1..12 {
        f.clock.advance(300);
        let loaded = f.sessions.load(&headers).await.unwrap();
        assert!(loaded.is_some(), "ended early at +{} s", step * 300);
    }
    f.clock.advance(299); // +3599
    assert!(f.sessions.load(&headers).await.unwrap().is_some());
    // …and not one second past it, however active.
    f.clock.advance(1); // +3600
    assert!(f.sessions.load(&headers).await.unwrap().is_none());
    assert_eq!(f.store.len().unwrap(), 0);
}

#[tokio::test]
async fn load_writes_last_seen_at_most_once_per_touch_interval() {
    let f = default_fixture(); // idle 30 min → touch interval 60 s
    assert_eq!(
        f.sessions.config().touch_interval(),
        Duration::from_secs(60)
    );
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let key = s.id().key();
    let headers = headers_for(s.id());
    f.clock.advance(59);
    assert!(f.sessions.load(&headers).await.unwrap().is_some());
    assert_eq!(f.store.get(&key).await.unwrap().unwrap().last_seen, T0);
    f.clock.advance(1);
    assert!(f.sessions.load(&headers).await.unwrap().is_some());
    assert_eq!(f.store.get(&key).await.unwrap().unwrap().last_seen, T0 + 60);
}

#[tokio::test]
async fn v7_3_timeouts_are_validated() {
    let store = MemoryStore::new(1);
    let build = |idle: u64, absolute: u64| {
        Sessions::builder(store.clone())
            .idle_timeout(Duration::from_secs(idle))
            .absolute_timeout(Duration::from_secs(absolute))
            .build()
    };
    assert!(matches!(build(59, 3600), Err(SessionError::Config(_))));
    assert!(matches!(build(3601, 3600), Err(SessionError::Config(_))));
    assert!(matches!(
        build(3600, 30 * 86_400 + 1),
        Err(SessionError::Config(_))
    ));
    assert!(build(60, 60).is_ok());
    assert!(build(3600, 30 * 86_400).is_ok());
    let defaults = Sessions::builder(store.clone()).build().unwrap();
    assert_eq!(defaults.config().idle_timeout(), Duration::from_secs(1800));
    assert_eq!(
        defaults.config().absolute_timeout(),
        Duration::from_secs(28_800)
    );
    assert_eq!(defaults.config().cookie_name(), "__Host-session");
}

// ---------------------------------------------------------------------------------------------
// Cookie parsing
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn duplicate_session_cookie_loads_no_session() {
    let f = default_fixture();
    let victim = f.sessions.start("victim", data(b"v"), None).await.unwrap();
    let attacker = f
        .sessions
        .start("attacker", data(b"a"), None)
        .await
        .unwrap();
    let v = session_cookie(victim.id());
    let a = session_cookie(attacker.id());

    // Control: the victim's cookie alone, among others, loads the victim's session.
    let alone = cookie_headers(&[format!("theme=dark; {v}; lang=en")]);
    let loaded = f.sessions.load(&alone).await.unwrap().unwrap();
    assert_eq!(loaded.user(), "victim");

    for headers in [
        cookie_headers(&[format!("{a}; {v}")]),  // tossed cookie first
        cookie_headers(&[format!("{v}; {a}")]),  // tossed cookie last
        cookie_headers(&[v.clone(), a.clone()]), // split across headers
        cookie_headers(&[format!("{v}; {v}")]),  // same value twice
        cookie_headers(&[format!("{v}; __Host-session=")]), // second one empty
        cookie_headers(&[format!("{v}; __Host-session = junk")]), // spaced variant
    ] {
        assert!(f.sessions.session_id_from_headers(&headers).is_none());
        assert!(f.sessions.load(&headers).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn malformed_cookie_values_load_no_session() {
    let f = default_fixture();
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let v = s.id().expose_cookie_value();
    for bad in [
        String::new(),
        v[..42].to_owned(),
        format!("{v}A"),
        format!("\"{v}\""),
        format!("{}=", &v[..42]),
        v.replace('-', "+").replace('_', "/"),
        format!("{}%41", &v[..42]),
    ] {
        if bad == v {
            continue; // the replacement changed nothing for this id
        }
        let headers = cookie_headers(&[format!("{DEFAULT_COOKIE_NAME}={bad}")]);
        assert!(
            f.sessions.load(&headers).await.unwrap().is_none(),
            "{bad:?}"
        );
    }
    // No Cookie header at all.
    assert!(f.sessions.load(&HeaderMap::new()).await.unwrap().is_none());
}

#[test]
fn generated_ids_round_trip_through_the_cookie_value() {
    for _ in 0..200 {
        let id = SessionId::generate().unwrap();
        let parsed = SessionId::from_cookie_value(id.expose_cookie_value()).unwrap();
        assert_eq!(parsed, id);
        assert_eq!(parsed.key(), id.key());
    }
}

fn parse_only_sessions() -> Sessions {
    Sessions::builder(MemoryStore::new(1)).build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn from_cookie_value_never_panics(s in "\\PC{0,64}") {
        let _ = SessionId::from_cookie_value(&s);
    }

    #[test]
    fn from_cookie_value_accepts_only_canonical_43_char_base64url(s in "[A-Za-z0-9_=+/-]{40,46}") {
        let parsed = SessionId::from_cookie_value(&s);
        let canonical = s.len() == SESSION_ID_COOKIE_LEN
            && URL_SAFE_NO_PAD
                .decode(&s)
                .is_ok_and(|raw| raw.len() == 32 && URL_SAFE_NO_PAD.encode(&raw) == s);
        prop_assert_eq!(parsed.is_some(), canonical);
    }

    #[test]
    fn every_32_byte_value_round_trips(raw in any::<[u8; 32]>()) {
        let value = URL_SAFE_NO_PAD.encode(raw);
        let id = SessionId::from_cookie_value(&value).unwrap();
        prop_assert_eq!(id.expose_cookie_value(), value.as_str());
    }

    #[test]
    fn cookie_header_parsing_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        let sessions = parse_only_sessions();
        if let Ok(value) = HeaderValue::from_bytes(&raw) {
            let mut headers = HeaderMap::new();
            headers.append(COOKIE, value);
            let _ = sessions.session_id_from_headers(&headers);
        }
    }

    #[test]
    fn session_found_only_when_present_exactly_once(
        raw in any::<[u8; 32]>(),
        others in proptest::collection::vec(("[A-Za-z0-9_]{1,12}", "[A-Za-z0-9]{0,16}"), 0..8),
        copies in 0usize..4,
        headers_count in 1usize..4,
        seed in any::<u64>(),
    ) {
        let sessions = parse_only_sessions();
        let id = SessionId::from_cookie_value(&URL_SAFE_NO_PAD.encode(raw)).unwrap();
        let mut pairs: Vec<String> = others.iter().map(|(n, v)| format!("{n}={v}")).collect();
        for i in 0..copies {
            // Spread the copies over the list by the seed.
            let at = usize::try_from((seed >> (i * 8)) & 0xff).unwrap() % (pairs.len() + 1);
            pairs.insert(at, session_cookie(&id));
        }
        let per_header = pairs.len().div_ceil(headers_count).max(1);
        let headers: Vec<String> = pairs.chunks(per_header).map(|c| c.join("; ")).collect();
        let found = sessions.session_id_from_headers(&cookie_headers(&headers));
        if copies == 1 {
            prop_assert_eq!(found, Some(id));
        } else {
            prop_assert!(found.is_none());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// OA-17: replace is compare-and-swap
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oa_17_concurrent_replace_with_same_version_has_exactly_one_winner() {
    let f = default_fixture();
    let s = f
        .sessions
        .start("alice", data(b"rt-0"), None)
        .await
        .unwrap();
    let headers = headers_for(s.id());
    for round in 0..50u32 {
        let loaded = f.sessions.load(&headers).await.unwrap().unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let tasks: Vec<_> = ["A", "B"]
            .into_iter()
            .map(|who| {
                let sessions = f.sessions.clone();
                let loaded = loaded.clone();
                let barrier = Arc::clone(&barrier);
                tokio::spawn(async move {
                    barrier.wait().await;
                    let payload = format!("rt-{round}-{who}").into_bytes();
                    (
                        who,
                        sessions
                            .replace(&loaded, Zeroizing::new(payload))
                            .await
                            .unwrap(),
                    )
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let winners: Vec<_> = results
            .iter()
            .filter(|(_, r)| matches!(r, Replaced::Done { .. }))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        assert!(results.iter().any(|(_, r)| *r == Replaced::Conflict));
        let (winner, done) = winners[0];
        assert_eq!(
            *done,
            Replaced::Done {
                version: loaded.version() + 1
            }
        );
        let now = f.store.get(&s.id().key()).await.unwrap().unwrap();
        assert_eq!(now.version, loaded.version() + 1);
        assert_eq!(&now.data[..], format!("rt-{round}-{winner}").as_bytes());
    }
}

#[tokio::test]
async fn oa_17_stale_replace_conflicts_and_ended_session_is_missing() {
    let f = default_fixture();
    let s = f
        .sessions
        .start("alice", data(b"rt-0"), None)
        .await
        .unwrap();
    let headers = headers_for(s.id());
    let first = f.sessions.load(&headers).await.unwrap().unwrap();
    assert_eq!(
        f.sessions.replace(&first, data(b"rt-1")).await.unwrap(),
        Replaced::Done { version: 2 }
    );
    // `first` still says version 1: its write would undo the rotation.
    assert_eq!(
        f.sessions.replace(&first, data(b"rt-stale")).await.unwrap(),
        Replaced::Conflict
    );
    let second = f.sessions.load(&headers).await.unwrap().unwrap();
    assert_eq!(second.data(), b"rt-1");
    assert_eq!(second.version(), 2);
    // Touching (activity) does not change the version.
    f.clock.advance(120);
    assert_eq!(
        f.sessions.load(&headers).await.unwrap().unwrap().version(),
        2
    );
    assert!(f.sessions.end(s.id()).await.unwrap());
    assert_eq!(
        f.sessions.replace(&second, data(b"rt-2")).await.unwrap(),
        Replaced::Missing
    );
}

// ---------------------------------------------------------------------------------------------
// ASVS V7.4 / V7.5: logout, end all, list
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn v7_4_1_logout_makes_the_cookie_useless() {
    let f = default_fixture();
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let headers = headers_for(s.id());
    assert!(f.sessions.load(&headers).await.unwrap().is_some());
    assert!(f.sessions.end(s.id()).await.unwrap());
    assert!(f.sessions.load(&headers).await.unwrap().is_none());
    assert!(!f.sessions.end(s.id()).await.unwrap());
}

#[tokio::test]
async fn v7_4_2_end_all_for_user_ends_every_session_of_that_user() {
    let f = default_fixture();
    let mut alice = Vec::new();
    for _ in 0..3 {
        alice.push(f.sessions.start("alice", data(b"a"), None).await.unwrap());
    }
    let bob = f.sessions.start("bob", data(b"b"), None).await.unwrap();
    assert_eq!(f.sessions.end_all_for_user("alice").await.unwrap(), 3);
    for s in &alice {
        assert!(!is_live(&f.sessions, s.id()).await);
    }
    assert!(f.sessions.list_for_user("alice").await.unwrap().is_empty());
    assert_eq!(f.sessions.end_all_for_user("alice").await.unwrap(), 0);
    let loaded = f
        .sessions
        .load(&headers_for(bob.id()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.user(), "bob");
    assert_eq!(f.store.len().unwrap(), 1);
}

#[tokio::test]
async fn v7_5_2_list_for_user_shows_times_without_ids_and_ends_only_own_sessions() {
    let f = default_fixture();
    let first = f.sessions.start("alice", data(b"a"), None).await.unwrap();
    f.clock.advance(10);
    let second = f.sessions.start("alice", data(b"a"), None).await.unwrap();
    let _bob = f.sessions.start("bob", data(b"b"), None).await.unwrap();
    let list = f.sessions.list_for_user("alice").await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].key, first.id().key());
    assert_eq!(list[0].created_at, T0);
    assert_eq!(list[0].expires_at, T0 + 1800);
    assert_eq!(list[1].key, second.id().key());
    assert_eq!(list[1].created_at, T0 + 10);
    let text = format!("{list:?}");
    assert!(!text.contains(first.id().expose_cookie_value()));
    assert!(!text.contains(second.id().expose_cookie_value()));

    // Bob cannot end Alice's session by its key; Alice can.
    assert!(!f.sessions.end_by_key("bob", &list[0].key).await.unwrap());
    assert!(is_live(&f.sessions, first.id()).await);
    assert!(f.sessions.end_by_key("alice", &list[0].key).await.unwrap());
    assert!(!is_live(&f.sessions, first.id()).await);
    assert_eq!(f.sessions.list_for_user("alice").await.unwrap().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Stores never return expired records
// ---------------------------------------------------------------------------------------------

fn raw_record(user: &str, last_seen: u64, idle: u64, absolute_expiry: u64) -> SessionRecord {
    SessionRecord {
        user: user.into(),
        created_at: last_seen,
        last_seen,
        absolute_expiry,
        idle_timeout: idle,
        version: 1,
        data: data(b"d"),
    }
}

#[tokio::test]
async fn store_never_returns_expired_records() {
    let clock = ManualClock::at(T0);
    let store = MemoryStore::new(10).with_clock(Arc::new(clock.clone()));
    let key = SessionId::generate().unwrap().key();
    store
        .insert(&key, raw_record("alice", T0, 3600, T0 + 10))
        .await
        .unwrap();
    clock.advance(9);
    assert!(store.get(&key).await.unwrap().is_some());
    clock.advance(1);
    assert!(store.get(&key).await.unwrap().is_none());
    assert!(!store.touch(&key, clock.now()).await.unwrap());
    assert_eq!(
        store.replace(&key, 1, data(b"x")).await.unwrap(),
        Replaced::Missing
    );
    assert!(store.list_user("alice").await.unwrap().is_empty());
    assert_eq!(store.len().unwrap(), 0);

    // Every path, not only `get`: a record expired by idle time is refused by touch first.
    let key2 = SessionId::generate().unwrap().key();
    store
        .insert(&key2, raw_record("alice", clock.now(), 60, u64::MAX))
        .await
        .unwrap();
    clock.advance(60);
    assert!(!store.touch(&key2, clock.now()).await.unwrap());
    assert!(store.get(&key2).await.unwrap().is_none());
}

#[tokio::test]
async fn manager_judges_expiry_even_when_the_store_clock_lags() {
    // The store's clock is stuck at T0; the manager's moves on.
    let store = MemoryStore::new(10).with_clock(Arc::new(ManualClock::at(T0)));
    let clock = ManualClock::at(T0);
    let sessions = Sessions::builder(store.clone())
        .idle_timeout(Duration::from_secs(60))
        .absolute_timeout(Duration::from_secs(3600))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let s = sessions.start("alice", data(b"t"), None).await.unwrap();
    clock.advance(60);
    assert!(!is_live(&sessions, s.id()).await);
    assert_eq!(store.len().unwrap(), 0, "the expired record is removed");
}

#[tokio::test]
async fn insert_never_overwrites_an_existing_record() {
    let store = MemoryStore::new(10);
    let key = SessionId::generate().unwrap().key();
    store
        .insert(&key, raw_record("alice", u64::MAX / 2, 3600, u64::MAX))
        .await
        .unwrap();
    assert_eq!(
        store
            .insert(&key, raw_record("mallory", u64::MAX / 2, 3600, u64::MAX))
            .await
            .unwrap_err(),
        StoreError::Exists
    );
    assert_eq!(store.get(&key).await.unwrap().unwrap().user, "alice");
}

// ---------------------------------------------------------------------------------------------
// Memory store bound
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn memory_store_respects_its_capacity() {
    let f = fixture(5, Duration::from_secs(1800), Duration::from_secs(28_800));
    let mut started = Vec::new();
    for i in 0..20 {
        f.clock.advance(1);
        started.push(
            f.sessions
                .start(&format!("user-{i}"), data(b"t"), None)
                .await
                .unwrap(),
        );
        assert!(f.store.len().unwrap() <= 5);
    }
    assert_eq!(f.store.len().unwrap(), 5);
    for (i, s) in started.iter().enumerate() {
        let live = is_live(&f.sessions, s.id()).await;
        assert_eq!(live, i >= 15, "session {i}");
    }
}

#[tokio::test]
async fn memory_store_sweeps_expired_before_evicting_live_ones() {
    let clock = ManualClock::at(T0);
    let store = MemoryStore::new(3).with_clock(Arc::new(clock.clone()));
    let [expired, oldest_live, live, new] =
        std::array::from_fn(|_| SessionId::generate().unwrap().key());
    // Seen most recently, but past its absolute expiry at T0 + 60.
    store
        .insert(&expired, raw_record("x", T0 + 50, 3600, T0 + 55))
        .await
        .unwrap();
    // Seen least recently: the LRU victim if nothing had expired.
    store
        .insert(&oldest_live, raw_record("y", T0 + 10, 3600, u64::MAX))
        .await
        .unwrap();
    store
        .insert(&live, raw_record("z", T0 + 20, 3600, u64::MAX))
        .await
        .unwrap();
    clock.advance(60);
    store
        .insert(&new, raw_record("w", T0 + 60, 3600, u64::MAX))
        .await
        .unwrap();
    assert_eq!(store.len().unwrap(), 3);
    assert!(store.get(&oldest_live).await.unwrap().is_some());
    assert!(store.get(&live).await.unwrap().is_some());
    assert!(store.get(&new).await.unwrap().is_some());
    assert!(store.list_user("x").await.unwrap().is_empty());
}

#[tokio::test]
async fn memory_store_evicts_least_recently_seen_and_keeps_user_index_consistent() {
    let f = fixture(3, Duration::from_secs(1800), Duration::from_secs(28_800));
    let s_a = f.sessions.start("a", data(b"a"), None).await.unwrap();
    let s_b = f.sessions.start("b", data(b"b"), None).await.unwrap();
    let s_c = f.sessions.start("c", data(b"c"), None).await.unwrap();
    f.clock.advance(100);
    // A and C are used again (touched); B is not.
    assert!(is_live(&f.sessions, s_a.id()).await);
    assert!(is_live(&f.sessions, s_c.id()).await);
    let s_d = f.sessions.start("d", data(b"d"), None).await.unwrap();

    assert_eq!(f.store.len().unwrap(), 3);
    assert!(!is_live(&f.sessions, s_b.id()).await);
    for s in [&s_a, &s_c, &s_d] {
        assert!(is_live(&f.sessions, s.id()).await);
    }
    // The evicted session left the per-user index too.
    assert!(f.sessions.list_for_user("b").await.unwrap().is_empty());
    assert_eq!(f.sessions.end_all_for_user("b").await.unwrap(), 0);
    for user in ["a", "c", "d"] {
        assert_eq!(f.sessions.list_for_user(user).await.unwrap().len(), 1);
    }
    // A new session for B fits and is indexed under B.
    f.sessions.start("b", data(b"b2"), None).await.unwrap();
    assert_eq!(f.sessions.list_for_user("b").await.unwrap().len(), 1);
    assert_eq!(f.store.len().unwrap(), 3);
}

#[tokio::test]
async fn one_user_logging_in_repeatedly_cannot_evict_other_users() {
    let clock = ManualClock::at(T0);
    let store = MemoryStore::new(10)
        .with_clock(Arc::new(clock.clone()))
        .with_max_sessions_per_user(3);
    let sessions = Sessions::builder(store.clone())
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let victim = sessions.start("victim", data(b"v"), None).await.unwrap();
    for _ in 0..50 {
        clock.advance(1);
        sessions.start("loop", data(b"l"), None).await.unwrap();
    }
    assert!(is_live(&sessions, victim.id()).await);
    let own = sessions.list_for_user("loop").await.unwrap();
    assert_eq!(own.len(), 3);
    // The newest three remain.
    assert_eq!(own[0].created_at, T0 + 48);
    assert_eq!(store.len().unwrap(), 4);
}

// ---------------------------------------------------------------------------------------------
// Input bounds
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn start_refuses_empty_or_oversized_users_and_oversized_data() {
    let f = default_fixture();
    assert_eq!(
        f.sessions.start("", data(b"t"), None).await.unwrap_err(),
        SessionError::InvalidUser
    );
    assert_eq!(
        f.sessions
            .start(&"u".repeat(4097), data(b"t"), None)
            .await
            .unwrap_err(),
        SessionError::InvalidUser
    );
    let big = Zeroizing::new(vec![0u8; MAX_DATA_BYTES + 1]);
    assert!(matches!(
        f.sessions.start("alice", big, None).await.unwrap_err(),
        SessionError::DataTooLarge { .. }
    ));
    let s = f.sessions.start("alice", data(b"t"), None).await.unwrap();
    let loaded = f
        .sessions
        .load(&headers_for(s.id()))
        .await
        .unwrap()
        .unwrap();
    let big = Zeroizing::new(vec![0u8; MAX_DATA_BYTES + 1]);
    assert!(matches!(
        f.sessions.replace(&loaded, big).await.unwrap_err(),
        SessionError::DataTooLarge { .. }
    ));
    assert_eq!(f.store.len().unwrap(), 1);
}
