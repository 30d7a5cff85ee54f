//! The `semgrep` stage: the paved-road rules of `examples/ci-gates` checked against their
//! fixtures, then run over the whole workspace, which must pass its own rules.
//!
//! Semgrep comes from `PyPI`, pinned with hashes by `examples/ci-gates/semgrep/requirements.lock`
//! and installed by [`pyvenv`](crate::pyvenv::ensure) into a virtualenv outside the clone, named after
//! the lock's content so a changed lock installs afresh. It runs offline: local rule files only, no
//! metrics, no version check (without `SEMGREP_ENABLE_VERSION_CHECK=0` a machine without
//! network waits minutes for the check to time out).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::pyvenv::{self, describe, read};
use crate::runner::{Ctx, Failure};

/// The rules a team copies.
const RULES: &str = "examples/ci-gates/semgrep/paved.yml";
/// Semgrep and its dependencies, exact versions and hashes.
const LOCK: &str = "examples/ci-gates/semgrep/requirements.lock";
/// One folder per rule (its id without `paved.`), with `bad.rs` and `good.rs`.
const FIXTURES: &str = "examples/ci-gates/fixtures";
/// Every rule id starts with this.
const RULE_PREFIX: &str = "paved.";
/// The annotation in `bad.rs` that says the next line must be reported (Semgrep's own test
/// convention).
const RULEID_MARK: &str = "ruleid:";

/// What the workspace scan leaves out, and why. Everything else (the paved crates, the
/// examples, xtask, the fuzz workspace) is scanned. Semgrep's built-in ignore list also skips
/// `tests/` and `test/` folders, as it does in a team's CI (README.md, "What is scanned").
const WORKSPACE_EXCLUDES: &[(&str, &str)] = &[
    (
        "target",
        "build output, including generated code of dependencies",
    ),
    ("node_modules", "the identity provider's npm packages"),
    (
        "examples/ci-gates/fixtures",
        "the rules' own test inputs: every bad.rs is meant to be flagged",
    ),
];

/// The `semgrep` stage and `cargo xtask semgrep`.
pub(crate) fn check(ctx: &Ctx) -> Result<(), Failure> {
    let rules_text = read(&ctx.root.join(RULES))?;
    let rule_ids = rule_ids(&rules_text);
    if rule_ids.is_empty() {
        return Err(Failure::new(format!(
            "{RULES} defines no `{RULE_PREFIX}` rule"
        )));
    }
    let semgrep = ensure(ctx)?;

    // (1) Every rule against its fixtures, in one run.
    let fixtures = load_fixtures(&ctx.root.join(FIXTURES))?;
    let fixture_problems = fixture_problems(&rule_ids, &fixtures);
    if !fixture_problems.is_empty() {
        return Err(Failure::new(format!(
            "the fixtures do not match the rules:\n  {}",
            fixture_problems.join("\n  ")
        )));
    }
    let report = semgrep.scan(ctx, &[FIXTURES], false)?;
    let found = by_fixture(&report.findings);
    let mut mismatches = Vec::new();
    let mut expected_total = 0;
    for fixture in &fixtures {
        expected_total += fixture.expected.len();
        let empty = BTreeSet::new();
        let got = found.get(&fixture.name);
        mismatches.extend(compare_fixture(
            fixture,
            got.map_or(&empty, |g| &g.0),
            got.map_or(&empty, |g| &g.1),
        ));
    }
    if !mismatches.is_empty() {
        return Err(Failure::new(format!(
            "the rules do not flag their fixtures as annotated:\n  {}",
            mismatches.join("\n  ")
        )));
    }
    println!(
        "semgrep: {} rules, {} fixtures: all {expected_total} annotated lines in bad.rs flagged, \
         nothing else; good.rs clean",
        rule_ids.len(),
        fixtures.len()
    );

    // (2) The workspace passes its own rules. Semgrep reports every finding (`--disable-nosem`)
    // and the exceptions are sorted out here, so each `nosemgrep` is checked for a rule id and
    // a reason, and counted.
    let report = semgrep.scan(ctx, &["."], true)?;
    let mut sources = BTreeMap::new();
    for finding in &report.findings {
        if !sources.contains_key(&finding.path) {
            let text = read(&ctx.root.join(&finding.path))?;
            sources.insert(finding.path.clone(), text);
        }
    }
    let verdict = judge_exceptions(&report.findings, &sources, &rule_ids);
    if !verdict.unexcused.is_empty() || !verdict.malformed.is_empty() {
        let mut parts = Vec::new();
        if !verdict.unexcused.is_empty() {
            parts.push(format!(
                "{} finding(s) of the paved-road rules in the workspace (fix the code, or, inside \
                 a paved crate, add `// nosemgrep: <rule-id> -- <reason>`):\n  {}",
                verdict.unexcused.len(),
                verdict.unexcused.join("\n  ")
            ));
        }
        if !verdict.malformed.is_empty() {
            parts.push(format!(
                "exceptions must name the rule and give a reason:\n  {}",
                verdict.malformed.join("\n  ")
            ));
        }
        return Err(Failure::new(parts.join("\n")));
    }
    println!(
        "semgrep: workspace: {} files scanned, 0 findings; {} documented exceptions \
         (nosemgrep with a reason) covering {} matches",
        report.scanned,
        verdict.exceptions.len(),
        report.findings.len()
    );
    Ok(())
}

