//! The back channel of the paved OIDC login against the hostile provider: PKCE (OA-02), the
//! redirect URI (OA-07), code refusal (OA-09), client authentication (OA-14), the token response
//! (OA-15), the ID token (OA-16), transport hardening (OA-19), discovery (OA-20), PAR (OA-24),
//! `UserInfo` (OA-27) and signing-key rotation (OA-28).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::StatusCode;
use paved_auth::http_client::{DEFAULT_MAX_BODY, FetchError, HttpClient};
use paved_auth::oidc::{
    CLIENT_ASSERTION_TYPE, ClientAssertionKey, ClientAuth, EndpointPolicy, MetadataError,
    MetadataOptions, OidcClient, OidcClientBuilder, OidcError, OidcLogin, OidcLoginBuilder,
    Session, UrlProblem, parse_metadata,
};
use paved_auth::session::{MemoryStore, Sessions};
use paved_secrets::{KeyRing, SecretString};
use paved_tests::app::{self, AppOptions, HostileApp, Jar, Reply, TestClock};
use paved_tests::hostile::{
    self, AuthMethod, ClientRegistration, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET,
    DEFAULT_SUBJECT, GrantFilter, HUGE_BODY_LEN, HostileAs, IdTokenFault, PublicKeyForm,
    Publication, Shots, SigningAlg, SigningKey, TokenFault, TransportFault, UserinfoFault,
};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers.

/// An honest provider and an app logged in through it, sharing one clock.
async fn setup() -> (HostileAs, HostileApp) {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    (idp, t)
}

/// The jar holds no session and `/me` does not let it in.
async fn assert_no_session(app: &Router, jar: &Jar) {
    assert!(jar.get("__Host-session").is_none(), "{:?}", jar.names());
    assert!(!app::logged_in(app, jar).await, "/me let the browser in");
}

/// A complete login in a fresh jar that must succeed; the jar.
async fn login_ok(idp: &HostileAs, app: &Router) -> Jar {
    let jar = Jar::default();
    let reply = app::hostile_login(idp, app, &jar).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(app::logged_in(app, &jar).await);
    jar
}

/// A complete login in a fresh jar that must fail with `status` and leave no session.
async fn login_refused(idp: &HostileAs, app: &Router, status: StatusCode) -> Reply {
    let jar = Jar::default();
    let reply = app::hostile_login(idp, app, &jar).await;
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_no_session(app, &jar).await;
    reply
}

/// The access token the app hands to a downstream call (`/token`).
async fn access_token(app: &Router, jar: &Jar) -> String {
    let reply = app::fetch(app, jar, "/token").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// The JSON of a JWT part (0 header, 1 payload).
fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A loopback back channel with a short timeout (slow-body faults end quickly).
fn short_timeout_client() -> HttpClient {
    HttpClient::dev_loopback()
        .unwrap()
        .with_timeout(Duration::from_millis(500))
        .unwrap()
}

/// Waits (bounded, polling) until the provider dropped every streamed body.
async fn wait_until_no_stream(idp: &HostileAs) {
    for _ in 0..500 {
        if idp.streaming_bodies() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("a streamed body outlived the client");
}

/// A discovered https client of a provider that is never contacted (configuration checks).
fn https_client() -> OidcClient {
    let issuer = "https://idp.example";
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "https://idp.example/token",
        "jwks_uri": "https://idp.example/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let metadata = parse_metadata(
        doc.to_string().as_bytes(),
        issuer,
        EndpointPolicy::HttpsOnly,
    )
    .unwrap();
    OidcClient::builder(
        issuer,
        "rp",
        ClientAuth::client_secret_basic(SecretString::from("s".to_owned())),
    )
    .from_metadata(metadata)
    .unwrap()
}

fn login_at(client: OidcClient, origin: &str) -> Result<OidcLogin, OidcError> {
    let sessions = Sessions::builder(MemoryStore::default()).build().unwrap();
    OidcLogin::builder(client, sessions, &KeyRing::generate().unwrap())
        .public_origin(origin)
        .build()
}

// ---------------------------------------------------------------------------------------------
// OA-02: PKCE S256.

#[tokio::test]
async fn oa_02_challenge_is_s256_of_the_verifier_sent_at_the_token_endpoint() {
    let (idp, t) = setup().await;
    login_ok(&idp, &t.app).await;
    login_ok(&idp, &t.app).await;
    let authorize = idp.authorize_requests();
    let tokens = idp.token_requests();
    assert_eq!((authorize.len(), tokens.len()), (2, 2));
    let mut verifiers = BTreeSet::new();
    for (a, t) in authorize.iter().zip(&tokens) {
        assert_eq!(a.param("code_challenge_method"), Some("S256"));
        let verifier = t.field("code_verifier").unwrap();
        assert!((43..=128).contains(&verifier.len()), "{verifier}");
        assert!(
            verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
        assert_eq!(
            a.param("code_challenge"),
            Some(URL_SAFE_NO_PAD.encode(digest).as_str())
        );
        // The verifier never went through the browser.
        assert!(a.query.iter().all(|(_, v)| v != verifier));
        assert!(verifiers.insert(verifier.to_owned()), "a verifier repeated");
    }
}

#[tokio::test]
async fn oa_02_provider_without_s256_is_refused() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_metadata_patch(json!({"code_challenge_methods_supported": ["plain"]}));
    let err = app::hostile_app(&idp, &clock, |b| b, |b| b)
        .await
        .unwrap_err();
    assert_eq!(err, OidcError::Metadata(MetadataError::S256NotSupported));
    // Listed alongside `plain`, S256 is what is used.
    idp.set_metadata_patch(json!({"code_challenge_methods_supported": ["plain", "S256"]}));
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    login_ok(&idp, &t.app).await;
    assert_eq!(
        idp.authorize_requests()[0].param("code_challenge_method"),
        Some("S256")
    );
}

#[tokio::test]
async fn oa_02_unlisted_pkce_is_refused_unless_explicitly_assumed() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_metadata_patch(json!({"code_challenge_methods_supported": null}));
    let err = app::hostile_app(&idp, &clock, |b| b, |b| b)
        .await
        .unwrap_err();
    assert_eq!(err, OidcError::Metadata(MetadataError::PkceNotAdvertised));
    let t = app::hostile_app(
        &idp,
        &clock,
        |b| b.metadata_options(MetadataOptions::new().assume_pkce_s256_when_unlisted()),
        |b| b,
    )
    .await
    .unwrap();
    login_ok(&idp, &t.app).await;
    assert_eq!(
        idp.authorize_requests()[0].param("code_challenge_method"),
        Some("S256")
    );
}

