//! Server-side sessions: the browser holds an opaque random id, the tokens stay here.
//!
//! [`Sessions`] starts a session after login (always with a fresh id, the old one destroyed),
//! loads it from the request's `Cookie` headers, replaces its data atomically after a token
//! refresh, and ends it at logout; [`SessionStore`] is where records live, [`MemoryStore`] the
//! bounded default.
//!
//! # Example
//!
//! ```
//! use http::{HeaderMap, HeaderValue, header};
//! use paved_auth::session::{MemoryStore, Sessions};
//! use zeroize::Zeroizing;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let sessions = Sessions::builder(MemoryStore::default()).build()?;
//!
//! // After the login callback: a new session, and the cookie for the response.
//! let started = sessions
//!     .start("https://idp.example user-42", Zeroizing::new(b"sealed tokens".to_vec()), None)
//!     .await?;
//! let set_cookie = started.set_cookie().to_str()?;
//! assert!(set_cookie.starts_with("__Host-session="));
//! assert!(set_cookie.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=28800"));
//!
//! // A later request: the browser sends the cookie back.
//! let mut headers = HeaderMap::new();
//! let cookie = format!("__Host-session={}", started.id().expose_cookie_value());
//! headers.insert(header::COOKIE, HeaderValue::from_str(&cookie)?);
//! let loaded = sessions.load(&headers).await?.expect("a live session");
//! assert_eq!(loaded.user(), "https://idp.example user-42");
//! assert_eq!(loaded.data(), b"sealed tokens");
//!
//! // Logout: the record is gone, so the same cookie no longer works.
//! assert!(sessions.end(loaded.id()).await?);
//! assert!(sessions.load(&headers).await?.is_none());
//! let _clear = sessions.clear_cookie(); // send as Set-Cookie with the logout response
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it guards
//!
//! - **Tokens never reach the browser (OA-12).** The cookie holds 256 random bits
//!   ([`SessionId`]), `__Host-` prefixed, `Secure; HttpOnly; SameSite=Lax; Path=/`, never a
//!   `Domain`. Session data is opaque bytes in the store.
//! - **Fixation (OA-13, ASVS V7.2.4).** [`Sessions::start`] removes the session the request came
//!   with and always issues a new random id.
//! - **Timeouts (OA-13, ASVS V7.3.1, V7.3.2).** Every record carries both an idle timeout and an
//!   absolute expiry; it ends at the earlier. Defaults 30 min idle and 8 h absolute (OWASP
//!   Session Management Cheat Sheet), bounded to 1 min ≤ idle ≤ absolute ≤ 30 days.
//! - **Logout and revocation (ASVS V7.4.1, V7.4.2, V7.4.5, V7.5.2).** Ending a session removes
//!   its record; [`Sessions::end_all_for_user`] ends every session of a user through a per-user
//!   index; [`Sessions::list_for_user`] lists them without ids.
//! - **Atomic token rotation (OA-17).** [`Sessions::replace`] is a compare-and-swap on the
//!   record's version: of two concurrent refreshes, exactly one stores its rotated tokens.
//! - **Store dumps.** Stores index by [`SessionKey`] = SHA-256 of the id; a leaked snapshot of
//!   a shared store holds no usable cookie.
//! - **Cookie tossing.** A session cookie name that occurs twice in a request loads no session.
//!
//! # What it deliberately does not do
//!
//! - It does not refresh tokens; the OIDC layer does, under the store's refresh lock
//!   ([`SessionStore::try_lock`]), using [`Sessions::replace`] to store the result.
//! - It does not protect against CSRF beyond `SameSite=Lax`: state-changing endpoints still need
//!   their own check.
//! - [`MemoryStore`] is per process: sessions are lost on restart and not shared between
//!   instances. Scale-out needs a shared store implementing [`SessionStore`]:
//!   `RedisSessionStore` (feature `redis`) is one.
//! - Idle timeout granularity is the touch interval (`min(60 s, idle / 10)`): `last_seen` is
//!   written at most once per interval, so a session may end up to one interval early.
//!
//! # Design notes
//!
//! paved does not use `tower-sessions` (0.15) as its engine:
//!
//! 1. Its `SessionStore::save` is an unconditional write (last writer wins). Refresh-token
//!    rotation (OA-17) needs compare-and-swap, or two instances can both store different rotated
//!    tokens and one of them is lost (and with reuse detection at the provider, the whole token
//!    family revoked).
//! 2. Its `Expiry` is one of `OnSessionEnd`, `OnInactivity` or `AtDateTime`: idle *or*
//!    absolute, while OA-13 and ASVS V7.3.1 + V7.3.2 need both at once. (`OnInactivity` also
//!    counts from the last *modification*, not the last request.)
//! 3. Its `MemoryStore` is a plain `HashMap` behind a mutex: unbounded, and an expired record is
//!    filtered on load but never removed (it documents itself as not for real applications).
//! 4. `tower-sessions-redis-store` 0.16 depends on `tower-sessions-core` 0.14, so its
//!    `RedisStore` implements the 0.14 trait, not the one tower-sessions 0.15 requires: the two
//!    do not compile together.
//! 5. ASVS V7.4.2/V7.4.5 "end all sessions of a user" needs a per-user index, which its trait
//!    (create, save, load, delete by id) has no place for.
//!
//! [`SessionStore`] is therefore shaped so each method is one atomic backend step: `insert`
//! refuses an existing key (Redis `SET NX`), `replace` compares and bumps a version (a Lua
//! script), record expiry maps to the backend TTL (`EXPIREAT` = [`SessionRecord::expires_at`]),
//! and `remove_user` walks a per-user set. Futures are boxed ([`BoxFuture`]) so the trait is
//! dyn-compatible without `async-trait`.

pub(crate) mod cookie;
mod error;
mod id;
mod manager;
mod memory;
mod record;
#[cfg(feature = "redis")]
pub mod redis;
mod store;

pub use cookie::{DEFAULT_COOKIE_NAME, HOST_PREFIX, MAX_COOKIE_NAME_LEN};
pub use error::{SessionError, StoreError};
pub use id::{SESSION_ID_BYTES, SESSION_ID_COOKIE_LEN, SessionId, SessionKey};
pub use manager::{
    DEFAULT_ABSOLUTE_TIMEOUT, DEFAULT_IDLE_TIMEOUT, LoadedSession, MAX_ABSOLUTE_TIMEOUT,
    MAX_DATA_BYTES, MAX_TOUCH_INTERVAL, MAX_USER_BYTES, MIN_IDLE_TIMEOUT, SessionConfig, Sessions,
    SessionsBuilder, StartedSession,
};
pub use memory::{DEFAULT_CAPACITY, DEFAULT_MAX_SESSIONS_PER_USER, MemoryStore};
pub use record::{SessionRecord, SessionSummary};
#[cfg(feature = "redis")]
pub use redis::{RedisSessionStore, RedisSessionStoreBuilder};
pub use store::{BoxFuture, LOCK_TOKEN_BYTES, LockToken, Replaced, SessionStore};
