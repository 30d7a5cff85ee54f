//! The `checkov` stage: the deployment example (`examples/deploy`: the Dockerfile and the
//! Kubernetes manifests) scanned by Checkov, the infrastructure-as-code scanner, and validated
//! against the Kubernetes JSON schemas.
//!
//! Both tools come from `PyPI`, pinned with hashes by `examples/deploy/checkov/requirements.lock`
//! and installed by [`pyvenv`](crate::pyvenv::ensure). Checkov runs offline: no platform API key, no
//! guideline download (`--skip-download`), no mapping fetch (`BC_SKIP_MAPPING`), no package
//! scan, no update check. The stage fails on any failed check, on a file Checkov could not
//! parse, and on any skip that does not say why; `kubernetes-validate --strict` then checks
//! every manifest against the schemas of [`KUBERNETES_VERSION`], bundled in the package.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::pyvenv::{self, describe, read};
use crate::runner::{self, Ctx, Failure};

/// What is scanned: the image and the manifests a team copies.
const DEPLOY: &str = "examples/deploy";
/// The Kubernetes manifests, each validated against the schemas.
const MANIFESTS: &str = "examples/deploy/k8s";
/// Checkov, kubernetes-validate and their dependencies, exact versions and hashes.
const LOCK: &str = "examples/deploy/checkov/requirements.lock";
/// The frameworks Checkov runs. Each of [`REQUIRED_REPORTS`] must report: a Dockerfile renamed
/// out of Checkov's sight would otherwise pass as "no failed check".
const FRAMEWORKS: &[&str] = &["dockerfile", "kubernetes", "secrets"];
/// The frameworks that must have scanned something (the secrets scanner reports only when it
/// finds a candidate).
const REQUIRED_REPORTS: &[&str] = &["dockerfile", "kubernetes"];
/// The Kubernetes version the manifests are validated against; the namespace's Pod Security
/// Admission `enforce-version` label names the same one.
const KUBERNETES_VERSION: &str = "1.30.0";
/// A reason shorter than this is not one a reviewer can check ("ok", "n/a", "false positive").
const MIN_REASON_CHARS: usize = 10;
/// The comment forms Checkov obeys (Dockerfiles; the secrets scanner in any file).
const SKIP_COMMENTS: &[&str] = &["checkov:skip=", "bridgecrew:skip=", "cortex:skip="];
/// The annotation key prefixes Checkov obeys in Kubernetes manifests.
const SKIP_ANNOTATIONS: &[&str] = &["checkov.io/skip", "bridgecrew.io/skip", "cortex.io/skip"];
/// What Checkov writes as the reason of a skip that gives none.
const NO_REASON: &str = "No comment provided";

