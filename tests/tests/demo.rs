//! The demo's setup (`cargo xtask demo`): every hop is https verified against a trust anchor,
//! and the back channel trusts the local CA only when told to.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paved_auth::http_client::{FetchError, HttpClient};
use paved_tests::demo::{CA_FILE, Demo, DemoOptions, DevCa, ScratchDir, WEBAPP_HOST};

fn scratch(name: &str) -> ScratchDir {
    ScratchDir::new(&format!("demo-{name}")).unwrap()
}

/// A client trusting only the development CA reaches all three servers; the provider's
/// discovery names its https issuer, and the API answers its health check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_every_hop_over_https_under_the_dev_ca() {
    let dir = scratch("https");
    let demo = Demo::start(DemoOptions::ephemeral(dir.path().to_path_buf()))
        .await
        .unwrap();
    let strict = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(demo.ca().cert_pem().as_bytes()).unwrap(),
        )
        .https_only(true)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(WEBAPP_HOST, demo.webapp_addr())
        .build()
        .unwrap();

    assert!(demo.idp().issuer().starts_with("https://localhost:"));
    let discovery: serde_json::Value = strict
        .get(format!(
            "{}/.well-known/openid-configuration",
            demo.idp().issuer()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], demo.idp().issuer());

    let home = strict
        .get(format!("{}/", demo.webapp_origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(home.status(), 200);
    assert!(home.headers().contains_key("strict-transport-security"));

    let health = strict
        .get(format!("{}/healthz", demo.api_origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let items = strict
        .get(format!("{}/items", demo.api_origin()))
        .send()
        .await
        .unwrap();
    assert_eq!(items.status(), 401, "the API needs a bearer token");

    demo.shutdown().await;
}

/// The hardened back channel refuses a certificate from an unknown CA (the Mozilla roots
/// only), and accepts it once that CA is added as a root: trust is explicit, never a switch
/// that turns verification off (ASVS V12.3.2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_channel_refuses_an_unknown_ca_until_it_is_added() {
    let dir = scratch("trust");
    let demo = Demo::start(DemoOptions::ephemeral(dir.path().to_path_buf()))
        .await
        .unwrap();
    let url = format!("{}/.well-known/openid-configuration", demo.idp().issuer());

    let default = HttpClient::new().unwrap();
    assert_eq!(
        default.get(&url, "application/json").await.unwrap_err(),
        FetchError::Connect
    );

    let other_dir = scratch("other-ca");
    let other_ca = DevCa::load_or_create(other_dir.path()).unwrap();
    let wrong = HttpClient::new()
        .unwrap()
        .add_root_certificates_pem(other_ca.cert_pem().as_bytes())
        .unwrap();
    assert_eq!(
        wrong.get(&url, "application/json").await.unwrap_err(),
        FetchError::Connect
    );

    let trusting = HttpClient::new()
        .unwrap()
        .add_root_certificates_pem(demo.ca().cert_pem().as_bytes())
        .unwrap();
    let document = trusting.get(&url, "application/json").await.unwrap();
    assert!(!document.is_empty());

    demo.shutdown().await;
}

/// The CA is made once per folder and reused (a browser told to trust it keeps working); its
/// private key is readable by the owner only.
#[test]
fn dev_ca_is_reused_and_its_key_is_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch_dir = scratch("reuse");
    let dir = scratch_dir.path();
    let first = DevCa::load_or_create(dir).unwrap();
    let second = DevCa::load_or_create(dir).unwrap();
    assert_eq!(first.cert_pem(), second.cert_pem());
    assert_eq!(first.cert_path(), dir.join(CA_FILE));
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("key") {
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{} is readable by others", path.display());
        }
    }
}

/// A CA someone else could have planted is refused, not trusted: a key readable by others, a
/// certificate that does not hold the stored key, a folder writable by others.
#[test]
fn a_stored_ca_that_could_be_planted_is_refused() {
    use std::os::unix::fs::PermissionsExt as _;
    let key_name = |dir: &std::path::Path| {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with("-key.pem"))
            .unwrap()
    };

    let open_key = scratch("open-key");
    DevCa::load_or_create(open_key.path()).unwrap();
    let key = key_name(open_key.path());
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = DevCa::load_or_create(open_key.path()).unwrap_err();
    assert!(err.to_string().contains("readable by other users"), "{err}");

    let swapped = scratch("swapped");
    DevCa::load_or_create(swapped.path()).unwrap();
    let other = scratch("swapped-other");
    let other_ca = DevCa::load_or_create(other.path()).unwrap();
    std::fs::write(swapped.path().join(CA_FILE), other_ca.cert_pem()).unwrap();
    let err = DevCa::load_or_create(swapped.path()).unwrap_err();
    assert!(
        err.to_string().contains("does not belong to its key"),
        "{err}"
    );

    let open_dir = scratch("open-dir");
    std::fs::set_permissions(open_dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = DevCa::load_or_create(open_dir.path()).unwrap_err();
    assert!(err.to_string().contains("writable by other users"), "{err}");
}