/// The workspace findings sorted into accepted exceptions and failures.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdict {
    /// `path:line` of every `nosemgrep` comment that excused a finding.
    exceptions: BTreeSet<String>,
    /// Findings no `nosemgrep` for their rule covers.
    unexcused: Vec<String>,
    /// `nosemgrep` comments covering a finding without naming a known rule or giving a reason.
    malformed: Vec<String>,
}

/// Applies Semgrep's own `nosemgrep` placement (a trailing comment on the finding's first line,
/// or a comment-only line right above it) to findings of a `--disable-nosem` run, and checks
/// each comment's form with [`nosemgrep_problem`].
fn judge_exceptions(
    findings: &[Finding],
    sources: &BTreeMap<String, String>,
    rule_ids: &[String],
) -> Verdict {
    let mut verdict = Verdict::default();
    let mut unexcused = BTreeSet::new();
    let mut malformed = BTreeSet::new();
    for finding in findings {
        let lines: Vec<&str> = sources
            .get(&finding.path)
            .map(|t| t.lines().collect())
            .unwrap_or_default();
        let at = usize::try_from(finding.line).unwrap_or(usize::MAX);
        let line = |n: usize| n.checked_sub(1).and_then(|i| lines.get(i)).copied();
        let same = line(at).and_then(nosemgrep_comment).map(|c| (at, c));
        let above = line(at.saturating_sub(1))
            .filter(|l| l.trim_start().starts_with("//"))
            .and_then(nosemgrep_comment)
            .map(|c| (at - 1, c));
        let Some((comment_line, comment)) = same.or(above) else {
            unexcused.insert(finding.describe());
            continue;
        };
        let place = format!("{}:{comment_line}", finding.path);
        if let Some(problem) = nosemgrep_problem(comment, rule_ids) {
            malformed.insert(format!("{place}: {problem}"));
        } else if comment_names(comment, &finding.rule) {
            verdict.exceptions.insert(place);
        } else {
            unexcused.insert(format!(
                "{} (the nosemgrep at {place} names another rule)",
                finding.describe()
            ));
        }
    }
    verdict.unexcused = unexcused.into_iter().collect();
    verdict.malformed = malformed.into_iter().collect();
    verdict
}

/// Whether a well-formed `nosemgrep: <ids> -- <reason>` comment lists `rule`.
fn comment_names(comment: &str, rule: &str) -> bool {
    comment
        .split_once("nosemgrep:")
        .and_then(|(_, rest)| rest.split_once(" -- "))
        .is_some_and(|(ids, _)| ids.split(',').any(|id| id.trim() == rule))
}

/// An installed, verified Semgrep.
#[derive(Debug)]
struct Semgrep {
    venv: PathBuf,
}

