//! SE-04 (file checks), SE-05 (credentials directory), SE-06 (newline trimming), SE-09 (loader
//! errors never carry content).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

use paved_secrets::{
    Error, ExposeSecret, KeyRing, LoadFailure, LoadOptions, SecretBytes, SecretSource, SecretString,
};
use proptest::prelude::*;
use support::assert_no_leak;

fn write(path: &Path, contents: &[u8], mode: u32) {
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn private_file(dir: &Path, name: &str, contents: &[u8]) -> PathBuf {
    let path = dir.join(name);
    write(&path, contents, 0o600);
    path
}

fn failure(result: Result<impl std::fmt::Debug, Error>) -> LoadFailure {
    match result {
        Err(Error::Load { reason, .. }) => reason,
        other => panic!("expected a load failure, got {other:?}"),
    }
}

#[test]
fn se_04_private_file_is_loaded() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o600, 0o400] {
        let path = dir.path().join(format!("key-{mode:o}"));
        write(&path, b"file-secret", mode);
        assert_eq!(
            SecretString::from_file(&path).unwrap().expose_secret(),
            "file-secret"
        );
    }
}

#[test]
fn se_04_group_or_other_readable_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    for mode in [
        0o640, 0o604, 0o644, 0o660, 0o606, 0o620, 0o602, 0o610, 0o601, 0o666,
    ] {
        write(&path, b"should-not-load", mode);
        let err = SecretString::from_file(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(&err, Error::Load { reason: LoadFailure::Permissions { mode: m }, .. } if *m == mode),
            "{mode:o}: {err:?}"
        );
        assert!(
            text.contains(&path.display().to_string()),
            "names the path: {text}"
        );
        assert!(
            text.contains(&format!("{mode:04o}")),
            "names the mode: {text}"
        );
        assert!(!text.contains("should-not-load"), "{text}");
        assert!(SecretBytes::from_file(&path).is_err());
    }
}

#[test]
fn se_04_opt_in_by_name_allows_group_read_but_never_write() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("key");
    let relaxed = LoadOptions::new().dangerous_allow_group_or_other_read();
    let source = SecretSource::file(&path).unwrap();
    for mode in [0o640, 0o644, 0o444] {
        write(&path, b"shared", mode);
        assert_eq!(
            source.load_string_with(&relaxed).unwrap().expose_secret(),
            "shared"
        );
    }
    for mode in [0o664, 0o646, 0o666] {
        write(&path, b"shared", mode);
        assert!(matches!(
            failure(source.load_string_with(&relaxed)),
            LoadFailure::Permissions { .. }
        ));
    }
}

#[test]
fn se_04_symlink_inside_the_directory_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    private_file(dir.path(), "real", b"via-link");
    symlink("real", dir.path().join("link")).unwrap();
    symlink(dir.path().join("link"), dir.path().join("link2")).unwrap();
    for name in ["link", "link2"] {
        assert_eq!(
            SecretString::from_file(dir.path().join(name))
                .unwrap()
                .expose_secret(),
            "via-link"
        );
    }
}

#[test]
fn se_04_symlink_leaving_the_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let secrets = root.path().join("secrets");
    let elsewhere = root.path().join("elsewhere");
    fs::create_dir(&secrets).unwrap();
    fs::create_dir(&elsewhere).unwrap();
    let outside = private_file(&elsewhere, "target", b"outside-secret");
    symlink("../elsewhere/target", secrets.join("relative")).unwrap();
    symlink(&outside, secrets.join("absolute")).unwrap();
    // A chain that starts inside and ends outside.
    symlink("relative", secrets.join("chain")).unwrap();
    // Into a subdirectory is "inside".
    fs::create_dir(secrets.join("sub")).unwrap();
    private_file(&secrets.join("sub"), "nested", b"nested-ok");
    symlink("sub/nested", secrets.join("down")).unwrap();
    for name in ["relative", "absolute", "chain"] {
        let err = SecretString::from_file(secrets.join(name)).unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Load {
                    reason: LoadFailure::SymlinkEscapes,
                    ..
                }
            ),
            "{name}: {err:?}"
        );
        assert!(!err.to_string().contains("outside-secret"));
    }
    assert_eq!(
        SecretString::from_file(secrets.join("down"))
            .unwrap()
            .expose_secret(),
        "nested-ok"
    );
}

