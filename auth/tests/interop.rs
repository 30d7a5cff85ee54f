//! Interop: tokens minted at test time by npm `jose` and `PyPI` `pyjwt` (pinned in
//! `tests/interop/package-lock.json` and `tests/interop/requirements.txt`) verify here, and on
//! the attack rows the other library can judge, both refuse.
//!
//! The harness installs what it needs outside the source tree: `npm ci` into
//! `target/interop-node`, a virtual environment with pip into `target/interop-venv`. It needs
//! `node`/`npm` (Node.js ≥ 20) and `python3` (with `venv`) on the machine and the npm and `PyPI`
//! registries reachable; without them the tests **fail** with a message saying so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use paved_auth::jwt::{JwtValidator, KeySet};
use serde_json::Value;

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://api.example";

fn source_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    )
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("interop: could not start {what}: {e}"));
    assert!(
        output.status.success(),
        "interop: {what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Copies the pinned npm project to `target/interop-node` and runs `npm ci` when the lockfile
/// changed since the last install.
fn node_project() -> PathBuf {
    assert!(
        available("node") && available("npm"),
        "interop: `node` and `npm` (Node.js >= 20) are required to mint tokens with npm `jose`; \
         install Node.js — this test does not skip"
    );
    let dir = target_dir().join("interop-node");
    fs::create_dir_all(&dir).unwrap();
    for file in ["package.json", "package-lock.json", "mint.mjs"] {
        fs::copy(source_dir().join(file), dir.join(file)).unwrap();
    }
    let lock = fs::read(source_dir().join("package-lock.json")).unwrap();
    let stamp = dir.join("node_modules/.paved-interop-lock");
    if fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        run(
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"])
                .current_dir(&dir),
            "`npm ci` (needs the npm registry)",
        );
        fs::write(&stamp, &lock).unwrap();
    }
    dir
}

/// Creates `target/interop-venv` and installs the pinned requirements when they changed.
fn python_venv() -> PathBuf {
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| available(p))
        .unwrap_or_else(|| {
            panic!(
                "interop: `python3` (with the venv module) is required to mint tokens with \
                 PyPI `pyjwt`; install Python 3 — this test does not skip"
            )
        });
    let venv = target_dir().join("interop-venv");
    let venv_python = venv.join("bin/python");
    if !venv_python.exists() {
        run(
            Command::new(python).arg("-m").arg("venv").arg(&venv),
            "`python3 -m venv` (is the venv module installed?)",
        );
    }
    let requirements = fs::read(source_dir().join("requirements.txt")).unwrap();
    let stamp = venv.join(".paved-interop-requirements");
    if fs::read(&stamp).ok().as_deref() != Some(&requirements[..]) {
        run(
            Command::new(&venv_python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-r",
                ])
                .arg(source_dir().join("requirements.txt")),
            "`pip install -r requirements.txt` (needs PyPI)",
        );
        fs::write(&stamp, &requirements).unwrap();
    }
    venv_python
}

/// Validates everything the other library minted and compares the verdicts.
fn check(document: &[u8]) {
    let doc: Value = serde_json::from_slice(document).expect("the mint script printed JSON");
    let library = doc["library"].as_str().unwrap();
    let keys = KeySet::from_jwks(doc["jwks"].to_string().as_bytes()).unwrap();
    assert_eq!(keys.len(), 5, "{library}: every published key is usable");
    let validator = JwtValidator::builder(ISSUER, AUDIENCE)
        .keys(keys)
        .allow_legacy_rsa_pkcs1()
        .require_typ("at+jwt")
        .build()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ours = |token: &str| {
        rt.block_on(validator.validate::<serde_json::Value>(token))
            .map(|v| v.standard().sub.clone())
    };

    for valid in doc["valid"].as_array().unwrap() {
        let name = valid["name"].as_str().unwrap();
        let result = ours(valid["token"].as_str().unwrap());
        assert_eq!(
            result,
            Ok(Some("user-1".to_owned())),
            "{library}: {name} must verify"
        );
    }

    let mut report = format!("\n{library}\n| row | attack | ours | theirs |\n|---|---|---|---|\n");
    let mut stricter = Vec::new();
    for attack in doc["attacks"].as_array().unwrap() {
        let row = attack["row"].as_str().unwrap();
        let name = attack["name"].as_str().unwrap();
        let theirs = attack["theirs"].as_str().unwrap();
        let reason = attack["reason"].as_str().unwrap();
        let err = ours(attack["token"].as_str().unwrap()).expect_err(&format!(
            "{library}: {row} {name} was accepted by paved-auth"
        ));
        if attack["comparable"].as_bool().unwrap() {
            assert_eq!(
                theirs, "rejected",
                "{library}: {row} {name}: the libraries disagree"
            );
        } else if theirs == "accepted" {
            stricter.push(format!("{row} {name}"));
        }
        writeln!(
            report,
            "| {row} | {name} | rejected: {err} | {theirs} {reason} |"
        )
        .unwrap();
    }
    println!("{report}");
    println!("{library}: rows where paved-auth refuses and {library} accepts: {stricter:?}");
}

#[test]
fn interop_jose_tokens_verify_and_attacks_match() {
    let dir = node_project();
    let output = run(
        Command::new("node")
            .arg("mint.mjs")
            .args([ISSUER, AUDIENCE])
            .current_dir(&dir),
        "`node mint.mjs`",
    );
    check(&output.stdout);
}

#[test]
fn interop_pyjwt_tokens_verify_and_attacks_match() {
    let python = python_venv();
    let output = run(
        Command::new(python)
            .arg(source_dir().join("mint.py"))
            .args([ISSUER, AUDIENCE]),
        "`python mint.py`",
    );
    check(&output.stdout);
}
