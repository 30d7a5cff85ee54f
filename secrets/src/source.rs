//! Where a secret comes from: [`SecretSource`] and [`LoadOptions`].
//!
//! The source table is documented on [`SecretSource`].

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::error::{Error, InvalidSource, LoadFailure};
use crate::load;
use crate::secret::{SecretBytes, SecretString};

/// The most bytes a loader reads by default: 64 KiB.
///
/// Secrets are small (a 4096-bit RSA key in PEM is about 3.3 KiB; a key ring of
/// [`MAX_KEYS`](crate::MAX_KEYS) keys of [`MAX_KEY_LEN`](crate::MAX_KEY_LEN) bytes is about
/// 44 KiB), so a larger file is a misconfiguration (a log or a disk image), not a secret.
pub const DEFAULT_MAX_LEN: usize = 64 * 1024;

/// The largest value [`LoadOptions::max_len`] accepts: 16 MiB.
pub const MAX_LEN_CEILING: usize = 16 * 1024 * 1024;

/// The longest environment variable or credential name accepted (`NAME_MAX` on Linux).
const MAX_NAME_LEN: usize = 255;

/// Where to load a secret from: `env:NAME`, `file:/path` or `credential:NAME`.
///
/// A service takes one configuration string per secret and does not care which kind it is:
///
/// | string | reads | notes |
/// |---|---|---|
/// | `env:NAME` | environment variable `NAME` | then removes it; needs a single-threaded process |
/// | `file:/path` | the file at `/path` | mode `0600`/`0400`; Kubernetes secret volumes recognised |
/// | `credential:NAME` | `$CREDENTIALS_DIRECTORY/NAME` | systemd `LoadCredential=` |
///
/// Text loads from files and credentials trim exactly one trailing newline (`\n` or `\r\n`,
/// which editors add) and nothing else. Byte loads return the exact bytes. Empty secrets are
/// refused.
///
/// Build it from configuration with [`str::parse`] (or serde, with the `serde` feature), or
/// with [`env`](Self::env), [`file`](Self::file), [`credential`](Self::credential). Its
/// `Display` gives back the configuration string; it names a location, never a secret.
///
/// ```
/// use paved_secrets::SecretSource;
///
/// let source: SecretSource = "credential:db-password".parse()?;
/// assert_eq!(source.to_string(), "credential:db-password");
///
/// // A secret pasted where the source belongs is refused without being echoed.
/// let err = "hunter2".parse::<SecretSource>().unwrap_err();
/// assert!(!err.to_string().contains("hunter2"));
/// # Ok::<(), paved_secrets::InvalidSource>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretSource(Kind);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Kind {
    Env(String),
    File(PathBuf),
    Credential(String),
}

impl SecretSource {
    /// The environment variable `name` (`[A-Za-z_][A-Za-z0-9_]*`, at most 255 characters).
    ///
    /// # Errors
    ///
    /// [`InvalidSource::InvalidEnvName`] for any other name.
    pub fn env(name: &str) -> Result<Self, InvalidSource> {
        if is_portable_env_name(name) {
            Ok(Self(Kind::Env(name.to_owned())))
        } else {
            Err(InvalidSource::InvalidEnvName)
        }
    }

    /// The file at `path` (relative paths resolve against the working directory).
    ///
    /// # Errors
    ///
    /// [`InvalidSource::InvalidPath`] for an empty path or one containing NUL.
    pub fn file(path: impl Into<PathBuf>) -> Result<Self, InvalidSource> {
        let path = path.into();
        if path.as_os_str().is_empty() || path.as_os_str().as_encoded_bytes().contains(&0) {
            Err(InvalidSource::InvalidPath)
        } else {
            Ok(Self(Kind::File(path)))
        }
    }

    /// The systemd credential `name`, read from `$CREDENTIALS_DIRECTORY/name`.
    ///
    /// # Errors
    ///
    /// [`InvalidSource::InvalidCredentialName`] unless `name` is a single file name.
    pub fn credential(name: &str) -> Result<Self, InvalidSource> {
        let valid = !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name != "."
            && name != ".."
            && !name.contains(['/', '\0']);
        if valid {
            Ok(Self(Kind::Credential(name.to_owned())))
        } else {
            Err(InvalidSource::InvalidCredentialName)
        }
    }

    /// Loads a text secret with the default [`LoadOptions`].
    ///
    /// # Errors
    ///
    /// [`Error::Load`] naming this source; see [`LoadFailure`] for the reasons.
    pub fn load_string(&self) -> Result<SecretString, Error> {
        self.load_string_with(&LoadOptions::new())
    }

    /// Loads a text secret: UTF-8, one trailing newline trimmed for files and credentials,
    /// not empty.
    ///
    /// # Errors
    ///
    /// [`Error::Load`] naming this source; see [`LoadFailure`] for the reasons.
    pub fn load_string_with(&self, options: &LoadOptions) -> Result<SecretString, Error> {
        let raw = self.read(options).map_err(|reason| self.failed(reason))?;
        let len = match self.0 {
            Kind::Env(_) => raw.len(),
            Kind::File(_) | Kind::Credential(_) => load::without_trailing_newline(&raw),
        };
        let secret = load::into_secret_string(raw, len).map_err(|reason| self.failed(reason))?;
        tracing::debug!(source = %self, "secret loaded");
        Ok(secret)
    }

