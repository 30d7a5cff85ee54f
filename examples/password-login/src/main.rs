//! Run with `cargo run -p example-password-login`, then open <http://127.0.0.1:8082/>.
//!
//! - `PAVED_PASSWORD_ADDR`: listen address (default `127.0.0.1:8082`).
//! - `PAVED_PASSWORD_DB`: `SQLite` file (default `target/demo/password-login.sqlite3`), or
//!   `:memory:` for a database that ends with the process.
//!
//! It serves plain http, so it uses the `dev()` header preset (no HSTS, no
//! `upgrade-insecure-requests`, requests for a non-loopback host refused). Browsers accept the
//! `Secure` `__Host-session` cookie from loopback; anywhere else, serve https behind `web()`.
#![forbid(unsafe_code)]

use std::path::Path;

use example_password_login::{Users, app};
use paved_crypto::{HashingPool, PasswordHasher};
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
    let app = app(users, pool, SecurityHeadersLayer::dev())?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    tracing::info!("listening on http://{addr} (users in {db})");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            // If the signal handler cannot be installed, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    Ok(())
}