// ---------------------------------------------------------------------------------------------
// OA-07: the redirect URI.

#[tokio::test]
async fn oa_07_token_request_repeats_the_authorization_redirect_uri() {
    let (idp, t) = setup().await;
    assert_eq!(t.login.redirect_uri(), app::REDIRECT_URI);
    login_ok(&idp, &t.app).await;
    let authorized = idp.authorize_requests()[0]
        .param("redirect_uri")
        .unwrap()
        .to_owned();
    assert_eq!(authorized, app::REDIRECT_URI);
    assert_eq!(
        idp.token_requests()[0].field("redirect_uri"),
        Some(authorized.as_str())
    );
}

#[tokio::test]
async fn oa_07_public_origin_must_be_https() {
    for origin in [
        "http://app.example",
        "http://127.0.0.1:8080",
        "ftp://app.example",
    ] {
        assert!(
            matches!(login_at(https_client(), origin), Err(OidcError::Config(_))),
            "{origin}"
        );
    }
    let login = login_at(https_client(), "https://app.example").unwrap();
    assert_eq!(login.redirect_uri(), "https://app.example/callback");
    // In loopback dev mode plain http is allowed for a loopback origin only.
    let (_idp, t) = setup().await;
    assert!(matches!(
        login_at(t.login.client().clone(), "http://app.example"),
        Err(OidcError::Config(_))
    ));
    assert!(login_at(t.login.client().clone(), "http://127.0.0.1:3000").is_ok());
}

