//! `WebappConfig::from_lookup`: required variables, typed errors, the transport policy of the
//! API URL, and a client secret that never shows in `Debug`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::Write as _;

use example_webapp::{Error, WebappConfig};
use paved_secrets::SecretString;

const SECRET: &str = "s3cr3t-client-value";

fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut map: HashMap<String, String> = [
        ("PAVED_WEBAPP_ISSUER", "https://idp.example"),
        ("PAVED_WEBAPP_CLIENT_ID", "webapp"),
        ("PAVED_WEBAPP_PUBLIC_ORIGIN", "https://app.example"),
        ("PAVED_WEBAPP_API_URL", "https://api.example"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in pairs {
        map.insert((*k).to_owned(), (*v).to_owned());
    }
    map
}

fn load(map: &HashMap<String, String>) -> Result<WebappConfig, Error> {
    WebappConfig::from_lookup(|name| map.get(name).cloned())
}

fn secret_file() -> tempfile::NamedTempFile {
    // tempfile creates the file with mode 0600, which `SecretString::from_file` requires.
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "{SECRET}").unwrap();
    file
}

#[test]
fn reads_every_variable() {
    let secret = secret_file();
    let mut ca = tempfile::NamedTempFile::new().unwrap();
    ca.write_all(b"-----BEGIN CERTIFICATE-----\n").unwrap();
    let map = vars(&[
        (
            "PAVED_WEBAPP_CLIENT_SECRET_FILE",
            secret.path().to_str().unwrap(),
        ),
        ("PAVED_WEBAPP_CA_FILE", ca.path().to_str().unwrap()),
        ("PAVED_WEBAPP_DEV_LOOPBACK", "0"),
    ]);
    let config = load(&map).unwrap();
    assert_eq!(config.issuer(), "https://idp.example");
    assert_eq!(config.client_id(), "webapp");
    assert_eq!(config.public_origin(), "https://app.example");
    assert_eq!(config.api_url(), "https://api.example");
    let debug = format!("{config:?}");
    assert!(
        debug.contains(r#"client_secret: Some("[REDACTED]")"#),
        "{debug}"
    );
    assert!(debug.contains("root_certificates: true"), "{debug}");
}

/// Several instances: the key ring comes from a file (never generated per process) and the
/// sessions from Redis; a key ring file that is not one is an error at start, not a fallback.
#[test]
fn reads_the_shared_key_ring_and_the_redis_url() {
    use paved_secrets::ExposeSecret as _;
    let keys = paved_secrets::KeyRing::generate().unwrap();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(keys.to_text().expose_secret().as_bytes())
        .unwrap();
    let map = vars(&[
        ("PAVED_WEBAPP_KEYRING_FILE", file.path().to_str().unwrap()),
        ("PAVED_WEBAPP_REDIS_URL", "redis://redis.internal:6379"),
    ]);
    let debug = format!("{:?}", load(&map).unwrap());
    assert!(debug.contains("redis: true"), "{debug}");
    assert!(debug.contains("key_ring: true"), "{debug}");
    assert!(!debug.contains(keys.primary().id().as_str()), "{debug}");

    // A URL with credentials comes from a file, and never shows in Debug.
    let mut url_file = tempfile::NamedTempFile::new().unwrap();
    url_file
        .write_all(b"redis://webapp:hunter2hunter2@redis.internal:6379\n")
        .unwrap();
    let map = vars(&[(
        "PAVED_WEBAPP_REDIS_URL_FILE",
        url_file.path().to_str().unwrap(),
    )]);
    let debug = format!("{:?}", load(&map).unwrap());
    assert!(debug.contains("redis: true"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
    let map = vars(&[("PAVED_WEBAPP_REDIS_URL_FILE", "/nonexistent/redis-url")]);
    assert!(matches!(load(&map), Err(Error::RedisUrl(_))));

    let mut bad = tempfile::NamedTempFile::new().unwrap();
    bad.write_all(b"not a key ring\n").unwrap();
    let map = vars(&[("PAVED_WEBAPP_KEYRING_FILE", bad.path().to_str().unwrap())]);
    assert!(matches!(load(&map), Err(Error::Keys(_))));
}

#[test]
fn a_missing_or_empty_required_variable_is_named() {
    for name in [
        "PAVED_WEBAPP_ISSUER",
        "PAVED_WEBAPP_CLIENT_ID",
        "PAVED_WEBAPP_PUBLIC_ORIGIN",
        "PAVED_WEBAPP_API_URL",
    ] {
        let mut map = vars(&[]);
        map.remove(name);
        assert!(matches!(load(&map), Err(Error::MissingVar(n)) if n == name));
        map.insert(name.to_owned(), String::new());
        assert!(matches!(load(&map), Err(Error::MissingVar(n)) if n == name));
    }
}

#[test]
fn dev_loopback_must_be_zero_or_one() {
    for value in ["yes", "true", "2"] {
        let map = vars(&[("PAVED_WEBAPP_DEV_LOOPBACK", value)]);
        assert!(matches!(
            load(&map),
            Err(Error::InvalidVar("PAVED_WEBAPP_DEV_LOOPBACK"))
        ));
    }
}

#[test]
fn the_api_url_must_be_https_and_loopback_in_dev_mode() {
    let ok = |url: &str, dev: &str| {
        load(&vars(&[
            ("PAVED_WEBAPP_API_URL", url),
            ("PAVED_WEBAPP_DEV_LOOPBACK", dev),
        ]))
    };
    // Production: https only, no credentials, query or fragment.
    assert!(ok("https://api.example", "0").is_ok());
    assert!(ok("https://api.example/v1/", "0").is_ok());
    for refused in [
        "http://api.example",
        "http://127.0.0.1:8081",
        "https://user:pw@api.example",
        "https://api.example/?x=1",
        "https://api.example/#x",
        "ftp://api.example",
        "not a url",
    ] {
        assert!(matches!(ok(refused, "0"), Err(Error::ApiUrl)), "{refused}");
    }
    // Development: loopback only, https or not; a real host is refused even over https.
    for allowed in [
        "http://127.0.0.1:8081",
        "http://localhost:8081",
        "http://[::1]:8081",
        "https://localhost:8081",
    ] {
        assert!(ok(allowed, "1").is_ok(), "{allowed}");
    }
    for refused in [
        "https://api.example",
        "http://api.example",
        "http://10.0.0.1",
    ] {
        assert!(matches!(ok(refused, "1"), Err(Error::ApiUrl)), "{refused}");
    }
}

#[test]
fn an_unreadable_secret_file_is_an_error() {
    let map = vars(&[(
        "PAVED_WEBAPP_CLIENT_SECRET_FILE",
        "/nonexistent/paved-webapp-secret",
    )]);
    assert!(matches!(load(&map), Err(Error::ClientSecret(_))));
    let map = vars(&[("PAVED_WEBAPP_CA_FILE", "/nonexistent/paved-ca.pem")]);
    assert!(matches!(load(&map), Err(Error::CaFile(_))));
}

#[test]
fn debug_never_prints_the_client_secret() {
    let file = secret_file();
    let map = vars(&[(
        "PAVED_WEBAPP_CLIENT_SECRET_FILE",
        file.path().to_str().unwrap(),
    )]);
    let from_file = load(&map).unwrap();
    let in_code = WebappConfig::new(
        "https://idp.example",
        "webapp",
        "https://a.example",
        "https://b.example",
    )
    .client_secret(SecretString::from(SECRET));
    for config in [from_file, in_code] {
        let debug = format!("{config:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("[REDACTED]"), "{debug}");
    }
}
