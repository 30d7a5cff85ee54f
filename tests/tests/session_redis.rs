//! `RedisSessionStore` against a real Redis: the `SessionStore` contract (the same cases run on
//! `MemoryStore`), the key layout, the refresh lock, several application instances sharing one
//! store (a session moves between them, one refresh for all, logout everywhere), Redis faults
//! (503, never a logout or a panic, and recovery without a restart), and no token in Redis in
//! clear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use fred::interfaces::{
    ClientLike as _, HashesInterface as _, KeysInterface as _, LuaInterface as _,
    SetsInterface as _,
};
use fred::prelude::{Builder, Client, Config};
use fred::types::Value;
use http::StatusCode;
use paved_auth::session::{
    BoxFuture, LockToken, MemoryStore, RedisSessionStore, Replaced, SessionError, SessionId,
    SessionKey, SessionRecord, SessionStore, SessionSummary, StoreError,
};
use paved_crypto::Clock as _;
use paved_tests::app::{self, AppOptions, HostileApp, Jar, Reply, TestClock};
use paved_tests::hostile::{
    DEFAULT_SUBJECT, GrantFilter, HostileAs, Shots, TokenFault, TransportFault,
};
use paved_tests::redis::RedisServer;
use zeroize::Zeroizing;

// =============================================================================================
// Helpers.

const IDLE: u64 = 60;
const ABSOLUTE: u64 = 3600;
const PER_USER: usize = 3;

fn key() -> SessionKey {
    SessionId::generate().unwrap().key()
}

fn record(user: &str, now: u64, idle: u64, absolute: u64, data: &[u8]) -> SessionRecord {
    SessionRecord {
        user: user.into(),
        created_at: now,
        last_seen: now,
        absolute_expiry: now + absolute,
        idle_timeout: idle,
        version: 1,
        data: Zeroizing::new(data.to_vec()),
    }
}

fn data(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(bytes.to_vec())
}

/// A store under test, its clock, and (for Redis) the server and a raw client.
struct Fx {
    store: Arc<dyn SessionStore>,
    clock: TestClock,
    redis: Option<(RedisServer, RedisSessionStore, Client)>,
}

impl Fx {
    fn now(&self) -> u64 {
        self.clock.now_unix()
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    async fn insert(&self, user: &str, idle: u64, absolute: u64) -> SessionKey {
        let k = key();
        self.store
            .insert(&k, record(user, self.now(), idle, absolute, b"sealed"))
            .await
            .unwrap();
        k
    }

    async fn live(&self, k: &SessionKey) -> bool {
        self.store.get(k).await.unwrap().is_some()
    }
}

fn memory_fixture() -> Fx {
    let clock = TestClock::now();
    let store = MemoryStore::default()
        .with_clock(Arc::new(clock.clone()))
        .with_max_sessions_per_user(PER_USER);
    Fx {
        store: Arc::new(store),
        clock,
        redis: None,
    }
}

async fn raw_client(url: &str) -> Client {
    let client = Builder::from_config(Config::from_url(url).unwrap())
        .build()
        .unwrap();
    client.init().await.unwrap();
    client
}

async fn redis_store(redis: &RedisServer, clock: &TestClock, namespace: &str) -> RedisSessionStore {
    RedisSessionStore::builder(redis.url())
        .namespace(namespace)
        .max_sessions_per_user(PER_USER)
        .clock(Arc::new(clock.clone()))
        .connect()
        .await
        .unwrap()
}

async fn redis_fixture() -> Fx {
    let redis = RedisServer::start().await.unwrap();
    let clock = TestClock::now();
    let store = redis_store(&redis, &clock, "test:s:").await;
    let raw = raw_client(&redis.url()).await;
    Fx {
        store: Arc::new(store.clone()),
        clock,
        redis: Some((redis, store, raw)),
    }
}

/// Every key under `pattern` with its content (hash fields and values, set members, string
/// value), as text.
async fn dump(raw: &Client, pattern: &str) -> Vec<String> {
    const DUMP: &str = r"
local out = {}
for _, k in ipairs(redis.call('KEYS', ARGV[1])) do
  out[#out + 1] = k
  local t = redis.call('TYPE', k).ok
  if t == 'hash' then
    for _, v in ipairs(redis.call('HGETALL', k)) do out[#out + 1] = v end
  elseif t == 'set' then
    for _, v in ipairs(redis.call('SMEMBERS', k)) do out[#out + 1] = v end
  elseif t == 'string' then
    out[#out + 1] = redis.call('GET', k)
  end
end
return out
";
    let value: Value = raw.eval(DUMP, (), vec![pattern]).await.unwrap();
    value
        .into_array()
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        .collect()
}

async fn members(raw: &Client, set: &str) -> Vec<String> {
    let value: Value = raw
        .eval("return redis.call('SMEMBERS', KEYS[1])", vec![set], ())
        .await
        .unwrap();
    let mut out: Vec<String> = value
        .into_array()
        .iter()
        .filter_map(Value::as_string)
        .collect();
    out.sort();
    out
}

// =============================================================================================
// The store contract: each case runs on MemoryStore and on RedisSessionStore.

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod contract_memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::memory_fixture()).await;
                }
            )*
        }
        mod contract_redis {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&super::redis_fixture().await).await;
                }
            )*
        }
    };
}

