//! [`RedisSessionStore`]: sessions and refresh locks shared by every instance of an application
//! (feature `redis`).
//!
//! # What it guards
//!
//! - **Scale-out (ASVS V7.4.1, OA-17).** Behind a load balancer every instance sees the same
//!   records: a session started on one instance works on all, a logout on one ends it on all at
//!   once (the record is gone from the one store), and a token refresh is taken by exactly one
//!   instance through [`try_lock`](SessionStore::try_lock).
//! - **No tokens in Redis in clear.** The OIDC layer seals session data (AEAD with a
//!   purpose-bound key, `paved_crypto::Sealer`) before it reaches any store: what this store
//!   writes as `d` is that sealed blob. Keys are the SHA-256 of the cookie
//!   ([`SessionKey`]) and the SHA-256 of the user handle, so a Redis dump, `MONITOR` output or
//!   a replica holds no usable cookie, no token and no user id in a key name.
//! - **Fail closed.** Every Redis failure (refused connection, reset, a reply later than the
//!   command timeout, an unexpected reply) is [`StoreError::Unavailable`], which the session
//!   manager and the OIDC layer answer with 503: a request is never let in, and never treated
//!   as logged out, because Redis could not be asked. The client reconnects on its own (a
//!   capped exponential back-off, forever), so the service recovers when Redis returns,
//!   without a restart.
//! - **A hung Redis cannot hang requests.** Each call is bounded by the command timeout
//!   (default [`DEFAULT_COMMAND_TIMEOUT`]); a connection that stops answering is closed and
//!   opened again.
//! - **Atomic steps.** Each [`SessionStore`] method that writes is one Lua script (`EVALSHA`,
//!   falling back to `EVAL` when the script cache was flushed), so concurrent instances never
//!   see half an update: `insert` never overwrites, `replace` is a compare-and-swap on the
//!   version that keeps the TTL, `touch` never lowers `last_seen`. `get`, on every request, is
//!   one `HMGET` (fred pipelines plain commands but sends scripts one at a time per
//!   connection, so the pool size bounds concurrent writes, not reads).
//!
//! # Layout (format 1)
//!
//! | key | type | holds | TTL |
//! |---|---|---|---|
//! | `<ns>s:<hex key>` | hash | `f`=`1` (format), `user`, `c`, `l`, `a`, `i`, `v` (the [`SessionRecord`] fields), `d` (sealed data), `u` (its index key) | `EXPIREAT` the record's [`expires_at`](SessionRecord::expires_at) |
//! | `<ns>u:<hex SHA-256(user)>` | set | hex keys of the user's sessions | the latest absolute expiry among them |
//! | `<ns>l:<hex key>` | string | the refresh lock's random token | `PX` the lock ttl |
//!
//! A hash rather than one encoded blob lets the scripts change `l`, `v` and `d` in place; the
//! `f` field says which layout a record has, so a later format is detected and refused
//! ([`StoreError::Corrupt`]) instead of misread.
//!
//! Expiry is judged twice: Redis drops a record at its TTL, and every script compares the
//! record's own `expires_at` with `now` from the store's clock (a TTL set by a writer with a
//! skewed clock cannot stretch a session); an expired record found is deleted and leaves its
//! user's index. Index entries whose record Redis expired are pruned whenever the index is read
//! or a session of that user is inserted.
//!
//! # What it deliberately does not do
//!
//! - No Redis Cluster: the scripts touch the per-user index named inside a record, which
//!   Cluster only allows within one hash slot. Use a single primary (with replicas or
//!   Sentinel). Redis 7.0 or later (`EXPIREAT … GT`).
//! - No global capacity: bound memory with Redis's `maxmemory` and
//!   `maxmemory-policy noeviction`, so that a full Redis refuses writes (logins answer 503)
//!   instead of evicting: an evicted per-user index would make "log out everywhere" miss
//!   sessions, and an evicted refresh lock would let two instances refresh. Keep login
//!   throttle counters in another Redis or database, so guessing traffic cannot fill this
//!   one. The per-user limit ([`DEFAULT_MAX_SESSIONS_PER_USER`]) is kept as in
//!   [`MemoryStore`](super::MemoryStore).
//! - Expiry times are absolute (`EXPIREAT`) from the application's clock: keep the
//!   application's and Redis's clocks synchronised (NTP); an application clock far behind
//!   Redis's would make new sessions expire at once.
//! - With asynchronous replication, a logout acknowledged by the primary can be lost in a
//!   failover to a replica that had not received it (the session comes back until it
//!   expires); Redis's `WAIT` or a failover policy that prefers synchronised replicas is the
//!   deployment's choice.
//! - No TLS unless fred's `enable-rustls-ring` feature is added (and a `rediss://` URL used);
//!   keep Redis on a private network or loopback otherwise.
//! - Times above [`MAX_TIME`] (year 9999) are stored as [`MAX_TIME`]: Redis scripts compute in
//!   doubles, and Redis refuses expiry times much further out.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fred::clients::Pool;
use fred::interfaces::{
    ClientLike as _, HashesInterface as _, KeysInterface as _, LuaInterface as _,
};
use fred::prelude::{Builder, Config, Expiration, ReconnectPolicy, SetOptions};
use fred::types::Value;
use paved_crypto::{Clock, SystemClock};
use zeroize::Zeroizing;

