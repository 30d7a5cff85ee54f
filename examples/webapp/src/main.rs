//! The `example-webapp` server: the router of [`example_webapp::app`] on plain TCP.
//!
//! Run with `cargo run -p example-webapp` and the variables listed in the library's
//! documentation (`PAVED_WEBAPP_ISSUER`, `PAVED_WEBAPP_CLIENT_ID`,
//! `PAVED_WEBAPP_PUBLIC_ORIGIN` and `PAVED_WEBAPP_API_URL` are required). When it listens it
//! prints one line `READY http://<addr>` on stdout (with `PAVED_WEBAPP_ADDR=127.0.0.1:0` the
//! line names the port taken). Ctrl-C or SIGTERM stop it after the requests in flight.
//!
//! No TLS here: serve it behind a TLS-terminating proxy, or serve `app()`'s router with a TLS
//! server such as axum-server.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use example_webapp::{Error, WebappConfig, app};

/// The listening address without `PAVED_WEBAPP_ADDR`: loopback, so that a default run is not
/// reachable from the network.
const DEFAULT_ADDR: &str = "127.0.0.1:8443";

#[tokio::main]
async fn main() -> ExitCode {
    let level = std::env::var("PAVED_WEBAPP_LOG")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(tracing::Level::INFO);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "example-webapp: stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = WebappConfig::from_env()?;
    let addr: SocketAddr = std::env::var("PAVED_WEBAPP_ADDR")
        .unwrap_or_else(|_| DEFAULT_ADDR.to_owned())
        .parse()
        .map_err(|_| Error::InvalidVar("PAVED_WEBAPP_ADDR"))?;
    let router = app(&config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(
        %local, issuer = config.issuer(), public_origin = config.public_origin(),
        "example-webapp: listening"
    );
    println!("READY http://{local}");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (what a process supervisor sends).
async fn shutdown() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("example-webapp: shutting down");
}
