//! `cargo xtask demo`, and the system packages the end-to-end stage needs (Node.js for the
//! identity provider and the scanner, Chromium and its driver for the browser test, Redis for
//! the scale-out tests).
//!
//! The demo itself is the `paved-demo` binary of the end-to-end crate (`tests/src/demo.rs`):
//! the browser test runs the very same setup, so what a newcomer starts is what CI checks.

use std::process::Command;

use crate::runner::{self, Ctx, Failure};

/// The Debian packages the end-to-end stage installs when missing, each with the binary that
/// shows it is there: the browser and the WebDriver server of the same build (Debian ships
/// them together, so their versions match), and Redis for the multi-instance tests.
pub(crate) const E2E_PACKAGES: &[(&str, &str)] = &[
    ("chromium", "chromium"),
    ("chromedriver", "chromium-driver"),
    ("redis-server", "redis-server"),
];

/// The first `major` number in a `--version` line (`Chromium 156.0.8078.79 built on …`,
/// `ChromeDriver 156.0.8078.79 (…)`).
pub(crate) fn major_version(line: &str) -> Option<u32> {
    line.split_whitespace()
        .find_map(|word| word.split('.').next()?.parse().ok())
}

fn version_of(tool: &str) -> Option<String> {
    runner::output({
        let mut c = Command::new(tool);
        c.arg("--version");
        c
    })
}

/// Node.js and npm run the identity provider (`tests/idp`) and the header scanner
/// (`tests/observatory`); their npm packages are installed from the lockfiles by the tests.
pub(crate) fn ensure_node() -> Result<(), Failure> {
    for tool in ["node", "npm"] {
        if version_of(tool).is_none() {
            return Err(Failure::new(format!(
                "`{tool}` is not installed: the identity provider and the header scanner run on \
                 Node.js (Debian: `apt-get install nodejs npm`)"
            )));
        }
    }
    Ok(())
}

fn is_root() -> bool {
    runner::output({
        let mut c = Command::new("id");
        c.arg("-u");
        c
    })
    .is_some_and(|uid| uid.trim() == "0")
}

/// The [`E2E_PACKAGES`] whose binary is missing, installed with apt-get (and said so); then
/// Chromium and chromedriver must be the same major version.
pub(crate) fn ensure_e2e_packages() -> Result<(), Failure> {
    let missing: Vec<&str> = E2E_PACKAGES
        .iter()
        .filter(|(binary, _)| version_of(binary).is_none())
        .map(|(_, package)| *package)
        .collect();
    if !missing.is_empty() {
        if !is_root() || version_of("apt-get").is_none() {
            return Err(Failure::new(format!(
                "the end-to-end stage needs Debian's {} (not installed, and apt-get cannot run \
                 here as root): install them, then run again",
                missing.join(", ")
            )));
        }
        println!(
            "{} not installed: installing with apt-get (Debian packages)",
            missing.join(", ")
        );
        let apt = |args: &[&str]| {
            let mut c = Command::new("apt-get");
            c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        runner::run(&mut apt(&["update", "-qq"]))?;
        let mut install = apt(&["install", "-y", "-qq", "--no-install-recommends"]);
        install.args(&missing);
        runner::run(&mut install).map_err(|e| {
            Failure::new(format!("apt-get install {} failed: {e}", missing.join(" ")))
        })?;
        if let Some((binary, _)) = E2E_PACKAGES.iter().find(|(b, _)| version_of(b).is_none()) {
            return Err(Failure::new(format!(
                "`{binary}` is still missing after the install"
            )));
        }
    }
    check_browser_versions((version_of("chromium"), version_of("chromedriver")))
}

fn check_browser_versions(found: (Option<String>, Option<String>)) -> Result<(), Failure> {
    match found {
        (Some(browser), Some(driver)) => {
            let (b, d) = (major_version(&browser), major_version(&driver));
            if b.is_some() && b == d {
                Ok(())
            } else {
                Err(Failure::new(format!(
                    "chromium ({}) and chromedriver ({}) are not the same major version: \
                     reinstall both from one source",
                    browser.trim(),
                    driver.trim()
                )))
            }
        }
        _ => Err(Failure::new(
            "chromium or chromedriver is still missing after the install",
        )),
    }
}

/// `cargo xtask demo`: builds and runs `paved-demo` (the identity provider and the two examples
/// over https, the development CA under `target/demo/`) until Ctrl-C.
pub(crate) fn demo(ctx: &Ctx) -> Result<(), Failure> {
    ensure_node()?;
    let dir = ctx.root.join("target").join("demo");
    runner::run(
        ctx.cargo([
            "run",
            "--locked",
            "--quiet",
            "--package",
            "paved-tests",
            "--bin",
            "paved-demo",
            "--",
            "--dir",
        ])
        .arg(&dir),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_versions_are_read_from_version_lines() {
        assert_eq!(
            major_version("Chromium 156.0.8078.79 built on Debian GNU/Linux 12 (bookworm)"),
            Some(156)
        );
        assert_eq!(
            major_version(
                "ChromeDriver 156.0.8078.79 (a21ce95c24ce-refs/branch-heads/8078@{#1704})"
            ),
            Some(156)
        );
        assert_eq!(major_version("no version"), None);
    }

    #[test]
    fn mismatched_browser_and_driver_are_refused() {
        let err = check_browser_versions((
            Some("Chromium 156.0.1 built on Debian".to_owned()),
            Some("ChromeDriver 150.0.2 (x)".to_owned()),
        ))
        .unwrap_err();
        assert!(err.0.contains("not the same major version"), "{err}");
        assert!(
            check_browser_versions((
                Some("Chromium 156.0.1".to_owned()),
                Some("ChromeDriver 156.0.1".to_owned())
            ))
            .is_ok()
        );
        assert!(check_browser_versions((None, Some("ChromeDriver 156".to_owned()))).is_err());
    }
}