use super::{
    BoxFuture, DEFAULT_MAX_SESSIONS_PER_USER, LockToken, Replaced, SessionError, SessionKey,
    SessionRecord, SessionStore, SessionSummary, StoreError,
};

/// The key prefix used unless [`RedisSessionStoreBuilder::namespace`] sets another.
pub const DEFAULT_NAMESPACE: &str = "paved:session:";

/// The longest namespace accepted: 64 bytes keeps every key name under 140 bytes.
pub const MAX_NAMESPACE_LEN: usize = 64;

/// Connections in the pool by default. fred pipelines commands on each connection, so a few
/// serve thousands of concurrent requests; more than one keeps a slow reply from holding up
/// every other request behind it.
pub const DEFAULT_POOL_SIZE: usize = 4;

/// The largest pool accepted: past this a pool costs Redis connections without adding
/// throughput (Redis executes commands on one thread).
pub const MAX_POOL_SIZE: usize = 64;

/// How long one store call may take by default: 2 s. A healthy Redis answers in well under a
/// millisecond on a LAN, so 2 s is far above any normal tail, yet below the 5 s back-channel
/// timeout and the idle timeouts of common load balancers: a Redis that hangs gives a prompt
/// 503, not a pile-up of waiting requests.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// The shortest and longest command timeouts accepted.
pub const COMMAND_TIMEOUT_RANGE: (Duration, Duration) =
    (Duration::from_millis(10), Duration::from_secs(60));

/// How long the first connection may take by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause between two reconnection attempts by default: 1 s. Attempts start at
/// [`RECONNECT_MIN_DELAY`] and double up to this, forever: a Redis that comes back is used again
/// within about a second, and a Redis that stays away costs one connection attempt a second
/// per pooled connection.
pub const DEFAULT_RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);

/// The first pause before reconnecting.
pub const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);

/// The largest time (Unix seconds) stored: 9999-12-31T23:59:59Z. Redis refuses expiry times far
/// beyond it, and Lua computes in doubles, exact only below 2^53.
pub const MAX_TIME: u64 = 253_402_300_799;

/// The record layout this version writes and reads.
const FORMAT: &str = "1";

/// Shared by every script: when a record ends, from its `l`, `a` and `i` fields; `nil` when one
/// of them is not a number (a corrupt record). `own_index` accepts a record's `u` field only if
/// it names this namespace's index key (`<ns>u:` and 64 hex digits, where the record key is
/// `<ns>s:` and 64 hex digits): a record altered in Redis cannot make a script touch a key of
/// its choice, nor fail half-way on a key of another type after the record was deleted.
const LUA_EXPIRY: &str = r"
local function expiry(l, a, i)
  l = tonumber(l); a = tonumber(a); i = tonumber(i)
  if not (l and a and i) then return nil end
  return math.min(a, l + i)
