//! Errors: they name where a secret came from, never what it is.
//!
//! No variant holds secret content, and no `Display` prints input that failed validation: a
//! malformed source string or variable name is often the secret itself pasted into the wrong
//! place, so it is described ("not a valid environment variable name") rather than echoed.

use std::fmt;
use std::io;

use crate::source::SecretSource;

/// The error type of `paved-secrets`.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Loading a secret from a configured source failed.
    Load {
        /// Where the secret was to come from (`env:NAME`, `file:/path`, `credential:NAME`).
        from: SecretSource,
        /// What went wrong.
        reason: LoadFailure,
    },
    /// A secret source, variable name or credential name is malformed.
    InvalidSource(InvalidSource),
    /// A key ring could not be built or changed.
    KeyRing(KeyRingError),
    /// A requested random length is outside the allowed range.
    InvalidLength {
        /// The length asked for.
        requested: usize,
        /// The smallest length allowed.
        min: usize,
        /// The largest length allowed.
        max: usize,
    },
    /// The operating system's random number generator failed.
    Random {
        /// The OS error code, if there is one.
        os_error: Option<i32>,
    },
    /// A [`harden_process`](crate::harden_process) step failed.
    Harden {
        /// The step that failed (the other step was still attempted).
        step: HardenStep,
        /// The `errno` value the kernel returned.
        errno: i32,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Load { from, reason } => write!(f, "cannot load secret from {from}: {reason}"),
            Self::InvalidSource(e) => e.fmt(f),
            Self::KeyRing(e) => e.fmt(f),
            Self::InvalidLength {
                requested,
                min,
                max,
            } => write!(
                f,
                "a random secret of {requested} bytes was requested; the length must be {min} to {max} bytes"
            ),
            Self::Random {
                os_error: Some(code),
            } => {
                write!(f, "the OS random number generator failed (os error {code})")
            }
            Self::Random { os_error: None } => f.write_str("the OS random number generator failed"),
            Self::Harden { step, errno } => {
                write!(f, "process hardening failed: {step} (errno {errno})")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Load { reason, .. } => Some(reason),
            Self::InvalidSource(e) => Some(e),
            Self::KeyRing(e) => Some(e),
            _ => None,
        }
    }
}

impl From<InvalidSource> for Error {
    fn from(e: InvalidSource) -> Self {
        Self::InvalidSource(e)
    }
}

impl From<KeyRingError> for Error {
    fn from(e: KeyRingError) -> Self {
        Self::KeyRing(e)
    }
}

/// Why loading from a [`SecretSource`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadFailure {
    /// The variable is not set, or the file does not exist.
    NotFound,
    /// The value is empty (after trimming one trailing newline, for text loaded from files).
    /// An empty secret compares equal to an empty guess, so it is never accepted.
    Empty,
    /// The value is not valid UTF-8 (text loaders only).
    NotUnicode,
    /// The value is longer than the configured limit.
    TooLarge {
        /// The limit in bytes ([`LoadOptions::max_len`](crate::LoadOptions::max_len)).
        limit: usize,
    },
    /// An I/O error while opening or reading the file.
    Io(io::Error),
    /// The path is not a regular file (a directory, FIFO, device, socket…).
    NotRegularFile,
    /// The file's mode lets its group or other users read (or write) it.
    Permissions {
        /// The file's permission bits (`mode & 0o777`).
        mode: u32,
    },
    /// The path is a symbolic link that resolves outside the directory the path names.
    SymlinkEscapes,
    /// The file changed while it was being checked or read; try again.
    Changed,
    /// Other threads are running, so the variable could not be removed from the environment.
    /// Load environment secrets at the start of `main`, before starting threads or an async
    /// runtime, or use a file or credential source.
    OtherThreadsRunning {
        /// The number of threads the process had.
        threads: usize,
    },
    /// The variable could not be removed from the environment: this platform offers no way to
    /// do it soundly, or `/proc` is unavailable to count threads.
    EnvRemovalUnsupported,
    /// `$CREDENTIALS_DIRECTORY` is not set: the process was not started by systemd with
    /// `LoadCredential=`/`SetCredential=` (or no credentials directory was configured).
    CredentialsDirectoryUnset,
    /// `$CREDENTIALS_DIRECTORY` (or the configured directory) is not an absolute path.
    CredentialsDirectoryNotAbsolute,
    /// The loaded text is not a valid key ring.
    KeyRing(KeyRingError),
    /// File permission checks are not implemented on this platform.
    Unsupported,
}

impl fmt::Display for LoadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("not found"),
            Self::Empty => f.write_str("the secret is empty"),
            Self::NotUnicode => f.write_str("the secret is not valid UTF-8"),
            Self::TooLarge { limit } => write!(f, "the secret is larger than {limit} bytes"),
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::NotRegularFile => f.write_str("not a regular file"),
            Self::Permissions { mode } => write!(
                f,
                "the file is accessible to group or other users (mode {mode:04o}); make it \
                 0600 or 0400 (`chmod go-rwx`), or mount it as a Kubernetes secret volume"
            ),
            Self::SymlinkEscapes => {
                f.write_str("the path is a symbolic link that leaves its directory")
            }
            Self::Changed => f.write_str("the file changed while it was being read"),
            Self::OtherThreadsRunning { threads } => write!(
                f,
                "{threads} threads are running, so the variable cannot be removed from the \
                 environment safely; load secrets at the start of main, before starting threads \
                 or an async runtime, or use a file: or credential: source"
            ),
            Self::EnvRemovalUnsupported => f.write_str(
                "the variable cannot be removed from the environment safely on this platform \
                 (or /proc is unavailable); use a file: or credential: source",
            ),
            Self::CredentialsDirectoryUnset => f.write_str(
                "$CREDENTIALS_DIRECTORY is not set (start the service with systemd's \
                 LoadCredential= or SetCredential=)",
            ),
            Self::CredentialsDirectoryNotAbsolute => {
                f.write_str("the credentials directory is not an absolute path")
            }
            Self::KeyRing(e) => e.fmt(f),
            Self::Unsupported => {
                f.write_str("file permission checks are not supported on this platform")
            }
        }
    }
}

