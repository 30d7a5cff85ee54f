//! `examples/webapp` as two instances behind a load balancer: one Redis, one key ring, the real
//! identity provider. What one instance does, the other sees.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use example_webapp::{WebappConfig, app};
use http::StatusCode;
use paved_secrets::KeyRing;
use paved_tests::app::{self as harness, APP_ORIGIN, Jar};
use paved_tests::idp::{self, Idp, IdpOptions, POST_LOGOUT_REDIRECT_URI, REDIRECT_URI};
use paved_tests::redis::RedisServer;
use serde_json::json;

const CLIENT: &str = "paved-webapp-pair";

async fn instance(idp: &Idp, redis: &RedisServer, keys: &KeyRing) -> Router {
    let config = WebappConfig::new(
        idp.issuer(),
        CLIENT,
        APP_ORIGIN,
        // Never called here; loopback because the provider is reached in development mode.
        "https://127.0.0.1:9",
    )
    .client_secret(idp.client_secret(CLIENT).unwrap().into())
    .dev_loopback(true)
    .redis_url(redis.url())
    .key_ring(keys.clone());
    app(&config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webapp_session_and_logout_cross_instances_multi_instance() {
    let secret = idp::random_secret().unwrap();
    let provider = Idp::start(
        IdpOptions::new()
            .conform_id_token_claims(false)
            .client(json!({
                "client_id": CLIENT,
                "client_secret": secret,
                "token_endpoint_auth_method": "client_secret_basic",
                "id_token_signed_response_alg": "ES256",
                "redirect_uris": [REDIRECT_URI],
                "post_logout_redirect_uris": [POST_LOGOUT_REDIRECT_URI],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
            })),
    )
    .await
    .unwrap();
    let redis = RedisServer::start().await.unwrap();
    let keys = KeyRing::generate().unwrap();
    let a = instance(&provider, &redis, &keys).await;
    let b = instance(&provider, &redis, &keys).await;
    let jar = Jar::default();

    // The login starts on A and finishes on B (the balancer sent the callback elsewhere).
    let authorization_url = harness::start_login(&a, &jar, None).await;
    let callback = idp::scripted_login(&idp::browser().unwrap(), &authorization_url)
        .await
        .unwrap();
    let done = harness::follow_callback(&b, &jar, callback.as_str()).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    // Both instances know the user.
    for (name, instance) in [("A", &a), ("B", &b)] {
        let account = harness::navigate(instance, &jar, "/account").await;
        assert_eq!(account.status, StatusCode::OK, "{name}: {}", account.body);
        assert!(
            account.body.contains("Alice Liddell"),
            "{name}: {}",
            account.body
        );
    }

    // Logout on B ends the session on A at once, even for a copy of the cookie kept from
    // before the logout.
    let replay = Jar::default();
    for name in jar.names() {
        if let Some(value) = jar.get(&name) {
            replay.set(&name, &value);
        }
    }
    let logout = harness::logout(&b, &jar).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER, "{}", logout.body);
    let after = harness::navigate(&a, &replay, "/account").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER, "{}", after.body);
    assert!(
        after.location().starts_with("/login"),
        "{}",
        after.location()
    );
}
