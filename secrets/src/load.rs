//! Reading secret bytes from the environment and from files, without stray copies.
//!
//! Every intermediate buffer is a [`Zeroizing`] vector allocated once at its final capacity
//! (never grown), so it is wiped on every path out, errors included. The final secret is either
//! that buffer itself (when its capacity equals the secret's length) or one exact copy of it.

use std::path::{Path, PathBuf};

use zeroize::{Zeroize, Zeroizing};

use crate::error::LoadFailure;
use crate::secret::{SecretBytes, SecretString};
use crate::source::LoadOptions;

/// The length of `bytes` without one trailing `\n` or `\r\n`.
pub(crate) fn without_trailing_newline(bytes: &[u8]) -> usize {
    match bytes {
        [.., b'\r', b'\n'] => bytes.len() - 2,
        [.., b'\n'] => bytes.len() - 1,
        _ => bytes.len(),
    }
}

/// The first `len` bytes of `raw` as a secret string.
pub(crate) fn into_secret_string(
    mut raw: Zeroizing<Vec<u8>>,
    len: usize,
) -> Result<SecretString, LoadFailure> {
    let content = &raw[..len];
    if content.is_empty() {
        return Err(LoadFailure::Empty);
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return Err(LoadFailure::NotUnicode);
    };
    if len == raw.len() && raw.capacity() == len {
        // The buffer is exactly the secret: hand it over without copying.
        match String::from_utf8(std::mem::take(&mut *raw)) {
            Ok(owned) => Ok(SecretString::from(owned)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(LoadFailure::NotUnicode)
            }
        }
    } else {
        // One exact copy; `raw` (all of its capacity) is zeroized when it drops.
        Ok(SecretString::from(text))
    }
}

/// All of `raw` as secret bytes.
pub(crate) fn into_secret_bytes(mut raw: Zeroizing<Vec<u8>>) -> Result<SecretBytes, LoadFailure> {
    if raw.is_empty() {
        return Err(LoadFailure::Empty);
    }
    if raw.capacity() == raw.len() {
        Ok(SecretBytes::from(std::mem::take(&mut *raw)))
    } else {
        Ok(SecretBytes::from(raw.as_slice()))
    }
}

/// Reads the variable, then removes it from the environment (unless the caller opted out).
pub(crate) fn read_env(
    name: &str,
    options: &LoadOptions,
) -> Result<Zeroizing<Vec<u8>>, LoadFailure> {
    let value = std::env::var_os(name).ok_or(LoadFailure::NotFound)?;
    let bytes = Zeroizing::new(value.into_encoded_bytes());
    if options.keep_env {
        tracing::warn!(
            variable = name,
            "secret left in the environment (LoadOptions::dangerous_keep_env_var)"
        );
    } else {
        paved_env_remove::remove_var(name).map_err(|e| match e {
            paved_env_remove::RemoveVarError::OtherThreadsRunning { threads } => {
                LoadFailure::OtherThreadsRunning { threads }
            }
            _ => LoadFailure::EnvRemovalUnsupported,
        })?;
    }
    if bytes.len() > options.max_len {
        return Err(LoadFailure::TooLarge {
            limit: options.max_len,
        });
    }
    Ok(bytes)
}

/// `$CREDENTIALS_DIRECTORY/name`, or the configured directory's.
pub(crate) fn credential_path(name: &str, options: &LoadOptions) -> Result<PathBuf, LoadFailure> {
    let dir = match &options.credentials_dir {
        Some(dir) => dir.clone(),
        None => std::env::var_os("CREDENTIALS_DIRECTORY")
            .map(PathBuf::from)
            .ok_or(LoadFailure::CredentialsDirectoryUnset)?,
    };
    if !dir.is_absolute() {
        return Err(LoadFailure::CredentialsDirectoryNotAbsolute);
    }
    Ok(dir.join(name))
}

/// Opens, checks and reads a secret file.
///
/// Order matters against races: the file is opened first and every check that can be made on
/// the open handle is (regular file, mode, size); the path checks (where symbolic links lead)
/// are then tied to that handle by comparing device and inode numbers, so swapping the path
/// between check and open is detected rather than trusted.
#[cfg(unix)]
pub(crate) fn read_file(
    path: &Path,
    options: &LoadOptions,
) -> Result<Zeroizing<Vec<u8>>, LoadFailure> {
    use std::os::unix::fs::MetadataExt;

    use rustix::fs::{Mode, OFlags};

    // NONBLOCK: opening a FIFO must not hang waiting for a writer (it is refused just below).
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map_err(|errno| io_failure(std::io::Error::from(errno)))?;
    let mut file = std::fs::File::from(fd);
    let meta = file.metadata().map_err(io_failure)?;
    if !meta.file_type().is_file() {
        return Err(LoadFailure::NotRegularFile);
    }
    let kubernetes = check_location(path, meta.dev(), meta.ino())?;
    check_mode(meta.mode(), kubernetes, options)?;
    let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
    if size > options.max_len {
        return Err(LoadFailure::TooLarge {
            limit: options.max_len,
        });
    }
    read_capped(&mut file, size, options.max_len)
}

