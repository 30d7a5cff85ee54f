//! Python tools from `PyPI`, pinned with hashes by a lock file in the repository, each in a
//! virtualenv outside the clone (`$XDG_CACHE_HOME/paved/` or `~/.cache/paved/`) named after
//! the tool's version and the lock's content, so a changed lock installs afresh.
//!
//! The install is `pip install --require-hashes --no-deps --only-binary :all: -r <lock>`: every
//! file is checked against the lock's sha256 (a compromised mirror or a re-uploaded release is
//! refused), nothing outside the lock is resolved, and no package builds from source (no
//! `setup.py` runs on the machine). `pip check` then proves the lock is complete.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::runner::{self, Ctx, Failure};

/// Written into the virtualenv once the install has been verified; a folder without it is a
/// half-finished install and is made again.
const INSTALLED_MARK: &str = ".paved-installed";

/// A Python tool pinned by a lock file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pinned {
    /// The package whose version names the virtualenv (`<package>-<version>-<lock hash>`).
    pub(crate) package: &'static str,
    /// The lock, relative to the workspace root.
    pub(crate) lock: &'static str,
}

/// An installed, verified virtualenv.
#[derive(Debug, Clone)]
pub(crate) struct Venv {
    /// The virtualenv's folder.
    pub(crate) dir: PathBuf,
    /// The version of [`Pinned::package`] the lock pins.
    pub(crate) version: String,
}

impl Venv {
    /// A program of the virtualenv (`bin/<name>`).
    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }
}

/// Makes sure the tool's lock is installed in its virtualenv and returns it. `verify` runs
/// once after a fresh install (for example: the tool reports the pinned version); only then is
/// the install marked complete.
pub(crate) fn ensure(
    ctx: &Ctx,
    tool: Pinned,
    verify: impl Fn(&Venv) -> Result<(), Failure>,
) -> Result<Venv, Failure> {
    let lock_path = ctx.root.join(tool.lock);
    let lock = read(&lock_path)?;
    hash_pinned(&lock).map_err(|problems| {
        Failure::new(format!(
            "{} is not a hash-pinned lock:\n  {}",
            tool.lock,
            problems.join("\n  ")
        ))
    })?;
    let version = locked_version(&lock, tool.package).ok_or_else(|| {
        Failure::new(format!(
            "{} does not pin `{}==<version>`",
            tool.lock, tool.package
        ))
    })?;
    let venv = Venv {
        dir: cache_dir()?.join(venv_name(tool.package, version, &lock)),
        version: version.to_owned(),
    };
    if venv.dir.join(INSTALLED_MARK).is_file() {
        return Ok(venv);
    }
    let python = runner::output({
        let mut c = Command::new("python3");
        c.arg("--version");
        c
    });
    let Some(python) = python else {
        return Err(Failure::new(format!(
            "`python3` is not installed: {} comes from PyPI, installed into a virtualenv \
             (Debian: `apt-get install python3 python3-venv`)",
            tool.package
        )));
    };
    println!(
        "{} {version} is not installed for this lock; installing it with {python} into {} \
         (once per machine and lock)",
        tool.package,
        venv.dir.display()
    );
    if venv.dir.exists() {
        fs::remove_dir_all(&venv.dir).map_err(|e| {
            Failure::new(format!(
                "cannot remove the unfinished install {}: {e}",
                venv.dir.display()
            ))
        })?;
    }
    runner::run(Command::new("python3").arg("-m").arg("venv").arg(&venv.dir)).map_err(|e| {
        Failure::new(format!(
            "creating the virtualenv failed ({e}): the `venv` module and `ensurepip` are needed \
             (Debian: `apt-get install python3-venv`)"
        ))
    })?;
    let pip = venv.bin("pip");
    runner::run(
        Command::new(&pip)
            .args([
                "install",
                "--disable-pip-version-check",
                "--no-input",
                "--progress-bar",
                "off",
                "--require-hashes",
                "--no-deps",
                "--only-binary",
                ":all:",
                "-r",
            ])
            .arg(&lock_path),
    )
    .map_err(|e| Failure::new(format!("installing {} failed: {e}", tool.lock)))?;
    // `--no-deps` trusts the lock to be complete; `pip check` proves it.
    runner::run(Command::new(&pip).args(["check", "--disable-pip-version-check"]))
        .map_err(|e| Failure::new(format!("{} is incomplete: {e}", tool.lock)))?;
    verify(&venv)?;
    fs::write(venv.dir.join(INSTALLED_MARK), lock.as_bytes())
        .map_err(|e| Failure::new(format!("cannot write into {}: {e}", venv.dir.display())))?;
    Ok(venv)
}

/// Checks that `program --version` (run with `env`) prints `want`, as the last word of its
/// output (`kubernetes-validate` prints only the number, other tools prefix their name).
pub(crate) fn verify_version(
    program: &Path,
    env: &[(&str, PathBuf)],
    want: &str,
) -> Result<(), Failure> {
    let reported = runner::output({
        let mut c = Command::new(program);
        c.arg("--version").envs(env.iter().map(|(k, v)| (k, v)));
        c
    });
    let last = reported
        .as_deref()
        .and_then(|r| r.split_whitespace().last());
    if last == Some(want) {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "installed {want}, but `{} --version` reports {}",
            program.display(),
            reported.as_deref().unwrap_or("nothing")
        )))
    }
}