/// Builds the layout the kubelet writes for a secret volume, files 0644.
fn kubernetes_volume(root: &Path, key: &str, contents: &[u8], mode: u32) -> PathBuf {
    let volume = root.join("volume");
    let stamp = "..2025_06_01_12_00_00.123456789";
    fs::create_dir_all(volume.join(stamp)).unwrap();
    write(&volume.join(stamp).join(key), contents, mode);
    symlink(stamp, volume.join("..data")).unwrap();
    symlink(Path::new("..data").join(key), volume.join(key)).unwrap();
    volume.join(key)
}

#[test]
fn se_04_kubernetes_secret_volume_is_recognised() {
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "api-token", b"k8s-secret\n", 0o644);
    assert_eq!(
        SecretString::from_file(&path).unwrap().expose_secret(),
        "k8s-secret"
    );
    // Through a source string, as a service would configure it.
    let source: SecretSource = format!("file:{}", path.display()).parse().unwrap();
    assert_eq!(source.load_string().unwrap().expose_secret(), "k8s-secret");
}

/// The kubelet mounts a secret volume as a tmpfs whose root is `drwxrwxrwt root`: world-
/// writable with the sticky bit. That real layout is recognised; a link in it that belongs to
/// another user (planted before the kubelet wrote its own) is not.
#[test]
fn se_04_kubelet_sticky_tmpfs_volume_is_recognised() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "api-token", b"k8s-secret", 0o440);
    let volume = path.parent().unwrap().to_path_buf();
    fs::set_permissions(&volume, fs::Permissions::from_mode(0o1777)).unwrap();
    assert_eq!(
        SecretString::from_file(&path).unwrap().expose_secret(),
        "k8s-secret"
    );
    // `..data` owned by another user: in a sticky directory that user could have swapped it.
    // Changing a link's owner needs root, which the test environment has.
    if std::os::unix::fs::lchown(volume.join("..data"), Some(65_534), Some(65_534)).is_ok() {
        assert!(matches!(
            failure(SecretString::from_file(&path)),
            LoadFailure::Permissions { mode: 0o440 }
        ));
    }
}

#[test]
fn se_04_kubernetes_layout_only_when_written_by_a_trusted_user() {
    use std::os::unix::fs::PermissionsExt as _;
    // A volume directory others can write: anyone could have planted the layout.
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "api-token", b"k8s-secret", 0o644);
    let volume = path.parent().unwrap();
    fs::set_permissions(volume, fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(
        failure(SecretString::from_file(&path)),
        LoadFailure::Permissions { mode: 0o644 }
    ));
    // A file owned by another (untrusted) user. Changing the owner needs root, which the test
    // environment has; elsewhere the directory case above still proves the rule.
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "api-token", b"k8s-secret", 0o644);
    let real = path
        .parent()
        .unwrap()
        .join("..2025_06_01_12_00_00.123456789/api-token");
    if std::os::unix::fs::chown(&real, Some(65_534), Some(65_534)).is_ok() {
        assert!(matches!(
            failure(SecretString::from_file(&path)),
            LoadFailure::Permissions { mode: 0o644 }
        ));
    }
}

#[test]
fn se_04_kubernetes_layout_never_allows_writable_files() {
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "api-token", b"k8s-secret", 0o666);
    assert!(matches!(
        failure(SecretString::from_file(&path)),
        LoadFailure::Permissions { mode: 0o666 }
    ));
}

#[test]
fn se_04_lookalike_kubernetes_layouts_are_not_recognised() {
    // The file itself is read directly (not through `..data/<name>`): strict rules apply.
    let root = tempfile::tempdir().unwrap();
    let path = kubernetes_volume(root.path(), "token", b"x", 0o644);
    let direct = path
        .parent()
        .unwrap()
        .join("..2025_06_01_12_00_00.123456789/token");
    assert!(matches!(
        failure(SecretString::from_file(&direct)),
        LoadFailure::Permissions { .. }
    ));

    // `..data` points outside the volume: the link escapes.
    let root = tempfile::tempdir().unwrap();
    let volume = root.path().join("volume");
    let outside = root.path().join("..outside");
    fs::create_dir_all(&volume).unwrap();
    fs::create_dir_all(&outside).unwrap();
    write(&outside.join("token"), b"x", 0o644);
    symlink(&outside, volume.join("..data")).unwrap();
    symlink("..data/token", volume.join("token")).unwrap();
    assert!(matches!(
        failure(SecretString::from_file(volume.join("token"))),
        LoadFailure::SymlinkEscapes
    ));

    // A plain directory with a plain 0644 file and a `..data` directory (not a link).
    let root = tempfile::tempdir().unwrap();
    fs::create_dir(root.path().join("..data")).unwrap();
    write(&root.path().join("..data/token"), b"x", 0o644);
    symlink("..data/token", root.path().join("token")).unwrap();
    assert!(matches!(
        failure(SecretString::from_file(root.path().join("token"))),
        LoadFailure::Permissions { .. }
    ));
}

