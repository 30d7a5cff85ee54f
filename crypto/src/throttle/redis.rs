//! The Redis backend: one Lua script per call, so the check of both counters and the pending
//! mark on both are atomic across every instance (Redis runs a script without interleaving).

use std::fmt::Write as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fred::clients::Pool;
use fred::interfaces::LuaInterface as _;
use fred::types::Value;

use super::{Keys, Op, Rule, Rules, ThrottleError};

/// How long one Redis call may take before the login is refused with
/// [`ThrottleError::Unavailable`]: a healthy Redis on the same network answers in well under a
/// millisecond, and a login waiting longer than this on a hung Redis would only pile up
/// connections.
pub const DEFAULT_REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// KEYS[1] the account's counter, KEYS[2] the address's. ARGV[1] the operation, ARGV[2] the
/// time in Unix seconds or "" for the server's clock, ARGV[3..6] and ARGV[7..10] each
/// counter's free failures, base delay, maximum delay and window, in seconds. Returns the wait
/// in seconds for a refused check, else 0. Mirrors `Counter` and `memory.rs`.
const SCRIPT: &str = r"
local op = ARGV[1]
local now = tonumber(ARGV[2])
if now == nil then now = tonumber(redis.call('TIME')[1]) end
local function rule(i)
  local o = 3 + (i - 1) * 4
  return tonumber(ARGV[o]), tonumber(ARGV[o + 1]), tonumber(ARGV[o + 2]), tonumber(ARGV[o + 3])
end
local function load(key, window)
  local v = redis.call('HMGET', key, 'f', 'p', 't')
  local t = tonumber(v[3])
  if t == nil or now >= t + window then return 0, 0, now, true end
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0, t, false
end
local function delay(n, free, base, max)
  if n == 0 or n < free then return 0 end
  local d = n - free
  if d >= 63 then return max end
  d = base * 2 ^ d
  if d > max then return max end
  return d
end
local function store(key, f, p, window)
  redis.call('HSET', key, 'f', f, 'p', p, 't', now)
  redis.call('EXPIRE', key, window)
end
if op == 'check' then
  local wait = 0
  for i, key in ipairs(KEYS) do
    local free, base, max, window = rule(i)
    local f, p, t = load(key, window)
    local w = t + delay(f + p, free, base, max) - now
    if w > wait then wait = w end
  end
  if wait > 0 then return math.ceil(wait) end
  for i, key in ipairs(KEYS) do
    local _, _, _, window = rule(i)
    local f, p = load(key, window)
    store(key, f, p + 1, window)
  end
elseif op == 'failure' then
  for i, key in ipairs(KEYS) do
    local _, _, _, window = rule(i)
    local f, p = load(key, window)
    if p > 0 then p = p - 1 end
    store(key, f + 1, p, window)
  end
else
  local first = 1
  if op == 'success' then
    redis.call('DEL', KEYS[1])
    first = 2
  end
  for i = first, #KEYS do
    local _, _, _, window = rule(i)
    local _, p, _, fresh = load(KEYS[i], window)
    if not fresh and p > 0 then redis.call('HINCRBY', KEYS[i], 'p', -1) end
  end
end
return 0
";

pub(super) struct RedisBackend {
    pool: Pool,
    prefix: String,
    timeout: Duration,
    sha1: String,
}

impl RedisBackend {
    pub(super) fn new(pool: Pool, namespace: &str, timeout: Duration) -> Self {
        let digest =
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, SCRIPT.as_bytes());
        let sha1 = digest.as_ref().iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        Self {
            pool,
            // The hash tag keeps an attempt's two keys in one Redis Cluster slot.
            prefix: format!("{{{namespace}}}:throttle"),
            timeout,
            sha1,
        }
    }

    pub(super) fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            pool: self.pool.clone(),
            prefix: self.prefix.clone(),
            timeout,
            sha1: self.sha1.clone(),
        }
    }

    pub(super) async fn apply(
        &self,
        op: Op,
        keys: &Keys,
        rules: &Rules,
        now: Option<u64>,
    ) -> Result<u64, ThrottleError> {
        let keys = vec![
            format!("{}:a:{}", self.prefix, URL_SAFE_NO_PAD.encode(keys.account)),
            format!("{}:i:{}", self.prefix, URL_SAFE_NO_PAD.encode(keys.ip)),
        ];
        let op = match op {
            Op::Check => "check",
            Op::Failure => "failure",
            Op::Success => "success",
            Op::Release => "release",
        };
        let mut args: Vec<Value> = vec![
            Value::from(op),
            now.map_or_else(|| Value::from(""), |n| Value::from(secs(n))),
        ];
        for rule in [&rules.account, &rules.ip] {
            args.extend(rule_args(rule));
        }
        let call = async {
            match self
                .pool
                .evalsha::<i64, _, _, _>(self.sha1.as_str(), keys.clone(), args.clone())
                .await
            {
                // Not cached (first call, or Redis restarted empty): EVAL caches it again.
                Err(e) if e.details().starts_with("NOSCRIPT") => {
                    self.pool.eval::<i64, _, _, _>(SCRIPT, keys, args).await
                }
                other => other,
            }
        };
        match tokio::time::timeout(self.timeout, call).await {
            // A negative answer is not one the script gives: refuse it rather than allow.
            Ok(Ok(wait)) => u64::try_from(wait).map_err(|_| ThrottleError::Unavailable),
            Ok(Err(e)) => {
                tracing::warn!(target: "paved_crypto::throttle", error = %e, "Redis refused a login throttle call");
                Err(ThrottleError::Unavailable)
            }
            Err(_) => {
                tracing::warn!(target: "paved_crypto::throttle", timeout_ms = self.timeout.as_millis(), "Redis did not answer a login throttle call in time");
                Err(ThrottleError::Unavailable)
            }
        }
    }
}

fn rule_args(rule: &Rule) -> [Value; 4] {
    [rule.free, rule.base, rule.max, rule.window].map(|n| Value::from(secs(n)))
}

/// Redis integers are signed 64-bit; any real count of seconds fits.
fn secs(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