#[tokio::test]
async fn oa_07_public_origin_with_a_path_is_refused() {
    for origin in [
        "https://app.example/",
        "https://app.example/app",
        "https://app.example?x=1",
        "https://app.example#f",
        "https://user:pw@app.example",
    ] {
        assert!(
            matches!(login_at(https_client(), origin), Err(OidcError::Config(_))),
            "{origin}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// OA-09: a refused code fails closed, never retried.

#[tokio::test]
async fn oa_09_refused_code_fails_closed_without_retry() {
    let (idp, t) = setup().await;
    for (fault, status) in [
        (TokenFault::InvalidGrant, StatusCode::BAD_REQUEST),
        (
            TokenFault::Transport(TransportFault::Status(500)),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
        (
            TokenFault::Transport(TransportFault::Status(502)),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    ] {
        let before = idp.code_exchange_calls();
        idp.set_token_fault(fault.clone(), GrantFilter::AuthorizationCode, Shots::ONCE);
        login_refused(&idp, &t.app, status).await;
        assert_eq!(
            idp.code_exchange_calls(),
            before + 1,
            "{fault:?} was retried"
        );
    }
    assert_eq!(idp.token_calls(), idp.code_exchange_calls());
}

/// Two instances of one application (shared key ring, separate memory): the callback replayed
/// at the second instance passes its transaction check, and the provider's single-use code is
/// the backstop. The replay also revokes what the code issued.
#[tokio::test]
async fn oa_09_code_replayed_at_another_instance_is_refused() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_access_token_lifetime(Duration::from_secs(300));
    let keys = KeyRing::generate().unwrap();
    let options = AppOptions {
        keys: Some(keys),
        ..AppOptions::default()
    };
    let one = app::hostile_app_with(&idp, &clock, options.clone(), |b| b, |b| b)
        .await
        .unwrap();
    let two = app::hostile_app_with(&idp, &clock, options, |b| b, |b| b)
        .await
        .unwrap();

    let jar = Jar::default();
    let url = app::start_login(&one.app, &jar, None).await;
    let (name, value) = app::tx_cookies(&jar).pop().unwrap();
    let callback = app::approve(&idp, &url).await;
    let reply = app::follow_callback(&one.app, &jar, &callback).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let replay = Jar::default();
    replay.set(&name, &value);
    let reply = app::follow_callback(&two.app, &replay, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&two.app, &replay).await;
    assert_eq!(idp.code_exchange_calls(), 2, "one token call per callback");
    assert_eq!(
        idp.token_requests()[1].error.as_deref(),
        Some("invalid_grant")
    );

    // An instance sharing nothing but the provider cannot even open the transaction cookie.
    let stranger = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    let replay = Jar::default();
    replay.set(&name, &value);
    let reply = app::follow_callback(&stranger.app, &replay, &callback).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_no_session(&stranger.app, &replay).await;
    assert_eq!(idp.code_exchange_calls(), 2);

    // The provider revoked the first login's grant: its next refresh ends the session.
    clock.advance(Duration::from_secs(250));
    let reply = app::fetch(&one.app, &jar, "/token").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert!(!app::logged_in(&one.app, &jar).await);
}

// ---------------------------------------------------------------------------------------------
// OA-14: client authentication.

#[tokio::test]
async fn oa_14_client_secret_basic_form_encodes_before_base64() {
    let (idp, t) = setup().await;
    login_ok(&idp, &t.app).await;
    let record = &idp.token_requests()[0];
    assert_eq!(record.auth_method, Some(AuthMethod::ClientSecretBasic));
    let header = record.authorization.as_deref().unwrap();
    let decoded = String::from_utf8(
        STANDARD
            .decode(header.strip_prefix("Basic ").unwrap())
            .unwrap(),
    )
    .unwrap();
    let encoded_secret: String =
        url::form_urlencoded::byte_serialize(DEFAULT_CLIENT_SECRET.as_bytes()).collect();
    assert_eq!(decoded, format!("{DEFAULT_CLIENT_ID}:{encoded_secret}"));
    assert_ne!(encoded_secret, DEFAULT_CLIENT_SECRET);
    // One method only: no secret in the body.
    assert_eq!(record.field("client_secret"), None);
    assert_eq!(record.field("client_assertion"), None);
}

#[tokio::test]
async fn oa_14_client_secret_post() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let secret = "post:s3cret%41+&=/ ~";
    idp.add_client(ClientRegistration::new(
        "post-client",
        hostile::ClientAuth::SecretPost(secret.to_owned()),
    ));
    let options = AppOptions {
        client_id: "post-client".into(),
        auth: ClientAuth::client_secret_post(SecretString::from(secret.to_owned())),
        ..AppOptions::default()
    };
    let t = app::hostile_app_with(&idp, &clock, options, |b| b, |b| b)
        .await
        .unwrap();
    login_ok(&idp, &t.app).await;
    let record = &idp.token_requests()[0];
    assert_eq!(record.auth_method, Some(AuthMethod::ClientSecretPost));
    assert_eq!(record.field("client_id"), Some("post-client"));
    assert_eq!(record.field("client_secret"), Some(secret));
    assert_eq!(record.authorization, None);
}

#[tokio::test]
async fn oa_14_private_key_jwt_assertions_are_short_lived_and_unique() {
    for alg in [SigningAlg::Es256, SigningAlg::EdDsa] {
        let clock = TestClock::now();
        let idp = app::start_hostile(&clock).await;
        let key = SigningKey::generate(alg, "rp-key-1").unwrap();
        idp.add_client(ClientRegistration::new(
            "jwt-client",
            hostile::ClientAuth::PrivateKeyJwt(key.public_jwk()),
        ));
        let assertion_key =
            ClientAssertionKey::from_pem(&SecretString::from(key.pkcs8_pem()), "rp-key-1").unwrap();
        let options = AppOptions {
            client_id: "jwt-client".into(),
            auth: ClientAuth::private_key_jwt(assertion_key),
            ..AppOptions::default()
        };
        let t = app::hostile_app_with(&idp, &clock, options, |b| b, |b| b)
            .await
            .unwrap();
        login_ok(&idp, &t.app).await;
        login_ok(&idp, &t.app).await;
        let now = paved_crypto::Clock::now_unix(&clock);
        let mut jtis = BTreeSet::new();
        for record in idp.token_requests() {
            assert_eq!(record.auth_method, Some(AuthMethod::PrivateKeyJwt));
            assert_eq!(
                record.field("client_assertion_type"),
                Some(CLIENT_ASSERTION_TYPE)
            );
            assert_eq!(record.authorization, None);
            let assertion = record.field("client_assertion").unwrap();
            let header = jwt_part(assertion, 0);
            assert_eq!(header["alg"], alg.name());
            assert_eq!(header["kid"], "rp-key-1");
            let claims = jwt_part(assertion, 1);
            assert_eq!(claims["iss"], "jwt-client");
            assert_eq!(claims["sub"], "jwt-client");
            assert_eq!(claims["aud"], idp.issuer());
            let exp = claims["exp"].as_u64().unwrap();
            assert!(exp > now && exp <= now + 60, "exp {exp}, now {now}");
            assert!(jtis.insert(claims["jti"].as_str().unwrap().to_owned()));
        }
        assert_eq!(jtis.len(), 2);
    }
}

#[tokio::test]
async fn oa_14_public_client_sends_no_secret() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.add_client(ClientRegistration::new(
        "public-client",
        hostile::ClientAuth::None,
    ));
    let options = AppOptions {
        client_id: "public-client".into(),
        auth: ClientAuth::none(),
        ..AppOptions::default()
    };
    let t = app::hostile_app_with(&idp, &clock, options, |b| b, |b| b)
        .await
        .unwrap();
    login_ok(&idp, &t.app).await;
    let record = &idp.token_requests()[0];
    assert_eq!(record.auth_method, Some(AuthMethod::None));
    assert_eq!(record.authorization, None);
    assert_eq!(record.field("client_secret"), None);
    assert_eq!(record.field("client_assertion"), None);
    assert_eq!(record.field("client_id"), Some("public-client"));
    assert!(record.field("code_verifier").is_some());
}

// ---------------------------------------------------------------------------------------------
// OA-15: the token response.

#[tokio::test]
async fn oa_15_expires_in_as_a_string_is_honoured() {
    let (idp, t) = setup().await;
    idp.set_access_token_lifetime(Duration::from_secs(300));
    idp.set_token_fault(
        TokenFault::ExpiresInString,
        GrantFilter::AuthorizationCode,
        Shots::ONCE,
    );
    let jar = login_ok(&idp, &t.app).await;
    let first = access_token(&t.app, &jar).await;
    // Within the lifetime minus the 60 s margin: the same token.
    t.clock.advance(Duration::from_secs(200));
    assert_eq!(access_token(&t.app, &jar).await, first);
    assert_eq!(idp.refresh_calls(), 0);
    // Past it: refreshed, so the string "300" was read as the expiry.
    t.clock.advance(Duration::from_secs(50));
    let second = access_token(&t.app, &jar).await;
    assert_ne!(second, first);
    assert_eq!(idp.refresh_calls(), 1);
}

#[tokio::test]
async fn oa_15_token_type_bearer_in_any_case_and_extra_fields_are_accepted() {
    let (idp, t) = setup().await;
    for fault in [TokenFault::TokenTypeLowercase, TokenFault::ExtraFields] {
        idp.set_token_fault(fault, GrantFilter::AuthorizationCode, Shots::ONCE);
        let jar = login_ok(&idp, &t.app).await;
        assert!(!access_token(&t.app, &jar).await.is_empty());
    }
}

#[tokio::test]
async fn oa_15_mac_token_type_is_refused() {
    let (idp, t) = setup().await;
    idp.set_token_fault(
        TokenFault::TokenTypeMac,
        GrantFilter::AuthorizationCode,
        Shots::ONCE,
    );
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    login_ok(&idp, &t.app).await;
}

#[tokio::test]
async fn oa_15_missing_access_token_is_refused() {
    let (idp, t) = setup().await;
    idp.set_token_fault(
        TokenFault::NoAccessToken,
        GrantFilter::AuthorizationCode,
        Shots::ONCE,
    );
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    idp.set_token_response_patch(Some(json!({"access_token": ""})));
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    idp.set_token_response_patch(None);
    login_ok(&idp, &t.app).await;
}

// ---------------------------------------------------------------------------------------------
// OA-16: the ID token.

/// The ID token of the next login carries `fault`: 502, no session; the same app then logs in
/// with an honest token.
async fn id_token_refused(fault: IdTokenFault) {
    let (idp, t) = setup().await;
    idp.set_id_token_fault(fault.clone(), Shots::ONCE);
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    assert_eq!(idp.code_exchange_calls(), 1, "{fault:?}");
    login_ok(&idp, &t.app).await;
}

#[tokio::test]
async fn oa_16_wrong_aud_is_refused() {
    id_token_refused(IdTokenFault::WrongAud).await;
}

#[tokio::test]
async fn oa_16_extra_aud_without_azp_is_refused() {
    id_token_refused(IdTokenFault::ExtraAudWithoutAzp).await;
}

#[tokio::test]
async fn oa_16_wrong_azp_is_refused() {
    id_token_refused(IdTokenFault::WrongAzp).await;
}

#[tokio::test]
async fn oa_16_wrong_iss_is_refused() {
    id_token_refused(IdTokenFault::WrongIss).await;
}

#[tokio::test]
async fn oa_16_alg_none_is_refused() {
    id_token_refused(IdTokenFault::AlgNone).await;
}

#[tokio::test]
async fn oa_16_hs256_key_confusion_is_refused_in_every_key_form() {
    for form in [
        PublicKeyForm::Pem,
        PublicKeyForm::Der,
        PublicKeyForm::JwkJson,
        PublicKeyForm::Raw,
    ] {
        id_token_refused(IdTokenFault::KeyConfusionHs256(form)).await;
    }
}

#[tokio::test]
async fn oa_16_bad_signature_is_refused() {
    id_token_refused(IdTokenFault::BadSignature).await;
}

#[tokio::test]
async fn oa_16_expired_id_token_is_refused() {
    id_token_refused(IdTokenFault::Expired).await;
}

#[tokio::test]
async fn oa_16_iat_in_the_future_is_refused() {
    id_token_refused(IdTokenFault::IatInFuture).await;
}

#[tokio::test]
async fn oa_16_unpublished_key_is_refused() {
    id_token_refused(IdTokenFault::UnpublishedKey).await;
}

#[tokio::test]
async fn oa_16_foreign_key_under_a_published_kid_is_refused() {
    id_token_refused(IdTokenFault::ForeignKeySameKid).await;
}

#[tokio::test]
async fn oa_16_azp_naming_this_client_with_one_audience_is_accepted() {
    let (idp, t) = setup().await;
    idp.set_include_azp(true);
    login_ok(&idp, &t.app).await;
}

/// The leeway is 60 s by default: an `iat` 50 s ahead is accepted, 120 s ahead is not.
#[tokio::test]
async fn oa_16_iat_skew_is_bounded_by_the_leeway() {
    let (idp, t) = setup().await;
    let now = paved_crypto::Clock::now_unix(&t.clock);
    idp.set_id_token_claims_patch(Some(json!({"iat": now + 50})));
    login_ok(&idp, &t.app).await;
    idp.set_id_token_claims_patch(Some(json!({"iat": now + 120})));
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
}

// ---------------------------------------------------------------------------------------------
// OA-19: transport hardening on /token, discovery and /jwks.

#[tokio::test]
async fn oa_19_token_endpoint_redirect_is_not_followed() {
    let (idp, t) = setup().await;
    let elsewhere = app::start_hostile(&t.clock).await;
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::Redirect(elsewhere.url("/token"))),
        GrantFilter::Any,
        Shots::ONCE,
    );
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    assert_eq!(elsewhere.token_calls(), 0);
    assert_eq!(idp.code_exchange_calls(), 1);
}

