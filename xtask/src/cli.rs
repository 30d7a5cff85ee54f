//! Command-line parsing, kept free of side effects so it can be unit-tested.

use std::fmt;

/// Seconds each fuzz target runs in the smoke stage of `cargo xtask test`.
pub(crate) const SMOKE_FUZZ_SECONDS: u32 = 10;
/// Seconds `cargo xtask fuzz` runs each target when `--seconds` is not given.
pub(crate) const DEFAULT_FUZZ_SECONDS: u32 = 60;

/// One `cargo xtask` invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// Everything CI runs, in order, stopping at the first failing stage.
    Test,
    /// Start the local identity provider and the example apps.
    Demo,
    /// Supply-chain gate: advisories, licenses, bans, sources.
    Deny,
    /// Fuzz one target (or every target) for a number of seconds.
    Fuzz {
        /// `None` runs every target in `fuzz/fuzz_targets`.
        target: Option<String>,
        /// Time budget per target.
        seconds: u32,
    },
    /// Run the criterion benchmarks; extra arguments go to `cargo bench`.
    Bench {
        /// Passed through after `--` (for example a filter or `--save-baseline`).
        args: Vec<String>,
    },
    /// Write CycloneDX SBOMs of the library crates under `target/sbom/`.
    Sbom,
    /// The paved-road Semgrep rules against their fixtures and over the workspace.
    Semgrep,
    /// Checkov and the Kubernetes schemas over the deployment example.
    Checkov,
    /// Print usage.
    Help,
}

/// Why the arguments could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UsageError {
    /// No subcommand was given.
    Missing,
    /// The subcommand is not one of ours.
    UnknownCommand(String),
    /// An argument the subcommand does not take.
    UnexpectedArgument(String),
    /// `--seconds` without a positive whole number after it.
    BadSeconds(String),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("no command given"),
            Self::UnknownCommand(c) => write!(f, "unknown command `{c}`"),
            Self::UnexpectedArgument(a) => write!(f, "unexpected argument `{a}`"),
            Self::BadSeconds(s) => {
                write!(f, "`--seconds` takes a positive whole number, got `{s}`")
            }
        }
    }
}

pub(crate) const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test                      everything CI runs: fmt, clippy, semgrep, checkov, tests, e2e, docs, cargo-deny, fuzz smoke
  demo                      start the local identity provider and the example apps over https
  deny                      supply-chain gate (offline advisories, licenses, bans, sources)
  fuzz [TARGET] [--seconds N]
                            fuzz TARGET (default: every target) for N seconds each (default 60)
  bench [ARGS...]           run the criterion benchmarks (ARGS go to the bench harness)
  sbom                      write a CycloneDX SBOM per library crate under target/sbom/
  semgrep                   the paved-road Semgrep rules (examples/ci-gates) on their fixtures and the workspace
  checkov                   Checkov and the Kubernetes schemas over the deployment example (examples/deploy)
  help                      this text";

/// Parses the arguments after `cargo xtask`.
pub(crate) fn parse<I, S>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args = args.into_iter().map(Into::into);
    let Some(command) = args.next() else {
        return Err(UsageError::Missing);
    };
    let rest: Vec<String> = args.collect();
    let no_args = |cmd: Command, rest: &[String]| match rest.first() {
        Some(extra) => Err(UsageError::UnexpectedArgument(extra.clone())),
        None => Ok(cmd),
    };
    match command.as_str() {
        "test" => no_args(Command::Test, &rest),
        "demo" => no_args(Command::Demo, &rest),
        "deny" => no_args(Command::Deny, &rest),
        "sbom" => no_args(Command::Sbom, &rest),
        "semgrep" => no_args(Command::Semgrep, &rest),
        "checkov" => no_args(Command::Checkov, &rest),
        "help" | "-h" | "--help" => Ok(Command::Help),
        "bench" => Ok(Command::Bench { args: rest }),
        "fuzz" => parse_fuzz(rest),
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
}

fn parse_fuzz(rest: Vec<String>) -> Result<Command, UsageError> {
    let mut target = None;
    let mut seconds = DEFAULT_FUZZ_SECONDS;
    let mut rest = rest.into_iter();
    while let Some(arg) = rest.next() {
        if arg == "--seconds" {
            let value = rest.next().unwrap_or_default();
            seconds = match value.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UsageError::BadSeconds(value)),
            };
        } else if let Some(value) = arg.strip_prefix("--seconds=") {
            seconds = match value.parse::<u32>() {
                Ok(n) if n > 0 => n,
                _ => return Err(UsageError::BadSeconds(value.to_owned())),
            };
        } else if target.is_none() && !arg.starts_with('-') {
            target = Some(arg);
        } else {
            return Err(UsageError::UnexpectedArgument(arg));
        }
    }
    Ok(Command::Fuzz { target, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_commands_parse() {
        assert_eq!(parse(["test"]), Ok(Command::Test));
        assert_eq!(parse(["demo"]), Ok(Command::Demo));
        assert_eq!(parse(["deny"]), Ok(Command::Deny));
        assert_eq!(parse(["sbom"]), Ok(Command::Sbom));
        assert_eq!(parse(["semgrep"]), Ok(Command::Semgrep));
        assert_eq!(parse(["checkov"]), Ok(Command::Checkov));
        assert_eq!(
            parse(["sbom", "x"]),
            Err(UsageError::UnexpectedArgument("x".into()))
        );
        assert_eq!(parse(["--help"]), Ok(Command::Help));
    }

    #[test]
    fn missing_and_unknown_commands_are_errors() {
        assert_eq!(parse(Vec::<String>::new()), Err(UsageError::Missing));
        assert_eq!(
            parse(["tset"]),
            Err(UsageError::UnknownCommand("tset".into()))
        );
    }

    #[test]
    fn plain_commands_refuse_extra_arguments() {
        assert_eq!(
            parse(["test", "--quick"]),
            Err(UsageError::UnexpectedArgument("--quick".into()))
        );
    }

    #[test]
    fn fuzz_defaults_to_every_target() {
        assert_eq!(
            parse(["fuzz"]),
            Ok(Command::Fuzz {
                target: None,
                seconds: DEFAULT_FUZZ_SECONDS
            })
        );
    }

    #[test]
    fn fuzz_takes_a_target_and_seconds_in_either_order() {
        let want = Ok(Command::Fuzz {
            target: Some("jwt_validate".into()),
            seconds: 30,
        });
        assert_eq!(parse(["fuzz", "jwt_validate", "--seconds", "30"]), want);
        assert_eq!(parse(["fuzz", "--seconds=30", "jwt_validate"]), want);
    }

    #[test]
    fn fuzz_rejects_bad_seconds_and_second_target() {
        assert_eq!(
            parse(["fuzz", "--seconds", "0"]),
            Err(UsageError::BadSeconds("0".into()))
        );
        assert_eq!(
            parse(["fuzz", "--seconds"]),
            Err(UsageError::BadSeconds(String::new()))
        );
        assert_eq!(
            parse(["fuzz", "a", "b"]),
            Err(UsageError::UnexpectedArgument("b".into()))
        );
    }

    #[test]
    fn bench_passes_arguments_through() {
        assert_eq!(
            parse(["bench", "passwords", "--save-baseline", "main"]),
            Ok(Command::Bench {
                args: vec!["passwords".into(), "--save-baseline".into(), "main".into()]
            })
        );
    }
}
