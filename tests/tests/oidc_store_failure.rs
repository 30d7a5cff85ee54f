//! A session store that fails: every path fails closed with a 503 and never lets a request in
//! without a session, and a logout that could not end the session does not pretend it did.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use http::StatusCode;
use paved_auth::oidc::{ClientAuth, OidcClient, OidcLogin};
use paved_auth::session::{
    BoxFuture, MemoryStore, Replaced, SessionKey, SessionRecord, SessionStore, SessionSummary,
    Sessions, StoreError,
};
use paved_tests::app::{self, Jar, TestClock};
use paved_tests::hostile::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET};
use zeroize::Zeroizing;

/// A memory store that can be switched off.
#[derive(Debug, Clone)]
struct Flaky {
    inner: MemoryStore,
    down: Arc<AtomicBool>,
}

impl Flaky {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable)
        } else {
            Ok(())
        }
    }
}

impl SessionStore for Flaky {
    fn insert<'a>(
        &'a self,
        key: &'a SessionKey,
        record: SessionRecord,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.insert(key, record).await
        })
    }
    fn get<'a>(
        &'a self,
        key: &'a SessionKey,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.get(key).await
        })
    }
    fn touch<'a>(
        &'a self,
        key: &'a SessionKey,
        at: u64,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.touch(key, at).await
        })
    }
    fn replace<'a>(
        &'a self,
        key: &'a SessionKey,
        version: u64,
        data: Zeroizing<Vec<u8>>,
    ) -> BoxFuture<'a, Result<Replaced, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.replace(key, version, data).await
        })
    }
    fn remove<'a>(&'a self, key: &'a SessionKey) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.remove(key).await
        })
    }
    fn remove_user<'a>(&'a self, user: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.remove_user(user).await
        })
    }
    fn list_user<'a>(
        &'a self,
        user: &'a str,
    ) -> BoxFuture<'a, Result<Vec<SessionSummary>, StoreError>> {
        Box::pin(async move {
            self.check()?;
            self.inner.list_user(user).await
        })
    }
}

#[tokio::test]
async fn an_unavailable_store_fails_closed_with_503() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let down = Arc::new(AtomicBool::new(false));
    let store = Flaky {
        inner: MemoryStore::default().with_clock(Arc::new(clock.clone())),
        down: Arc::clone(&down),
    };
    let auth = ClientAuth::client_secret_basic(DEFAULT_CLIENT_SECRET.to_owned().into());
    let client = OidcClient::builder(idp.issuer(), DEFAULT_CLIENT_ID, auth)
        .dev_loopback()
        .clock(clock.clone())
        .discover()
        .await
        .unwrap();
    let sessions = Sessions::builder(store)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let keys = paved_secrets::KeyRing::generate().unwrap();
    let login = OidcLogin::builder(client, sessions, &keys)
        .public_origin(app::APP_ORIGIN)
        .build()
        .unwrap();
    let router = app::router(&login);

    // A login while the store is down: 503, and no session cookie.
    down.store(true, Ordering::SeqCst);
    let jar = Jar::default();
    let reply = app::hostile_login(&idp, &router, &jar).await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(jar.get("__Host-session").is_none());

    // A session made while it was up.
    down.store(false, Ordering::SeqCst);
    let reply = app::hostile_login(&idp, &router, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(&router, &jar).await);

    // Down again: a protected page is a 503 (not a pass, not a redirect to log in again), and
    // a logout that cannot reach the store says so instead of clearing the cookie only.
    down.store(true, Ordering::SeqCst);
    let me = app::navigate(&router, &jar, "/me").await;
    assert_eq!(me.status, StatusCode::SERVICE_UNAVAILABLE);
    let out = app::logout(&router, &jar).await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(out.set_cookies().is_empty(), "{:?}", out.set_cookies());

    // Back up: the session is still there, and the logout now ends it.
    down.store(false, Ordering::SeqCst);
    assert!(app::logged_in(&router, &jar).await);
    let out = app::logout(&router, &jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!app::logged_in(&router, &jar).await);
}
