//! SECURITY.md cites the tests that prove each control; this check fails when a cited test does
//! not exist, so the audit reference cannot drift from the code.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::runner::{Ctx, Failure};

/// Folders never scanned for test functions (build output, third-party code).
const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git"];

/// Whether `s` is a cited test name: a checklist row prefix (`se_01_`, `jw_12_`) then a name.
fn is_test_citation(s: &str) -> bool {
    let b = s.as_bytes();
    let prefix_len = b.iter().take_while(|c| c.is_ascii_lowercase()).count();
    if !(2..=3).contains(&prefix_len) {
        return false;
    }
    let rest = &b[prefix_len..];
    rest.len() > 4
        && rest[0] == b'_'
        && rest[1].is_ascii_digit()
        && rest[2].is_ascii_digit()
        && rest[3] == b'_'
        && rest[4..]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Every backticked test citation in `markdown`.
pub(crate) fn cited_tests(markdown: &str) -> BTreeSet<String> {
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| is_test_citation(s))
        .map(str::to_owned)
        .collect()
}

/// Every function name declared in `source` (`fn name(` or `fn name<`).
pub(crate) fn declared_functions(source: &str) -> impl Iterator<Item = &str> {
    source.match_indices("fn ").filter_map(move |(i, _)| {
        let before = source[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let rest = &source[i + 3..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let next = rest[end..].trim_start().chars().next();
        (end > 0 && matches!(next, Some('(' | '<'))).then(|| &rest[..end])
    })
}

fn collect_functions(dir: &Path, found: &mut BTreeSet<String>) -> Result<(), Failure> {
    let entries = fs::read_dir(dir)
        .map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let entry =
            entry.map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|e| Failure::new(format!("cannot stat {}: {e}", path.display())))?;
        if file_type.is_dir() {
            let skip = path
                .file_name()
                .is_some_and(|n| SKIP_DIRS.iter().any(|s| n == *s));
            if !skip {
                collect_functions(&path, found)?;
            }
        } else if file_type.is_file() && path.extension().is_some_and(|e| e == "rs") {
            let source = fs::read_to_string(&path)
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
            found.extend(declared_functions(&source).map(str::to_owned));
        }
    }
    Ok(())
}

/// The stage: every test SECURITY.md cites is declared somewhere in the workspace.
pub(crate) fn check(ctx: &Ctx) -> Result<(), Failure> {
    let path = ctx.root.join("SECURITY.md");
    let markdown = fs::read_to_string(&path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let cited = cited_tests(&markdown);
    let mut declared = BTreeSet::new();
    collect_functions(&ctx.root, &mut declared)?;
    let missing: Vec<&str> = cited
        .iter()
        .filter(|t| !declared.contains(*t))
        .map(String::as_str)
        .collect();
    println!("SECURITY.md cites {} tests", cited.len());
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "SECURITY.md cites tests that do not exist: {}",
            missing.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_are_row_prefixed_snake_case_names() {
        let md = "| SE-01 | `se_01_debug_is_redacted`, `jw_12_kid_injection` | `SecretString` `cargo xtask test` `pw_1_short` `x_01_a` `hd_03_Mixed`";
        let got: Vec<String> = cited_tests(md).into_iter().collect();
        assert_eq!(got, ["jw_12_kid_injection", "se_01_debug_is_redacted"]);
    }

    #[test]
    fn function_declarations_are_found_and_calls_are_not() {
        let src = "#[test]\nfn se_01_a() {}\npub(crate) fn generic<T>() {}\nasync fn b ()\nlet x = defn c(); // fn\n";
        let got: Vec<&str> = declared_functions(src).collect();
        assert_eq!(got, ["se_01_a", "generic", "b"]);
    }

    #[test]
    fn every_cited_test_exists() {
        check(&Ctx::from_env()).unwrap();
    }
}
