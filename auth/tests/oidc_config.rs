//! Configuration errors surface when the client or the login is built, not as a 500 at a
//! later login.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use paved_auth::oidc::{
    ClientAuth, ClientAuthError, EndpointPolicy, OidcClient, OidcError, OidcLogin, parse_metadata,
};
use paved_auth::session::{MemoryStore, Sessions};
use paved_secrets::{KeyRing, SecretString};

fn metadata(issuer: &str) -> paved_auth::oidc::ProviderMetadata {
    let document = serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "https://idp.example/token",
        "jwks_uri": "https://idp.example/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    parse_metadata(
        document.to_string().as_bytes(),
        issuer,
        EndpointPolicy::HttpsOnly,
    )
    .unwrap()
}

#[test]
fn an_empty_client_secret_is_refused_when_the_client_is_built() {
    let issuer = "https://idp.example";
    let auth = ClientAuth::client_secret_basic(SecretString::from(String::new()));
    let err = OidcClient::builder(issuer, "app", auth)
        .from_metadata(metadata(issuer))
        .unwrap_err();
    assert_eq!(err, OidcError::ClientAuth(ClientAuthError::EmptySecret));
}

#[test]
fn an_issuer_too_long_for_the_login_cookie_is_refused_when_the_login_is_built() {
    let build = |issuer: &str| {
        let client = OidcClient::builder(issuer, "app", ClientAuth::none())
            .from_metadata(metadata(issuer))
            .unwrap();
        let sessions = Sessions::builder(MemoryStore::default()).build().unwrap();
        OidcLogin::builder(client, sessions, &KeyRing::generate().unwrap())
            .public_origin("https://app.example")
            .build()
    };
    assert!(build("https://idp.example/tenant/1234").is_ok());
    let long = format!("https://idp.example/{}", "t".repeat(2000));
    assert_eq!(
        build(&long).unwrap_err(),
        OidcError::Config("the issuer is too long for the login cookie")
    );
}