end
local function own_index(record_key, u)
  if type(u) ~= 'string' then return false end
  local ns = string.sub(record_key, 1, #record_key - 66)
  return #u == #ns + 66 and string.sub(u, 1, #ns + 2) == ns .. 'u:'
    and string.match(string.sub(u, #ns + 3), '^[0-9a-f]+$') ~= nil
end
local now = tonumber(ARGV[1])
";

/// KEYS: record, index. ARGV: now, hex key, record prefix, max per user, user, c, l, a, i, v,
/// data, expires at.
const LUA_INSERT: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  local r = redis.call('HMGET', KEYS[1], 'l', 'a', 'i', 'u')
  local e = expiry(r[1], r[2], r[3])
  if not e or now < e then return 'EXISTS' end
  redis.call('DEL', KEYS[1])
  if own_index(KEYS[1], r[4]) then redis.call('SREM', r[4], ARGV[2]) end
end
local live = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local rk = ARGV[3] .. m
  local r = redis.call('HMGET', rk, 'l', 'a', 'i')
  if not r[1] then
    redis.call('SREM', KEYS[2], m)
  else
    local e = expiry(r[1], r[2], r[3])
    if e and now >= e then
      redis.call('DEL', rk)
      redis.call('SREM', KEYS[2], m)
    elseif e then
      live[#live + 1] = {m, tonumber(r[1])}
    end
  end
end
local max = tonumber(ARGV[4])
if #live >= max then
  table.sort(live, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[1] < y[1]
  end)
  for n = 1, #live - max + 1 do
    redis.call('DEL', ARGV[3] .. live[n][1])
    redis.call('SREM', KEYS[2], live[n][1])
  end
end
redis.call('HSET', KEYS[1], 'f', '1', 'user', ARGV[5], 'c', ARGV[6], 'l', ARGV[7],
  'a', ARGV[8], 'i', ARGV[9], 'v', ARGV[10], 'd', ARGV[11], 'u', KEYS[2])
redis.call('EXPIREAT', KEYS[1], ARGV[12])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('TTL', KEYS[2]) == -1 then
  redis.call('EXPIREAT', KEYS[2], ARGV[8])
else
  redis.call('EXPIREAT', KEYS[2], ARGV[8], 'GT')
end
return 'OK'
";

/// KEYS: record. ARGV: now, last seen, hex key. 1 touched, 0 no live record, -1 corrupt.
const LUA_TOUCH: &str = r"
local r = redis.call('HMGET', KEYS[1], 'l', 'a', 'i', 'u')
if not r[1] then return 0 end
local e = expiry(r[1], r[2], r[3])
if not e then return -1 end
if now >= e then
  redis.call('DEL', KEYS[1])
  if own_index(KEYS[1], r[4]) then redis.call('SREM', r[4], ARGV[3]) end
  return 0
end
local l = tonumber(ARGV[2])
if l > tonumber(r[1]) then
  redis.call('HSET', KEYS[1], 'l', ARGV[2])
  redis.call('EXPIREAT', KEYS[1], math.min(tonumber(r[2]), l + tonumber(r[3])))
end
return 1
";

/// KEYS: record. ARGV: now, expected version, new version ('' when it would overflow), data,
/// hex key. HSET keeps the key's TTL.
const LUA_REPLACE: &str = r"
local r = redis.call('HMGET', KEYS[1], 'l', 'a', 'i', 'u', 'v')
if not r[1] then return 'MISSING' end
local e = expiry(r[1], r[2], r[3])
if not e then return 'CORRUPT' end
if now >= e then
  redis.call('DEL', KEYS[1])
  if own_index(KEYS[1], r[4]) then redis.call('SREM', r[4], ARGV[5]) end
  return 'MISSING'
end
if r[5] ~= ARGV[2] or ARGV[3] == '' then return 'CONFLICT' end
redis.call('HSET', KEYS[1], 'd', ARGV[4], 'v', ARGV[3])
return 'DONE'
";

/// KEYS: record. ARGV: now (unused), hex key. The number of records deleted.
const LUA_REMOVE: &str = r"
local u = redis.call('HGET', KEYS[1], 'u')
local n = redis.call('DEL', KEYS[1])
if own_index(KEYS[1], u) then redis.call('SREM', u, ARGV[2]) end
return n
";

/// KEYS: index. ARGV: now, record prefix. The number of live records deleted.
const LUA_REMOVE_USER: &str = r"
local live = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local rk = ARGV[2] .. m
  local r = redis.call('HMGET', rk, 'l', 'a', 'i')
  if r[1] then
    local e = expiry(r[1], r[2], r[3])
    if not e or now < e then live = live + 1 end
    redis.call('DEL', rk)
  end
end
redis.call('DEL', KEYS[1])
return live
";

/// KEYS: index. ARGV: now, record prefix. Flat: hex key, c, l, a, i per live session.
const LUA_LIST_USER: &str = r"
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local rk = ARGV[2] .. m
  local r = redis.call('HMGET', rk, 'c', 'l', 'a', 'i')
  if not r[2] then
    redis.call('SREM', KEYS[1], m)
  else
    local e = expiry(r[2], r[3], r[4])
    if e and now >= e then
      redis.call('DEL', rk)
      redis.call('SREM', KEYS[1], m)
    else
      out[#out + 1] = m
      out[#out + 1] = r[1]
      out[#out + 1] = r[2]
      out[#out + 1] = r[3]
      out[#out + 1] = r[4]
    end
  end
end
return out
";

/// KEYS: lock. ARGV: now (unused), token. Deletes the lock only if the token still owns it.
const LUA_UNLOCK: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[2] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// A Lua script with its SHA-1 (the name `EVALSHA` uses; not a security function here).
#[derive(Debug)]
struct Script {
    source: String,
    sha1: String,
}

impl Script {
    fn new(body: &str) -> Self {
        let source = format!("{LUA_EXPIRY}{body}");
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, source.as_bytes());
        Self {
            sha1: hex(digest.as_ref()),
            source,
        }
    }
}

#[derive(Debug)]
struct Scripts {
    insert: Script,
    touch: Script,
    replace: Script,
    remove: Script,
    remove_user: Script,
    list_user: Script,
    unlock: Script,
}

impl Scripts {
    fn new() -> Self {
        Self {
            insert: Script::new(LUA_INSERT),
            touch: Script::new(LUA_TOUCH),
            replace: Script::new(LUA_REPLACE),
            remove: Script::new(LUA_REMOVE),
            remove_user: Script::new(LUA_REMOVE_USER),
            list_user: Script::new(LUA_LIST_USER),
            unlock: Script::new(LUA_UNLOCK),
        }
    }
}

enum Source {
    Url(Zeroizing<String>),
    Pool(Pool),
}

/// Builds a [`RedisSessionStore`]; see [`RedisSessionStore::builder`] and
/// [`RedisSessionStore::from_pool`].
#[must_use = "a builder does nothing until `connect` is called"]
pub struct RedisSessionStoreBuilder {
    source: Source,
    namespace: String,
    pool_size: usize,
    command_timeout: Duration,
    connect_timeout: Duration,
    reconnect_max_delay: Duration,
    max_per_user: usize,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for RedisSessionStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: never printed.
        f.debug_struct("RedisSessionStoreBuilder")
            .field("namespace", &self.namespace)
            .field("pool_size", &self.pool_size)
            .field("command_timeout", &self.command_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect_max_delay", &self.reconnect_max_delay)
            .field("max_sessions_per_user", &self.max_per_user)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStoreBuilder {
    /// The prefix of every key this store writes (default [`DEFAULT_NAMESPACE`]): 1 to
    /// [`MAX_NAMESPACE_LEN`] bytes of `A-Z a-z 0-9 : _ . -`. Instances of one application share
    /// a namespace; different applications on one Redis use different ones.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Connections in the pool (default [`DEFAULT_POOL_SIZE`], 1 to [`MAX_POOL_SIZE`]). Ignored
    /// for a store made [`from_pool`](RedisSessionStore::from_pool).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size;
        self
    }

    /// The longest one store call may take (default [`DEFAULT_COMMAND_TIMEOUT`], within
    /// [`COMMAND_TIMEOUT_RANGE`]); past it the call is [`StoreError::Unavailable`].
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The longest the first connection may take (default [`DEFAULT_CONNECT_TIMEOUT`]).
    /// Ignored for a store made [`from_pool`](RedisSessionStore::from_pool).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest pause between reconnection attempts (default
    /// [`DEFAULT_RECONNECT_MAX_DELAY`], at least [`RECONNECT_MIN_DELAY`], at most 60 s).
    /// Ignored for a store made [`from_pool`](RedisSessionStore::from_pool).
    pub fn reconnect_max_delay(mut self, delay: Duration) -> Self {
        self.reconnect_max_delay = delay;
        self
    }

    /// Sessions one user may hold at once (default
    /// [`DEFAULT_MAX_SESSIONS_PER_USER`]; 0 is taken as 1): a new login past it ends that
    /// user's least-recently-seen session.
    pub fn max_sessions_per_user(mut self, max: usize) -> Self {
        self.max_per_user = max.max(1);
        self
    }

    /// The clock judging expiry (default: the system clock). Give the
    /// [`Sessions`](super::Sessions) manager the same one.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Checks the settings, connects (for a URL) and builds the store.
    ///
    /// # Errors
    /// [`SessionError::Config`] for an invalid URL, namespace, pool size, timeout or delay;
    /// [`SessionError::Store`] with [`StoreError::Unavailable`] when Redis cannot be reached
    /// within the connect timeout.
    pub async fn connect(self) -> Result<RedisSessionStore, SessionError> {
        check_namespace(&self.namespace)?;
        let (min, max) = COMMAND_TIMEOUT_RANGE;
        if self.command_timeout < min || self.command_timeout > max {
            return Err(SessionError::Config(
                "the Redis command timeout must be between 10 ms and 60 s",
            ));
        }
        let pool = match self.source {
            Source::Pool(pool) => pool,
            Source::Url(url) => {
                if self.pool_size == 0 || self.pool_size > MAX_POOL_SIZE {
                    return Err(SessionError::Config(
                        "the Redis pool size must be between 1 and 64",
                    ));
                }
                if self.reconnect_max_delay < RECONNECT_MIN_DELAY
                    || self.reconnect_max_delay > Duration::from_secs(60)
                {
                    return Err(SessionError::Config(
                        "the Redis reconnect delay must be between 50 ms and 60 s",
                    ));
                }
                let pool = build_pool(
                    &url,
                    self.pool_size,
                    self.command_timeout,
                    self.connect_timeout,
                    self.reconnect_max_delay,
                )?;
                match tokio::time::timeout(self.connect_timeout, pool.init()).await {
                    Ok(Ok(_task)) => {}
                    Ok(Err(error)) => {
                        tracing::warn!(kind = ?error.kind(), "paved-auth: Redis unreachable");
                        return Err(StoreError::Unavailable.into());
                    }
                    Err(_) => {
                        tracing::warn!("paved-auth: Redis did not answer within the timeout");
                        // Stops the reconnection tasks of a pool that never came up.
                        let _ = tokio::time::timeout(self.connect_timeout, pool.quit()).await;
                        return Err(StoreError::Unavailable.into());
                    }
                }
                pool
            }
        };
        let namespace: Arc<str> = Arc::from(self.namespace);
        Ok(RedisSessionStore {
            inner: Arc::new(Inner {
                record_prefix: format!("{namespace}s:"),
                namespace,
                pool,
                command_timeout: self.command_timeout,
                max_per_user: self.max_per_user,
                clock: self.clock,
                scripts: Scripts::new(),
            }),
        })
    }
}

fn build_pool(
    url: &str,
    size: usize,
    command_timeout: Duration,
    connect_timeout: Duration,
    reconnect_max_delay: Duration,
) -> Result<Pool, SessionError> {
    let config =
        Config::from_url(url).map_err(|_| SessionError::Config("the Redis URL is invalid"))?;
    let mut builder = Builder::from_config(config);
    builder
        .with_config(|config| {
            // The first connection's failure is reported by `connect`, not retried forever.
            config.fail_fast = true;
        })
        .with_performance_config(|perf| {
            perf.default_command_timeout = command_timeout;
        })
        .with_connection_config(|conn| {
            conn.connection_timeout = connect_timeout;
            conn.internal_command_timeout = command_timeout;
            // A command whose connection dropped is not sent again: its outcome is unknown
            // (a `replace` may have been applied), so the request fails (503) rather than
            // running a step twice.
            conn.max_command_attempts = 1;
            // A connection that stops answering (a paused or hung Redis) is closed and opened
            // again instead of being waited on.
            conn.unresponsive.max_timeout = Some(command_timeout);
            conn.unresponsive.interval = (command_timeout / 4).max(Duration::from_millis(10));
        });
    let max_ms = u32::try_from(reconnect_max_delay.as_millis()).unwrap_or(u32::MAX);
    let min_ms = u32::try_from(RECONNECT_MIN_DELAY.as_millis()).unwrap_or(50);
    // 0 attempts: reconnect forever, so Redis coming back is enough to recover.
    builder.set_policy(ReconnectPolicy::new_exponential(0, min_ms, max_ms, 2));
    builder
        .build_pool(size)
        .map_err(|_| SessionError::Config("the Redis client configuration was refused"))
}

fn check_namespace(namespace: &str) -> Result<(), SessionError> {
    let ok = !namespace.is_empty()
        && namespace.len() <= MAX_NAMESPACE_LEN
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SessionError::Config(
            "the Redis namespace must be 1 to 64 bytes of A-Z a-z 0-9 : _ . -",
        ))
    }
}

/// A [`SessionStore`] on Redis, shared by every instance of an application (see the
/// [module documentation](self) for the layout and the guarantees).
///
/// ```no_run
/// use paved_auth::session::{RedisSessionStore, Sessions};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = RedisSessionStore::builder("redis://127.0.0.1:6379")
///     .namespace("shop:session:")
///     .connect()
///     .await?;
/// let sessions = Sessions::builder(store).build()?;
/// # let _ = sessions;
/// # Ok(())
/// # }
/// ```
///
/// Cloning is cheap and shares the connections.
#[derive(Clone)]
pub struct RedisSessionStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    namespace: Arc<str>,
    record_prefix: String,
    command_timeout: Duration,
    max_per_user: usize,
    clock: Arc<dyn Clock>,
    scripts: Scripts,
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("namespace", &self.inner.namespace)
            .field("pool_size", &self.inner.pool.size())
            .field("command_timeout", &self.inner.command_timeout)
            .field("max_sessions_per_user", &self.inner.max_per_user)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStore {
    /// Starts configuring a store that connects to `url` (`redis://[user:password@]host:port[/db]`).
    pub fn builder(url: impl Into<String>) -> RedisSessionStoreBuilder {
        Self::builder_from(Source::Url(Zeroizing::new(url.into())))
    }

    /// Starts configuring a store on an existing, initialised fred pool (its own timeouts and
    /// reconnect policy apply; [`command_timeout`](RedisSessionStoreBuilder::command_timeout)
    /// still bounds every call).
    pub fn from_pool(pool: Pool) -> RedisSessionStoreBuilder {
        Self::builder_from(Source::Pool(pool))
    }

    fn builder_from(source: Source) -> RedisSessionStoreBuilder {
        RedisSessionStoreBuilder {
            source,
            namespace: DEFAULT_NAMESPACE.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reconnect_max_delay: DEFAULT_RECONNECT_MAX_DELAY,
            max_per_user: DEFAULT_MAX_SESSIONS_PER_USER,
            clock: Arc::new(SystemClock),
        }
    }

    /// Connects to `url` with the defaults.
    ///
    /// # Errors
    /// As [`RedisSessionStoreBuilder::connect`].
    pub async fn connect(url: &str) -> Result<Self, SessionError> {
        Self::builder(url).connect().await
    }

    /// The key prefix.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// The Redis key of the record stored under `key` (for operations tooling and tests).
    #[must_use]
    pub fn record_key(&self, key: &SessionKey) -> String {
        format!("{}{}", self.inner.record_prefix, key.to_hex())
    }

    /// The Redis key of `user`'s session index: the namespace, `u:` and the SHA-256 of the
    /// user handle in hex (no user id in key names).
    #[must_use]
    pub fn user_index_key(&self, user: &str) -> String {
        let digest = ring::digest::digest(&ring::digest::SHA256, user.as_bytes());
        format!("{}u:{}", self.inner.namespace, hex(digest.as_ref()))
    }

    /// The Redis key of the refresh lock of `key`.
    #[must_use]
    pub fn lock_key(&self, key: &SessionKey) -> String {
        format!("{}l:{}", self.inner.namespace, key.to_hex())
    }

    /// The connection pool.
    #[must_use]
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// Closes the connections (pending commands finish first). A store is not usable after.
    pub async fn quit(&self) {
        let _ = tokio::time::timeout(self.inner.command_timeout, self.inner.pool.quit()).await;
    }

    fn now(&self) -> u64 {
        self.inner.clock.now_unix()
    }

    /// Runs `script` in one step: `EVALSHA`, and `EVAL` (which caches it again) when Redis lost
    /// its script cache (a restart, `SCRIPT FLUSH`). Any failure, and any call slower than the
    /// command timeout, is [`StoreError::Unavailable`].
    async fn run(
        &self,
        script: &Script,
        keys: Vec<String>,
        args: Vec<Value>,
    ) -> Result<Value, StoreError> {
        let pool = &self.inner.pool;
        let call = async {
            match pool
                .evalsha::<Value, _, _, _>(script.sha1.as_str(), keys.clone(), args.clone())
                .await
            {
                Err(error) if error.details().starts_with("NOSCRIPT") => {
                    pool.eval::<Value, _, _, _>(script.source.as_str(), keys, args)
                        .await
                }
                other => other,
            }
        };
        bounded(self.inner.command_timeout, call).await
    }
}

/// `call` within `limit`, its failure mapped to [`StoreError::Unavailable`] and logged by kind
/// (fred's error details can hold server addresses; never session data, which is sealed).
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, fred::error::Error>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::warn!(kind = ?error.kind(), "paved-auth: Redis session store call failed");
            Err(StoreError::Unavailable)
        }
        Err(_) => {
            tracing::warn!("paved-auth: Redis session store call timed out");
            Err(StoreError::Unavailable)
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

fn num(n: u64) -> Value {
    Value::from(n.min(MAX_TIME).to_string())
}

fn text(value: &Value) -> Option<&str> {
    value.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
}

fn parse_u64(value: &Value) -> Result<u64, StoreError> {
    text(value)
        .and_then(|t| t.parse().ok())
        .ok_or(StoreError::Corrupt)
}

/// The hash fields of a record, in the order [`decode_record`] reads them.
const RECORD_FIELDS: [&str; 8] = ["f", "user", "c", "l", "a", "i", "v", "d"];

/// A record from the values of [`RECORD_FIELDS`]: `None` when the key holds nothing.
fn decode_record(value: Value) -> Result<Option<SessionRecord>, StoreError> {
    if value.is_null() {
        return Ok(None);
    }
    let Value::Array(fields) = value else {
        return Err(StoreError::Corrupt);
    };
    if fields.iter().all(Value::is_null) {
        return Ok(None);
    }
    let [format, user, created, seen, absolute, idle, version, sealed] = fields.as_slice() else {
        return Err(StoreError::Corrupt);
    };
    if text(format) != Some(FORMAT) {
        return Err(StoreError::Corrupt);
    }
    Ok(Some(SessionRecord {
        user: text(user).ok_or(StoreError::Corrupt)?.to_owned(),
        created_at: parse_u64(created)?,
        last_seen: parse_u64(seen)?,
        absolute_expiry: parse_u64(absolute)?,
        idle_timeout: parse_u64(idle)?,
        version: parse_u64(version)?,
        data: Zeroizing::new(sealed.as_bytes().ok_or(StoreError::Corrupt)?.to_vec()),
    }))
}

impl RedisSessionStore {
    async fn insert_now(&self, key: &SessionKey, record: SessionRecord) -> Result<(), StoreError> {
        let s = &self.inner.scripts;
        let hex_key = key.to_hex();
        let expires_at = record.expires_at().min(MAX_TIME);
        let keys = vec![self.record_key(key), self.user_index_key(&record.user)];
        let args = vec![
            num(self.now()),
            Value::from(hex_key),
            Value::from(self.inner.record_prefix.as_str()),
            Value::from(self.inner.max_per_user.to_string()),
            Value::from(record.user.as_str()),
            num(record.created_at),
            num(record.last_seen),
            num(record.absolute_expiry),
            num(record.idle_timeout),
            // The version is compared as text, never as a Lua number: all of u64 is kept.
            Value::from(record.version.to_string()),
            Value::from(&record.data[..]),
            num(expires_at),
        ];
        match text(&self.run(&s.insert, keys, args).await?) {
            Some("OK") => Ok(()),
            Some("EXISTS") => Err(StoreError::Exists),
            _ => Err(StoreError::Unavailable),
        }
    }

    async fn get_now(&self, key: &SessionKey) -> Result<Option<SessionRecord>, StoreError> {
        // A plain HMGET rather than a script: the hot path of every request, and fred pipelines
        // plain commands on a connection while it sends scripts one at a time. Reading is safe
        // outside a script: an expired record never comes back to life (`touch` and `replace`
        // refuse it, and a new session never gets the same 256-bit key), so removing it in a
        // second step races with nothing.
        let read = self
            .inner
            .pool
            .hmget::<Value, _, _>(self.record_key(key), RECORD_FIELDS.to_vec());
        let value = bounded(self.inner.command_timeout, read).await?;
        let Some(record) = decode_record(value)? else {
            return Ok(None);
        };
        if record.is_expired(self.now()) {
            self.remove_now(key).await?;
            return Ok(None);
        }
        Ok(Some(record))
    }

    async fn touch_now(&self, key: &SessionKey, last_seen: u64) -> Result<bool, StoreError> {
        let keys = vec![self.record_key(key)];
        let args = vec![num(self.now()), num(last_seen), Value::from(key.to_hex())];
        match self.run(&self.inner.scripts.touch, keys, args).await? {
            Value::Integer(1) => Ok(true),
            Value::Integer(0) => Ok(false),
            Value::Integer(-1) => Err(StoreError::Corrupt),
            _ => Err(StoreError::Unavailable),
        }
    }

    async fn replace_now(
        &self,
        key: &SessionKey,
        expected_version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> Result<Replaced, StoreError> {
        // A version at u64::MAX cannot move on: '' makes the script answer Conflict for a live
        // record, keeping the "one winner" rule (as MemoryStore does).
        let next = expected_version.checked_add(1);
        let keys = vec![self.record_key(key)];
        let args = vec![
            num(self.now()),
            Value::from(expected_version.to_string()),
            Value::from(next.map(|v| v.to_string()).unwrap_or_default()),
            Value::from(&data[..]),
            Value::from(key.to_hex()),
        ];
        match text(&self.run(&self.inner.scripts.replace, keys, args).await?) {
            Some("DONE") => next
                .map(|version| Replaced::Done { version })
                .ok_or(StoreError::Corrupt),
            Some("CONFLICT") => Ok(Replaced::Conflict),
            Some("MISSING") => Ok(Replaced::Missing),
            Some("CORRUPT") => Err(StoreError::Corrupt),
            _ => Err(StoreError::Unavailable),
        }
    }

    async fn remove_now(&self, key: &SessionKey) -> Result<bool, StoreError> {
        let keys = vec![self.record_key(key)];
        let args = vec![num(self.now()), Value::from(key.to_hex())];
        match self.run(&self.inner.scripts.remove, keys, args).await? {
            Value::Integer(n) => Ok(n > 0),
            _ => Err(StoreError::Unavailable),
        }
    }

    async fn remove_user_now(&self, user: &str) -> Result<usize, StoreError> {
        let keys = vec![self.user_index_key(user)];
        let args = vec![
            num(self.now()),
            Value::from(self.inner.record_prefix.as_str()),
        ];
        match self
            .run(&self.inner.scripts.remove_user, keys, args)
            .await?
        {
            Value::Integer(n) => usize::try_from(n).map_err(|_| StoreError::Corrupt),
            _ => Err(StoreError::Unavailable),
        }
    }

    async fn list_user_now(&self, user: &str) -> Result<Vec<SessionSummary>, StoreError> {
        let keys = vec![self.user_index_key(user)];
        let args = vec![
            num(self.now()),
            Value::from(self.inner.record_prefix.as_str()),
        ];
        let value = self.run(&self.inner.scripts.list_user, keys, args).await?;
        let items = match value {
            Value::Array(items) => items,
            // An empty Lua table may come back as nil.
            Value::Null => Vec::new(),
            _ => return Err(StoreError::Corrupt),
        };
        if items.len() % 5 != 0 {
            return Err(StoreError::Corrupt);
        }
        let mut out = Vec::with_capacity(items.len() / 5);
        for row in items.chunks_exact(5) {
            let key = text(&row[0])
                .and_then(SessionKey::from_hex)
                .ok_or(StoreError::Corrupt)?;
            let record = SessionRecord {
                user: String::new(),
                created_at: parse_u64(&row[1])?,
                last_seen: parse_u64(&row[2])?,
                absolute_expiry: parse_u64(&row[3])?,
                idle_timeout: parse_u64(&row[4])?,
                version: 0,
                data: Zeroizing::new(Vec::new()),
            };
            out.push(record.summary(key));
        }
        out.sort_by_key(|s| (s.created_at, s.key));
        Ok(out)
    }

    async fn try_lock_now(
        &self,
        key: &SessionKey,
        ttl: Duration,
    ) -> Result<Option<LockToken>, StoreError> {
        let token = LockToken::generate()?;
        let ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX).max(1);
        let set = self.inner.pool.set::<Value, _, _>(
            self.lock_key(key),
            hex(token.as_bytes()),
            Some(Expiration::PX(ms)),
            Some(SetOptions::NX),
            false,
        );
        let reply = bounded(self.inner.command_timeout, set).await?;
        Ok(if reply.is_null() { None } else { Some(token) })
    }

    async fn unlock_now(&self, key: &SessionKey, token: LockToken) -> Result<(), StoreError> {
        let keys = vec![self.lock_key(key)];
        let args = vec![num(self.now()), Value::from(hex(token.as_bytes()))];
        self.run(&self.inner.scripts.unlock, keys, args).await?;
        Ok(())
    }
}

impl SessionStore for RedisSessionStore {
    fn insert<'a>(
        &'a self,
        key: &'a SessionKey,
        record: SessionRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.insert_now(key, record))
    }

    fn get<'a>(
        &'a self,
        key: &'a SessionKey,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        Box::pin(self.get_now(key))
    }

    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        last_seen: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.touch_now(key, last_seen))
    }

    fn replace<'a>(
        &'a self,
        key: &'a SessionKey,
        expected_version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(self.replace_now(key, expected_version, data))
    }

    fn remove<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.remove_now(key))
    }

    fn remove_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(self.remove_user_now(user))
    }

    fn list_user<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSummary>, StoreError>> {
        Box::pin(self.list_user_now(user))
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a SessionKey,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<LockToken>, StoreError>> {
        Box::pin(self.try_lock_now(key, ttl))
    }

    fn unlock<'a>(
        &'a self,
        key: &'a SessionKey,
        token: LockToken,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.unlock_now(key, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_checked() {
        for good in [DEFAULT_NAMESPACE, "a", "shop:session:", "x.y-z_1:"] {
            assert!(check_namespace(good).is_ok(), "{good}");
        }
        let long = "n".repeat(MAX_NAMESPACE_LEN + 1);
        for bad in ["", "a b", "a{b}", "a\r\n", "é", long.as_str()] {
            assert!(check_namespace(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn script_names_are_the_sha1_redis_computes() {
        // `SCRIPT LOAD "return 1"` answers this SHA-1 (Redis documentation, EVALSHA).
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, b"return 1");
        assert_eq!(
            hex(digest.as_ref()),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
        );
        let scripts = Scripts::new();
        assert_eq!(scripts.touch.sha1.len(), 40);
        assert_ne!(scripts.replace.sha1, scripts.touch.sha1);
    }

    #[test]
    fn records_of_another_format_or_shape_are_corrupt() {
        let field = |s: &str| Value::from(s);
        let good = || {
            vec![
                field("1"),
                field("u"),
                field("1"),
                field("2"),
                field("3"),
                field("4"),
                field("5"),
                field("sealed"),
            ]
        };
        let record = decode_record(Value::Array(good())).unwrap().unwrap();
        assert_eq!(record.version, 5);
        assert_eq!(&record.data[..], b"sealed");
        assert!(decode_record(Value::Null).unwrap().is_none());
        let nothing = Value::Array(vec![Value::Null; RECORD_FIELDS.len()]);
        assert!(decode_record(nothing).unwrap().is_none());
        let mut no_format = good();
        no_format[0] = Value::Null;
        assert_eq!(
            decode_record(Value::Array(no_format)).unwrap_err(),
            StoreError::Corrupt
        );

        let mut other_format = good();
        other_format[0] = field("2");
        assert_eq!(
            decode_record(Value::Array(other_format)).unwrap_err(),
            StoreError::Corrupt
        );
        let mut not_a_number = good();
        not_a_number[3] = field("x");
        assert_eq!(
            decode_record(Value::Array(not_a_number)).unwrap_err(),
            StoreError::Corrupt
        );
        let mut short = good();
        short.pop();
        assert_eq!(
            decode_record(Value::Array(short)).unwrap_err(),
            StoreError::Corrupt
        );
        assert_eq!(
            decode_record(Value::from("OK")).unwrap_err(),
            StoreError::Corrupt
        );
    }

    #[test]
    fn times_are_capped_for_lua_and_redis() {
        assert_eq!(num(u64::MAX), Value::from(MAX_TIME.to_string()));
        assert_eq!(num(7), Value::from("7"));
        const { assert!(MAX_TIME < 1 << 53) };
    }

    #[test]
    fn debug_shows_no_url() {
        let builder = RedisSessionStore::builder("redis://user:hunter2@127.0.0.1:1");
        let text = format!("{builder:?}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