impl std::error::Error for LoadFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::KeyRing(e) => Some(e),
            _ => None,
        }
    }
}

/// A malformed secret source. The offending text is never part of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidSource {
    /// The source string does not start with `env:`, `file:` or `credential:`.
    UnknownScheme,
    /// The environment variable name is not 1 to 255 characters of `A-Z a-z 0-9 _` starting
    /// with a letter or `_`.
    InvalidEnvName,
    /// The credential name is empty, longer than 255 bytes, `.`/`..`, or contains `/` or NUL.
    InvalidCredentialName,
    /// The file path is empty or contains NUL.
    InvalidPath,
}

impl fmt::Display for InvalidSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownScheme => {
                "invalid secret source: expected env:NAME, file:/path or credential:NAME"
            }
            Self::InvalidEnvName => {
                "invalid secret source: an environment variable name must be 1 to 255 \
                 characters of A-Z, a-z, 0-9 and _, not starting with a digit"
            }
            Self::InvalidCredentialName => {
                "invalid secret source: a credential name must be a single file name \
                 (no '/', not '.' or '..', at most 255 bytes)"
            }
            Self::InvalidPath => "invalid secret source: the file path is empty or contains NUL",
        })
    }
}

impl std::error::Error for InvalidSource {}

/// A key ring could not be parsed, built or changed.
///
/// The message is a pure function of [`line`](Self::line) and [`kind`](Self::kind): key
/// material, key ids and line contents are never part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRingError {
    line: Option<usize>,
    kind: KeyRingErrorKind,
}

impl KeyRingError {
    pub(crate) const fn new(kind: KeyRingErrorKind) -> Self {
        Self { line: None, kind }
    }

    pub(crate) const fn at(line: usize, kind: KeyRingErrorKind) -> Self {
        Self {
            line: Some(line),
            kind,
        }
    }

    /// The 1-based line of the key ring text, when the error came from parsing.
    #[must_use]
    pub const fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong.
    #[must_use]
    pub const fn kind(&self) -> KeyRingErrorKind {
        self.kind
    }
}

impl fmt::Display for KeyRingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "key ring line {line}: {}", self.kind),
            None => write!(f, "key ring: {}", self.kind),
        }
    }
}

impl std::error::Error for KeyRingError {}

/// What is wrong with a key ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyRingErrorKind {
    /// A line is not of the form `kid:base64url` (or `*kid:base64url` for the primary).
    MissingSeparator,
    /// A key id is not 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
    InvalidKeyId,
    /// The key is not valid base64url.
    InvalidBase64,
    /// The key is shorter than [`MIN_KEY_LEN`](crate::MIN_KEY_LEN) bytes.
    KeyTooShort,
    /// The key is longer than [`MAX_KEY_LEN`](crate::MAX_KEY_LEN) bytes.
    KeyTooLong,
    /// The key id is already used.
    DuplicateKeyId {
        /// The line that used it first, when parsing.
        first_line: Option<usize>,
    },
    /// More than one line is marked primary.
    MultiplePrimaries {
        /// The line marked primary first.
        first_line: usize,
    },
    /// No line is marked primary (mark it with a leading `*`).
    NoPrimary,
    /// The text holds no keys.
    NoKeys,
    /// More than [`MAX_KEYS`](crate::MAX_KEYS) keys.
    TooManyKeys,
    /// No key has the requested id.
    UnknownKeyId,
    /// The primary key cannot be removed; promote another key first.
    CannotRemovePrimary,
}

impl fmt::Display for KeyRingErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSeparator => {
                f.write_str("expected `kid:base64url` (primary: `*kid:base64url`)")
            }
            Self::InvalidKeyId => {
                f.write_str("a key id must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
            }
            Self::InvalidBase64 => f.write_str("the key is not valid base64url"),
            Self::KeyTooShort => write!(
                f,
                "the key is shorter than {} bytes",
                crate::keyring::MIN_KEY_LEN
            ),
            Self::KeyTooLong => write!(
                f,
                "the key is longer than {} bytes",
                crate::keyring::MAX_KEY_LEN
            ),
            Self::DuplicateKeyId {
                first_line: Some(first),
            } => write!(f, "duplicate key id (first used on line {first})"),
            Self::DuplicateKeyId { first_line: None } => f.write_str("duplicate key id"),
            Self::MultiplePrimaries { first_line } => write!(
                f,
                "more than one key is marked primary (first on line {first_line})"
            ),
            Self::NoPrimary => f.write_str("no key is marked primary (start its line with `*`)"),
            Self::NoKeys => f.write_str("no keys"),
            Self::TooManyKeys => {
                write!(f, "more than {} keys", crate::keyring::MAX_KEYS)
            }
            Self::UnknownKeyId => f.write_str("no key has that id"),
            Self::CannotRemovePrimary => {
                f.write_str("the primary key cannot be removed; promote another key first")
            }
        }
    }
}

/// A step of [`harden_process`](crate::harden_process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HardenStep {
    /// `prctl(PR_SET_DUMPABLE, 0)`.
    NotDumpable,
    /// `setrlimit(RLIMIT_CORE, 0, 0)`.
    NoCoreDumps,
}

impl fmt::Display for HardenStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotDumpable => "prctl(PR_SET_DUMPABLE, 0)",
            Self::NoCoreDumps => "setrlimit(RLIMIT_CORE, 0)",
        })
    }
}
