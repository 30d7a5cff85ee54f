//! The secret types: [`SecretString`], [`SecretBytes`] and [`Secret<T>`].
//!
//! Each wraps secrecy's [`SecretBox`], which owns the value on the heap, zeroizes it on drop and
//! exposes it only through [`ExposeSecret`]. What this module adds:
//!
//! - `Debug` prints the type name, `[REDACTED]` and at most a coarse length class;
//! - no `Display`, no `PartialEq`: [`SecretString::ct_eq`] and friends compare in constant time;
//! - constructors that never leave a copy behind: a `String`/`Vec` with spare capacity is copied
//!   once into an exactly-sized box and the original is zeroized (secrecy's `From<String>` calls
//!   `into_boxed_str`, whose shrinking reallocation can leave the old buffer unzeroized);
//! - the loaders (`from_env`, `from_file`, `from_credential`).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use secrecy::{CloneableSecret, ExposeSecret, ExposeSecretMut, SecretBox};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;
use crate::random;
use crate::source::SecretSource;

/// Compares two byte strings in constant time (for equal lengths).
///
/// The time taken depends on the lengths, not on the contents: strings of different lengths
/// compare unequal at once. Hash first if the length itself must stay hidden.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(a.ct_eq(b))
}

/// Writes `Name([REDACTED], len <class>)`: the only thing a secret's `Debug` reveals is which
/// of five length classes it falls in.
fn fmt_redacted(f: &mut fmt::Formatter<'_>, name: &str, len: usize) -> fmt::Result {
    let class = match len {
        0 => "empty",
        1..=15 => "len 1..16",
        16..=31 => "len 16..32",
        32..=63 => "len 32..64",
        _ => "len 64..",
    };
    write!(f, "{name}([REDACTED], {class})")
}

/// A secret UTF-8 string: a client secret, a token, a password, a connection string.
///
/// Zeroized on drop; `Debug` prints `SecretString([REDACTED], len 16..32)`; no `Display`, no
/// `PartialEq` (use [`ct_eq`](Self::ct_eq)). Read it with [`ExposeSecret::expose_secret`],
/// which makes every use greppable.
///
/// ```
/// use paved_secrets::{ExposeSecret, SecretString};
///
/// let token = SecretString::from("s3cr3t-t0ken-value");
/// assert_eq!(format!("{token:?}"), "SecretString([REDACTED], len 16..32)");
/// assert!(token.ct_eq_bytes("s3cr3t-t0ken-value"));
/// assert_eq!(token.expose_secret().len(), 18);
/// ```
///
/// It cannot be printed or compared with `==`:
///
/// ```compile_fail,E0277
/// let token = paved_secrets::SecretString::from("x");
/// println!("{token}");
/// ```
///
/// ```compile_fail,E0369
/// let a = paved_secrets::SecretString::from("x");
/// let b = paved_secrets::SecretString::from("x");
/// let _ = a == b;
/// ```
#[derive(Clone)]
pub struct SecretString(SecretBox<str>);

impl SecretString {
    /// Reads the environment variable `name`, then removes it from the process environment.
    ///
    /// Call it at the start of `main`, before starting threads or an async runtime: the variable
    /// is only removed while the process is single-threaded, and otherwise the call fails rather
    /// than leave the secret behind. The copy in `/proc/self/environ` (the environment the
    /// process was started with) cannot be erased; prefer [`from_file`](Self::from_file) or
    /// [`from_credential`](Self::from_credential) where you can.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSource`] for a malformed name; [`Error::Load`] when the variable is not
    /// set, is empty, is not UTF-8, or cannot be removed (other threads are running).
    pub fn from_env(name: &str) -> Result<Self, Error> {
        SecretSource::env(name)?.load_string()
    }

    /// Reads a secret from a file, trimming exactly one trailing newline (`\n` or `\r\n`).
    ///
    /// The file must be a regular file that its group and other users cannot access (mode
    /// `0600`/`0400`), unless it sits in a Kubernetes secret volume or the caller opted in with
    /// [`LoadOptions::dangerous_allow_group_or_other_read`](crate::LoadOptions::dangerous_allow_group_or_other_read); a symbolic link may not resolve
    /// outside the file's directory; at most [`DEFAULT_MAX_LEN`](crate::DEFAULT_MAX_LEN) bytes.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSource`] for an empty path; [`Error::Load`] naming the path when a check
    /// fails or the file cannot be read.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        SecretSource::file(path.as_ref())?.load_string()
    }

    /// Reads the systemd credential `name` from `$CREDENTIALS_DIRECTORY` (set by
    /// `LoadCredential=`), with the same checks and newline trimming as
    /// [`from_file`](Self::from_file).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSource`] for a malformed name; [`Error::Load`] when the directory is not
    /// set or the file fails a check.
    pub fn from_credential(name: &str) -> Result<Self, Error> {
        SecretSource::credential(name)?.load_string()
    }

    /// The length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Whether the string is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }

    /// Constant-time equality with another secret (see [`ct_eq`](crate::ct_eq) about lengths).
    #[must_use]
    pub fn ct_eq(&self, other: &Self) -> bool {
        ct_eq(
            self.0.expose_secret().as_bytes(),
            other.0.expose_secret().as_bytes(),
        )
    }

    /// Constant-time equality with a candidate value, such as a token presented by a client.
    #[must_use]
    pub fn ct_eq_bytes(&self, candidate: impl AsRef<[u8]>) -> bool {
        ct_eq(self.0.expose_secret().as_bytes(), candidate.as_ref())
    }
}