impl Semgrep {
    /// Runs the rules over `targets` (relative to the workspace root) and parses the report.
    fn scan(&self, ctx: &Ctx, targets: &[&str], workspace: bool) -> Result<Report, Failure> {
        let mut cmd = Command::new(self.venv.join("bin/semgrep"));
        cmd.current_dir(&ctx.root)
            .args([
                "scan",
                "--metrics=off",
                "--disable-version-check",
                "--no-rewrite-rule-ids",
                "--json",
                "--quiet",
                "--config",
                RULES,
            ])
            .envs(offline_env(&self.venv));
        if workspace {
            // Files not yet committed are scanned too (Semgrep's default is git-tracked files
            // only); `.gitignore`'s build output is excluded below instead.
            cmd.args(["--error", "--no-git-ignore", "--disable-nosem"]);
            for (pattern, _why) in WORKSPACE_EXCLUDES {
                cmd.args(["--exclude", pattern]);
            }
        }
        cmd.args(targets);
        println!("$ {}", describe(&cmd));
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Failure::new(format!("could not start semgrep: {e}")))?;
        // 0: no finding; 1: findings with `--error`. Anything else is Semgrep failing.
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0 | 1) => {}
            _ => {
                return Err(Failure::new(format!(
                    "semgrep failed ({}): {}",
                    out.status,
                    stderr.trim()
                )));
            }
        }
        let report = parse_report(&String::from_utf8_lossy(&out.stdout))?;
        if !report.errors.is_empty() {
            return Err(Failure::new(format!(
                "semgrep reported errors (a rule or a file it could not handle):\n  {}",
                report.errors.join("\n  ")
            )));
        }
        Ok(report)
    }
}

/// The environment that keeps Semgrep off the network and its state inside the virtualenv.
fn offline_env(venv: &Path) -> Vec<(&'static str, PathBuf)> {
    vec![
        ("SEMGREP_ENABLE_VERSION_CHECK", PathBuf::from("0")),
        ("SEMGREP_SEND_METRICS", PathBuf::from("off")),
        ("SEMGREP_SETTINGS_FILE", venv.join("semgrep-settings.yml")),
        ("SEMGREP_LOG_FILE", venv.join("semgrep.log")),
        ("SEMGREP_VERSION_CACHE_PATH", venv.join("semgrep-version")),
    ]
}

/// Makes sure the pinned Semgrep is installed in its virtualenv and returns it.
fn ensure(ctx: &Ctx) -> Result<Semgrep, Failure> {
    let tool = pyvenv::Pinned {
        package: "semgrep",
        lock: LOCK,
    };
    let venv = pyvenv::ensure(ctx, tool, |venv| {
        pyvenv::verify_version(&venv.bin("semgrep"), &offline_env(&venv.dir), &venv.version)
    })?;
    Ok(Semgrep { venv: venv.dir })
}

/// The `id:` of every rule in the rules file, in order. (A line scan: xtask parses no YAML.)
fn rule_ids(yaml: &str) -> Vec<String> {
    yaml.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("- id:")?;
            let id = rest.trim().trim_matches(['"', '\'']);
            id.starts_with(RULE_PREFIX).then(|| id.to_owned())
        })
        .collect()
}

/// One finding: the rule, the file (relative to where Semgrep ran) and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    rule: String,
    path: String,
    line: u64,
}

impl Finding {
    fn describe(&self) -> String {
        format!("{}:{}: {}", self.path, self.line, self.rule)
    }
}

/// What one Semgrep run reported.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    findings: Vec<Finding>,
    errors: Vec<String>,
    scanned: usize,
}

/// Parses Semgrep's `--json` output.
fn parse_report(json: &str) -> Result<Report, Failure> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| Failure::new(format!("semgrep's JSON output does not parse: {e}")))?;
    let bad = |what: &str| Failure::new(format!("semgrep's JSON output has no valid {what}"));
    let mut report = Report::default();
    for result in value["results"]
        .as_array()
        .ok_or_else(|| bad("`results`"))?
    {
        let rule = result["check_id"].as_str().ok_or_else(|| bad("check_id"))?;
        let path = result["path"].as_str().ok_or_else(|| bad("path"))?;
        let line = result["start"]["line"]
            .as_u64()
            .ok_or_else(|| bad("start line"))?;
        report.findings.push(Finding {
            rule: rule.to_owned(),
            path: path.to_owned(),
            line,
        });
    }
    for error in value["errors"].as_array().into_iter().flatten() {
        let message = error["message"].as_str().unwrap_or("(no message)");
        let kind = error["type"].as_str().unwrap_or("error");
        report.errors.push(format!("{kind}: {}", message.trim()));
    }
    report.scanned = value["paths"]["scanned"].as_array().map_or(0, Vec::len);
    Ok(report)
}

