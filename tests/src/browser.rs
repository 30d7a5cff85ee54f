//! A real browser for the end-to-end tests: Debian's `chromium` driven through `chromedriver`
//! (WebDriver, plain http on 127.0.0.1) by `fantoccini`.
//!
//! [`Chromedriver::start`] runs the driver on a free loopback port; [`Chromedriver::session`]
//! opens a headless Chromium with a fresh profile that accepts exactly one certificate besides
//! the public roots: the demo's server certificate, named by the SHA-256 of its public key
//! (`--ignore-certificate-errors-spki-list`). Every other certificate error still fails the
//! navigation. `cargo xtask test` installs `chromium` and `chromium-driver` with apt-get when
//! they are missing; a missing driver fails the test (it is never skipped).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

/// How long the driver may take to say it listens.
const DRIVER_START: Duration = Duration::from_secs(20);

/// The WebDriver binary Debian's `chromium-driver` installs.
pub const DRIVER: &str = "chromedriver";

/// A running `chromedriver`, killed on drop.
pub struct Chromedriver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl fmt::Debug for Chromedriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chromedriver")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn other(message: String) -> io::Error {
    io::Error::other(message)
}

impl Chromedriver {
    /// Starts `chromedriver` on a free 127.0.0.1 port.
    ///
    /// # Errors
    /// When the driver is not installed (the message says how to install it) or does not
    /// start within 20 s.
    pub async fn start() -> io::Result<Self> {
        let mut child = Command::new(DRIVER)
            // No `--allowed-ips`: that flag switches chromedriver to listening on every
            // interface; without it, it listens on loopback only.
            .args(["--port=0", "--log-level=WARNING"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                other(format!(
                    "cannot run `{DRIVER}` ({e}): the browser test needs Debian's `chromium` and \
                     `chromium-driver` (`cargo xtask test` installs them with apt-get)"
                ))
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| other("chromedriver has no stdout".to_owned()))?;
        let mut lines = BufReader::new(stdout).lines();
        let port = timeout(DRIVER_START, async {
            while let Some(line) = lines.next_line().await? {
                // "ChromeDriver was started successfully on port 39573." (an earlier line says
                // "Starting ChromeDriver … on port 0").
                if let Some(rest) = line.split("started successfully on port ").nth(1) {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    if let Ok(port) = digits.parse::<u16>() {
                        return Ok(port);
                    }
                }
            }
            Err(other("chromedriver exited before listening".to_owned()))
        })
        .await
        .map_err(|_| other("chromedriver did not start within 20 s".to_owned()))??;
        // Keep draining its stdout so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let profile =
            std::env::temp_dir().join(format!("paved-chromium-{}-{port}", std::process::id()));
        Ok(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            profile,
        })
    }

    /// A headless Chromium session with a fresh profile that accepts the certificate whose
    /// public key hashes to `spki_sha256_base64` (and the public roots).
    ///
    /// # Errors
    /// When the session cannot be created (the browser is missing or crashed).
    pub async fn session(&self, spki_sha256_base64: &str) -> io::Result<Client> {
        let args = vec![
            "--headless=new".to_owned(),
            // Running as root in a container: Chromium's sandbox needs user namespaces.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", self.profile.display()),
            format!("--ignore-certificate-errors-spki-list={spki_sha256_base64}"),
        ];
        let mut capabilities = Map::new();
        capabilities.insert("browserName".to_owned(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".to_owned(), json!({ "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .map_err(|e| other(format!("cannot open a Chromium session: {e}")))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Where screenshots go: `target/browser/` of the workspace.
#[must_use]
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/browser")
}

/// Saves a PNG of the current page as `target/browser/<name>.png`; returns its path.
///
/// # Errors
/// When the browser cannot take it or the file cannot be written.
pub async fn screenshot(client: &Client, name: &str) -> io::Result<PathBuf> {
    let png = client
        .screenshot()
        .await
        .map_err(|e| other(format!("screenshot: {e}")))?;
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png)?;
    Ok(path)
}

/// Evaluates `script` (a function body; `return` gives the value) in the page.
///
/// # Errors
/// When the script throws or the session is gone.
pub async fn eval(client: &Client, script: &str) -> io::Result<Value> {
    client
        .execute(script, Vec::new())
        .await
        .map_err(|e| other(format!("script failed: {e}")))
}
