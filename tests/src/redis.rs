//! A real Redis for the scale-out tests: Debian's `redis-server` on a free 127.0.0.1 port, no
//! persistence (`--save "" --appendonly no`), killed when the [`RedisServer`] is dropped.
//!
//! [`RedisServer::stop`] and [`RedisServer::restart`] let a fault test take Redis away in the
//! middle of a run and bring it back on the same port (empty, as after a crash without
//! persistence); [`RedisServer::pause`] and [`RedisServer::resume`] freeze it and let it go on
//! with its data (a Redis that hangs). `cargo xtask test` installs `redis-server` with apt-get when it is missing; a
//! missing binary fails the test (it is never skipped).

use std::fmt;
use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// The binary Debian's `redis-server` package installs.
pub const REDIS_SERVER: &str = "redis-server";
/// How long Redis may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `redis-server` (see the [module documentation](self)).
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("running", &self.child.is_some())
            .finish_non_exhaustive()
    }
}

fn other(message: String) -> io::Error {
    io::Error::other(message)
}

impl RedisServer {
    /// Starts Redis on a free 127.0.0.1 port and waits until it answers `PING`.
    ///
    /// # Errors
    /// When `redis-server` is not installed (the message says how to get it) or does not start.
    pub async fn start() -> io::Result<Self> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let dir = std::env::temp_dir().join(format!("paved-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut server = Self {
            port,
            child: None,
            dir,
        };
        server.spawn().await?;
        Ok(server)
    }

    async fn spawn(&mut self) -> io::Result<()> {
        let child = Command::new(REDIS_SERVER)
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                other(format!(
                    "cannot run `{REDIS_SERVER}` ({e}): the scale-out tests need Debian's \
                     `redis-server` (`cargo xtask test` installs it with apt-get)"
                ))
            })?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ping(self.port).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop().await;
                return Err(other(format!(
                    "redis-server did not answer PING on port {} within {} s",
                    self.port,
                    START_TIMEOUT.as_secs()
                )));
            }
            sleep(Duration::from_millis(20)).await;
        }
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL: a crash, not a clean shutdown) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = timeout(Duration::from_secs(5), child.wait()).await;
        }
    }

    /// Freezes it (SIGSTOP): connections stay open but nothing is answered, as with a Redis
    /// that hangs. Its data stays; [`resume`](Self::resume) continues it.
    ///
    /// # Errors
    /// When it is not running or the signal cannot be sent.
    pub async fn pause(&self) -> io::Result<()> {
        self.signal("-STOP").await
    }

    /// Continues it after [`pause`](Self::pause) (SIGCONT), data intact.
    ///
    /// # Errors
    /// When it is not running or the signal cannot be sent.
    pub async fn resume(&self) -> io::Result<()> {
        self.signal("-CONT").await
    }

    async fn signal(&self, signal: &str) -> io::Result<()> {
        let pid = self
            .child
            .as_ref()
            .and_then(Child::id)
            .ok_or_else(|| other("redis-server is not running".to_owned()))?;
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .stdin(Stdio::null())
            .status()
            .await?;
        if status.success() {
            Ok(())
        } else {
            Err(other(format!("kill {signal} {pid} failed: {status}")))
        }
    }

    /// Starts it again on the same port, empty.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub async fn restart(&mut self) -> io::Result<()> {
        self.stop().await;
        self.spawn().await
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether something on `port` answers `PING` with `+PONG`.
async fn ping(port: u16) -> bool {
    let Ok(Ok(stream)) = timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    else {
        return false;
    };
    let (read, mut write) = stream.into_split();
    if tokio::io::AsyncWriteExt::write_all(&mut write, b"PING\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut line = String::new();
    matches!(
        timeout(
            Duration::from_millis(500),
            BufReader::new(read).read_line(&mut line)
        )
        .await,
        Ok(Ok(_))
    ) && line.starts_with("+PONG")
}