contract!(
    insert_never_overwrites,
    get_judges_expiry_by_the_records_own_time,
    absolute_expiry_ends_an_active_session,
    touch_raises_last_seen_and_never_lowers_it,
    replace_is_a_compare_and_swap_that_keeps_the_expiry,
    concurrent_replaces_have_exactly_one_winner,
    remove_ends_the_record_and_leaves_the_index,
    remove_user_ends_every_live_session_of_that_user_only,
    list_user_lists_live_sessions_oldest_first,
    per_user_limit_evicts_the_least_recently_seen,
);

async fn insert_never_overwrites(f: &Fx) {
    let k = key();
    let now = f.now();
    f.store
        .insert(&k, record("alice", now, IDLE, ABSOLUTE, b"alice's"))
        .await
        .unwrap();
    let second = f
        .store
        .insert(&k, record("mallory", now, IDLE, ABSOLUTE, b"mallory's"))
        .await;
    assert_eq!(second.unwrap_err(), StoreError::Exists);
    let got = f.store.get(&k).await.unwrap().unwrap();
    assert_eq!(got.user, "alice");
    assert_eq!(&got.data[..], b"alice's");
    assert_eq!((got.created_at, got.last_seen, got.version), (now, now, 1));
    assert_eq!(got.absolute_expiry, now + ABSOLUTE);
    assert_eq!(got.idle_timeout, IDLE);
}

async fn get_judges_expiry_by_the_records_own_time(f: &Fx) {
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    f.advance(IDLE - 1);
    assert!(f.live(&k).await);
    // The idle deadline itself counts as ended, though a Redis TTL would still run for a
    // minute of real time: the record's own time and the store's clock decide.
    f.advance(1);
    assert!(!f.live(&k).await);
    assert!(
        !f.store.remove(&k).await.unwrap(),
        "an expired record found is removed"
    );
}

async fn absolute_expiry_ends_an_active_session(f: &Fx) {
    let k = f.insert("alice", IDLE, 100).await;
    let start = f.now();
    for step in [40, 40, 19] {
        f.advance(step);
        assert!(f.store.touch(&k, f.now()).await.unwrap());
    }
    assert!(f.live(&k).await);
    f.advance(1);
    assert_eq!(f.now(), start + 100);
    assert!(!f.live(&k).await);
}

async fn touch_raises_last_seen_and_never_lowers_it(f: &Fx) {
    let t0 = f.now();
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    f.advance(50);
    assert!(f.store.touch(&k, t0 + 50).await.unwrap());
    let got = f.store.get(&k).await.unwrap().unwrap();
    assert_eq!(got.last_seen, t0 + 50);
    assert_eq!(got.version, 1, "activity does not change the version");
    assert!(f.store.touch(&k, t0 + 10).await.unwrap());
    assert_eq!(f.store.get(&k).await.unwrap().unwrap().last_seen, t0 + 50);
    // The idle deadline moved with it: alive at t0 + 100, ended at t0 + 110.
    f.advance(50);
    assert!(f.live(&k).await);
    f.advance(10);
    assert!(!f.live(&k).await);
    assert!(!f.store.touch(&k, f.now()).await.unwrap());
    assert!(!f.store.touch(&key(), f.now()).await.unwrap());
}

async fn replace_is_a_compare_and_swap_that_keeps_the_expiry(f: &Fx) {
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let expires = f.store.get(&k).await.unwrap().unwrap().expires_at();
    assert_eq!(
        f.store.replace(&k, 1, data(b"second")).await.unwrap(),
        Replaced::Done { version: 2 }
    );
    assert_eq!(
        f.store.replace(&k, 1, data(b"stale")).await.unwrap(),
        Replaced::Conflict
    );
    let got = f.store.get(&k).await.unwrap().unwrap();
    assert_eq!((&got.data[..], got.version), (&b"second"[..], 2));
    assert_eq!(got.expires_at(), expires);
    // A touch between read and replace does not make the replace fail.
    assert!(f.store.touch(&k, f.now() + 1).await.unwrap());
    assert_eq!(
        f.store.replace(&k, 2, data(b"third")).await.unwrap(),
        Replaced::Done { version: 3 }
    );
    assert_eq!(
        f.store.replace(&key(), 1, data(b"x")).await.unwrap(),
        Replaced::Missing
    );
    f.advance(IDLE + 2);
    assert_eq!(
        f.store.replace(&k, 3, data(b"late")).await.unwrap(),
        Replaced::Missing
    );
}