#[tokio::test]
async fn oa_19_token_endpoint_huge_body_is_cut_off() {
    let (idp, t) = setup().await;
    for declared_length in [true, false] {
        idp.set_token_fault(
            TokenFault::Transport(TransportFault::HugeBody { declared_length }),
            GrantFilter::Any,
            Shots::ONCE,
        );
        login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
        wait_until_no_stream(&idp).await;
    }
    assert_eq!(idp.streams_started(), 2);
    // Nowhere near the 100 MiB offered: the client stopped at its cap.
    assert!(
        idp.streamed_bytes() < HUGE_BODY_LEN / 4,
        "{} bytes streamed",
        idp.streamed_bytes()
    );
}

#[tokio::test]
async fn oa_19_token_endpoint_slow_body_times_out() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(
        &idp,
        &clock,
        |b| b.http_client(short_timeout_client()),
        |b| b,
    )
    .await
    .unwrap();
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::SlowBody {
            every: Duration::from_millis(50),
        }),
        GrantFilter::Any,
        Shots::ONCE,
    );
    login_refused(&idp, &t.app, StatusCode::SERVICE_UNAVAILABLE).await;
    wait_until_no_stream(&idp).await;
}

#[tokio::test]
async fn oa_19_token_endpoint_must_answer_json() {
    let (idp, t) = setup().await;
    for fault in [TransportFault::NonJson, TransportFault::WrongContentType] {
        idp.set_token_fault(TokenFault::Transport(fault), GrantFilter::Any, Shots::ONCE);
        login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    }
    idp.set_token_fault(
        TokenFault::Transport(TransportFault::Status(500)),
        GrantFilter::Any,
        Shots::ONCE,
    );
    login_refused(&idp, &t.app, StatusCode::SERVICE_UNAVAILABLE).await;
    login_ok(&idp, &t.app).await;
}