impl ExposeSecret<str> for SecretString {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_redacted(f, "SecretString", self.len())
    }
}

impl From<Box<str>> for SecretString {
    /// Takes ownership of the box; no copy is made.
    fn from(boxed: Box<str>) -> Self {
        Self(SecretBox::new(boxed))
    }
}

impl From<String> for SecretString {
    /// Takes the buffer as is when its capacity equals its length; otherwise copies it once into
    /// an exactly-sized buffer and zeroizes the whole original allocation.
    fn from(mut s: String) -> Self {
        if s.capacity() == s.len() {
            Self::from(s.into_boxed_str())
        } else {
            let exact = Box::<str>::from(s.as_str());
            s.zeroize();
            Self::from(exact)
        }
    }
}

impl From<&str> for SecretString {
    /// Copies into an exactly-sized buffer. The source is the caller's to erase.
    fn from(s: &str) -> Self {
        Self::from(Box::<str>::from(s))
    }
}

impl FromStr for SecretString {
    type Err = std::convert::Infallible;

    /// Same as `From<&str>`; lets command-line parsers build a secret directly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl Zeroize for SecretString {
    /// Overwrites the contents with zero bytes now, rather than on drop.
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretString {}

/// Secret bytes: a key, a pepper, a seed.
///
/// Zeroized on drop; `Debug` prints `SecretBytes([REDACTED], len 32..64)`; no `Display`, no
/// `PartialEq` (use [`ct_eq`](Self::ct_eq)). Read it with [`ExposeSecret::expose_secret`].
///
/// ```
/// use paved_secrets::{ExposeSecret, SecretBytes};
///
/// let key = SecretBytes::random(32)?;
/// assert_eq!(key.expose_secret().len(), 32);
/// assert_eq!(format!("{key:?}"), "SecretBytes([REDACTED], len 32..64)");
/// # Ok::<(), paved_secrets::Error>(())
/// ```
#[derive(Clone)]
pub struct SecretBytes(SecretBox<[u8]>);

impl SecretBytes {
    /// `len` bytes from the operating system's CSPRNG.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidLength`] unless [`MIN_RANDOM_LEN`](crate::MIN_RANDOM_LEN) (16 bytes,
    /// 128 bits) `<= len <=` [`MAX_RANDOM_LEN`](crate::MAX_RANDOM_LEN); [`Error::Random`] if the
    /// OS generator fails.
    pub fn random(len: usize) -> Result<Self, Error> {
        random::secret_bytes(len)
    }

    /// Reads the environment variable `name` as raw bytes, then removes it from the process
    /// environment. See [`SecretString::from_env`] for when removal is possible.
    ///
    /// # Errors
    ///
    /// As [`SecretString::from_env`], except that any bytes are accepted.
    pub fn from_env(name: &str) -> Result<Self, Error> {
        SecretSource::env(name)?.load_bytes()
    }

    /// Reads a file's exact bytes (no newline trimming: a binary key may end in `0x0a`), with
    /// the checks of [`SecretString::from_file`].
    ///
    /// # Errors
    ///
    /// As [`SecretString::from_file`], except that any bytes are accepted.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        SecretSource::file(path.as_ref())?.load_bytes()
    }

    /// Reads the systemd credential `name`'s exact bytes. See [`SecretString::from_credential`].
    ///
    /// # Errors
    ///
    /// As [`SecretString::from_credential`], except that any bytes are accepted.
    pub fn from_credential(name: &str) -> Result<Self, Error> {
        SecretSource::credential(name)?.load_bytes()
    }