#[cfg(not(unix))]
pub(crate) fn read_file(
    _path: &Path,
    _options: &LoadOptions,
) -> Result<Zeroizing<Vec<u8>>, LoadFailure> {
    Err(LoadFailure::Unsupported)
}

#[cfg(unix)]
fn io_failure(e: std::io::Error) -> LoadFailure {
    if e.kind() == std::io::ErrorKind::NotFound {
        LoadFailure::NotFound
    } else {
        LoadFailure::Io(e)
    }
}

/// Reads at most `size + 1` bytes into one buffer allocated at that size: one byte more than
/// `fstat` reported tells a file that grew (or lied about its size) from one that did not.
#[cfg(unix)]
fn read_capped(
    file: &mut std::fs::File,
    size: usize,
    limit: usize,
) -> Result<Zeroizing<Vec<u8>>, LoadFailure> {
    use std::io::Read;

    let capacity = size + 1;
    let mut buf = Zeroizing::new(vec![0u8; capacity]);
    let mut filled = 0;
    while filled < capacity {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LoadFailure::Io(e)),
        }
    }
    if filled == capacity {
        return Err(if filled > limit {
            LoadFailure::TooLarge { limit }
        } else {
            LoadFailure::Changed
        });
    }
    buf.truncate(filled); // No reallocation; the tail is zero and is wiped with the rest.
    Ok(buf)
}

/// The directory a path names its file in (`.` for a bare file name).
#[cfg(unix)]
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Refuses a path that resolves outside its directory, and ties the resolved path to the opened
/// file (`dev`, `ino`). Returns whether the path is a key of a Kubernetes secret volume.
#[cfg(unix)]
fn check_location(path: &Path, dev: u64, ino: u64) -> Result<bool, LoadFailure> {
    use std::os::unix::fs::MetadataExt;

    let dir = parent_dir(path);
    let canon_dir = std::fs::canonicalize(dir).map_err(io_failure)?;
    let canon_file = std::fs::canonicalize(path).map_err(io_failure)?;
    if !canon_file.starts_with(&canon_dir) {
        return Err(LoadFailure::SymlinkEscapes);
    }
    let resolved = std::fs::metadata(&canon_file).map_err(io_failure)?;
    if resolved.dev() != dev || resolved.ino() != ino {
        return Err(LoadFailure::Changed);
    }
    Ok(is_kubernetes_secret_volume(
        path,
        dir,
        &canon_dir,
        &canon_file,
    ))
}

/// Recognises the layout the kubelet writes for secret (and projected) volumes:
///
/// ```text
/// /etc/secret/key            -> ..data/key
/// /etc/secret/..data         -> ..2024_05_01_12_00_00.123456789
/// /etc/secret/..2024_05_01_12_00_00.123456789/key   (mode 0644 unless defaultMode says otherwise)
/// ```
///
/// All three links must be exactly that shape, and the file must resolve inside the
/// timestamped directory. Nested keys (`items[].path` with a `/`) are not recognised.
#[cfg(unix)]
fn is_kubernetes_secret_volume(
    path: &Path,
    dir: &Path,
    canon_dir: &Path,
    canon_file: &Path,
) -> bool {
    use std::path::Component;

    let Some(name) = path.file_name() else {
        return false;
    };
    let Ok(link) = std::fs::read_link(path) else {
        return false;
    };
    if link != Path::new("..data").join(name) {
        return false;
    }
    let data = dir.join("..data");
    let Ok(target) = std::fs::read_link(&data) else {
        return false;
    };
    let mut components = target.components();
    let (Some(Component::Normal(first)), None) = (components.next(), components.next()) else {
        return false;
    };
    if !first.as_encoded_bytes().starts_with(b"..") {
        return false;
    }
    let Ok(canon_data) = std::fs::canonicalize(&data) else {
        return false;
    };
    canon_data.parent() == Some(canon_dir)
        && canon_file.parent() == Some(canon_data.as_path())
        && volume_dir_trusted(canon_dir, &[path, &data])
        && [canon_data.as_path(), canon_file]
            .iter()
            .all(|p| written_by_trusted_user(p))
}

/// The volume directory itself: written by a trusted user and writable by nobody else — or
/// what the kubelet actually mounts, a root-owned tmpfs with mode 1777 (`drwxrwxrwt`). There
/// the sticky bit keeps every user but the owner of an entry from removing or renaming it
/// (`unlink(2)`, `rename(2)`): if the two links this layout rests on, the key's and `..data`,
/// belong to root or to this process's user, nobody else can have planted or swapped them.
#[cfg(unix)]
fn volume_dir_trusted(dir: &Path, links: &[&Path]) -> bool {
    use std::os::unix::fs::MetadataExt;

    const STICKY: u32 = 0o1000;
    if written_by_trusted_user(dir) {
        return true;
    }
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    let euid = rustix::process::geteuid().as_raw();
    meta.uid() == 0
        && meta.mode() & STICKY != 0
        && links.iter().all(|link| {
            std::fs::symlink_metadata(link).is_ok_and(|m| m.uid() == 0 || m.uid() == euid)
        })
}