#[test]
fn se_04_only_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        failure(SecretString::from_file(dir.path())),
        LoadFailure::NotRegularFile
    ));
    assert!(matches!(
        failure(SecretString::from_file("/dev/null")),
        LoadFailure::NotRegularFile
    ));
    // A FIFO with no writer: opening must not hang, and it is refused.
    let fifo = dir.path().join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    assert!(matches!(
        failure(SecretString::from_file(&fifo)),
        LoadFailure::NotRegularFile
    ));
}

#[test]
fn se_04_size_is_capped() {
    let dir = tempfile::tempdir().unwrap();
    let options = LoadOptions::new().max_len(16);
    let at_limit = SecretSource::file(private_file(dir.path(), "a", &[b'a'; 16])).unwrap();
    assert_eq!(at_limit.load_bytes_with(&options).unwrap().len(), 16);
    let over = SecretSource::file(private_file(dir.path(), "b", &[b'b'; 17])).unwrap();
    assert!(matches!(
        failure(over.load_bytes_with(&options)),
        LoadFailure::TooLarge { limit: 16 }
    ));
    let big = private_file(
        dir.path(),
        "c",
        &vec![b'c'; paved_secrets::DEFAULT_MAX_LEN + 1],
    );
    assert!(matches!(
        failure(SecretString::from_file(&big)),
        LoadFailure::TooLarge { .. }
    ));
    assert_eq!(
        LoadOptions::new().max_len(usize::MAX),
        LoadOptions::new().max_len(paved_secrets::MAX_LEN_CEILING)
    );
}

#[test]
fn se_04_missing_file_names_the_path() {
    let err = SecretString::from_file("/nonexistent/paved/key").unwrap_err();
    assert!(matches!(
        &err,
        Error::Load {
            reason: LoadFailure::NotFound,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "cannot load secret from file:/nonexistent/paved/key: not found"
    );
    assert!(matches!(
        SecretString::from_file(""),
        Err(Error::InvalidSource(
            paved_secrets::InvalidSource::InvalidPath
        ))
    ));
}

#[test]
fn se_06_exactly_one_trailing_newline_is_trimmed_from_files() {
    let dir = tempfile::tempdir().unwrap();
    for (contents, expected) in [
        (&b"secret\n"[..], "secret"),
        (b"secret\r\n", "secret"),
        (b"secret", "secret"),
        (b"secret\n\n", "secret\n"),
        (b" secret \n", " secret "),
        (b"secret\t\n", "secret\t"),
        (b"\tsecret", "\tsecret"),
        (b"secret\r", "secret\r"),
        (b"two\nlines\n", "two\nlines"),
    ] {
        let path = private_file(dir.path(), "s", contents);
        assert_eq!(
            SecretString::from_file(&path).unwrap().expose_secret(),
            expected,
            "{contents:?}"
        );
        // Bytes are exact: a binary key may legitimately end in 0x0a.
        assert_eq!(
            SecretBytes::from_file(&path).unwrap().expose_secret(),
            contents
        );
    }
}

#[test]
fn se_06_empty_secrets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for contents in [&b""[..], b"\n", b"\r\n"] {
        let path = private_file(dir.path(), "empty", contents);
        assert!(matches!(
            failure(SecretString::from_file(&path)),
            LoadFailure::Empty
        ));
    }
    let path = private_file(dir.path(), "empty", b"");
    assert!(matches!(
        failure(SecretBytes::from_file(&path)),
        LoadFailure::Empty
    ));
}

#[test]
fn se_05_credentials_are_read_from_the_credentials_directory() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("db-password"), b"cred-secret\n", 0o400);
    let options = LoadOptions::new().credentials_directory(dir.path());
    let source = SecretSource::credential("db-password").unwrap();
    assert_eq!(source.to_string(), "credential:db-password");
    assert_eq!(
        source.load_string_with(&options).unwrap().expose_secret(),
        "cred-secret"
    );
    assert_eq!(
        source.load_bytes_with(&options).unwrap().expose_secret(),
        b"cred-secret\n"
    );
    let missing = SecretSource::credential("absent").unwrap();
    let err = missing.load_string_with(&options).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot load secret from credential:absent: not found"
    );
    let relative = LoadOptions::new().credentials_directory("relative/dir");
    assert!(matches!(
        failure(source.load_string_with(&relative)),
        LoadFailure::CredentialsDirectoryNotAbsolute
    ));
    // The same file checks apply.
    write(&dir.path().join("shared"), b"x", 0o644);
    assert!(matches!(
        failure(
            SecretSource::credential("shared")
                .unwrap()
                .load_string_with(&options)
        ),
        LoadFailure::Permissions { .. }
    ));
}