    /// The length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    /// Whether there are no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.expose_secret().is_empty()
    }

    /// Constant-time equality with another secret (see [`ct_eq`](crate::ct_eq) about lengths).
    #[must_use]
    pub fn ct_eq(&self, other: &Self) -> bool {
        ct_eq(self.0.expose_secret(), other.0.expose_secret())
    }

    /// Constant-time equality with a candidate value.
    #[must_use]
    pub fn ct_eq_bytes(&self, candidate: impl AsRef<[u8]>) -> bool {
        ct_eq(self.0.expose_secret(), candidate.as_ref())
    }
}

impl ExposeSecret<[u8]> for SecretBytes {
    fn expose_secret(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl ExposeSecretMut<[u8]> for SecretBytes {
    /// Mutable access (for in-place decryption, say). The length cannot change, so the buffer
    /// is never reallocated.
    fn expose_secret_mut(&mut self) -> &mut [u8] {
        self.0.expose_secret_mut()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_redacted(f, "SecretBytes", self.len())
    }
}

impl From<Box<[u8]>> for SecretBytes {
    /// Takes ownership of the box; no copy is made.
    fn from(boxed: Box<[u8]>) -> Self {
        Self(SecretBox::new(boxed))
    }
}

impl From<Vec<u8>> for SecretBytes {
    /// Takes the buffer as is when its capacity equals its length; otherwise copies it once into
    /// an exactly-sized buffer and zeroizes the whole original allocation.
    fn from(mut v: Vec<u8>) -> Self {
        if v.capacity() == v.len() {
            Self::from(v.into_boxed_slice())
        } else {
            let exact = Box::<[u8]>::from(v.as_slice());
            v.zeroize();
            Self::from(exact)
        }
    }
}

impl From<&[u8]> for SecretBytes {
    /// Copies into an exactly-sized buffer. The source is the caller's to erase.
    fn from(bytes: &[u8]) -> Self {
        Self::from(Box::<[u8]>::from(bytes))
    }
}

impl Zeroize for SecretBytes {
    /// Overwrites the contents with zero bytes now, rather than on drop.
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl ZeroizeOnDrop for SecretBytes {}

/// Any other secret value `T`, boxed on the heap and zeroized on drop.
///
/// Build it from a box ([`new`](Self::new)) or in place ([`init_with_mut`](Self::init_with_mut))
/// so the value never sits in a stack slot that outlives it: passing a `[u8; 32]` by value
/// copies it, and Rust cannot erase the moved-from copy.
///
/// ```
/// use paved_secrets::{ExposeSecret, Secret};
///
/// let pin = Secret::init_with_mut(|pin: &mut u32| *pin = 1234);
/// assert_eq!(*pin.expose_secret(), 1234);
/// assert_eq!(format!("{pin:?}"), "Secret<u32>([REDACTED])");
/// ```
pub struct Secret<T: Zeroize>(SecretBox<T>);

impl<T: Zeroize> Secret<T> {
    /// Wraps a boxed value; no copy is made.
    #[must_use]
    pub fn new(boxed: Box<T>) -> Self {
        Self(SecretBox::new(boxed))
    }

    /// Builds the value in place on the heap, starting from `T::default()`.
    #[must_use]
    pub fn init_with_mut(ctr: impl FnOnce(&mut T)) -> Self
    where
        T: Default,
    {
        Self(SecretBox::init_with_mut(ctr))
    }

    /// Like [`init_with_mut`](Self::init_with_mut), for a constructor that can fail (the partly
    /// built value is zeroized then).
    ///
    /// # Errors
    ///
    /// Whatever `ctr` returns.
    pub fn try_init_with_mut<E>(ctr: impl FnOnce(&mut T) -> Result<(), E>) -> Result<Self, E>
    where
        T: Default,
    {
        let mut secret = SecretBox::<T>::default();
        ctr(secret.expose_secret_mut())?;
        Ok(Self(secret))
    }

    /// Constant-time equality.
    #[must_use]
    pub fn ct_eq(&self, other: &Self) -> bool
    where
        T: ConstantTimeEq,
    {
        bool::from(self.0.expose_secret().ct_eq(other.0.expose_secret()))
    }
}

impl<T: Zeroize> ExposeSecret<T> for Secret<T> {
    fn expose_secret(&self) -> &T {
        self.0.expose_secret()
    }
}

impl<T: Zeroize> ExposeSecretMut<T> for Secret<T> {
    fn expose_secret_mut(&mut self) -> &mut T {
        self.0.expose_secret_mut()
    }
}

impl<T: Zeroize> From<Box<T>> for Secret<T> {
    fn from(boxed: Box<T>) -> Self {
        Self::new(boxed)
    }
}

impl<T: CloneableSecret> Clone for Secret<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T: Zeroize> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret<{}>([REDACTED])", std::any::type_name::<T>())
    }
}

impl<T: Zeroize> Zeroize for Secret<T> {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> ZeroizeOnDrop for Secret<T> {}
