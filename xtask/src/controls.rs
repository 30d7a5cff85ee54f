//! SECURITY.md cites the tests that prove each control; this check fails when a cited test does
//! not exist, so the audit reference cannot drift from the code.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::runner::{Ctx, Failure};

/// Folders never scanned for test functions (build output, third-party code).
const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git"];

/// Where the controls tables start; every table row after it names tests in its last cell.
const CONTROLS_HEADING: &str = "## Controls and the tests that prove them";

/// Whether `s` looks like a Rust function name (snake case with at least one underscore).
fn is_fn_name(s: &str) -> bool {
    s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Every backticked function name in the last cell of the controls tables' rows.
pub(crate) fn cited_tests(markdown: &str) -> BTreeSet<String> {
    let Some(start) = markdown.find(CONTROLS_HEADING) else {
        return BTreeSet::new();
    };
    markdown[start..]
        .lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .filter_map(|row| row.trim_end().trim_end_matches('|').rsplit('|').next())
        .flat_map(|cell| cell.split('`').skip(1).step_by(2))
        .filter(|s| is_fn_name(s))
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
    // A fuzz target is cited by its name too (`fuzz/fuzz_targets/<name>.rs`).
    declared.extend(crate::tasks::fuzz_targets(&ctx.root.join("fuzz"))?);
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
    fn citations_are_function_names_in_the_last_cell_of_controls_rows() {
        let md = "intro `not_cited_here`\n## Controls and the tests that prove them\n\
                  | row | control | tests |\n|---|---|---|\n\
                  | SE-01 | `SecretString` has `no_display` | `se_01_debug_is_redacted`, `Mixed_Case`, `cargo xtask test`, fuzz `headers_origin_check` |\n\
                  prose `also_not_cited`\n";
        let got: Vec<String> = cited_tests(md).into_iter().collect();
        assert_eq!(got, ["headers_origin_check", "se_01_debug_is_redacted"]);
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
