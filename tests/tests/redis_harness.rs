//! The Redis harness itself: it starts, a crash takes it away, a restart brings it back on the
//! same port, and dropping it leaves no process behind.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use paved_tests::redis::RedisServer;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};

async fn ping(port: u16) -> Option<String> {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let (read, mut write) = stream.into_split();
    write.write_all(b"PING\r\n").await.ok()?;
    let mut line = String::new();
    tokio::time::timeout(
        Duration::from_secs(2),
        BufReader::new(read).read_line(&mut line),
    )
    .await
    .ok()?
    .ok()?;
    Some(line)
}

#[tokio::test]
async fn redis_starts_stops_and_restarts_on_the_same_port() {
    let mut redis = RedisServer::start().await.unwrap();
    let port = redis.port();
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{port}"));
    assert_eq!(ping(port).await.as_deref(), Some("+PONG\r\n"));
    redis.stop().await;
    assert_eq!(ping(port).await, None);
    redis.restart().await.unwrap();
    assert_eq!(redis.port(), port);
    assert_eq!(ping(port).await.as_deref(), Some("+PONG\r\n"));
    drop(redis);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(ping(port).await, None, "the server outlived its harness");
}