async fn concurrent_replaces_have_exactly_one_winner(f: &Fx) {
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let mut tasks = Vec::new();
    for i in 0..16u8 {
        let store = Arc::clone(&f.store);
        tasks.push(tokio::spawn(async move {
            store.replace(&k, 1, data(&[i])).await.unwrap()
        }));
    }
    let mut winners = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Replaced::Done { version } => {
                assert_eq!(version, 2);
                winners.push(i);
            }
            Replaced::Conflict => {}
            Replaced::Missing => panic!("the record is live"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let got = f.store.get(&k).await.unwrap().unwrap();
    assert_eq!(got.data[..], [u8::try_from(winners[0]).unwrap()]);
}

async fn remove_ends_the_record_and_leaves_the_index(f: &Fx) {
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    assert_eq!(f.store.list_user("alice").await.unwrap().len(), 1);
    assert!(f.store.remove(&k).await.unwrap());
    assert!(!f.live(&k).await);
    assert!(!f.store.remove(&k).await.unwrap());
    assert!(f.store.list_user("alice").await.unwrap().is_empty());
    assert!(!f.store.touch(&k, f.now()).await.unwrap());
    assert_eq!(
        f.store.replace(&k, 1, data(b"x")).await.unwrap(),
        Replaced::Missing
    );
    if let Some((_, store, raw)) = &f.redis {
        let exists: i64 = raw.exists(store.user_index_key("alice")).await.unwrap();
        assert_eq!(exists, 0, "an empty index is not left behind");
    }
}

async fn remove_user_ends_every_live_session_of_that_user_only(f: &Fx) {
    let short = f.insert("alice", IDLE, ABSOLUTE).await;
    f.advance(30);
    let a2 = f.insert("alice", 600, ABSOLUTE).await;
    let a3 = f.insert("alice", 600, ABSOLUTE).await;
    let bob = f.insert("bob", 600, ABSOLUTE).await;
    f.advance(31);
    assert_eq!(f.store.remove_user("alice").await.unwrap(), 2, "live ones");
    for k in [short, a2, a3] {
        assert!(!f.live(&k).await);
    }
    assert!(f.live(&bob).await);
    assert_eq!(f.store.remove_user("alice").await.unwrap(), 0);
    assert!(f.store.list_user("alice").await.unwrap().is_empty());
    assert_eq!(f.store.list_user("bob").await.unwrap().len(), 1);
}

async fn list_user_lists_live_sessions_oldest_first(f: &Fx) {
    let t0 = f.now();
    let a1 = f.insert("alice", IDLE, ABSOLUTE).await;
    f.advance(10);
    let a2 = f.insert("alice", 600, ABSOLUTE).await;
    f.advance(10);
    let a3 = f.insert("alice", 600, ABSOLUTE).await;
    f.insert("bob", 600, ABSOLUTE).await;
    let listed = f.store.list_user("alice").await.unwrap();
    let expected = vec![
        SessionSummary {
            key: a1,
            created_at: t0,
            last_seen: t0,
            expires_at: t0 + IDLE,
        },
        SessionSummary {
            key: a2,
            created_at: t0 + 10,
            last_seen: t0 + 10,
            expires_at: t0 + 610,
        },
        SessionSummary {
            key: a3,
            created_at: t0 + 20,
            last_seen: t0 + 20,
            expires_at: t0 + 620,
        },
    ];
    assert_eq!(listed, expected);
    f.advance(41);
    let keys: Vec<SessionKey> = f
        .store
        .list_user("alice")
        .await
        .unwrap()
        .iter()
        .map(|s| s.key)
        .collect();
    assert_eq!(keys, vec![a2, a3], "the expired session is not listed");
    assert!(f.store.list_user("nobody").await.unwrap().is_empty());
}

async fn per_user_limit_evicts_the_least_recently_seen(f: &Fx) {
    let t0 = f.now();
    let a1 = f.insert("alice", 600, ABSOLUTE).await;
    f.advance(1);
    let a2 = f.insert("alice", 600, ABSOLUTE).await;
    f.advance(1);
    let a3 = f.insert("alice", 600, ABSOLUTE).await;
    let bob = f.insert("bob", 600, ABSOLUTE).await;
    f.advance(1);
    assert!(f.store.touch(&a1, t0 + 3).await.unwrap());
    // A fourth session past the limit of three: a2, seen least recently, makes room.
    let a4 = f.insert("alice", 600, ABSOLUTE).await;
    assert!(!f.live(&a2).await);
    for k in [a1, a3, a4, bob] {
        assert!(f.live(&k).await);
    }
    assert_eq!(f.store.list_user("alice").await.unwrap().len(), PER_USER);
}

// =============================================================================================
// Redis specifics: layout, TTLs, index cleanup, format, lock.

#[tokio::test]
async fn redis_keys_are_namespaced_and_name_no_user() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    let user = "https://idp.example user-42";
    let k = f.insert(user, IDLE, ABSOLUTE).await;
    let taken = store.try_lock(&k, Duration::from_secs(30)).await.unwrap();
    assert!(taken.is_some());
    assert_eq!(store.record_key(&k), format!("test:s:s:{}", k.to_hex()));
    assert_eq!(store.lock_key(&k), format!("test:s:l:{}", k.to_hex()));
    let index = store.user_index_key(user);
    assert!(index.starts_with("test:s:u:") && index.len() == "test:s:u:".len() + 64);
    let keys: Vec<String> = {
        let value: Value = raw
            .eval("return redis.call('KEYS', '*')", (), ())
            .await
            .unwrap();
        value
            .into_array()
            .iter()
            .filter_map(Value::as_string)
            .collect()
    };
    assert_eq!(keys.len(), 3, "{keys:?}");
    for name in &keys {
        assert!(name.starts_with("test:s:"), "{name}");
        assert!(
            !name.contains("user-42") && !name.contains("idp.example"),
            "{name}"
        );
    }
    assert_eq!(members(raw, &index).await, vec![k.to_hex()]);
}