#[tokio::test]
async fn oa_19_discovery_transport_faults_are_refused() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let elsewhere = app::start_hostile(&clock).await;
    let discover = || {
        app::hostile_app(
            &idp,
            &clock,
            |b| b.http_client(short_timeout_client()),
            |b| b,
        )
    };
    let cases = [
        (
            TransportFault::Redirect(elsewhere.url("/.well-known/openid-configuration")),
            OidcError::Fetch(FetchError::Redirect { status: 302 }),
        ),
        (
            TransportFault::HugeBody {
                declared_length: true,
            },
            OidcError::Fetch(FetchError::BodyTooLarge {
                max: DEFAULT_MAX_BODY,
            }),
        ),
        (
            TransportFault::HugeBody {
                declared_length: false,
            },
            OidcError::Fetch(FetchError::BodyTooLarge {
                max: DEFAULT_MAX_BODY,
            }),
        ),
        (
            TransportFault::SlowBody {
                every: Duration::from_millis(50),
            },
            OidcError::Fetch(FetchError::Timeout),
        ),
        (
            TransportFault::WrongContentType,
            OidcError::Fetch(FetchError::NotJson),
        ),
        (
            TransportFault::Status(500),
            OidcError::Fetch(FetchError::Status { status: 500 }),
        ),
        (
            TransportFault::NonJson,
            OidcError::Metadata(MetadataError::InvalidJson),
        ),
    ];
    for (fault, expected) in cases {
        idp.set_discovery_fault(fault.clone(), Shots::ONCE);
        let err = discover().await.unwrap_err();
        assert_eq!(err, expected, "{fault:?}");
        wait_until_no_stream(&idp).await;
    }
    assert_eq!(elsewhere.discovery_fetches(), 0);
    assert!(idp.streamed_bytes() < HUGE_BODY_LEN / 4);
    discover().await.unwrap();
}

