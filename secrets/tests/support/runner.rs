//! A tiny test runner for `harness = false` test binaries whose scenarios each need a fresh,
//! single-threaded process with a prepared environment. The parent re-runs its own executable
//! once per scenario (`--scenario NAME`), setting the child's environment through
//! `Command::env` (safe: it is the child's environment, not ours), and reports like libtest.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::Instant;

/// One scenario: `setup` prepares the child's command (environment, files in `scratch`) in the
/// parent; `run` executes in the child and panics on failure.
pub struct Case {
    pub name: &'static str,
    pub setup: fn(&mut Command, &Path),
    pub run: fn(),
}

/// Setup for scenarios that need nothing.
pub fn no_setup(_: &mut Command, _: &Path) {}

/// The number of threads of this process (Linux), to check a child is single-threaded.
pub fn thread_count() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

pub fn main_with(cases: &[Case]) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--scenario") {
        let name = args.get(i + 1).expect("scenario name");
        let case = cases
            .iter()
            .find(|c| c.name == name)
            .expect("known scenario");
        assert_eq!(
            thread_count(),
            1,
            "scenario child must start single-threaded"
        );
        (case.run)();
        return ExitCode::SUCCESS;
    }
    // No scenario is ignored: `--ignored` (nextest lists and runs ignored tests separately)
    // selects none, so every scenario runs in the normal pass.
    let only_ignored = args.iter().any(|a| a == "--ignored");
    if args.iter().any(|a| a == "--list") {
        if !only_ignored {
            for case in cases {
                println!("{}: test", case.name);
            }
        }
        return ExitCode::SUCCESS;
    }
    let exact = args.iter().any(|a| a == "--exact");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let selected: Vec<&Case> = cases
        .iter()
        .filter(|_| !only_ignored)
        .filter(|c| {
            filters.is_empty()
                || filters.iter().any(|f| {
                    if exact {
                        c.name == f.as_str()
                    } else {
                        c.name.contains(f.as_str())
                    }
                })
        })
        .collect();
    let exe = std::env::current_exe().expect("own executable");
    let started = Instant::now();
    println!("\nrunning {} tests", selected.len());
    let mut failed = Vec::new();
    for case in &selected {
        let scratch = tempfile::tempdir().expect("scratch dir");
        let mut command = Command::new(&exe);
        command
            .arg("--scenario")
            .arg(case.name)
            .env_remove("CREDENTIALS_DIRECTORY")
            .env("RUST_BACKTRACE", "0");
        (case.setup)(&mut command, scratch.path());
        let output = command.output().expect("run scenario child");
        if output.status.success() {
            println!("test {} ... ok", case.name);
        } else {
            println!("test {} ... FAILED", case.name);
            failed.push((
                case.name,
                String::from_utf8_lossy(&output.stdout).into_owned(),
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
    }
    for (name, stdout, stderr) in &failed {
        println!("\n---- {name} stdout ----\n{stdout}\n---- {name} stderr ----\n{stderr}");
    }
    let outcome = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {outcome}. {} passed; {} failed; 0 ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        selected.len() - failed.len(),
        failed.len(),
        cases.len() - selected.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