/// The kubelet (root) writes secret volumes. The relaxed mode rule applies only when the
/// volume directory, the data directory and the file belong to root or to this process's
/// user and nobody else can write the directories: otherwise anyone who can write to the
/// secret's directory could plant a world-readable file of their choosing in this layout.
#[cfg(unix)]
fn written_by_trusted_user(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;

    const GROUP_OTHER_WRITE: u32 = 0o022;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let euid = rustix::process::geteuid().as_raw();
    let trusted_owner = meta.uid() == 0 || meta.uid() == euid;
    let writable_by_others = meta.is_dir() && meta.mode() & GROUP_OTHER_WRITE != 0;
    trusted_owner && !writable_by_others
}

/// Group and other users may not access the file; in a Kubernetes secret volume, or when the
/// caller opted in, they may read it but still not write it.
#[cfg(unix)]
fn check_mode(mode: u32, kubernetes: bool, options: &LoadOptions) -> Result<(), LoadFailure> {
    const GROUP_OTHER_ANY: u32 = 0o077;
    const GROUP_OTHER_WRITE: u32 = 0o022;

    let perms = mode & 0o777;
    let relaxed = kubernetes || options.shared_read;
    let forbidden = if relaxed {
        GROUP_OTHER_WRITE
    } else {
        GROUP_OTHER_ANY
    };
    if perms & forbidden != 0 {
        return Err(LoadFailure::Permissions { mode: perms });
    }
    if perms & GROUP_OTHER_ANY != 0 {
        if kubernetes {
            tracing::debug!(
                mode = format_args!("{perms:04o}"),
                "group/other read allowed: Kubernetes secret volume layout recognised"
            );
        } else {
            tracing::warn!(
                mode = format_args!("{perms:04o}"),
                "group/other read allowed by LoadOptions::dangerous_allow_group_or_other_read"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn se_06_exactly_one_trailing_newline_is_trimmed() {
        assert_eq!(without_trailing_newline(b"abc"), 3);
        assert_eq!(without_trailing_newline(b"abc\n"), 3);
        assert_eq!(without_trailing_newline(b"abc\r\n"), 3);
        assert_eq!(without_trailing_newline(b"abc\n\n"), 4);
        assert_eq!(without_trailing_newline(b"abc \n"), 4);
        assert_eq!(without_trailing_newline(b"abc\r"), 4);
        assert_eq!(without_trailing_newline(b" abc\t"), 5);
        assert_eq!(without_trailing_newline(b"\n"), 0);
        assert_eq!(without_trailing_newline(b""), 0);
    }

    #[test]
    fn se_02_exact_buffers_are_handed_over_without_a_copy() {
        let raw = Zeroizing::new(b"exact".to_vec());
        let ptr = raw.as_ptr();
        let secret = into_secret_bytes(raw).unwrap();
        assert_eq!(
            secrecy::ExposeSecret::expose_secret(&secret).as_ptr(),
            ptr,
            "an exact buffer must be moved, not copied"
        );
        let raw = Zeroizing::new(b"exact".to_vec());
        let ptr = raw.as_ptr();
        let secret = into_secret_string(raw, 5).unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret).as_ptr(), ptr);
    }

    #[test]
    fn se_02_oversized_buffers_are_copied_exactly() {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(b"secret\n");
        let secret = into_secret_string(Zeroizing::new(v), 6).unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&secret), "secret");
    }

    #[test]
    fn se_06_empty_after_trimming_is_refused() {
        let raw = Zeroizing::new(b"\n".to_vec());
        let len = without_trailing_newline(&raw);
        assert!(matches!(
            into_secret_string(raw, len),
            Err(LoadFailure::Empty)
        ));
        assert!(matches!(
            into_secret_bytes(Zeroizing::new(Vec::new())),
            Err(LoadFailure::Empty)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn se_04_mode_rules() {
        let strict = LoadOptions::new();
        // nosemgrep: paved.dangerous-opt-out -- unit test of the opt-out itself
        let relaxed = LoadOptions::new().dangerous_allow_group_or_other_read();
        for ok in [0o600, 0o400, 0o700, 0o100_600] {
            assert!(check_mode(ok, false, &strict).is_ok(), "{ok:o}");
        }
        for bad in [0o640, 0o604, 0o644, 0o660, 0o606, 0o610, 0o601, 0o100_644] {
            assert!(check_mode(bad, false, &strict).is_err(), "{bad:o}");
        }
        for ok in [0o644, 0o640, 0o444, 0o600] {
            assert!(check_mode(ok, true, &strict).is_ok(), "{ok:o}");
            assert!(check_mode(ok, false, &relaxed).is_ok(), "{ok:o}");
        }
        for bad in [0o664, 0o646, 0o666, 0o622] {
            assert!(check_mode(bad, true, &strict).is_err(), "{bad:o}");
            assert!(check_mode(bad, false, &relaxed).is_err(), "{bad:o}");
        }
    }
}