#[tokio::test]
async fn oa_19_jwks_transport_faults_leave_the_id_token_unverified() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let elsewhere = app::start_hostile(&clock).await;
    for fault in [
        TransportFault::Redirect(elsewhere.url("/jwks")),
        TransportFault::HugeBody {
            declared_length: false,
        },
        TransportFault::SlowBody {
            every: Duration::from_millis(50),
        },
        TransportFault::NonJson,
        TransportFault::Status(500),
    ] {
        // A fresh client each time: no key set cached yet.
        let t = app::hostile_app(
            &idp,
            &clock,
            |b| b.http_client(short_timeout_client()),
            |b| b,
        )
        .await
        .unwrap();
        idp.set_jwks_fault(fault.clone(), Shots::ONCE);
        let before = idp.jwks_fetches();
        login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
        assert_eq!(idp.jwks_fetches(), before + 1, "{fault:?}");
        wait_until_no_stream(&idp).await;
        // The failed fetch starts the cooldown; after it the keys are fetched and used.
        clock.advance(Duration::from_secs(31));
        login_ok(&idp, &t.app).await;
    }
    assert_eq!(elsewhere.jwks_fetches(), 0);
}

// ---------------------------------------------------------------------------------------------
// OA-20: discovery.

#[tokio::test]
async fn oa_20_metadata_issuer_must_equal_the_configured_issuer() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    for issuer in [
        format!("{}/", idp.issuer()),
        "http://127.0.0.1:1".to_owned(),
        idp.issuer().to_uppercase(),
    ] {
        idp.set_metadata_patch(json!({ "issuer": issuer }));
        let err = app::hostile_app(&idp, &clock, |b| b, |b| b)
            .await
            .unwrap_err();
        assert_eq!(err, OidcError::Metadata(MetadataError::IssuerMismatch));
    }
}

#[tokio::test]
async fn oa_20_configured_issuer_with_a_trailing_slash_is_refused() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let err = OidcClient::builder(
        format!("{}/", idp.issuer()),
        DEFAULT_CLIENT_ID,
        ClientAuth::client_secret_basic(SecretString::from(DEFAULT_CLIENT_SECRET.to_owned())),
    )
    .dev_loopback()
    .discover()
    .await
    .unwrap_err();
    assert_eq!(err, OidcError::Metadata(MetadataError::IssuerMismatch));
}

