//! The external tools the stages need, installed from crates.io when missing.
//!
//! Tools are built from source with `cargo install --locked NAME@VERSION` (their own lockfile, a
//! pinned version) into cargo's install root, so a reused machine keeps them and a clean clone on
//! the same machine does not rebuild them. Nothing here downloads a prebuilt binary or a toolchain.

use std::process::Command;

use crate::runner::{self, Ctx, Failure};

/// A cargo subcommand pinned to one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CargoTool {
    /// The crate to install.
    pub(crate) krate: &'static str,
    /// The subcommand name (`cargo <subcommand>`).
    pub(crate) subcommand: &'static str,
    /// The exact version we run.
    pub(crate) version: &'static str,
}

/// Supply-chain gate (`deny.toml`).
pub(crate) const CARGO_DENY: CargoTool = CargoTool {
    krate: "cargo-deny",
    subcommand: "deny",
    version: "0.20.2",
};

/// libFuzzer driver for the `fuzz/` workspace.
pub(crate) const CARGO_FUZZ: CargoTool = CargoTool {
    krate: "cargo-fuzz",
    subcommand: "fuzz",
    version: "0.13.2",
};

/// CycloneDX SBOM writer (`cargo xtask sbom`).
pub(crate) const CARGO_CYCLONEDX: CargoTool = CargoTool {
    krate: "cargo-cyclonedx",
    subcommand: "cyclonedx",
    version: "0.5.9",
};

/// Extracts the version from a `--version` line such as `cargo-deny 0.20.2`.
pub(crate) fn version_in(line: &str) -> Option<&str> {
    line.split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

/// Makes sure `tool` is installed at exactly its pinned version.
pub(crate) fn ensure(ctx: &Ctx, tool: CargoTool) -> Result<(), Failure> {
    let installed = runner::output(ctx.cargo([tool.subcommand, "--version"]));
    if installed.as_deref().and_then(version_in) == Some(tool.version) {
        return Ok(());
    }
    println!(
        "{} {} is not installed (found: {}); installing it from crates.io (this builds from source once per machine)",
        tool.krate,
        tool.version,
        installed.as_deref().unwrap_or("none"),
    );
    let spec = format!("{}@{}", tool.krate, tool.version);
    runner::run(ctx.cargo(["install", "--locked", &spec]))
        .map_err(|e| Failure::new(format!("installing {spec} failed: {e}")))?;
    let now = runner::output(ctx.cargo([tool.subcommand, "--version"]));
    if now.as_deref().and_then(version_in) == Some(tool.version) {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "installed {spec}, but `cargo {} --version` reports {}: is cargo's bin directory on PATH?",
            tool.subcommand,
            now.as_deref().unwrap_or("nothing"),
        )))
    }
}

/// How the fuzz workspace gets a nightly compiler (cargo-fuzz needs `-Z` flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nightly {
    /// The installed nightly toolchain, through `rustup run nightly`.
    Rustup,
    /// The stable toolchain with `RUSTC_BOOTSTRAP=1` (only when no nightly is installed).
    Bootstrap,
}

impl Nightly {
    pub(crate) fn detect() -> Self {
        let nightly =
            runner::output(Command::new("rustup").args(["run", "nightly", "rustc", "--version"]));
        if nightly.is_some() {
            Self::Rustup
        } else {
            Self::Bootstrap
        }
    }

    /// A `cargo` command on the chosen nightly, in the workspace root.
    pub(crate) fn cargo(self, ctx: &Ctx) -> Command {
        let mut cmd = match self {
            Self::Rustup => {
                let mut c = Command::new("rustup");
                c.args(["run", "nightly", "cargo"]);
                c
            }
            Self::Bootstrap => {
                let mut c = Command::new(&ctx.cargo);
                c.env("RUSTC_BOOTSTRAP", "1");
                c
            }
        };
        // `cargo run` exports the stable toolchain's paths; the nightly build must not inherit them.
        for var in [
            "CARGO",
            "RUSTC",
            "RUSTDOC",
            "RUSTUP_TOOLCHAIN",
            "CARGO_MANIFEST_DIR",
        ] {
            cmd.env_remove(var);
        }
        cmd.current_dir(&ctx.root);
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_version_lines() {
        assert_eq!(version_in("cargo-deny 0.20.2"), Some("0.20.2"));
        assert_eq!(version_in("cargo-fuzz 0.13.2"), Some("0.13.2"));
        assert_eq!(
            version_in("cargo-nextest 0.9.143 (60fa45f63 2026-08-04)"),
            Some("0.9.143")
        );
        assert_eq!(version_in("no version here"), None);
    }

    /// The ring-only rule read straight from the lockfile: `deny.toml` bans these, but its
    /// stage passes whether or not a ban entry is present as long as the crate is absent.
    #[test]
    fn the_lockfile_has_no_second_crypto_library() {
        let ctx = crate::runner::Ctx::from_env();
        let lock = std::fs::read_to_string(ctx.root.join("Cargo.lock")).unwrap();
        let names: Vec<&str> = lock
            .lines()
            .filter_map(|l| l.strip_prefix("name = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .collect();
        assert!(names.contains(&"ring"), "the lockfile was not read");
        for banned in [
            "openssl",
            "openssl-sys",
            "native-tls",
            "aws-lc-rs",
            "aws-lc-sys",
            "boring",
            "boring-sys",
        ] {
            assert!(!names.contains(&banned), "Cargo.lock contains {banned}");
        }
    }

    #[test]
    fn pinned_tools_are_exact_versions() {
        for tool in [CARGO_DENY, CARGO_FUZZ, CARGO_CYCLONEDX] {
            assert_eq!(
                tool.version.split('.').count(),
                3,
                "{tool:?} must pin major.minor.patch"
            );
        }
    }
}