    /// Loads a secret's exact bytes with the default [`LoadOptions`].
    ///
    /// # Errors
    ///
    /// [`Error::Load`] naming this source; see [`LoadFailure`] for the reasons.
    pub fn load_bytes(&self) -> Result<SecretBytes, Error> {
        self.load_bytes_with(&LoadOptions::new())
    }

    /// Loads a secret's exact bytes (no newline trimming), not empty.
    ///
    /// # Errors
    ///
    /// [`Error::Load`] naming this source; see [`LoadFailure`] for the reasons.
    pub fn load_bytes_with(&self, options: &LoadOptions) -> Result<SecretBytes, Error> {
        let raw = self.read(options).map_err(|reason| self.failed(reason))?;
        let secret = load::into_secret_bytes(raw).map_err(|reason| self.failed(reason))?;
        tracing::debug!(source = %self, "secret loaded");
        Ok(secret)
    }

    pub(crate) fn failed(&self, reason: LoadFailure) -> Error {
        Error::Load {
            from: self.clone(),
            reason,
        }
    }

    fn read(&self, options: &LoadOptions) -> Result<zeroize::Zeroizing<Vec<u8>>, LoadFailure> {
        match &self.0 {
            Kind::Env(name) => load::read_env(name, options),
            Kind::File(path) => load::read_file(path, options),
            Kind::Credential(name) => {
                let path = load::credential_path(name, options)?;
                load::read_file(&path, options)
            }
        }
    }
}

impl FromStr for SecretSource {
    type Err = InvalidSource;

    /// Parses `env:NAME`, `file:/path` or `credential:NAME`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(name) = s.strip_prefix("env:") {
            Self::env(name)
        } else if let Some(path) = s.strip_prefix("file:") {
            Self::file(path)
        } else if let Some(name) = s.strip_prefix("credential:") {
            Self::credential(name)
        } else {
            Err(InvalidSource::UnknownScheme)
        }
    }
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Kind::Env(name) => write!(f, "env:{name}"),
            Kind::File(path) => write!(f, "file:{}", path.display()),
            Kind::Credential(name) => write!(f, "credential:{name}"),
        }
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SecretSource")
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the names POSIX shells and systemd's `Environment=` accept.
///
/// Refusing anything else also means a secret pasted after `env:` (they usually contain `-`,
/// `+`, `/` or `=`) is refused without being echoed in an error.
fn is_portable_env_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && !bytes[0].is_ascii_digit()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// How loaders read secrets. The defaults are strict; the `dangerous_*` methods weaken them.
///
/// ```
/// use paved_secrets::{LoadOptions, SecretSource};
///
/// let options = LoadOptions::new().max_len(4096);
/// let source: SecretSource = "file:/run/secrets/api-key".parse()?;
/// // let key = source.load_string_with(&options)?;
/// # let _ = (options, source);
/// # Ok::<(), paved_secrets::InvalidSource>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    pub(crate) max_len: usize,
    pub(crate) shared_read: bool,
    pub(crate) keep_env: bool,
    pub(crate) credentials_dir: Option<PathBuf>,
}

impl LoadOptions {
    /// Strict defaults: at most [`DEFAULT_MAX_LEN`] bytes, files private to their owner,
    /// environment variables removed after reading, credentials from `$CREDENTIALS_DIRECTORY`.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            max_len: DEFAULT_MAX_LEN,
            shared_read: false,
            keep_env: false,
            credentials_dir: None,
        }
    }

    /// The most bytes to read (clamped to [`MAX_LEN_CEILING`]).
    #[must_use]
    pub const fn max_len(mut self, max_len: usize) -> Self {
        self.max_len = if max_len > MAX_LEN_CEILING {
            MAX_LEN_CEILING
        } else {
            max_len
        };
        self
    }

    /// Reads credentials from `dir` instead of `$CREDENTIALS_DIRECTORY` (for tests, or a
    /// supervisor other than systemd that uses the same layout). Must be absolute.
    #[must_use]
    pub fn credentials_directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.credentials_dir = Some(dir.into());
        self
    }

    /// **Weakens the file check:** accepts files that the group or other users may read
    /// (never write). Kubernetes secret volumes are recognised without this; use it only for a
    /// layout you have checked yourself, such as a directory only your service can enter.
    #[must_use]
    pub const fn dangerous_allow_group_or_other_read(mut self) -> Self {
        self.shared_read = true;
        self
    }

    /// **Leaves the secret in the environment:** `env:` sources are read but not removed, so
    /// child processes inherit the variable. For a process that must load secrets after its
    /// threads started and accepts that; a warning is logged on every use.
    #[must_use]
    pub const fn dangerous_keep_env_var(mut self) -> Self {
        self.keep_env = true;
        self
    }
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretSource {
    /// The path of a `file:` source, the name of an `env:` or `credential:` source.
    #[must_use]
    pub fn location(&self) -> &std::ffi::OsStr {
        match &self.0 {
            Kind::Env(name) | Kind::Credential(name) => name.as_ref(),
            Kind::File(path) => path.as_os_str(),
        }
    }

    /// Whether this is an `env:` source.
    #[must_use]
    pub fn is_env(&self) -> bool {
        matches!(self.0, Kind::Env(_))
    }

    /// Whether this is a `file:` source.
    #[must_use]
    pub fn is_file(&self) -> bool {
        matches!(self.0, Kind::File(_))
    }

    /// Whether this is a `credential:` source.
    #[must_use]
    pub fn is_credential(&self) -> bool {
        matches!(self.0, Kind::Credential(_))
    }
}