#[tokio::test]
async fn redis_ttl_follows_the_records_expiry() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let ttl = |raw: &Client| {
        let name = store.record_key(&k);
        let raw = raw.clone();
        async move { raw.ttl::<i64, _>(name).await.unwrap() }
    };
    assert!((IDLE - 2..=IDLE).contains(&u64::try_from(ttl(raw).await).unwrap()));
    // A touch 50 s later (by the store's clock) moves the deadline to +110 s.
    assert!(store.touch(&k, f.now() + 50).await.unwrap());
    let after_touch = u64::try_from(ttl(raw).await).unwrap();
    assert!((108..=110).contains(&after_touch), "{after_touch}");
    // A replace keeps it.
    assert!(matches!(
        store.replace(&k, 1, data(b"new")).await.unwrap(),
        Replaced::Done { .. }
    ));
    let after_replace = u64::try_from(ttl(raw).await).unwrap();
    assert!((107..=110).contains(&after_replace), "{after_replace}");
    // The index lives as long as the longest absolute expiry among its sessions.
    let index_ttl: i64 = raw.ttl(store.user_index_key("alice")).await.unwrap();
    assert!((ABSOLUTE - 2..=ABSOLUTE).contains(&u64::try_from(index_ttl).unwrap()));
}

#[tokio::test]
async fn redis_index_is_cleaned_when_records_expire() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    let short = f.insert("alice", IDLE, ABSOLUTE).await;
    let long = f.insert("alice", 600, ABSOLUTE).await;
    let index = store.user_index_key("alice");
    let mut both = vec![short.to_hex(), long.to_hex()];
    both.sort();
    assert_eq!(members(raw, &index).await, both);
    // Redis itself dropping a record (its TTL ran out) leaves a dangling index entry until the
    // index is next read.
    let _: i64 = raw.del(store.record_key(&long)).await.unwrap();
    f.advance(IDLE + 1);
    assert!(store.list_user("alice").await.unwrap().is_empty());
    assert!(members(raw, &index).await.is_empty());
    let exists: i64 = raw.exists(&index).await.unwrap();
    assert_eq!(exists, 0);
    let gone: i64 = raw.exists(store.record_key(&short)).await.unwrap();
    assert_eq!(gone, 0, "the expired record was deleted, not only hidden");
}

#[tokio::test]
async fn redis_insert_prunes_the_index_of_expired_sessions() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    for _ in 0..PER_USER {
        f.insert("alice", IDLE, ABSOLUTE).await;
    }
    f.advance(IDLE);
    let fresh = f.insert("alice", IDLE, ABSOLUTE).await;
    assert_eq!(
        members(raw, &store.user_index_key("alice")).await,
        vec![fresh.to_hex()]
    );
}

#[tokio::test]
async fn redis_records_of_another_format_are_refused_not_misread() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let _: i64 = raw.hset(store.record_key(&k), ("f", "2")).await.unwrap();
    assert_eq!(store.get(&k).await.unwrap_err(), StoreError::Corrupt);
    let _: i64 = raw
        .hset(store.record_key(&k), [("f", "1"), ("l", "soon")])
        .await
        .unwrap();
    assert_eq!(store.get(&k).await.unwrap_err(), StoreError::Corrupt);
    assert_eq!(
        store.touch(&k, f.now()).await.unwrap_err(),
        StoreError::Corrupt
    );
    assert_eq!(
        store.replace(&k, 1, data(b"x")).await.unwrap_err(),
        StoreError::Corrupt
    );
    // A corrupt record is never overwritten by a new session either.
    assert_eq!(
        store
            .insert(&k, record("mallory", f.now(), IDLE, ABSOLUTE, b"x"))
            .await
            .unwrap_err(),
        StoreError::Exists
    );
}