/// One fixture folder: the rule it tests and the lines `bad.rs` annotates.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fixture {
    /// The folder name: the rule id without `paved.`.
    name: String,
    /// `(line, rule id)` for every line after a `// ruleid: <id>` comment in `bad.rs`.
    expected: BTreeSet<(u64, String)>,
    has_good: bool,
}

fn load_fixtures(dir: &Path) -> Result<Vec<Fixture>, Failure> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
    let mut fixtures = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?
            .path();
        if !path.is_dir() {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bad = path.join("bad.rs");
        let expected = if bad.is_file() {
            expected_findings(&read(&bad)?)
        } else {
            BTreeSet::new()
        };
        fixtures.push(Fixture {
            name,
            expected,
            has_good: path.join("good.rs").is_file(),
        });
    }
    fixtures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(fixtures)
}

/// The `(line, rule id)` pairs a file's `// ruleid: <id>` comments announce: each names the
/// line after it.
fn expected_findings(source: &str) -> BTreeSet<(u64, String)> {
    let mut expected = BTreeSet::new();
    for (number, line) in (1u64..).zip(source.lines()) {
        let Some(comment) = line.trim_start().strip_prefix("//") else {
            continue;
        };
        if let Some(ids) = comment.trim_start().strip_prefix(RULEID_MARK) {
            for id in ids.split(',') {
                expected.insert((number + 1, id.trim().to_owned()));
            }
        }
    }
    expected
}

/// What is wrong with the set of fixtures: a rule without a folder, a folder without a rule,
/// a missing `bad.rs` annotation or `good.rs`, an annotation naming another rule.
fn fixture_problems(rule_ids: &[String], fixtures: &[Fixture]) -> Vec<String> {
    let mut problems = Vec::new();
    for id in rule_ids {
        let short = id.strip_prefix(RULE_PREFIX).unwrap_or(id);
        if !fixtures.iter().any(|f| f.name == short) {
            problems.push(format!(
                "rule `{id}` has no fixture folder {FIXTURES}/{short}/"
            ));
        }
    }
    for fixture in fixtures {
        let id = format!("{RULE_PREFIX}{}", fixture.name);
        if !rule_ids.contains(&id) {
            problems.push(format!(
                "{FIXTURES}/{}/ names no rule (no `{id}` in {RULES})",
                fixture.name
            ));
        }
        if fixture.expected.is_empty() {
            problems.push(format!(
                "{FIXTURES}/{}/bad.rs is missing or has no `// ruleid: {id}` line",
                fixture.name
            ));
        }
        for (line, other) in fixture.expected.iter().filter(|(_, r)| *r != id) {
            problems.push(format!(
                "{FIXTURES}/{}/bad.rs:{line}: annotated `{other}`; a fixture tests its own rule",
                fixture.name
            ));
        }
        if !fixture.has_good {
            problems.push(format!("{FIXTURES}/{}/good.rs is missing", fixture.name));
        }
    }
    problems
}

/// Findings in `<fixture>/bad.rs` and `<fixture>/good.rs`, by fixture name, as `(line, rule)`
/// sets (several matches on one line count once).
type FixtureFindings = BTreeMap<String, (BTreeSet<(u64, String)>, BTreeSet<(u64, String)>)>;

fn by_fixture(findings: &[Finding]) -> FixtureFindings {
    let mut map = FixtureFindings::new();
    for f in findings {
        let Some(rest) = f
            .path
            .strip_prefix(FIXTURES)
            .and_then(|r| r.strip_prefix('/'))
        else {
            continue;
        };
        let Some((name, file)) = rest.split_once('/') else {
            continue;
        };
        let entry = map.entry(name.to_owned()).or_default();
        let key = (f.line, f.rule.clone());
        match file {
            "bad.rs" => {
                entry.0.insert(key);
            }
            _ => {
                // good.rs, or any other file in the folder: nothing may be flagged there.
                entry.1.insert((f.line, format!("{} in {file}", f.rule)));
            }
        }
    }
    map
}