#[test]
fn se_05_credential_names_are_single_file_names() {
    for bad in ["", ".", "..", "../etc/shadow", "a/b", "/abs", "nul\0byte"] {
        assert!(SecretSource::credential(bad).is_err(), "{bad:?}");
        assert!(SecretString::from_credential(bad).is_err(), "{bad:?}");
    }
    for good in ["db-password", "tls.key", "a", "..hidden"] {
        assert!(SecretSource::credential(good).is_ok(), "{good:?}");
    }
}

#[test]
fn se_04_source_strings_select_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let path = private_file(dir.path(), "k", b"from-source\n");
    let source: SecretSource = format!("file:{}", path.display()).parse().unwrap();
    assert!(source.is_file());
    assert_eq!(source.location(), path.as_os_str());
    assert_eq!(source.to_string(), format!("file:{}", path.display()));
    assert_eq!(
        format!("{source:?}"),
        format!("SecretSource(file:{})", path.display())
    );
    assert_eq!(source.load_string().unwrap().expose_secret(), "from-source");
    let env: SecretSource = "env:API_TOKEN".parse().unwrap();
    assert!(env.is_env() && env.location() == "API_TOKEN");
    let cred: SecretSource = "credential:tls.key".parse().unwrap();
    assert!(cred.is_credential());
}

#[test]
fn se_09_key_ring_parse_errors_do_not_quote_the_file() {
    let dir = tempfile::tempdir().unwrap();
    // A raw key pasted without an id: the whole line is key material.
    let path = private_file(
        dir.path(),
        "ring",
        b"*c2VjcmV0LWtleS1tYXRlcmlhbC10aGF0LW11c3Qtbm90LWxlYWs\n",
    );
    let err = KeyRing::load(&SecretSource::file(&path).unwrap()).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("line 1"), "{text}");
    assert!(!text.contains("c2VjcmV0"), "{text}");
}

/// Loads `contents` from a private file at a fixed path and renders the error, if any.
fn file_error(path: &Path, contents: &[u8], mode: u32, options: &LoadOptions) -> [String; 3] {
    write(path, contents, mode);
    let source = SecretSource::file(path).unwrap();
    let render = |r: Result<(), Error>| r.err().map(|e| format!("{e} | {e:?}")).unwrap_or_default();
    [
        render(source.load_string_with(options).map(drop)),
        render(source.load_bytes_with(options).map(drop)),
        render(KeyRing::load_with(&source, options).map(drop)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// SE-09: for arbitrary file contents, every loader error (wrong mode, too large, not
    /// UTF-8, not a key ring) is the same as for a decoy of the same length, so it contains no
    /// 4-byte window of the contents.
    #[test]
    fn se_09_prop_loader_errors_never_contain_the_secret(
        secret in proptest::collection::vec(any::<u8>(), 1..96),
        mode in prop::sample::select(vec![0o600, 0o640, 0o644, 0o604]),
        cap in prop::sample::select(vec![8usize, 1024]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let options = LoadOptions::new().max_len(cap);
        let texts = file_error(&path, &secret, mode, &options);
        // The decoy keeps the length and is never UTF-8 (0xFF), like most arbitrary bytes.
        let decoy = vec![0xFF; secret.len()];
        let baselines = file_error(&path, &decoy, mode, &options);
        let valid_utf8 = std::str::from_utf8(&secret).is_ok();
        for (i, (text, baseline)) in texts.iter().zip(&baselines).enumerate() {
            // Same error as the decoy, unless the secret loads (or parses) where the decoy does not.
            if !(valid_utf8 && (i == 0 || i == 2)) {
                prop_assert_eq!(text, baseline);
            }
            assert_no_leak("loader error", &secret, text, baseline);
        }
    }

}