/// A record altered in Redis to name another key as its index cannot make a script touch that
/// key: the foreign set keeps its member, a key of another type does not make the removal fail
/// half-way, and the record itself is still removed.
#[tokio::test]
async fn redis_a_record_naming_a_foreign_index_does_not_reach_it() {
    let f = redis_fixture().await;
    let (_, store, raw) = f.redis.as_ref().unwrap();
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let hex = k.to_hex();
    let foreign_set = "other-app:members";
    let _: i64 = raw.sadd(foreign_set, hex.as_str()).await.unwrap();
    let _: i64 = raw
        .hset(store.record_key(&k), ("u", foreign_set))
        .await
        .unwrap();
    assert!(store.remove(&k).await.unwrap());
    assert!(store.get(&k).await.unwrap().is_none());
    let still: bool = raw.sismember(foreign_set, hex.as_str()).await.unwrap();
    assert!(still, "the script removed a member of a foreign set");

    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    let _: () = raw.set("not-a-set", "x", None, None, false).await.unwrap();
    let _: i64 = raw
        .hset(store.record_key(&k), ("u", "not-a-set"))
        .await
        .unwrap();
    assert!(
        store.remove(&k).await.unwrap(),
        "a wrong-type key failed the removal"
    );
    assert!(store.get(&k).await.unwrap().is_none());
}

#[tokio::test]
async fn redis_namespaces_do_not_see_each_other() {
    let f = redis_fixture().await;
    let (redis, _, _) = f.redis.as_ref().unwrap();
    let other = redis_store(redis, &f.clock, "other:").await;
    let k = f.insert("alice", IDLE, ABSOLUTE).await;
    assert!(other.get(&k).await.unwrap().is_none());
    assert!(other.list_user("alice").await.unwrap().is_empty());
    assert_eq!(other.remove_user("alice").await.unwrap(), 0);
    assert!(f.live(&k).await);
}

#[tokio::test]
async fn redis_refresh_lock_is_exclusive_and_released_only_by_its_owner() {
    let f = redis_fixture().await;
    let (redis, store, _) = f.redis.as_ref().unwrap();
    // Another instance: its own connections, same namespace.
    let second = redis_store(redis, &f.clock, "test:s:").await;
    let k = key();
    let ttl = Duration::from_secs(30);
    let token = store.try_lock(&k, ttl).await.unwrap().unwrap();
    assert!(second.try_lock(&k, ttl).await.unwrap().is_none());
    assert!(
        store.try_lock(&k, ttl).await.unwrap().is_none(),
        "not re-entrant"
    );
    // A token that is not the holder's releases nothing.
    second
        .unlock(&k, LockToken::generate().unwrap())
        .await
        .unwrap();
    assert!(second.try_lock(&k, ttl).await.unwrap().is_none());
    store.unlock(&k, token).await.unwrap();
    let second_token = second.try_lock(&k, ttl).await.unwrap().unwrap();
    // Another session's lock is independent.
    assert!(store.try_lock(&key(), ttl).await.unwrap().is_some());
    second.unlock(&k, second_token).await.unwrap();
    assert!(store.try_lock(&k, ttl).await.unwrap().is_some());
}