/// Exactly the annotated lines of `bad.rs` are flagged, by the annotated rule; nothing in
/// `good.rs`.
fn compare_fixture(
    fixture: &Fixture,
    bad: &BTreeSet<(u64, String)>,
    good: &BTreeSet<(u64, String)>,
) -> Vec<String> {
    let dir = format!("{FIXTURES}/{}", fixture.name);
    let mut out = Vec::new();
    for (line, rule) in fixture.expected.difference(bad) {
        out.push(format!(
            "{dir}/bad.rs:{line}: `{rule}` did not flag this line"
        ));
    }
    for (line, rule) in bad.difference(&fixture.expected) {
        out.push(format!(
            "{dir}/bad.rs:{line}: unexpected `{rule}` finding (annotate it or fix the rule)"
        ));
    }
    for (line, what) in good {
        out.push(format!(
            "{dir}:{line}: `{what}` flagged the paved-road code"
        ));
    }
    out
}

/// The `// nosemgrep…` line comment in `line`, if it has one: the kind Semgrep obeys. Doc
/// comments and string literals that merely mention the word are not annotations.
fn nosemgrep_comment(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if trimmed.starts_with("///") || trimmed.starts_with("//!") {
        return None;
    }
    let mut from = 0;
    while let Some(found) = line[from..].find("//") {
        let at = from + found;
        // An odd number of quotes before it: the `//` is inside a string literal.
        let in_string = line[..at].matches('"').count() % 2 == 1;
        if !in_string {
            let comment = &line[at..];
            return comment[2..]
                .trim_start()
                .starts_with("nosemgrep")
                .then_some(comment);
        }
        from = at + 2;
    }
    None
}

