//! Proxies from the environment and the back channel: the loopback dev client never hands a
//! request (and the bearer token or client secret in it) to an `HTTP_PROXY` in clear.
//!
//! Proxy variables are read when a client is built, and setting them in this process would need
//! `unsafe` (`std::env::set_var`); so the test runs itself again as a child process whose
//! environment carries `HTTP_PROXY`/`ALL_PROXY` pointing at a listener that counts connections.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use paved_auth::http_client::HttpClient;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

const CHILD: &str = "PAVED_PROXY_TEST_CHILD";
const TEST: &str = "dev_client_ignores_proxies_from_the_environment";

/// A server answering every connection with a small JSON 200; counts connections.
async fn counting_server() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                          content-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            });
        }
    });
    (port, count)
}

#[test]
fn dev_client_ignores_proxies_from_the_environment() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    if std::env::var_os(CHILD).is_some() {
        // In the child: the environment names a proxy; the target must be reached directly
        // and the proxy never contacted.
        rt.block_on(async {
            let proxy_port: u16 = std::env::var("PAVED_PROXY_TEST_PORT")
                .unwrap()
                .parse()
                .unwrap();
            let (target, hits) = counting_server().await;
            let client = HttpClient::dev_loopback().unwrap();
            let body = client
                .get(
                    &format!("http://127.0.0.1:{target}/jwks"),
                    "application/json",
                )
                .await
                .unwrap();
            assert_eq!(body, b"{}");
            assert_eq!(hits.load(Ordering::SeqCst), 1, "the target was not reached");
            // Tell the parent which proxy port this child was given, for its own count.
            println!("child used proxy port {proxy_port}");
        });
        return;
    }
    let (proxy, proxy_hits) = rt.block_on(counting_server());
    let proxy_url = format!("http://127.0.0.1:{proxy}");
    let _enter = rt.enter();
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env("PAVED_PROXY_TEST_PORT", proxy.to_string())
        .env("HTTP_PROXY", &proxy_url)
        .env("http_proxy", &proxy_url)
        .env("ALL_PROXY", &proxy_url)
        .env("all_proxy", &proxy_url)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The child really ran the check (not filtered out).
    assert!(
        stdout.contains(&format!("child used proxy port {proxy}")),
        "{stdout}"
    );
    assert_eq!(
        proxy_hits.load(Ordering::SeqCst),
        0,
        "the dev client sent a request to the proxy"
    );
}
