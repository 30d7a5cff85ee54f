//! What each `cargo xtask` command does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::checkov;
use crate::cli::SMOKE_FUZZ_SECONDS;
use crate::controls;
use crate::demo;
use crate::runner::{self, Ctx, Failure, Stage};
use crate::semgrep;
use crate::tools::{self, Nightly};

/// The stages of `cargo xtask test`, in the order they run.
///
/// Cheap static checks come first so a formatting slip fails in seconds, not after the build.
pub(crate) const TEST_STAGES: &[Stage] = &[
    Stage {
        name: "fmt",
        run: fmt,
    },
    Stage {
        name: "clippy",
        run: clippy,
    },
    Stage {
        name: "semgrep",
        run: semgrep::check,
    },
    Stage {
        name: "checkov",
        run: checkov::check,
    },
    Stage {
        name: "tests",
        run: tests,
    },
    Stage {
        name: "e2e",
        run: e2e,
    },
    Stage {
        name: "doctests",
        run: doctests,
    },
    Stage {
        name: "docs",
        run: docs,
    },
    Stage {
        name: "controls",
        run: controls::check,
    },
    Stage {
        name: "deny",
        run: deny,
    },
    Stage {
        name: "fuzz-smoke",
        run: fuzz_smoke,
    },
];

fn fmt(ctx: &Ctx) -> Result<(), Failure> {
    runner::run(ctx.cargo(["fmt", "--all", "--check"]))?;
    // The fuzz crate is its own workspace, so `--all` does not reach it.
    runner::run(ctx.cargo(["fmt", "--check", "--manifest-path", "fuzz/Cargo.toml"]))
}