#[tokio::test]
async fn oa_20_endpoints_must_fit_the_back_channel_policy() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let auth =
        || ClientAuth::client_secret_basic(SecretString::from(DEFAULT_CLIENT_SECRET.to_owned()));

    // The loopback document handed to an https-only client.
    let body = idp.honest_metadata().to_string();
    let metadata =
        parse_metadata(body.as_bytes(), idp.issuer(), EndpointPolicy::DevLoopback).unwrap();
    let err = OidcClient::builder(idp.issuer(), DEFAULT_CLIENT_ID, auth())
        .from_metadata(metadata)
        .unwrap_err();
    assert!(matches!(err, OidcError::Config(_)), "{err:?}");
    // An https-only client does not even fetch http discovery.
    let err = OidcClient::builder(idp.issuer(), DEFAULT_CLIENT_ID, auth())
        .discover()
        .await
        .unwrap_err();
    assert_eq!(err, OidcError::Fetch(FetchError::NotHttps));
    assert_eq!(idp.discovery_fetches(), 0);

    // A loopback issuer whose endpoints point elsewhere (http or https).
    for (member, url) in [
        ("token_endpoint", "http://evil.example/token"),
        ("token_endpoint", "https://evil.example/token"),
        ("jwks_uri", "http://evil.example/jwks"),
        ("authorization_endpoint", "http://10.0.0.1/authorize"),
    ] {
        idp.set_metadata_patch(json!({ member: url }));
        let err = app::hostile_app(&idp, &clock, |b| b, |b| b)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                OidcError::Metadata(MetadataError::InvalidUrl {
                    member: m,
                    problem: UrlProblem::NotLoopback
                }) if m == member
            ),
            "{member}={url}: {err:?}"
        );
    }

    // An https issuer with an http endpoint.
    let doc = json!({
        "issuer": "https://idp.example",
        "authorization_endpoint": "https://idp.example/authorize",
        "token_endpoint": "http://idp.example/token",
        "jwks_uri": "https://idp.example/jwks",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let err = parse_metadata(
        doc.to_string().as_bytes(),
        "https://idp.example",
        EndpointPolicy::HttpsOnly,
    )
    .unwrap_err();
    assert_eq!(
        err,
        MetadataError::InvalidUrl {
            member: "token_endpoint",
            problem: UrlProblem::NotHttps
        }
    );
}

// ---------------------------------------------------------------------------------------------
// OA-24: PAR.

/// The browser URL of a pushed request carries `client_id` and `request_uri` only.
fn assert_pushed_url(idp: &HostileAs, url: &str) {
    let parsed = url::Url::parse(url).unwrap();
    let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "{url}");
    assert_eq!(
        app::query_param(url, "client_id").as_deref(),
        Some(DEFAULT_CLIENT_ID)
    );
    let par = idp.par_requests();
    let last = par.last().unwrap();
    assert_eq!(
        app::query_param(url, "request_uri"),
        last.request_uri.clone()
    );
    // The parameters went over the authenticated back channel.
    assert_eq!(last.auth_method, Some(AuthMethod::ClientSecretBasic));
    assert_eq!(last.field("code_challenge_method"), Some("S256"));
    assert_eq!(last.field("response_type"), Some("code"));
    assert!(last.field("state").is_some() && last.field("nonce").is_some());
}

#[tokio::test]
async fn oa_24_par_is_used_when_the_provider_requires_it() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_require_par(true);
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    assert!(t.login.client().uses_par());
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    assert_eq!(idp.par_calls(), 1);
    assert_pushed_url(&idp, &url);
    let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(idp.authorize_requests()[0].via_par);
    assert!(app::logged_in(&t.app, &jar).await);
}

#[tokio::test]
async fn oa_24_par_is_used_when_configured() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, OidcClientBuilder::use_par, |b| b)
        .await
        .unwrap();
    assert!(
        !t.login
            .client()
            .metadata()
            .require_pushed_authorization_requests
    );
    let jar = Jar::default();
    let url = app::start_login(&t.app, &jar, None).await;
    assert_eq!(idp.par_calls(), 1);
    assert_pushed_url(&idp, &url);
    let reply = app::follow_callback(&t.app, &jar, &app::approve(&idp, &url).await).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(idp.authorize_requests()[0].via_par);
}