#[tokio::test]
async fn redis_refresh_lock_expires_when_its_holder_is_gone() {
    let f = redis_fixture().await;
    let (_, store, _) = f.redis.as_ref().unwrap();
    let k = key();
    let stale = store
        .try_lock(&k, Duration::from_millis(100))
        .await
        .unwrap()
        .unwrap();
    // Waiting for Redis to expire the key; not a speed assertion.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = store.try_lock(&k, Duration::from_secs(30)).await.unwrap();
    assert!(fresh.is_some());
    // The late holder's unlock must not free the new holder's lock.
    store.unlock(&k, stale).await.unwrap();
    assert!(
        store
            .try_lock(&k, Duration::from_secs(30))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn memory_store_lock_is_per_process_only() {
    // The default `try_lock` grants every time: a single process relies on the OIDC layer's
    // own lock, and this is what a shared store must override.
    let f = memory_fixture();
    let k = key();
    assert!(
        f.store
            .try_lock(&k, Duration::from_secs(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        f.store
            .try_lock(&k, Duration::from_secs(1))
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn connecting_to_no_redis_is_unavailable_and_bad_settings_are_refused() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = RedisSessionStore::builder(format!("redis://127.0.0.1:{port}"))
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    assert_eq!(error, SessionError::Store(StoreError::Unavailable));
    for builder in [
        RedisSessionStore::builder("not a url"),
        RedisSessionStore::builder("redis://127.0.0.1:1").namespace("has space"),
        RedisSessionStore::builder("redis://127.0.0.1:1").namespace(""),
        RedisSessionStore::builder("redis://127.0.0.1:1").pool_size(0),
        RedisSessionStore::builder("redis://127.0.0.1:1").command_timeout(Duration::ZERO),
    ] {
        assert!(
            matches!(builder.connect().await, Err(SessionError::Config(_))),
            "a bad setting must be a configuration error"
        );
    }
}

// =============================================================================================
// Applications on a Redis store.

/// The access-token lifetime; with the default 60 s margin a token needs a refresh after 60 s.
const ACCESS_LIFETIME: Duration = Duration::from_secs(120);
const PAST_REFRESH_POINT: Duration = Duration::from_secs(70);
const NAMESPACE: &str = "app:session:";

/// The hostile provider, the Redis server and the clock shared by the instances.
struct Cluster {
    redis: RedisServer,
    idp: HostileAs,
    clock: TestClock,
    keys: paved_secrets::KeyRing,
}

impl Cluster {
    async fn start() -> Self {
        let redis = RedisServer::start().await.unwrap();
        let clock = TestClock::now();
        let idp = app::start_hostile(&clock).await;
        idp.set_access_token_lifetime(ACCESS_LIFETIME);
        Self {
            redis,
            idp,
            clock,
            keys: paved_secrets::KeyRing::generate().unwrap(),
        }
    }

    /// A store with its own connections, as another process would have.
    async fn store(&self, command_timeout: Duration) -> RedisSessionStore {
        RedisSessionStore::builder(self.redis.url())
            .namespace(NAMESPACE)
            .command_timeout(command_timeout)
            .clock(Arc::new(self.clock.clone()))
            .connect()
            .await
            .unwrap()
    }

    /// One instance of the application on `store`, with the shared key ring.
    async fn instance(&self, store: Arc<dyn SessionStore>) -> HostileApp {
        let options = AppOptions {
            keys: Some(self.keys.clone()),
            store: Some(store),
            ..AppOptions::default()
        };
        app::hostile_app_with(&self.idp, &self.clock, options, |b| b, |b| b)
            .await
            .unwrap()
    }

    /// An instance on its own Redis connections.
    async fn redis_instance(&self) -> HostileApp {
        let store = self.store(Duration::from_secs(2)).await;
        self.instance(Arc::new(store)).await
    }
}

async fn login_ok(idp: &HostileAs, app: &Router) -> Jar {
    let jar = Jar::default();
    let reply = app::hostile_login(idp, app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    jar
}

async fn access_token(app: &Router, jar: &Jar) -> String {
    let reply = app::fetch(app, jar, "/token").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// A second browser holding the same session cookie (to use it after the first one's jar was
/// cleared by a logout).
fn copy_of(jar: &Jar) -> Jar {
    let copy = Jar::default();
    copy.set("__Host-session", &jar.get("__Host-session").unwrap());
    copy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_moves_between_instances_multi_instance() {
    let c = Cluster::start().await;
    let a = c.redis_instance().await;
    let b = c.redis_instance().await;
    let jar = login_ok(&c.idp, &a.app).await;
    assert!(
        app::logged_in(&b.app, &jar).await,
        "logged in on A, known on B"
    );
    let me = app::navigate(&b.app, &jar, "/me").await;
    assert_eq!(me.body, DEFAULT_SUBJECT);
    assert_eq!(
        access_token(&a.app, &jar).await,
        access_token(&b.app, &jar).await
    );

    // A login started on B and finished on A (the load balancer sent the callback elsewhere).
    let other = Jar::default();
    let authorization_url = app::start_login(&b.app, &other, None).await;
    let callback = c.idp.approve(&authorization_url).await.unwrap();
    let reply = app::follow_callback(&a.app, &other, callback.as_str()).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(&b.app, &other).await);
    assert!(app::logged_in(&a.app, &other).await);
}

/// 20 requests split over two instances right at the refresh point; the provider answers the
/// refresh slowly so that every request arrives while it runs. Returns the tokens handed out.
async fn twenty_at_the_refresh_point(
    c: &Cluster,
    a: &HostileApp,
    b: &HostileApp,
    jar: &Jar,
) -> Vec<Reply> {
    c.clock.advance(PAST_REFRESH_POINT);
    c.idp.set_token_fault(
        TokenFault::Transport(TransportFault::Delay(Duration::from_millis(500))),
        GrantFilter::RefreshToken,
        Shots::ONCE,
    );
    let mut tasks = Vec::new();
    for i in 0..20 {
        let router = if i % 2 == 0 {
            a.app.clone()
        } else {
            b.app.clone()
        };
        let jar = jar.clone();
        tasks.push(tokio::spawn(async move {
            app::fetch(&router, &jar, "/token").await
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_requests_over_two_instances_refresh_once_multi_instance() {
    let c = Cluster::start().await;
    let a = c.redis_instance().await;
    let b = c.redis_instance().await;
    let jar = login_ok(&c.idp, &a.app).await;
    let first = access_token(&b.app, &jar).await;
    assert_eq!(c.idp.refresh_calls(), 0);

    let replies = twenty_at_the_refresh_point(&c, &a, &b, &jar).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    assert_eq!(
        c.idp.refresh_calls(),
        1,
        "one refresh for 20 requests on two instances"
    );
    let second = replies[0].body.clone();
    assert_ne!(second, first);
    assert!(replies.iter().all(|r| r.body == second));

    // The rotated refresh token was stored once, for both: the next refresh (on the other
    // instance) presents it and succeeds.
    c.clock.advance(PAST_REFRESH_POINT);
    let third = access_token(&b.app, &jar).await;
    assert_ne!(third, second);
    assert_eq!(c.idp.refresh_calls(), 2);
    let refreshes: Vec<_> = c
        .idp
        .token_requests()
        .into_iter()
        .filter(|r| r.grant_type.as_deref() == Some("refresh_token"))
        .collect();
    assert!(refreshes.iter().all(|r| r.error.is_none()), "{refreshes:?}");
    assert_ne!(
        refreshes[0].field("refresh_token"),
        refreshes[1].field("refresh_token")
    );
    assert_eq!(access_token(&a.app, &jar).await, third);
}

/// The Redis store without its shared lock (the trait's per-process default).
#[derive(Debug)]
struct WithoutSharedLock(RedisSessionStore);

impl SessionStore for WithoutSharedLock {
    fn insert<'a>(
        &'a self,
        key: &'a SessionKey,
        record: SessionRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.0.insert(key, record)
    }
    fn get<'a>(
        &'a self,
        key: &'a SessionKey,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        self.0.get(key)
    }
    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.0.touch(key, at)
    }
    fn replace<'a>(
        &'a self,
        key: &'a SessionKey,
        version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        self.0.replace(key, version, data)
    }
    fn remove<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.0.remove(key)
    }
    fn remove_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.0.remove_user(user)
    }
    fn list_user<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSummary>, StoreError>> {
        self.0.list_user(user)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_the_shared_lock_two_instances_both_refresh_multi_instance() {
    // The control of the test above: the same run with only per-process locks makes both
    // instances present the refresh token.
    let c = Cluster::start().await;
    let a = c
        .instance(Arc::new(WithoutSharedLock(
            c.store(Duration::from_secs(2)).await,
        )))
        .await;
    let b = c
        .instance(Arc::new(WithoutSharedLock(
            c.store(Duration::from_secs(2)).await,
        )))
        .await;
    let jar = login_ok(&c.idp, &a.app).await;
    twenty_at_the_refresh_point(&c, &a, &b, &jar).await;
    assert_eq!(c.idp.refresh_calls(), 2, "each instance refreshed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_on_one_instance_ends_it_everywhere_multi_instance() {
    let c = Cluster::start().await;
    let a = c.redis_instance().await;
    let b = c.redis_instance().await;
    let jar = login_ok(&c.idp, &a.app).await;
    let kept = copy_of(&jar);
    assert!(app::logged_in(&a.app, &kept).await);
    assert!(app::logged_in(&b.app, &kept).await);
    let out = app::logout(&b.app, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    // The cookie a thief kept, or another tab, no longer works on A either, at once.
    assert!(!app::logged_in(&a.app, &kept).await);
    assert!(!app::logged_in(&b.app, &kept).await);
    let token = app::fetch(&a.app, &kept, "/token").await;
    assert_eq!(token.status, StatusCode::UNAUTHORIZED);
    let raw = raw_client(&c.redis.url()).await;
    let left = dump(&raw, &format!("{NAMESPACE}s:*")).await;
    assert!(left.is_empty(), "{} keys left", left.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_held_by_another_instance_is_waited_for_then_taken_over() {
    let c = Cluster::start().await;
    let store = c.store(Duration::from_secs(2)).await;
    let a = c.instance(Arc::new(store.clone())).await;
    let jar = login_ok(&c.idp, &a.app).await;
    let first = access_token(&a.app, &jar).await;
    let session = SessionId::from_cookie_value(&jar.get("__Host-session").unwrap())
        .unwrap()
        .key();
    // Another instance holds the refresh lock and then goes away without refreshing.
    let held = store
        .try_lock(&session, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    c.clock.advance(PAST_REFRESH_POINT);
    let waiting = {
        let (router, jar) = (a.app.clone(), jar.clone());
        tokio::spawn(async move { app::fetch(&router, &jar, "/token").await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        c.idp.refresh_calls(),
        0,
        "no refresh while another instance holds it"
    );
    store.unlock(&session, held).await.unwrap();
    let reply = waiting.await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_ne!(reply.body, first);
    assert_eq!(c.idp.refresh_calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_held_elsewhere_past_the_wait_is_503_not_a_logout() {
    let c = Cluster::start().await;
    let store = c.store(Duration::from_secs(2)).await;
    let a = c.instance(Arc::new(store.clone())).await;
    let jar = login_ok(&c.idp, &a.app).await;
    let session = SessionId::from_cookie_value(&jar.get("__Host-session").unwrap())
        .unwrap()
        .key();
    let held = store
        .try_lock(&session, Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    c.clock.advance(PAST_REFRESH_POINT);
    let reply = app::fetch(&a.app, &jar, "/token").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert_eq!(c.idp.refresh_calls(), 0);
    // Still logged in: the session was not ended, and refreshes once the lock is free.
    assert!(app::logged_in(&a.app, &jar).await);
    store.unlock(&session, held).await.unwrap();
    access_token(&a.app, &jar).await;
    assert_eq!(c.idp.refresh_calls(), 1);
}

// =============================================================================================
// Faults.

/// Polls `path` until it answers `want`; every other answer must be a 503 (bounded: 100 tries
/// 100 ms apart).
async fn until(app: &Router, jar: &Jar, path: &str, want: StatusCode) -> Reply {
    for _ in 0..100 {
        let reply = app::navigate(app, jar, path).await;
        if reply.status == want {
            return reply;
        }
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "while Redis recovers: {} {:?}",
            reply.body,
            reply.location()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never answered {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_redis_gives_503_then_the_same_session_works_again() {
    let c = Cluster::start().await;
    let a = c
        .instance(Arc::new(c.store(Duration::from_secs(1)).await))
        .await;
    let jar = login_ok(&c.idp, &a.app).await;
    let before = access_token(&a.app, &jar).await;

    c.redis.pause().await.unwrap();
    // A protected page: 503, not the login redirect (never treated as logged out).
    let me = app::navigate(&a.app, &jar, "/me").await;
    assert_eq!(me.status, StatusCode::SERVICE_UNAVAILABLE, "{}", me.body);
    assert!(me.set_cookies().is_empty());
    let api = app::fetch(&a.app, &jar, "/token").await;
    assert_eq!(api.status, StatusCode::SERVICE_UNAVAILABLE, "{}", api.body);
    // A logout that cannot reach Redis says so instead of pretending.
    let out = app::logout(&a.app, &jar).await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(out.set_cookies().is_empty(), "{:?}", out.set_cookies());
    // A new login cannot start a session either.
    let other = Jar::default();
    let login = app::hostile_login(&c.idp, &a.app, &other).await;
    assert_eq!(
        login.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        login.body
    );
    assert!(other.get("__Host-session").is_none());

    c.redis.resume().await.unwrap();
    // The same session, with its data: no restart of the app, no new login.
    let me = until(&a.app, &jar, "/me", StatusCode::OK).await;
    assert_eq!(me.body, DEFAULT_SUBJECT);
    assert_eq!(access_token(&a.app, &jar).await, before);
    assert_eq!(c.idp.refresh_calls(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_and_restarted_redis_recovers_without_restarting_the_app() {
    let mut c = Cluster::start().await;
    let a = c
        .instance(Arc::new(c.store(Duration::from_secs(1)).await))
        .await;
    let b = c
        .instance(Arc::new(c.store(Duration::from_secs(1)).await))
        .await;
    let jar = login_ok(&c.idp, &a.app).await;

    // Requests in flight on both instances while Redis dies: each is a 200 or a 503, never a
    // login redirect, a 500 or a panic.
    let mut load = Vec::new();
    for i in 0..8 {
        let router = if i % 2 == 0 {
            a.app.clone()
        } else {
            b.app.clone()
        };
        let jar = jar.clone();
        load.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..6 {
                let reply = app::navigate(&router, &jar, "/me").await;
                seen.push(reply.status);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.redis.stop().await;
    let mut statuses = Vec::new();
    for task in load {
        statuses.extend(task.await.unwrap());
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    for router in [&a.app, &b.app] {
        let me = app::navigate(router, &jar, "/me").await;
        assert_eq!(me.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    // Back, empty (no persistence): the old session is gone, so the user logs in again, on
    // the same running instances.
    c.redis.restart().await.unwrap();
    let me = until(&a.app, &jar, "/me", StatusCode::SEE_OTHER).await;
    assert!(me.location().starts_with("/login"), "{}", me.location());
    until(&b.app, &jar, "/me", StatusCode::SEE_OTHER).await;
    let again = login_ok(&c.idp, &b.app).await;
    assert!(app::logged_in(&a.app, &again).await);
    assert!(app::logged_in(&b.app, &again).await);
}

// =============================================================================================
// What Redis holds.

#[tokio::test]
async fn redis_holds_no_token_in_clear() {
    let c = Cluster::start().await;
    let a = c.redis_instance().await;
    let raw = raw_client(&c.redis.url()).await;
    let jar = login_ok(&c.idp, &a.app).await;
    let first_access = access_token(&a.app, &jar).await;
    let at_login = dump(&raw, "*").await;

    // A refresh shows the refresh token issued at login (the AS records what was presented).
    c.clock.advance(PAST_REFRESH_POINT);
    let second_access = access_token(&a.app, &jar).await;
    let first_refresh = c
        .idp
        .token_requests()
        .iter()
        .find_map(|r| r.field("refresh_token").map(str::to_owned))
        .unwrap();
    let after_refresh = dump(&raw, "*").await;

    for (when, values) in [
        ("at login", &at_login),
        ("after the refresh", &after_refresh),
    ] {
        let all = values.join("\n");
        // The scan does see the record: the user handle is stored in clear (it names no key).
        assert!(
            all.contains(DEFAULT_SUBJECT),
            "{when}: the record was not read"
        );
        assert!(all.len() > 500, "{when}: sealed tokens are kilobytes");
        assert!(!all.contains("eyJ"), "{when}: a JWT in Redis");
        for token in [&first_access, &second_access, &first_refresh] {
            assert!(token.len() >= 32);
            assert!(!all.contains(token.as_str()), "{when}: a token in Redis");
        }
        for line in values {
            assert!(
                !line.contains(&jar.get("__Host-session").unwrap()),
                "{when}: the cookie"
            );
        }
    }
}