/// The `checkov` stage and `cargo xtask checkov`.
pub(crate) fn check(ctx: &Ctx) -> Result<(), Failure> {
    // Cheap, and needs no Python: malformed skips fail before anything is installed.
    let problems = skip_problems_in(&ctx.root.join(DEPLOY))?;
    if !problems.is_empty() {
        return Err(Failure::new(format!(
            "Checkov skips must name the check and say why:\n  {}",
            problems.join("\n  ")
        )));
    }
    let venv = ensure(ctx)?;

    let mut cmd = Command::new(venv.bin("checkov"));
    cmd.current_dir(&ctx.root)
        .args([
            "-d",
            DEPLOY,
            "--compact",
            "--skip-download",
            "--output",
            "json",
            "--framework",
        ])
        .args(FRAMEWORKS)
        .envs(offline_env());
    println!("$ {}", describe(&cmd));
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Failure::new(format!("could not start checkov: {e}")))?;
    // 0: every check passed; 1: a check failed. Anything else is Checkov failing.
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(Failure::new(format!(
            "checkov failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let reports = parse_reports(&String::from_utf8_lossy(&out.stdout))?;
    let summary = judge(&reports).map_err(|problems| {
        Failure::new(format!("checkov on {DEPLOY}:\n  {}", problems.join("\n  ")))
    })?;
    println!("checkov {}: {summary}", venv.version);
    for report in &reports {
        for skip in &report.skipped {
            println!("  skipped {}", skip.describe());
        }
    }

    let manifests = manifests(&ctx.root.join(MANIFESTS))?;
    runner::run(
        Command::new(venv.bin("kubernetes-validate"))
            .args([
                "--strict",
                "--quiet",
                "--kubernetes-version",
                KUBERNETES_VERSION,
            ])
            .args(&manifests)
            .current_dir(&ctx.root),
    )
    .map_err(|e| {
        Failure::new(format!(
            "the manifests in {MANIFESTS} do not validate against the Kubernetes \
             {KUBERNETES_VERSION} schemas: {e}"
        ))
    })?;
    println!(
        "kubernetes-validate: {} manifest files valid against Kubernetes {KUBERNETES_VERSION} \
         (strict: no unknown fields)",
        manifests.len()
    );
    Ok(())
}

/// Installs (once) and verifies the pinned Checkov and kubernetes-validate.
fn ensure(ctx: &Ctx) -> Result<pyvenv::Venv, Failure> {
    let tool = pyvenv::Pinned {
        package: "checkov",
        lock: LOCK,
    };
    pyvenv::ensure(ctx, tool, |venv| {
        pyvenv::verify_version(&venv.bin("checkov"), &offline_env(), &venv.version)?;
        let lock = read(&ctx.root.join(LOCK))?;
        let validator = pyvenv::locked_version(&lock, "kubernetes-validate").ok_or_else(|| {
            Failure::new(format!(
                "{LOCK} does not pin `kubernetes-validate==<version>`"
            ))
        })?;
        pyvenv::verify_version(&venv.bin("kubernetes-validate"), &[], validator)
    })
}

/// The environment that keeps Checkov off the network. Without these a machine with no
/// network access waits on connection timeouts (the update check, the ID mapping download).
fn offline_env() -> Vec<(&'static str, PathBuf)> {
    vec![
        ("BC_SKIP_MAPPING", PathBuf::from("TRUE")),
        ("CKV_SKIP_PACKAGE_UPDATE_CHECK", PathBuf::from("true")),
        ("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", PathBuf::from("false")),
    ]
}

/// Every `*.yaml` / `*.yml` in `dir`, sorted.
fn manifests(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
    let mut found = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if path.is_file() && is_yaml(&path) {
            found.push(path);
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(Failure::new(format!(
            "{} holds no manifest: nothing to validate",
            dir.display()
        )));
    }
    Ok(found)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// A failed check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Finding {
    id: String,
    name: String,
    /// `Kind.namespace.name` for Kubernetes, the image stage for a Dockerfile.
    resource: String,
    /// Relative to the workspace root (where Checkov runs), with Checkov's leading `/`.
    file: String,
    lines: (u64, u64),
}

impl Finding {
    fn describe(&self) -> String {
        format!(
            "{} \"{}\": {} ({}:{}-{})",
            self.id,
            self.name,
            self.resource,
            self.file.trim_start_matches('/'),
            self.lines.0,
            self.lines.1
        )
    }
}

/// A skipped check and the reason its skip gave.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Skip {
    id: String,
    resource: String,
    file: String,
    reason: String,
}

impl Skip {
    fn describe(&self) -> String {
        format!(
            "{}: {} ({}): {}",
            self.id,
            self.resource,
            self.file.trim_start_matches('/'),
            self.reason
        )
    }
}

/// One framework's results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Report {
    framework: String,
    passed: u64,
    failed: Vec<Finding>,
    skipped: Vec<Skip>,
    parsing_errors: u64,
}

/// Parses Checkov's `--output json`: one object per framework, or a bare object when only one
/// framework reported.
fn parse_reports(json: &str) -> Result<Vec<Report>, Failure> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Failure::new(format!("checkov's JSON output does not parse: {e}")))?;
    let bad = |what: &str| Failure::new(format!("checkov's JSON output has no valid {what}"));
    let items = match &value {
        serde_json::Value::Array(items) => items.clone(),
        serde_json::Value::Object(_) => vec![value.clone()],
        _ => return Err(bad("report list")),
    };
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut reports = Vec::new();
    for item in &items {
        let framework = item["check_type"]
            .as_str()
            .ok_or_else(|| bad("check_type"))?;
        let summary = &item["summary"];
        let count = |key: &str| summary[key].as_u64().ok_or_else(|| bad(key));
        let mut report = Report {
            framework: framework.to_owned(),
            passed: count("passed")?,
            parsing_errors: count("parsing_errors")?,
            ..Report::default()
        };
        let results = &item["results"];
        for c in results["failed_checks"].as_array().into_iter().flatten() {
            let range = &c["file_line_range"];
            report.failed.push(Finding {
                id: text(&c["check_id"]),
                name: text(&c["check_name"]),
                resource: text(&c["resource"]),
                file: text(&c["file_path"]),
                lines: (
                    range[0].as_u64().unwrap_or_default(),
                    range[1].as_u64().unwrap_or_default(),
                ),
            });
        }
        for c in results["skipped_checks"].as_array().into_iter().flatten() {
            report.skipped.push(Skip {
                id: text(&c["check_id"]),
                resource: text(&c["resource"]),
                file: text(&c["file_path"]),
                reason: text(&c["check_result"]["suppress_comment"]),
            });
        }
        // The summary counts what the lists hold; a mismatch means we misread the format.
        if count("failed")? != report.failed.len() as u64
            || count("skipped")? != report.skipped.len() as u64
        {
            return Err(bad(&format!("{framework} failed/skipped lists")));
        }
        reports.push(report);
    }
    Ok(reports)
}