#[tokio::test]
async fn oa_24_par_endpoint_failure_is_a_503_page() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.set_require_par(true);
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    idp.set_par_fault(TransportFault::Status(500), Shots::ONCE);
    let jar = Jar::default();
    let reply = app::navigate(&t.app, &jar, "/login").await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(
        reply.headers[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(reply.set_cookies().is_empty(), "{:?}", reply.set_cookies());
    assert_eq!(idp.authorize_calls(), 0);
    // The next attempt works.
    login_ok(&idp, &t.app).await;
}

// ---------------------------------------------------------------------------------------------
// OA-27: UserInfo.

/// An app whose `/claims` shows the session's UserInfo claims.
fn userinfo_app(login: &OidcLogin) -> Router {
    async fn claims(session: Session) -> String {
        serde_json::to_string(&session.userinfo()).unwrap()
    }
    Router::new()
        .route("/claims", get(claims))
        .route(
            "/me",
            get(|s: Session| async move { s.subject().to_owned() }),
        )
        .layer(login.require_login())
        .layer(login.layer())
}

async fn userinfo_setup() -> (HostileAs, Router) {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    let t = app::hostile_app(&idp, &clock, |b| b, OidcLoginBuilder::fetch_userinfo)
        .await
        .unwrap();
    let router = userinfo_app(&t.login);
    (idp, router)
}

#[tokio::test]
async fn oa_27_userinfo_with_another_sub_is_refused() {
    let (idp, router) = userinfo_setup().await;
    idp.set_userinfo_fault(
        UserinfoFault::DifferentSub("someone-else".into()),
        Shots::ONCE,
    );
    login_refused(&idp, &router, StatusCode::BAD_GATEWAY).await;
    assert_eq!(idp.userinfo_calls(), 1);
}

#[tokio::test]
async fn oa_27_userinfo_is_fetched_with_the_bearer_token_and_kept() {
    let (idp, router) = userinfo_setup().await;
    let jar = login_ok(&idp, &router).await;
    let reply = app::navigate(&router, &jar, "/claims").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let claims: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(claims["sub"], DEFAULT_SUBJECT);
    assert_eq!(claims["email"], "user@hostile.test");
    let record = &idp.userinfo_requests()[0];
    assert_eq!(record.error, None);
    let bearer = record.authorization.as_deref().unwrap();
    assert!(bearer.starts_with("Bearer ") && bearer.len() > "Bearer ".len());
}

// ---------------------------------------------------------------------------------------------
// OA-28: signing-key rotation and kid-less tokens.

#[tokio::test]
async fn oa_28_rotated_signing_key_is_fetched_once_and_accepted() {
    let (idp, t) = setup().await;
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 1);
    let kid = idp
        .rotate_signing_key(SigningAlg::Es256, Publication::Immediately)
        .unwrap();
    // Past the refetch cooldown (30 s after the last fetch), well within the key set's ttl.
    t.clock.advance(Duration::from_secs(31));
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 2, "one refetch for the unknown kid");
    login_ok(&idp, &t.app).await;
    assert_eq!(idp.jwks_fetches(), 2, "the new key is cached");
    assert_eq!(idp.signing_kid(), kid);
}

#[tokio::test]
async fn oa_28_kid_less_id_token_is_accepted_when_one_key_fits() {
    let (idp, t) = setup().await;
    idp.set_id_token_fault(IdTokenFault::NoKid, Shots::ONCE);
    login_ok(&idp, &t.app).await;
}

#[tokio::test]
async fn oa_28_kid_less_id_token_is_refused_when_two_keys_fit() {
    let clock = TestClock::now();
    let idp = app::start_hostile(&clock).await;
    idp.rotate_signing_key(SigningAlg::Es256, Publication::Immediately)
        .unwrap();
    assert_eq!(idp.public_jwks()["keys"].as_array().unwrap().len(), 2);
    let t = app::hostile_app(&idp, &clock, |b| b, |b| b).await.unwrap();
    idp.set_id_token_fault(IdTokenFault::NoKid, Shots::ONCE);
    login_refused(&idp, &t.app, StatusCode::BAD_GATEWAY).await;
    login_ok(&idp, &t.app).await;
}

/// OA-16 / RFC 8725 §3.11: a JWT typed for another purpose (an RFC 9068 access token, a
/// logout token) is not an ID token, even when the provider's key signed it and every claim
/// fits; `JWT` or no `typ` is accepted.
#[tokio::test]
async fn oa_16_token_typed_for_another_purpose_is_not_an_id_token() {
    let (idp, t) = setup().await;
    for (typ, accepted) in [
        (Some("at+jwt"), false),
        (Some("application/at+jwt"), false),
        (Some("logout+jwt"), false),
        (Some("JWT"), true),
        (None, true),
    ] {
        let jar = Jar::default();
        let authorization_url = app::start_login(&t.app, &jar, None).await;
        let nonce = app::query_param(&authorization_url, "nonce").unwrap();
        let now = paved_crypto::Clock::now_unix(&t.clock);
        let mut header = json!({"alg": "ES256", "kid": idp.signing_kid()});
        if let Some(typ) = typ {
            header["typ"] = json!(typ);
        }
        let claims = json!({
            "iss": idp.issuer(), "sub": DEFAULT_SUBJECT, "aud": DEFAULT_CLIENT_ID,
            "exp": now + 300, "iat": now, "nonce": nonce,
        });
        let id_token = idp.sign_jwt_with_header(&header, &claims).unwrap();
        idp.set_token_response_patch(Some(json!({ "id_token": id_token })));
        let callback = app::approve(&idp, &authorization_url).await;
        let reply = app::follow_callback(&t.app, &jar, &callback).await;
        if accepted {
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "typ {typ:?}: {}",
                reply.body
            );
            assert!(app::logged_in(&t.app, &jar).await);
        } else {
            assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "typ {typ:?}");
            assert_no_session(&t.app, &jar).await;
        }
    }
    idp.set_token_response_patch(None);
}
