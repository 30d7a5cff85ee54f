//! Running child processes and ordered, timed stages.

use std::borrow::BorrowMut;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Why a stage or a task failed; printed once, at the end, naming the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure(pub(crate) String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Failure {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// Where the workspace is and which `cargo` started us.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The workspace root (the folder holding the top-level `Cargo.toml`).
    pub(crate) root: PathBuf,
    /// The cargo binary that ran `cargo xtask`, so nested calls use the same toolchain.
    pub(crate) cargo: PathBuf,
}

impl Ctx {
    pub(crate) fn from_env() -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().unwrap_or(manifest).to_path_buf();
        let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
        Self { root, cargo }
    }

    /// A `cargo` command in the workspace root.
    pub(crate) fn cargo<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.cargo);
        cmd.args(args).current_dir(&self.root);
        cmd
    }
}

/// Runs `cmd` with inherited output; a non-zero exit or a failure to start is a `Failure`.
pub(crate) fn run(mut cmd: impl BorrowMut<Command>) -> Result<(), Failure> {
    let cmd = cmd.borrow_mut();
    println!("$ {}", describe(cmd));
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| Failure::new(format!("could not start `{}`: {e}", describe(cmd))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "`{}` exited with {status}",
            describe(cmd)
        )))
    }
}

/// Runs `cmd` quietly and returns its trimmed stdout, or `None` if it could not run or failed.
pub(crate) fn output(mut cmd: impl BorrowMut<Command>) -> Option<String> {
    let cmd = cmd.borrow_mut();
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// One named step of `cargo xtask test`.
pub(crate) struct Stage {
    pub(crate) name: &'static str,
    pub(crate) run: fn(&Ctx) -> Result<(), Failure>,
}

impl fmt::Debug for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stage")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What happened to one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed(Duration),
    Failed(Duration, Failure),
    NotRun,
}

/// Runs `stages` in order and stops at the first failure; every later stage is `NotRun`.
pub(crate) fn run_stages(ctx: &Ctx, stages: &[Stage]) -> Vec<(&'static str, Outcome)> {
    let mut outcomes = Vec::with_capacity(stages.len());
    let mut failed = false;
    for stage in stages {
        if failed {
            outcomes.push((stage.name, Outcome::NotRun));
            continue;
        }
        println!("\n==> stage `{}`", stage.name);
        let start = Instant::now();
        let outcome = match (stage.run)(ctx) {
            Ok(()) => Outcome::Passed(start.elapsed()),
            Err(e) => {
                failed = true;
                Outcome::Failed(start.elapsed(), e)
            }
        };
        match &outcome {
            Outcome::Passed(d) => println!("==> stage `{}` passed in {}", stage.name, secs(*d)),
            Outcome::Failed(d, e) => {
                println!("==> stage `{}` FAILED after {}: {e}", stage.name, secs(*d));
            }
            Outcome::NotRun => {}
        }
        outcomes.push((stage.name, outcome));
    }
    outcomes
}

/// The closing summary: one line per stage, then a `N passed, N failed` line.
pub(crate) fn summary(outcomes: &[(&'static str, Outcome)]) -> String {
    use fmt::Write as _;
    let mut s = String::from("\nsummary:\n");
    let (mut passed, mut failed) = (0, 0);
    for (name, outcome) in outcomes {
        let line = match outcome {
            Outcome::Passed(d) => {
                passed += 1;
                format!("  ok      {name:<12} {}", secs(*d))
            }
            Outcome::Failed(d, e) => {
                failed += 1;
                format!("  FAILED  {name:<12} {}  {e}", secs(*d))
            }
            Outcome::NotRun => format!("  skipped {name:<12} (an earlier stage failed)"),
        };
        let _ = writeln!(s, "{line}");
    }
    let _ = write!(s, "stages: {passed} passed, {failed} failed");
    s
}

fn secs(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    #[allow(clippy::unnecessary_wraps)] // must match `Stage::run`
    fn ok(_: &Ctx) -> Result<(), Failure> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn fail(_: &Ctx) -> Result<(), Failure> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        Err(Failure::new("boom"))
    }

    #[test]
    fn stages_stop_at_the_first_failure() {
        let ctx = Ctx::from_env();
        let stages = [
            Stage {
                name: "one",
                run: ok,
            },
            Stage {
                name: "two",
                run: fail,
            },
            Stage {
                name: "three",
                run: ok,
            },
        ];
        CALLS.store(0, Ordering::SeqCst);
        let outcomes = run_stages(&ctx, &stages);
        assert_eq!(
            CALLS.load(Ordering::SeqCst),
            2,
            "the stage after a failure must not run"
        );
        assert!(matches!(outcomes[0], ("one", Outcome::Passed(_))));
        assert!(matches!(&outcomes[1], ("two", Outcome::Failed(_, e)) if e.0 == "boom"));
        assert_eq!(outcomes[2], ("three", Outcome::NotRun));
        let text = summary(&outcomes);
        assert!(text.ends_with("stages: 1 passed, 1 failed"), "{text}");
        assert!(text.contains("FAILED  two"), "{text}");
    }

    #[test]
    fn failed_commands_are_reported_with_their_command_line() {
        let ctx = Ctx::from_env();
        let err = run(ctx
            .cargo(["--definitely-not-a-flag"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()))
        .expect_err("cargo rejects an unknown flag");
        assert!(err.0.contains("--definitely-not-a-flag"), "{err}");
    }
}
