//! Run with `cargo run -p example-password-login`, then open <http://127.0.0.1:8082/>.
//!
//! - `PAVED_PASSWORD_ADDR`: listen address (default `127.0.0.1:8082`).
//! - `PAVED_PASSWORD_DB`: `SQLite` file (default `target/demo/password-login.sqlite3`), or
//!   `:memory:` for a database that ends with the process.
//! - `PAVED_PASSWORD_REDIS_URL`: when set (`redis://127.0.0.1:6379`), the login throttle's
//!   counters live in that Redis, shared by every instance started with it; otherwise in
//!   memory. Sessions stay in memory either way.
//!
//! It serves plain http, so it uses the `dev()` header preset (no HSTS, no
//! `upgrade-insecure-requests`, requests for a non-loopback host refused). Browsers accept the
//! `Secure` `__Host-session` cookie from loopback; anywhere else, serve https behind `web()`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::Path;

use example_password_login::{Users, app_with_throttle, redis_throttle};
use paved_crypto::{HashingPool, PasswordHasher};
use paved_crypto::{LoginThrottle, ThrottlePolicy};
use paved_headers::SecurityHeadersLayer;
use rusqlite::Connection;

const DEFAULT_ADDR: &str = "127.0.0.1:8082";
const DEFAULT_DB: &str = "target/demo/password-login.sqlite3";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    let addr = std::env::var("PAVED_PASSWORD_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_owned());
    let db = std::env::var("PAVED_PASSWORD_DB").unwrap_or_else(|_| DEFAULT_DB.to_owned());
    let conn = if db == ":memory:" {
        Connection::open_in_memory()?
    } else {
        if let Some(dir) = Path::new(&db).parent() {
            std::fs::create_dir_all(dir)?;
        }
        Connection::open(&db)?
    };
    let users = Users::new(conn)?;
    let pool = HashingPool::new(PasswordHasher::default());
    let throttle = match std::env::var("PAVED_PASSWORD_REDIS_URL") {
        Ok(url) => redis_throttle(&url).await?,
        Err(_) => LoginThrottle::memory(ThrottlePolicy::default()),
    };
    tracing::info!(?throttle, "login throttle");
    let app = app_with_throttle(users, pool, throttle, SecurityHeadersLayer::dev())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{addr} (users in {db})");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        // If the signal handler cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
    .await?;
    Ok(())
}