/// `$XDG_CACHE_HOME/paved`, else `$HOME/.cache/paved`: outside the clone, kept between runs.
fn cache_dir() -> Result<PathBuf, Failure> {
    cache_dir_from(
        std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn cache_dir_from(xdg: Option<PathBuf>, home: Option<PathBuf>) -> Result<PathBuf, Failure> {
    // The XDG base directory spec: a relative value is invalid and must be ignored.
    match (xdg.filter(|p| p.is_absolute()), home) {
        (Some(xdg), _) => Ok(xdg.join("paved")),
        (None, Some(home)) if home.is_absolute() => Ok(home.join(".cache").join("paved")),
        _ => Err(Failure::new(
            "neither XDG_CACHE_HOME nor HOME is set to an absolute path: nowhere to keep the \
             Python tools' virtualenvs",
        )),
    }
}

/// `<package>-<version>-<16 hex digits of the lock's FNV-1a hash>`. The hash only names the
/// cache folder; the integrity of what is installed comes from pip's `--require-hashes`.
fn venv_name(package: &str, version: &str, lock: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in lock.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{package}-{version}-{hash:016x}")
}

/// The version `name==<version>` pins in a pip requirements file.
pub(crate) fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    lock.lines().find_map(|line| {
        let spec = line.trim().trim_end_matches('\\').trim();
        let (pkg, version) = spec.split_once("==")?;
        (pkg.trim().eq_ignore_ascii_case(name)).then(|| version.trim())
    })
}

/// What makes `lock` unfit for `pip install --require-hashes` from any machine: a requirement
/// that is not an exact pin, a pin without a sha256 hash line after it, a machine-specific
/// package source. Returns the number of pins when there is nothing wrong.
pub(crate) fn hash_pinned(lock: &str) -> Result<usize, Vec<String>> {
    let mut problems = Vec::new();
    if lock.contains("--find-links") || lock.contains("--index-url") {
        problems.push("a machine-specific package source in the lock".to_owned());
    }
    let mut pins = 0;
    let mut lines = lock.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with([' ', '#']) || line.trim().is_empty() {
            continue;
        }
        if !line.contains("==") {
            problems.push(format!("`{line}` is not an exact pin"));
            continue;
        }
        pins += 1;
        let next = lines.peek().copied().unwrap_or_default();
        if !next.trim().starts_with("--hash=sha256:") {
            problems.push(format!("`{line}` has no hash"));
        }
    }
    if problems.is_empty() {
        Ok(pins)
    } else {
        Err(problems)
    }
}

/// The command line, for the log.
pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        s.push(' ');
        s.push_str(&arg.to_string_lossy());
    }
    s
}

/// A file of the workspace, as text.
pub(crate) fn read(path: &Path) -> Result<String, Failure> {
    fs::read_to_string(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_the_lock() {
        let lock = "annotated-types==0.8.0 \\\n    --hash=sha256:13b2\nsemgrep==1.181.0 \\\n    --hash=sha256:05d7\n";
        assert_eq!(locked_version(lock, "semgrep"), Some("1.181.0"));
        assert_eq!(locked_version(lock, "annotated-types"), Some("0.8.0"));
        assert_eq!(locked_version(lock, "rich"), None);
    }

    #[test]
    fn the_venv_is_named_after_the_package_version_and_lock_content() {
        let a = venv_name("semgrep", "1.181.0", "semgrep==1.181.0\n");
        assert!(a.starts_with("semgrep-1.181.0-"), "{a}");
        assert_eq!(a, venv_name("semgrep", "1.181.0", "semgrep==1.181.0\n"));
        assert_ne!(
            a,
            venv_name("semgrep", "1.181.0", "semgrep==1.181.0\n# changed\n")
        );
        assert!(venv_name("checkov", "3.3.30", "").starts_with("checkov-3.3.30-"));
    }

    #[test]
    fn the_cache_is_under_xdg_cache_home_or_home() {
        let xdg = cache_dir_from(Some("/x/cache".into()), Some("/home/u".into())).unwrap();
        assert_eq!(xdg, Path::new("/x/cache/paved"));
        let home = cache_dir_from(Some("relative".into()), Some("/home/u".into())).unwrap();
        assert_eq!(home, Path::new("/home/u/.cache/paved"));
        assert!(cache_dir_from(None, None).is_err());
    }

    #[test]
    fn a_lock_needs_exact_pins_each_with_a_hash() {
        let good = "# header\na==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via b\nb==2.0 \\\n    --hash=sha256:cc\n";
        assert_eq!(hash_pinned(good), Ok(2));
        let problems = hash_pinned("a==1.0\nb>=2.0\n    --hash=sha256:cc\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`a==1.0` has no hash"));
        assert!(problems[1].contains("`b>=2.0` is not an exact pin"));
        let problems = hash_pinned("--find-links /tmp/wheels\n").unwrap_err();
        assert!(problems[0].contains("machine-specific"), "{problems:?}");
    }
}