/// Why a line holding `nosemgrep` is not a documented exception, if it is not one. The form is
/// `// nosemgrep: <rule-id>[, <rule-id>] -- <reason>`: a bare `nosemgrep` would silence every
/// rule, and an exception without a reason cannot be reviewed.
fn nosemgrep_problem(line: &str, rule_ids: &[String]) -> Option<String> {
    let at = line.find("nosemgrep")?;
    let rest = &line[at + "nosemgrep".len()..];
    let Some(rest) = rest.strip_prefix(':') else {
        return Some("`nosemgrep` without a rule id silences every rule".to_owned());
    };
    let Some((ids, reason)) = rest.split_once(" -- ") else {
        return Some("no reason: write `// nosemgrep: <rule-id> -- <reason>`".to_owned());
    };
    if reason.trim().len() < 10 {
        return Some(format!(
            "the reason `{}` is too short to review",
            reason.trim()
        ));
    }
    for id in ids.split(',').map(str::trim) {
        if !rule_ids.iter().any(|r| r == id) {
            return Some(format!("`{id}` is not a rule of {RULES}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        vec!["paved.a-rule".to_owned(), "paved.b-rule".to_owned()]
    }

    #[test]
    fn semgrep_json_findings_errors_and_counts_are_parsed() {
        let json = r#"{
            "results": [
                {"check_id": "paved.a-rule", "path": "src/x.rs",
                 "start": {"line": 3, "col": 1}, "end": {"line": 3, "col": 9},
                 "extra": {"lines": "requires login"}},
                {"check_id": "paved.b-rule", "path": "src/y.rs",
                 "start": {"line": 10, "col": 5}, "end": {"line": 12, "col": 1}, "extra": {}}
            ],
            "errors": [{"type": "Rule parse error", "message": " bad pattern \n"}],
            "paths": {"scanned": ["src/x.rs", "src/y.rs", "src/z.rs"]}
        }"#;
        let report = parse_report(json).unwrap();
        assert_eq!(
            report.findings,
            [
                Finding {
                    rule: "paved.a-rule".into(),
                    path: "src/x.rs".into(),
                    line: 3
                },
                Finding {
                    rule: "paved.b-rule".into(),
                    path: "src/y.rs".into(),
                    line: 10
                },
            ]
        );
        assert_eq!(report.errors, ["Rule parse error: bad pattern"]);
        assert_eq!(report.scanned, 3);
    }

    #[test]
    fn semgrep_json_without_results_is_an_error_not_a_clean_scan() {
        // A clean-looking empty report must not come from output we failed to understand.
        assert!(parse_report(r#"{"errors": []}"#).is_err());
        assert!(parse_report("Scanning 3 files...").is_err());
        let clean = parse_report(r#"{"results": [], "errors": []}"#).unwrap();
        assert!(clean.findings.is_empty() && clean.errors.is_empty());
    }

    #[test]
    fn rule_ids_are_read_from_the_rules_file() {
        let yaml = "rules:\n  - id: paved.a-rule\n    languages: [rust]\n    patterns:\n      - pattern: x\n  - id: \"paved.b-rule\"\n  - id: other.rule\n";
        assert_eq!(rule_ids(yaml), ids());
    }

    #[test]
    fn the_real_rules_each_have_a_fixture_pair() {
        let ctx = Ctx::from_env();
        let ids = rule_ids(&read(&ctx.root.join(RULES)).unwrap());
        assert!(ids.len() >= 7, "{ids:?}");
        let fixtures = load_fixtures(&ctx.root.join(FIXTURES)).unwrap();
        assert_eq!(fixture_problems(&ids, &fixtures), Vec::<String>::new());
    }

    #[test]
    fn ruleid_annotations_name_the_next_line() {
        let src = "fn f() {\n    // ruleid: paved.a-rule\n    bad();\n    ok(); // ruleid: not at line start is ignored\n  //ruleid:paved.a-rule, paved.b-rule\n    worse();\n}\n";
        let want: BTreeSet<(u64, String)> = [
            (3, "paved.a-rule".to_owned()),
            (6, "paved.a-rule".to_owned()),
            (6, "paved.b-rule".to_owned()),
        ]
        .into();
        assert_eq!(expected_findings(src), want);
    }

    #[test]
    fn every_rule_needs_a_fixture_and_every_fixture_a_rule() {
        let fixture = |name: &str, expected: &[(u64, &str)], has_good| Fixture {
            name: name.to_owned(),
            expected: expected
                .iter()
                .map(|(l, r)| (*l, (*r).to_owned()))
                .collect(),
            has_good,
        };
        let ok = fixture("a-rule", &[(3, "paved.a-rule")], true);
        let problems = fixture_problems(
            &ids(),
            &[
                ok.clone(),
                fixture("stray", &[(1, "paved.stray")], true),
                fixture("b-rule", &[], false),
            ],
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems.iter().any(|p| p.contains("stray/ names no rule")));
        assert!(
            problems
                .iter()
                .any(|p| p.contains("b-rule/bad.rs is missing"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("b-rule/good.rs is missing"))
        );

        let missing = fixture_problems(&ids(), std::slice::from_ref(&ok));
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("`paved.b-rule` has no fixture folder"));

        let foreign = fixture("a-rule", &[(3, "paved.b-rule")], true);
        let problems = fixture_problems(&ids()[..1], &[foreign]);
        assert!(
            problems[0].contains("a fixture tests its own rule"),
            "{problems:?}"
        );
    }

    #[test]
    fn findings_are_matched_to_their_fixture_and_compared_exactly() {
        let at = |path: &str, line, rule: &str| Finding {
            rule: rule.into(),
            path: format!("{FIXTURES}/{path}"),
            line,
        };
        let findings = [
            at("a-rule/bad.rs", 3, "paved.a-rule"),
            at("a-rule/bad.rs", 3, "paved.a-rule"), // two matches on one line count once
            at("a-rule/bad.rs", 9, "paved.a-rule"),
            at("a-rule/good.rs", 4, "paved.b-rule"),
        ];
        let map = by_fixture(&findings);
        let (bad, good) = &map["a-rule"];
        assert_eq!(bad.len(), 2);
        let fixture = Fixture {
            name: "a-rule".into(),
            expected: [(3, "paved.a-rule".into()), (5, "paved.a-rule".into())].into(),
            has_good: true,
        };
        let problems = compare_fixture(&fixture, bad, good);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("bad.rs:5: `paved.a-rule` did not flag"));
        assert!(problems[1].contains("bad.rs:9: unexpected"));
        assert!(problems[2].contains("paved.b-rule in good.rs"));

        let exact = [
            at("a-rule/bad.rs", 3, "paved.a-rule"),
            at("a-rule/bad.rs", 5, "paved.a-rule"),
        ];
        let map = by_fixture(&exact);
        let (bad, good) = &map["a-rule"];
        assert!(compare_fixture(&fixture, bad, good).is_empty());
    }

    #[test]
    fn nosemgrep_needs_a_known_rule_and_a_reason() {
        let ids = ids();
        let ok = "// nosemgrep: paved.a-rule -- the paved crate implements this control";
        assert_eq!(nosemgrep_problem(ok, &ids), None);
        let two = "x(); // nosemgrep: paved.a-rule, paved.b-rule -- both are the implementation";
        assert_eq!(nosemgrep_problem(two, &ids), None);
        assert_eq!(nosemgrep_problem("let a = 1;", &ids), None);
        for (line, why) in [
            ("// nosemgrep", "without a rule id"),
            ("// nosemgrep: paved.a-rule", "no reason"),
            ("// nosemgrep: paved.a-rule -- ok", "too short"),
            (
                "// nosemgrep: paved.zzz -- a reason long enough",
                "not a rule",
            ),
        ] {
            let problem = nosemgrep_problem(line, &ids).unwrap();
            assert!(problem.contains(why), "{line}: {problem}");
        }
    }

    #[test]
    fn only_real_line_comments_are_nosemgrep_annotations() {
        let comment = "// nosemgrep: paved.a-rule -- a reason long enough";
        assert_eq!(nosemgrep_comment(comment), Some(comment));
        assert_eq!(
            nosemgrep_comment("    x(); //nosemgrep"),
            Some("//nosemgrep")
        );
        for not_one in [
            "/// The form is `// nosemgrep: <rule-id> -- <reason>`",
            "//! a bare `// nosemgrep` silences every rule",
            r#"let s = "// nosemgrep: paved.a-rule";"#,
            "let url = \"https://x\"; // a comment about nosemgrep",
            "let nosemgrep = 1;",
        ] {
            assert_eq!(nosemgrep_comment(not_one), None, "{not_one}");
        }
    }

    #[test]
    fn exceptions_need_the_rule_and_a_reason_next_to_the_finding() {
        let ids = ids();
        let src = "\
fn f() {
    // nosemgrep: paved.a-rule -- the paved crate implements this control
    flagged();
    flagged(); // nosemgrep: paved.a-rule -- the paved crate implements this control
    // nosemgrep: paved.b-rule -- a reason for another rule entirely
    flagged();
    flagged();
    // nosemgrep: paved.a-rule
    flagged();
    let x = 1; // nosemgrep: paved.a-rule -- not on a comment-only line above
    flagged();
}
";
        let sources: BTreeMap<String, String> = [("src/f.rs".to_owned(), src.to_owned())].into();
        let at = |line| Finding {
            rule: "paved.a-rule".into(),
            path: "src/f.rs".into(),
            line,
        };
        let verdict =
            judge_exceptions(&[at(3), at(4), at(6), at(7), at(9), at(11)], &sources, &ids);
        assert_eq!(
            verdict.exceptions,
            ["src/f.rs:2".to_owned(), "src/f.rs:4".to_owned()].into()
        );
        assert_eq!(
            verdict.unexcused,
            [
                "src/f.rs:11: paved.a-rule",
                "src/f.rs:6: paved.a-rule (the nosemgrep at src/f.rs:5 names another rule)",
                "src/f.rs:7: paved.a-rule",
            ]
        );
        assert_eq!(verdict.malformed.len(), 1, "{:?}", verdict.malformed);
        assert!(verdict.malformed[0].starts_with("src/f.rs:8: no reason"));
    }

    #[test]
    fn the_real_lock_pins_every_package_with_hashes() {
        let ctx = Ctx::from_env();
        let lock = read(&ctx.root.join(LOCK)).unwrap();
        let version = pyvenv::locked_version(&lock, "semgrep").unwrap();
        assert_eq!(version.split('.').count(), 3, "{version}");
        let pins = pyvenv::hash_pinned(&lock).unwrap();
        assert!(pins > 10, "semgrep's dependencies are locked too");
        // The CI snippet a team copies runs the same version.
        let ci = read(&ctx.root.join("examples/ci-gates/ci/github-actions.yml")).unwrap();
        assert!(
            ci.contains(&format!("semgrep=={version}")),
            "ci snippet pins another version"
        );
    }

    #[test]
    fn the_workspace_scan_excludes_the_fixtures_and_says_why() {
        assert!(WORKSPACE_EXCLUDES.iter().any(|(p, _)| *p == FIXTURES));
        assert!(WORKSPACE_EXCLUDES.iter().all(|(_, why)| !why.is_empty()));
        // The paved crates themselves are scanned: their exceptions are nosemgrep comments.
        for dir in ["secrets", "crypto", "headers", "auth", "examples", "xtask"] {
            assert!(WORKSPACE_EXCLUDES.iter().all(|(p, _)| *p != dir), "{dir}");
        }
    }
}