fn clippy(ctx: &Ctx) -> Result<(), Failure> {
    runner::run(ctx.cargo([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))
}

fn tests(ctx: &Ctx) -> Result<(), Failure> {
    // The end-to-end crate has its own stage (it starts an identity provider).
    test_run(ctx, &["--workspace", "--exclude", E2E_PACKAGE])
}

/// The package holding the end-to-end suites.
const E2E_PACKAGE: &str = "paved-tests";

/// End-to-end: the login against the real identity provider (npm `oidc-provider`, pinned by
/// `tests/idp/package-lock.json` and installed by the harness with `npm ci` when missing) and
/// against the hostile authorization server; the demo setup in headless Chromium; the MDN
/// HTTP Observatory scan of the web app (pinned by `tests/observatory/package-lock.json`); the
/// multi-instance tests on Redis. Chromium, chromedriver and redis-server are installed here
/// with apt-get when missing.
fn e2e(ctx: &Ctx) -> Result<(), Failure> {
    demo::ensure_node()?;
    demo::ensure_e2e_packages()?;
    test_run(ctx, &["--package", E2E_PACKAGE])
}

fn test_run(ctx: &Ctx, selection: &[&str]) -> Result<(), Failure> {
    let nextest = runner::output(ctx.cargo(["nextest", "--version"])).is_some();
    let mut args: Vec<&str> = if nextest {
        vec![
            "nextest",
            "run",
            "--all-features",
            "--locked",
            "--no-fail-fast",
        ]
    } else {
        println!("cargo-nextest not found; running the tests with `cargo test`");
        vec![
            "test",
            "--all-features",
            "--locked",
            "--lib",
            "--bins",
            "--tests",
        ]
    };
    args.extend_from_slice(selection);
    runner::run(ctx.cargo(args))
}

fn doctests(ctx: &Ctx) -> Result<(), Failure> {
    runner::run(ctx.cargo(["test", "--workspace", "--all-features", "--locked", "--doc"]))
}

fn docs(ctx: &Ctx) -> Result<(), Failure> {
    runner::run(
        ctx.cargo([
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--locked",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// `cargo xtask deny`: advisories from the offline `RustSec` snapshot, licenses, bans, sources.
pub(crate) fn deny(ctx: &Ctx) -> Result<(), Failure> {
    tools::ensure(ctx, tools::CARGO_DENY)?;
    let script = ctx.root.join("../shared/tools/advisory-db");
    if !script.is_file() {
        return Err(Failure::new(format!(
            "the offline advisory snapshot tool is missing at {}: the advisories check cannot run \
             without it (CI clones the project with shared/ beside it)",
            script.display()
        )));
    }
    // `db-path` in deny.toml points here.
    runner::run(
        Command::new("bash")
            .arg(&script)
            .arg("target/advisory-db")
            .current_dir(&ctx.root),
    )?;
    runner::run(ctx.cargo(["deny", "--offline", "check"]))
}

/// Every fuzz target: one per `fuzz/fuzz_targets/*.rs`, sorted by name.
pub(crate) fn fuzz_targets(fuzz_dir: &Path) -> Result<Vec<String>, Failure> {
    let dir = fuzz_dir.join("fuzz_targets");
    let entries = fs::read_dir(&dir)
        .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|e| e == "rs")
            && let Some(stem) = path.file_stem()
        {
            targets.push(stem.to_string_lossy().into_owned());
        }
    }
    targets.sort();
    Ok(targets)
}

fn fuzz_smoke(ctx: &Ctx) -> Result<(), Failure> {
    let targets = fuzz_targets(&ctx.root.join("fuzz"))?;
    if targets.is_empty() {
        return Err(Failure::new(
            "fuzz/fuzz_targets holds no targets: the smoke stage has nothing to run",
        ));
    }
    fuzz(ctx, &targets, SMOKE_FUZZ_SECONDS)
}

/// `cargo xtask fuzz [TARGET] [--seconds N]`.
pub(crate) fn fuzz_command(ctx: &Ctx, target: Option<&str>, seconds: u32) -> Result<(), Failure> {
    let all = fuzz_targets(&ctx.root.join("fuzz"))?;
    let targets = match target {
        None => all,
        Some(t) if all.iter().any(|a| a == t) => vec![t.to_owned()],
        Some(t) => {
            return Err(Failure::new(format!(
                "no fuzz target `{t}`; the targets are: {}",
                all.join(", ")
            )));
        }
    };
    fuzz(ctx, &targets, seconds)
}

fn fuzz(ctx: &Ctx, targets: &[String], seconds: u32) -> Result<(), Failure> {
    tools::ensure(ctx, tools::CARGO_FUZZ)?;
    let nightly = Nightly::detect();
    if nightly == Nightly::Bootstrap {
        println!("no nightly toolchain installed: fuzzing with stable and RUSTC_BOOTSTRAP=1");
    }
    let max_time = format!("-max_total_time={seconds}");
    for target in targets {
        // New inputs go to a scratch corpus under target/; the committed seeds stay untouched.
        let scratch = ctx.root.join("target/fuzz-corpus").join(target);
        fs::create_dir_all(&scratch)
            .map_err(|e| Failure::new(format!("cannot create {}: {e}", scratch.display())))?;
        let seeds: PathBuf = ["fuzz", "corpus", target].iter().collect();
        let mut cmd = nightly.cargo(ctx);
        cmd.args(["fuzz", "run", target.as_str()]).arg(&scratch);
        if ctx.root.join(&seeds).is_dir() {
            cmd.arg(&seeds);
        }
        cmd.args(["--", &max_time]);
        runner::run(&mut cmd).map_err(|e| Failure::new(format!("fuzz target `{target}`: {e}")))?;
    }
    Ok(())
}

/// `cargo xtask bench [ARGS...]`.
pub(crate) fn bench(ctx: &Ctx, args: &[String]) -> Result<(), Failure> {
    let mut cmd = ctx.cargo(["bench", "--workspace", "--all-features", "--locked"]);
    if !args.is_empty() {
        cmd.arg("--").args(args);
    }
    runner::run(&mut cmd)
}

/// The crates a service depends on: one SBOM each.
pub(crate) const SBOM_CRATES: &[(&str, &str)] = &[
    ("secrets", "paved-secrets"),
    ("crypto", "paved-crypto"),
    ("headers", "paved-headers"),
    ("auth", "paved-auth"),
];

/// The file name `cargo cyclonedx` writes next to every workspace member's manifest before it
/// is moved under `target/sbom/` (or removed, for the crates nobody ships).
const SBOM_SCRATCH: &str = "paved-sbom-scratch";

/// `cargo xtask sbom`: CycloneDX 1.5 JSON, all features, one file per library crate in
/// `target/sbom/<crate>.cdx.json`.
pub(crate) fn sbom(ctx: &Ctx) -> Result<(), Failure> {
    tools::ensure(ctx, tools::CARGO_CYCLONEDX)?;
    let run = runner::run(ctx.cargo([
        "cyclonedx",
        "--format",
        "json",
        "--spec-version",
        "1.5",
        "--all-features",
        "--override-filename",
        SBOM_SCRATCH,
        "-q",
    ]));
    // Written next to every member's manifest: collect the shipped ones, drop the rest, even
    // when the run failed half-way.
    let out_dir = ctx.root.join("target").join("sbom");
    let mut written = Vec::new();
    let scratch = scratch_files(&ctx.root);
    for file in &scratch {
        let member = file.parent().and_then(|p| p.strip_prefix(&ctx.root).ok());
        let shipped = member.and_then(|m| {
            SBOM_CRATES
                .iter()
                .find(|(dir, _)| Path::new(dir) == m)
                .map(|(_, name)| *name)
        });
        match shipped {
            Some(name) if run.is_ok() => {
                fs::create_dir_all(&out_dir)
                    .map_err(|e| Failure::new(format!("creating {}: {e}", out_dir.display())))?;
                let dest = out_dir.join(format!("{name}.cdx.json"));
                fs::rename(file, &dest)
                    .map_err(|e| Failure::new(format!("moving {}: {e}", file.display())))?;
                written.push(dest);
            }
            _ => {
                let _ = fs::remove_file(file);
            }
        }
    }
    run?;
    if written.len() != SBOM_CRATES.len() {
        return Err(Failure::new(format!(
            "expected {} SBOMs, cargo cyclonedx wrote {}",
            SBOM_CRATES.len(),
            written.len()
        )));
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Every `SBOM_SCRATCH.json` below `root`, outside `target/` and `.git/`.
fn scratch_files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != ".git" && name != "node_modules" {
                    dirs.push(path);
                }
            } else if name.to_str() == Some(&format!("{SBOM_SCRATCH}.json")) {
                found.push(path);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_stages_run_cheap_checks_first_and_fuzz_last() {
        let names: Vec<&str> = TEST_STAGES.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "fmt",
                "clippy",
                "semgrep",
                "checkov",
                "tests",
                "e2e",
                "doctests",
                "docs",
                "controls",
                "deny",
                "fuzz-smoke"
            ]
        );
    }

    #[test]
    fn fuzz_targets_are_the_rs_files_sorted() {
        let dir = std::env::temp_dir().join(format!("xtask-fuzz-{}", std::process::id()));
        let targets = dir.join("fuzz_targets");
        fs::create_dir_all(&targets).unwrap();
        for f in ["b_target.rs", "a_target.rs", "notes.txt"] {
            fs::write(targets.join(f), "").unwrap();
        }
        let found = fuzz_targets(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.unwrap(), ["a_target", "b_target"]);
    }

    #[test]
    fn fuzz_targets_of_a_missing_folder_is_an_error() {
        let err = fuzz_targets(Path::new("/nonexistent/fuzz")).unwrap_err();
        assert!(err.0.contains("/nonexistent/fuzz/fuzz_targets"), "{err}");
    }

    #[test]
    fn the_workspace_has_fuzz_targets() {
        let ctx = Ctx::from_env();
        let found = fuzz_targets(&ctx.root.join("fuzz")).unwrap();
        assert!(
            !found.is_empty(),
            "the fuzz smoke stage would have nothing to run"
        );
    }

    #[test]
    fn sbom_scratch_files_are_found_outside_target() {
        let dir = std::env::temp_dir().join(format!("xtask-sbom-{}", std::process::id()));
        for sub in ["auth", "target/x", "tests"] {
            fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for f in [
            "auth/paved-sbom-scratch.json",
            "target/x/paved-sbom-scratch.json",
            "tests/paved-sbom-scratch.json",
            "tests/other.json",
        ] {
            fs::write(dir.join(f), "{}").unwrap();
        }
        let mut found = scratch_files(&dir);
        found.sort();
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            found,
            [
                dir.join("auth/paved-sbom-scratch.json"),
                dir.join("tests/paved-sbom-scratch.json")
            ]
        );
    }

    #[test]
    fn sbom_crates_are_the_workspace_libraries() {
        let ctx = Ctx::from_env();
        for (dir, name) in SBOM_CRATES {
            let manifest = fs::read_to_string(ctx.root.join(dir).join("Cargo.toml")).unwrap();
            assert!(manifest.contains(&format!("name = \"{name}\"")), "{dir}");
        }
    }
}
