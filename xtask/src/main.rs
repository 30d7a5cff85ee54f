//! `cargo xtask`: the project's two commands and their helpers.
//!
//! `cargo xtask test` runs everything CI runs, in order, and stops at the first failing stage;
//! `cargo xtask demo` starts the local identity provider and the examples. `deny`, `fuzz` and
//! `bench` run one part on its own. The tools the stages need are installed here when missing,
//! so a fresh machine and CI need nothing but a Rust toolchain.
//!
//! # What it deliberately does not do
//! It downloads no prebuilt binaries and no toolchains: every tool is built from a registry
//! package at a pinned version.

mod checkov;
mod cli;
mod controls;
mod demo;
mod pyvenv;
mod runner;
mod semgrep;
mod tasks;
mod tools;

use std::process::ExitCode;

use cli::Command;
use runner::{Ctx, Failure};

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let ctx = Ctx::from_env();
    let result = match command {
        Command::Help => {
            println!("{}", cli::USAGE);
            Ok(())
        }
        Command::Test => {
            let outcomes = runner::run_stages(&ctx, tasks::TEST_STAGES);
            println!("{}", runner::summary(&outcomes));
            outcomes
                .iter()
                .find_map(|(name, o)| match o {
                    runner::Outcome::Failed(_, e) => {
                        Some(Err(Failure::new(format!("stage `{name}` failed: {e}"))))
                    }
                    _ => None,
                })
                .unwrap_or(Ok(()))
        }
        Command::Demo => demo::demo(&ctx),
        Command::Deny => tasks::deny(&ctx),
        Command::Sbom => tasks::sbom(&ctx),
        Command::Semgrep => semgrep::check(&ctx),
        Command::Checkov => checkov::check(&ctx),
        Command::Fuzz { target, seconds } => tasks::fuzz_command(&ctx, target.as_deref(), seconds),
        Command::Bench { args } => tasks::bench(&ctx, &args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