/// Everything wrong with the scan, or its one-line summary.
fn judge(reports: &[Report]) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    for required in REQUIRED_REPORTS {
        if !reports.iter().any(|r| r.framework == *required) {
            problems.push(format!(
                "no {required} results: Checkov found nothing of that kind to scan"
            ));
        }
    }
    for report in reports {
        if report.parsing_errors > 0 {
            problems.push(format!(
                "{}: {} file(s) Checkov could not parse, so left unchecked",
                report.framework, report.parsing_errors
            ));
        }
        for finding in &report.failed {
            problems.push(format!("FAILED {}", finding.describe()));
        }
        for skip in &report.skipped {
            if let Some(problem) = reason_problem(&skip.reason) {
                problems.push(format!(
                    "skip without a reason: {} ({problem})",
                    skip.describe()
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let parts: Vec<String> = reports
        .iter()
        .map(|r| format!("{} {} passed", r.framework, r.passed))
        .collect();
    let skipped: usize = reports.iter().map(|r| r.skipped.len()).sum();
    Ok(format!(
        "{}; 0 failed; {skipped} skipped, each with its reason",
        parts.join(", ")
    ))
}

/// Why `reason` is not a reviewable reason, if it is not one.
fn reason_problem(reason: &str) -> Option<String> {
    let reason = reason.trim();
    if reason.is_empty() || reason == NO_REASON {
        Some("no reason given".to_owned())
    } else if reason.chars().count() < MIN_REASON_CHARS {
        Some(format!("the reason `{reason}` is too short to review"))
    } else {
        None
    }
}

/// Every malformed skip in the files under `dir` (Markdown excepted: it documents the syntax).
fn skip_problems_in(dir: &Path) -> Result<Vec<String>, Failure> {
    let mut problems = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(current) = dirs.pop() {
        let entries = fs::read_dir(&current)
            .map_err(|e| Failure::new(format!("cannot list {}: {e}", current.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| Failure::new(format!("cannot list {}: {e}", current.display())))?
                .path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "md") {
                let shown = path.strip_prefix(dir).unwrap_or(&path);
                let shown = format!("{DEPLOY}/{}", shown.display());
                problems.extend(skip_problems(&shown, &read(&path)?, is_yaml(&path)));
            }
        }
    }
    problems.sort();
    Ok(problems)
}

/// The malformed skips of one file. Checkov takes a skip from a comment
/// `# checkov:skip=<ID>[,<ID>]:<reason>` in a Dockerfile (and, for the secrets scanner, in any
/// file), and for Kubernetes checks only from an annotation `checkov.io/skip<N>: <ID>=<reason>`
/// on the resource: a `checkov:skip` comment naming a Kubernetes check in YAML is ignored by
/// Checkov and would mislead a reader into thinking the check is skipped.
fn skip_problems(file: &str, text: &str, yaml: bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (number, line) in (1u64..).zip(text.lines()) {
        let place = format!("{file}:{number}");
        if let Some(rest) = SKIP_COMMENTS
            .iter()
            .find_map(|mark| line.split_once(mark).map(|(_, rest)| rest))
        {
            let (ids, reason) = rest.split_once(':').unwrap_or((rest, ""));
            if let Some(problem) = reason_problem(reason) {
                problems.push(format!(
                    "{place}: {problem}: write `checkov:skip=<ID>: <reason>`"
                ));
            }
            let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
            if ids.iter().any(|id| id.is_empty()) {
                problems.push(format!("{place}: a skip must name the check"));
            }
            if yaml && ids.iter().any(|id| !id.starts_with("CKV_SECRET_")) {
                problems.push(format!(
                    "{place}: Checkov ignores skip comments for Kubernetes checks: annotate the \
                     resource with `checkov.io/skip<N>: <ID>=<reason>`"
                ));
            }
        }
        if yaml
            && let Some(rest) = SKIP_ANNOTATIONS
                .iter()
                .find_map(|mark| line.split_once(mark).map(|(_, rest)| rest))
        {
            // `checkov.io/skip1: CKV_K8S_43=reason`: the value after the key's colon.
            let value = rest.split_once(':').map_or("", |(_, v)| v);
            let value = value.trim().trim_matches(['"', '\'']);
            match value.split_once('=') {
                // Checkov splits the value on every `=` and expects two parts.
                Some((_, reason)) if reason.contains('=') => problems.push(format!(
                    "{place}: the reason may not contain `=` (Checkov cannot read the annotation)"
                )),
                Some((id, reason)) => {
                    if id.trim().is_empty() {
                        problems.push(format!("{place}: a skip must name the check"));
                    }
                    if let Some(problem) = reason_problem(reason) {
                        problems.push(format!("{place}: {problem}"));
                    }
                }
                None => problems.push(format!(
                    "{place}: no reason given: write `checkov.io/skip<N>: <ID>=<reason>`"
                )),
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checkov 3.3's JSON, trimmed to the fields read here.
    const REPORT: &str = r#"[
        {"check_type": "dockerfile", "results": {"passed_checks": [], "failed_checks": [],
          "skipped_checks": [{"check_id": "CKV_DOCKER_2", "resource": "Dockerfile.",
            "file_path": "/examples/deploy/Dockerfile",
            "check_result": {"result": "SKIPPED", "suppress_comment": "No comment provided"}}]},
         "summary": {"passed": 25, "failed": 0, "skipped": 1, "parsing_errors": 0}},
        {"check_type": "kubernetes", "results": {"failed_checks": [
            {"check_id": "CKV_K8S_22", "check_name": "Use read-only filesystem",
             "resource": "Deployment.paved-demo.example-api", "file_path": "/examples/deploy/k8s/api.yaml",
             "file_line_range": [15, 128], "check_result": {"result": "FAILED"}}],
          "skipped_checks": [{"check_id": "CKV_K8S_15", "resource": "Deployment.paved-demo.x",
            "file_path": "/examples/deploy/k8s/x.yaml",
            "check_result": {"result": "SKIPPED", "suppress_comment": "the digest pins the bytes"}}]},
         "summary": {"passed": 185, "failed": 1, "skipped": 1, "parsing_errors": 0}}
    ]"#;

    #[test]
    fn checkov_json_failures_skips_and_counts_are_parsed() {
        let reports = parse_reports(REPORT).unwrap();
        assert_eq!(reports.len(), 2);
        assert_eq!(reports[0].framework, "dockerfile");
        assert_eq!(reports[0].passed, 25);
        assert_eq!(reports[0].skipped[0].reason, NO_REASON);
        let failed = &reports[1].failed[0];
        assert_eq!(failed.id, "CKV_K8S_22");
        assert_eq!(failed.lines, (15, 128));
        assert_eq!(
            failed.describe(),
            "CKV_K8S_22 \"Use read-only filesystem\": Deployment.paved-demo.example-api \
             (examples/deploy/k8s/api.yaml:15-128)"
        );
        assert_eq!(reports[1].skipped[0].reason, "the digest pins the bytes");
    }

    #[test]
    fn checkov_json_that_is_not_a_report_is_an_error_not_a_clean_scan() {
        assert!(parse_reports("Passed checks: 26, Failed checks: 0").is_err());
        assert!(parse_reports(r#"[{"results": {}}]"#).is_err());
        // A summary that counts a failure the list does not hold: the format was misread.
        let miscounted = r#"{"check_type": "kubernetes", "results": {},
            "summary": {"passed": 1, "failed": 1, "skipped": 0, "parsing_errors": 0}}"#;
        assert!(parse_reports(miscounted).is_err());
        // One framework: a bare object.
        let one = r#"{"check_type": "kubernetes", "results": {"failed_checks": []},
            "summary": {"passed": 3, "failed": 0, "skipped": 0, "parsing_errors": 0}}"#;
        assert_eq!(parse_reports(one).unwrap()[0].passed, 3);
    }

    #[test]
    fn a_failed_check_an_unexplained_skip_or_a_missing_framework_fails_the_stage() {
        let problems = judge(&parse_reports(REPORT).unwrap()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].starts_with("skip without a reason: CKV_DOCKER_2"));
        assert!(problems[1].starts_with("FAILED CKV_K8S_22"));

        let clean = |framework: &str| Report {
            framework: framework.to_owned(),
            passed: 10,
            ..Report::default()
        };
        let summary = judge(&[clean("dockerfile"), clean("kubernetes")]).unwrap();
        assert_eq!(
            summary,
            "dockerfile 10 passed, kubernetes 10 passed; 0 failed; 0 skipped, each with its reason"
        );
        let problems = judge(&[clean("kubernetes")]).unwrap_err();
        assert!(
            problems[0].contains("no dockerfile results"),
            "{problems:?}"
        );
        let unparsed = Report {
            parsing_errors: 1,
            ..clean("dockerfile")
        };
        let problems = judge(&[unparsed, clean("kubernetes")]).unwrap_err();
        assert!(problems[0].contains("could not parse"), "{problems:?}");
        let explained = Report {
            skipped: vec![Skip {
                id: "CKV_K8S_15".into(),
                resource: "Deployment.paved-demo.x".into(),
                file: "/k8s/x.yaml".into(),
                reason: "the digest pins the bytes".into(),
            }],
            ..clean("kubernetes")
        };
        assert!(judge(&[clean("dockerfile"), explained]).is_ok());
    }

    #[test]
    fn skip_comments_need_a_check_and_a_reason() {
        let ok = "# checkov:skip=CKV_DOCKER_2: probes are Kubernetes' job here\n";
        assert!(skip_problems("Dockerfile", ok, false).is_empty());
        for (line, why) in [
            ("# checkov:skip=CKV_DOCKER_2", "no reason"),
            ("# checkov:skip=CKV_DOCKER_2: ok", "too short"),
            ("# checkov:skip=: a reason long enough", "name the check"),
            ("# bridgecrew:skip=CKV_DOCKER_3", "no reason"),
        ] {
            let problems = skip_problems("Dockerfile", line, false);
            assert!(
                problems.iter().any(|p| p.contains(why)),
                "{line}: {problems:?}"
            );
        }
    }

    #[test]
    fn kubernetes_skips_must_be_annotations_with_a_reason() {
        let ok = "metadata:\n  annotations:\n    checkov.io/skip1: CKV_K8S_15=the digest pins the bytes\n";
        assert!(skip_problems("k8s/a.yaml", ok, true).is_empty());
        // The secrets scanner does read comments in YAML.
        let secret = "# checkov:skip=CKV_SECRET_6: a documented test value, not a key\n";
        assert!(skip_problems("k8s/a.yaml", secret, true).is_empty());
        for (line, why) in [
            (
                "  # checkov:skip=CKV_K8S_15: the digest pins the bytes",
                "ignores skip comments",
            ),
            ("    checkov.io/skip1: CKV_K8S_15", "no reason"),
            ("    checkov.io/skip2: CKV_K8S_15=", "no reason"),
            ("    checkov.io/skip3: \"CKV_K8S_15=short\"", "too short"),
            (
                "    checkov.io/skip4: CKV_K8S_15=a=b is long enough",
                "may not contain",
            ),
            (
                "    bridgecrew.io/skip1: =a reason long enough",
                "name the check",
            ),
        ] {
            let problems = skip_problems("k8s/a.yaml", line, true);
            assert!(
                problems.iter().any(|p| p.contains(why)),
                "{line}: {problems:?}"
            );
            assert!(problems[0].starts_with("k8s/a.yaml:1: "), "{problems:?}");
        }
    }

    #[test]
    fn the_deployment_example_has_no_unexplained_skip() {
        let ctx = Ctx::from_env();
        assert_eq!(
            skip_problems_in(&ctx.root.join(DEPLOY)).unwrap(),
            Vec::<String>::new()
        );
        let found = manifests(&ctx.root.join(MANIFESTS)).unwrap();
        assert!(found.len() >= 4, "{found:?}");
    }

    #[test]
    fn the_real_lock_pins_both_tools_with_hashes() {
        let ctx = Ctx::from_env();
        let lock = read(&ctx.root.join(LOCK)).unwrap();
        let version = pyvenv::locked_version(&lock, "checkov").unwrap();
        assert!(version.starts_with("3."), "{version}");
        assert!(pyvenv::locked_version(&lock, "kubernetes-validate").is_some());
        let pins = pyvenv::hash_pinned(&lock).unwrap();
        assert!(pins > 10, "checkov's dependencies are locked too");
        // The CI snippet a team copies runs the same version.
        let ci = read(&ctx.root.join("examples/ci-gates/ci/github-actions.yml")).unwrap();
        assert!(
            ci.contains(&format!("checkov=={version}")),
            "ci snippet pins another version"
        );
    }

    #[test]
    fn the_validated_version_is_the_one_pod_security_enforces() {
        let ctx = Ctx::from_env();
        let namespace = read(&ctx.root.join(MANIFESTS).join("namespace.yaml")).unwrap();
        let minor = KUBERNETES_VERSION.rsplit_once('.').unwrap().0;
        assert!(
            namespace.contains(&format!(
                "pod-security.kubernetes.io/enforce-version: v{minor}"
            )),
            "namespace.yaml enforces another version than the schemas checked"
        );
    }
}
