//! MDN HTTP Observatory (npm `@mdn/mdn-http-observatory`, pinned by
//! `tests/observatory/package-lock.json`) scans the demo web app over https and must grade it
//! A+: the score a reviewer gets from the public scanner, on the headers `web()` sends.
//!
//! The scanner's own wrapper points `NODE_EXTRA_CA_CERTS` at a CA bundle its install script
//! downloads; the package is installed with `--ignore-scripts` (no download outside the
//! registry) and its scan module is run directly, trusting the demo's development CA. Its HSTS
//! preload list is replaced by an empty one (`conf/hsts-preload.json`), which the scan of a
//! local host does not need.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use paved_tests::demo::{Demo, DemoOptions, ScratchDir};
use serde_json::Value;
use tokio::process::Command;
use tokio::time::timeout;

const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
const SCAN_TIMEOUT: Duration = Duration::from_secs(120);

fn scanner_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("observatory")
}

fn package_dir() -> PathBuf {
    scanner_dir().join("node_modules/@mdn/mdn-http-observatory")
}

/// `npm ci --ignore-scripts` from the lockfile when the scanner is missing.
async fn ensure_scanner() {
    if !package_dir().join("package.json").is_file() {
        let status = timeout(
            INSTALL_TIMEOUT,
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(scanner_dir())
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .status(),
        )
        .await
        .expect("npm ci timed out")
        .expect("running npm (is Node.js installed?)");
        assert!(status.success(), "npm ci in tests/observatory failed");
    }
    let preload = package_dir().join("conf/hsts-preload.json");
    if !preload.is_file() {
        std::fs::write(&preload, "{}").unwrap();
    }
}

async fn scan(host: &str, ca_file: &Path) -> Value {
    let output = timeout(
        SCAN_TIMEOUT,
        Command::new("node")
            .arg(package_dir().join("src/scan.js"))
            .arg(host)
            .env("NODE_EXTRA_CA_CERTS", ca_file)
            .current_dir(scanner_dir())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the scan timed out")
    .expect("running node");
    assert!(
        output.status.success(),
        "the scanner failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the scanner's output is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observatory_grades_the_webapp_a_plus() {
    ensure_scanner().await;
    let dir = ScratchDir::new("observatory").unwrap();
    // Node's resolver knows `localhost` but no other name under `.localhost`.
    let options = DemoOptions {
        webapp_host: "localhost".to_owned(),
        ..DemoOptions::ephemeral(dir.path().to_path_buf())
    };
    let demo = Demo::start(options).await.unwrap();
    let host = demo
        .webapp_origin()
        .trim_start_matches("https://")
        .to_owned();
    let report = scan(&host, demo.ca().cert_path()).await;
    demo.shutdown().await;

    let failed: Vec<String> = report["tests"]
        .as_object()
        .map(|tests| {
            tests
                .iter()
                .filter(|(_, t)| t["pass"] != true)
                .map(|(name, t)| format!("{name}: {}", t["result"]))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        report["scan"]["grade"], "A+",
        "score {}, failed tests: {failed:?}",
        report["scan"]["score"]
    );
    assert!(failed.is_empty(), "failed tests: {failed:?}");
    // The scan really ran over https against the app (not an error page): the CSP it read is
    // the nonce policy, and HSTS was seen with a valid certificate.
    assert_eq!(report["scan"]["statusCode"], 200);
    assert_eq!(
        report["tests"]["strict-transport-security"]["result"],
        "hsts-implemented-max-age-at-least-six-months"
    );
    assert_eq!(
        report["tests"]["content-security-policy"]["policy"]["strictDynamic"],
        true
    );
}
